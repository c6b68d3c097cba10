"""Template helpers of the inspections pages: `{% load inspections_tags %}`."""

from django import template
from django.utils.html import format_html

register = template.Library()

TIER_TONES = {1: "danger", 2: "warning", 3: "info", 4: "secondary"}
OUTCOME_TONES = {"compliant": "success", "order_to_correct": "warning", "open_case": "danger"}
PLAN_TONES = {"draft": "secondary", "committed": "info", "drawn": "primary", "published": "success",
              "superseded": "dark"}
RESULT_TONES = {"pass": "success", "fail": "danger", "na": "secondary"}


@register.simple_tag
def selected(current, value) -> str:
    """' selected' when a filter's current value (a string or list) is `value`."""
    values = current if isinstance(current, list | tuple) else [current]
    return " selected" if str(value) in {str(v) for v in values if v not in (None, "")} else ""


@register.filter
def tier_badge(obj):
    tone = TIER_TONES.get(obj.tier, "secondary")
    return format_html('<span class="badge text-bg-{}" data-testid="tier">{}</span>', tone, obj.get_tier_display())


@register.filter
def outcome_badge(record):
    tone = OUTCOME_TONES.get(record.outcome, "secondary")
    return format_html('<span class="badge text-bg-{}">{}</span>', tone, record.get_outcome_display())


@register.filter
def plan_badge(plan):
    tone = PLAN_TONES.get(plan.status, "secondary")
    return format_html('<span class="badge text-bg-{}" data-testid="plan-status">{}</span>', tone,
                       plan.get_status_display())


@register.filter
def result_tone(result: str) -> str:
    return RESULT_TONES.get(result, "secondary")


@register.filter
def result_label(result: str) -> str:
    from ..choices import CheckResult

    try:
        return CheckResult(result).label
    except ValueError:
        return result


@register.filter
def percent(value) -> str:
    """0.05 → 5%"""
    try:
        return f"{float(value) * 100:g}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def names(users) -> str:
    return "、".join(u.real_name or u.username for u in users)
