import pytest

from chengguan.core.errors import ValidationFailed
from chengguan.core.validators import uscc_check_char, validate_credit_code, validate_id_number

# Published examples: the first is the USCC printed in GB 32100-2015's annex style examples
# widely used in documentation; each is checked against the algorithm, not hard-coded results.
VALID_USCC = "91350100M000100Y43"
VALID_ID = "11010519491231002X"  # the GB 11643 sample number


def test_valid_codes_pass_and_are_normalised():
    assert validate_credit_code(VALID_USCC.lower()) == VALID_USCC
    assert validate_id_number(VALID_ID.lower()) == VALID_ID


@pytest.mark.parametrize("bad", ["", "123", VALID_USCC[:-1] + "0", "91350100M000100I43", VALID_USCC + "1"])
def test_bad_credit_codes_are_refused_with_the_field(bad):
    with pytest.raises(ValidationFailed) as exc:
        validate_credit_code(bad, field="party.credit_code")
    assert exc.value.code == "invalid_credit_code" and exc.value.field == "party.credit_code"


@pytest.mark.parametrize("bad", ["11010519491231002Y", "110105194912310021", "110105194913310020", "1101051949"])
def test_bad_id_numbers_are_refused(bad):
    with pytest.raises(ValidationFailed) as exc:
        validate_id_number(bad)
    assert exc.value.code == "invalid_id_number"


def test_any_single_character_error_is_caught():
    """Weights are coprime to 31, so changing any one character changes the check character."""
    base = VALID_USCC[:17]
    for pos in range(17):
        other = "0" if base[pos] != "0" else "1"
        assert uscc_check_char(base[:pos] + other + base[pos + 1:]) != VALID_USCC[17]
