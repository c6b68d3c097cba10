"""Filters for document templates (the only library their engine loads besides Django's
built-ins): {{ penalty.fine|yuan }}, {{ penalty.fine|yuan_upper }}, {{ date|gongwen_date }}."""

from django import template

from .. import formatting

register = template.Library()

register.filter("yuan", formatting.yuan)
register.filter("yuan_upper", formatting.yuan_upper)
register.filter("cn_int", formatting.cn_int)
register.filter("gongwen_date", formatting.gongwen_date)
register.filter("cn_date", formatting.cn_date)
register.filter("cn_datetime", formatting.cn_datetime)


@register.filter
def positive(value) -> bool:
    """True for an amount above zero (a warning-only penalty has no payment block)."""
    return value not in (None, "") and formatting.to_amount(value) > 0
