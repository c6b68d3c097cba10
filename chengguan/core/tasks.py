"""Scheduled jobs of the core app (Celery beat; eager in-process in the embedded default)."""

from celery import shared_task
from django.utils import timezone

from . import audit, calendar
from .choices import RoleCode
from .models import User
from .notifications import notify_many

# How early in the autumn to start asking for next year's State Council schedule.
NEXT_YEAR_WARNING_FROM_MONTH = 10


@shared_task(name="core.ping")
def ping() -> str:
    """Health check for the worker (used by the deployment smoke test)."""
    return "pong"


@shared_task(name="core.warn_unconfirmed_calendar")
def warn_unconfirmed_calendar(today_iso: str | None = None) -> list[int]:
    """Tell administrators when this year's or (from October) next year's holiday schedule is
    only provisional, so statutory deadlines there may still move (docs/adr/0003)."""
    today = calendar.parse_date(today_iso) if today_iso else timezone.localdate()
    years = [today.year] + ([today.year + 1] if today.month >= NEXT_YEAR_WARNING_FROM_MONTH else [])
    pending = [y for y in years if calendar.calendar_status(y) != calendar.CalendarStatus.OFFICIAL]
    if not pending:
        return []
    admins = User.objects.filter(is_active=True, roles__code=RoleCode.ADMIN).distinct()
    with audit.context(source="job:warn_unconfirmed_calendar"):
        for year in pending:
            notify_many(
                admins,
                f"{year} 年节假日安排尚未确认",
                body=(f"{year} 年的工作日历目前按法定节假日推算，国务院调休安排尚未录入。"
                      "期限计算可能有误，请在“节假日调整”中录入放假和调休上班日期。"),
                link="/admin/core/holidayoverride/",
                level="warning",
                dedupe_key=f"calendar-provisional:{year}",
            )
    return pending
