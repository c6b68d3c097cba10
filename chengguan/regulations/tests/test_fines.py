"""Fine computation from a benchmark tier (every rule kind, caps, half-up rounding to the cent,
Decimal only), the range check used by cases, the simple-procedure limits of 《行政处罚法》
第五十一条 (with a local override) and the no-penalty list (第三十三条)."""

import datetime as dt
from decimal import Decimal

import pytest

from chengguan.core.errors import ValidationFailed
from chengguan.regulations import services
from chengguan.regulations.choices import ExemptionKind, FineRule, PartyKind, PenaltyKind

from .conftest import make_tier, tier_of

pytestmark = pytest.mark.django_db
D = Decimal


def test_fixed_range(published):
    proposal = services.propose_fine(tier_of(published, "一般"))
    assert (proposal.min, proposal.max, proposal.suggested) == (D("100.00"), D("300.00"), D("200.00"))
    assert "第 1 版“一般”档" in proposal.basis_text and "《上海市市容环境卫生管理条例》第二十五条" in proposal.basis_text


def test_per_unit_with_rate_range_and_caps(matter):
    tier = make_tier(matter, rule=FineRule.PER_UNIT, unit_rate="100", unit_rate_max="200", unit_name="平方米",
                     min_amount="500", max_amount="3000")
    mid = services.propose_fine(tier, units="12")
    assert (mid.min, mid.max, mid.suggested) == (D("1200.00"), D("2400.00"), D("1800.00"))
    small = services.propose_fine(tier, units="2")  # 200–400 raised to the 500 floor
    assert (small.min, small.max) == (D("500.00"), D("500.00"))
    big = services.propose_fine(tier, units="40")  # 4,000–8,000 capped at 3,000
    assert (big.min, big.max) == (D("3000.00"), D("3000.00"))
    assert "每平方米" in mid.basis_text and "12 平方米" in mid.basis_text


def test_per_unit_rounds_half_up_to_the_cent(matter):
    tier = make_tier(matter, rule=FineRule.PER_UNIT, unit_rate="33.33", unit_name="平方米")
    proposal = services.propose_fine(tier, units="1.5")  # 49.995 → 50.00 (half up, not banker's)
    assert proposal.min == D("50.00")
    assert isinstance(proposal.min, Decimal) and proposal.min.as_tuple().exponent == -2


def test_multiple_of_gains(matter):
    tier = make_tier(matter, rule=FineRule.MULTIPLE_OF_GAINS, min_factor="1", max_factor="3")
    proposal = services.propose_fine(tier, illegal_gains="1234.56")
    assert (proposal.min, proposal.max, proposal.suggested) == (D("1234.56"), D("3703.68"), D("2469.12"))
    assert "违法所得" in proposal.basis_text


def test_share_of_construction_cost(matter):
    # 《城乡规划法》第六十四条: 建设工程造价百分之五以上百分之十以下
    tier = make_tier(matter, rule=FineRule.MULTIPLE_OF_VALUE, min_factor="0.05", max_factor="0.10",
                     base_name="建设工程造价")
    proposal = services.propose_fine(tier, base_value="86543.21")
    assert (proposal.min, proposal.max) == (D("4327.16"), D("8654.32"))
    assert "建设工程造价" in proposal.basis_text and "5%" in proposal.basis_text


@pytest.mark.parametrize("rule", [FineRule.WARNING_ONLY, FineRule.NO_FINE])
def test_warning_and_no_fine_are_zero(matter, rule):
    tier = make_tier(matter, rule=rule)
    proposal = services.propose_fine(tier)
    assert (proposal.min, proposal.max, proposal.suggested, proposal.fine) == (D(0), D(0), D(0), False)
    assert services.check_fine(tier, "0") is None
    assert services.check_fine(tier, "50").code == "fine_outside_benchmark"


@pytest.mark.parametrize("kwargs, code", [
    ({"units": 1.5}, "float_not_allowed"),
    ({"units": None}, "required"),
    ({"units": "0"}, "invalid_number"),
    ({"units": "-3"}, "invalid_number"),
    ({"units": "abc"}, "invalid_number"),
])
def test_per_unit_inputs(matter, kwargs, code):
    tier = make_tier(matter, rule=FineRule.PER_UNIT, unit_rate="10", unit_name="日")
    with pytest.raises(ValidationFailed) as exc:
        services.propose_fine(tier, **kwargs)
    assert exc.value.code == code and exc.value.field == "units"


def test_floats_are_refused_everywhere(matter, published):
    gains = make_tier(matter, rule=FineRule.MULTIPLE_OF_GAINS, min_factor="1", max_factor="2")
    for call in (lambda: services.propose_fine(gains, illegal_gains=100.1),
                 lambda: services.check_fine(tier_of(published, "一般"), 150.0),
                 lambda: services.simple_procedure_allows(PartyKind.PERSON, 150.0, PenaltyKind.FINE),
                 lambda: services.money(0.1)):
        with pytest.raises(ValidationFailed) as exc:
            call()
        assert exc.value.code == "float_not_allowed"
    assert services.money(150) == D("150.00") and services.money("0.10") + services.money("0.20") == D("0.30")


def test_check_fine_reports_outside_range(published):
    tier = tier_of(published, "一般")
    assert services.check_fine(tier, "100") is None and services.check_fine(tier, D("300.00")) is None
    low = services.check_fine(tier, "99.99")
    assert low.below and low.min == D("100.00") and "低于" in low.message and "法制审核" in low.message
    high = services.check_fine(tier, "300.01")
    assert not high.below and "高于" in high.message


@pytest.mark.parametrize("party, amount, kind, allowed", [
    (PartyKind.PERSON, "200", PenaltyKind.FINE, True),
    (PartyKind.PERSON, "200.01", PenaltyKind.FINE, False),
    (PartyKind.ORGANISATION, "3000", PenaltyKind.FINE, True),
    (PartyKind.ORGANISATION, "3000.01", PenaltyKind.FINE, False),
    (PartyKind.PERSON, None, PenaltyKind.WARNING, True),
    (PartyKind.ORGANISATION, "0", PenaltyKind.CONFISCATE_GAINS, False),
    (PartyKind.PERSON, "50", PenaltyKind.SUSPEND_BUSINESS, False),
])
def test_simple_procedure_limits_of_article_51(party, amount, kind, allowed):
    assert services.simple_procedure_allows(party, amount, kind) is allowed


def test_simple_procedure_limits_follow_settings(settings):
    settings.SIMPLE_PROCEDURE_MAX_FINE_PERSON = "100"  # a local rule may set a lower limit
    settings.SIMPLE_PROCEDURE_MAX_FINE_ORG = 1000
    assert services.simple_procedure_allows(PartyKind.PERSON, "100", PenaltyKind.FINE)
    assert not services.simple_procedure_allows(PartyKind.PERSON, "150", PenaltyKind.FINE)
    assert not services.simple_procedure_allows(PartyKind.ORGANISATION, "1500", PenaltyKind.FINE)
    with pytest.raises(ValidationFailed):
        services.simple_procedure_allows("robot", "1", PenaltyKind.FINE)


def test_exemptions_by_date(matter):
    services.create_exemption(matter, by=None, kind="首违不罚", conditions="首次被发现并及时改正",
                              valid_from=dt.date(2020, 8, 18), valid_to=dt.date(2024, 12, 31))
    services.create_exemption(matter, by=None, kind=ExemptionKind.MINOR, conditions="轻微并及时改正，无危害后果",
                              valid_from=dt.date(2025, 1, 1))
    assert [e.kind for e in services.exemptions_for(matter, dt.date(2020, 8, 17))] == []
    assert [e.kind for e in services.exemptions_for(matter, dt.date(2024, 12, 31))] == [ExemptionKind.FIRST_VIOLATION]
    assert [e.kind for e in services.exemptions_for(matter, dt.date(2025, 1, 1))] == [ExemptionKind.MINOR]
    with pytest.raises(ValidationFailed) as exc:
        services.create_exemption(matter, by=None, kind="看心情不罚", conditions="x", valid_from=dt.date(2025, 1, 1))
    assert exc.value.code == "invalid_exemption_kind"
