"""Check digits of Chinese identifiers. Each returns the normalised value or raises
ValidationFailed naming the field."""

import datetime as dt
import re

from .errors import ValidationFailed

# GB 32100-2015 统一社会信用代码: 18 characters from this alphabet (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11643-1999 公民身份号码: 17 digits + check character.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str, field: str = "credit_code") -> str:
    code = (value or "").strip().upper()
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        raise ValidationFailed("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）。",
                               field=field, code="invalid_credit_code")
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationFailed(f"统一社会信用代码“{code}”校验位错误，请核对。", field=field, code="invalid_credit_code")
    return code


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str, field: str = "id_number") -> str:
    number = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationFailed("居民身份证号码应为 18 位（最后一位可为 X）。", field=field, code="invalid_id_number")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ValidationFailed("居民身份证号码中的出生日期无效。", field=field, code="invalid_id_number") from exc
    if id_check_char(number[:17]) != number[17]:
        raise ValidationFailed("居民身份证号码校验位错误，请核对。", field=field, code="invalid_id_number")
    return number
