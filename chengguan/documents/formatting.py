"""Chinese money and date formats for documents: ¥1,234.00, 壹仟贰佰叁拾肆元整,
二〇二六年十一月二十三日 (the 公文 date) and 2026年11月23日 (dates in the text)."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone

from chengguan.core.errors import ValidationFailed

CENT = Decimal("0.01")
UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
UPPER_UNITS = ((3, "仟"), (2, "佰"), (1, "拾"), (0, ""))
GROUP_UNITS = ("", "万", "亿", "万亿")
LOWER_DIGITS = "〇一二三四五六七八九"


def to_amount(value) -> Decimal:
    """A yuan amount with two places. Floats are refused: money is never binary floating point."""
    if isinstance(value, float):
        raise ValidationFailed("金额必须是 Decimal 或数字字符串，不能是浮点数。", code="float_amount")
    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValidationFailed(f"金额“{value}”不是有效的数字。", code="invalid_amount") from None
    if not amount.is_finite():
        raise ValidationFailed(f"金额“{value}”不是有效的数字。", code="invalid_amount")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value) -> str:
    """¥1,234.00"""
    amount = to_amount(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def _upper_group(number: int) -> str:
    """0 < number < 10000 in financial numerals, inner zeros read once (1010 → 壹仟零壹拾)."""
    out, zero = "", False
    for power, unit in UPPER_UNITS:
        digit = number // 10**power % 10
        if digit == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + UPPER_DIGITS[digit] + unit
            zero = False
    return out


def yuan_upper(value) -> str:
    """The amount in financial numerals (大写) as written on a 决定书 and a bank slip:
    1234 → 壹仟贰佰叁拾肆元整, 10005.50 → 壹万零伍元伍角整, 0.05 → 伍分."""
    amount = to_amount(value)
    if amount < 0:
        raise ValidationFailed("大写金额不能为负数。", code="invalid_amount")
    if amount >= Decimal(10) ** 16:
        raise ValidationFailed("金额过大，无法写成大写。", code="invalid_amount")
    cents = int(amount * 100)
    integer, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    groups = []
    while integer:
        groups.append(integer % 10000)
        integer //= 10000
    out, gap = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        out += _upper_group(group) + GROUP_UNITS[index]
        gap = False
    if out:
        out += "元"
    if not jiao and not fen:
        return (out or "零元") + "整"
    if jiao:
        out += UPPER_DIGITS[jiao] + "角"
    elif out:
        out += "零"
    return out + (UPPER_DIGITS[fen] + "分" if fen else "整")


def cn_int(value) -> str:
    """0–99 in Chinese numerals, as in periods: 5 → 五, 15 → 十五, 60 → 六十."""
    number = int(value)
    if not 0 <= number <= 99:
        raise ValidationFailed(f"数字 {number} 超出 0–99。", code="out_of_range")
    tens, ones = divmod(number, 10)
    if tens == 0:
        return LOWER_DIGITS[ones] if ones else "零"
    return ("" if tens == 1 else LOWER_DIGITS[tens]) + "十" + (LOWER_DIGITS[ones] if ones else "")


def to_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"日期“{value}”格式无效，应为 YYYY-MM-DD。", code="invalid_date") from None
    return to_date(parsed)


def to_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed(f"时间“{value}”格式无效。", code="invalid_datetime") from None
    return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed


def gongwen_date(value) -> str:
    """The 公文 date: 二〇二六年十一月二十三日."""
    day = to_date(value)
    year = "".join(LOWER_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{cn_int(day.month)}月{cn_int(day.day)}日"


def cn_date(value) -> str:
    """A date in running text: 2026年11月23日."""
    day = to_date(value)
    return f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(value) -> str:
    """2026年11月23日14时05分 (Shanghai time). A bare date (a DateField, or its ISO text in a
    stored context) prints as the date alone: its time is unknown, not 0时00分."""
    if (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or \
            (isinstance(value, str) and len(value.strip()) == 10):
        return cn_date(value)
    moment = to_datetime(value)
    return f"{cn_date(moment.date())}{moment.hour}时{moment.minute:02d}分"
