import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from chengguan.core.errors import ValidationFailed
from chengguan.documents.formatting import (
    cn_date,
    cn_datetime,
    cn_int,
    gongwen_date,
    yuan,
    yuan_upper,
)


@pytest.mark.parametrize(("amount", "upper"), [
    ("1234", "壹仟贰佰叁拾肆元整"),
    (Decimal("1234.56"), "壹仟贰佰叁拾肆元伍角陆分"),
    ("1234.05", "壹仟贰佰叁拾肆元零伍分"),
    ("3000.50", "叁仟元伍角整"),
    ("10", "壹拾元整"),
    ("200", "贰佰元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("10005", "壹万零伍元整"),
    ("100000", "壹拾万元整"),
    ("50000", "伍万元整"),
    ("100001000", "壹亿零壹仟元整"),
    ("12030405.60", "壹仟贰佰零叁万零肆佰零伍元陆角整"),
    ("0.05", "伍分"),
    ("0", "零元整"),
    (5, "伍元整"),
])
def test_amounts_in_financial_numerals(amount, upper):
    assert yuan_upper(amount) == upper


@pytest.mark.parametrize(("amount", "figures"), [
    ("1234", "¥1,234.00"), (Decimal("1234567.891"), "¥1,234,567.89"), ("0.5", "¥0.50"), ("200", "¥200.00"),
])
def test_amounts_in_figures(amount, figures):
    assert yuan(amount) == figures


def test_floats_and_non_numbers_are_refused():
    with pytest.raises(ValidationFailed) as refused:
        yuan(1234.0)
    assert refused.value.code == "float_amount"
    with pytest.raises(ValidationFailed) as refused:
        yuan_upper("一千")
    assert refused.value.code == "invalid_amount"
    with pytest.raises(ValidationFailed):
        yuan_upper("-1")


@pytest.mark.parametrize(("day", "text"), [
    (dt.date(2026, 11, 23), "二〇二六年十一月二十三日"),
    ("2026-10-10", "二〇二六年十月十日"),
    ("2020-01-30", "二〇二〇年一月三十日"),
    (dt.date(2031, 12, 31), "二〇三一年十二月三十一日"),
])
def test_gongwen_dates(day, text):
    assert gongwen_date(day) == text


def test_dates_and_times_in_running_text_use_shanghai_time():
    assert cn_date("2026-11-03") == "2026年11月3日"
    moment = dt.datetime(2026, 11, 3, 6, 5, tzinfo=dt.UTC)
    assert cn_datetime(moment) == "2026年11月3日14时05分"
    assert gongwen_date(dt.datetime(2026, 11, 3, 17, 0, tzinfo=dt.UTC)) == "二〇二六年十一月四日"
    assert cn_datetime(dt.datetime(2026, 11, 3, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))) == "2026年11月3日9时30分"
    with pytest.raises(ValidationFailed):
        cn_date("23/11/2026")


@pytest.mark.parametrize(("number", "text"), [(0, "零"), (5, "五"), (10, "十"), (15, "十五"), (60, "六十"), (99, "九十九")])
def test_small_numbers(number, text):
    assert cn_int(number) == text
