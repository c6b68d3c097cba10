import pytest

from chengguan.core import calendar
from chengguan.core.models import Notification
from chengguan.core.tasks import warn_unconfirmed_calendar

pytestmark = pytest.mark.django_db


def first_unknown_year() -> int:
    year = 2026
    while calendar.calendar_status(year) == calendar.CalendarStatus.OFFICIAL:
        year += 1
    return year


def test_admins_are_warned_once_about_a_provisional_next_year(users):
    year = first_unknown_year()
    assert warn_unconfirmed_calendar(f"{year - 1}-11-01") == [year]
    assert warn_unconfirmed_calendar(f"{year - 1}-11-02") == [year]  # still pending, not re-sent
    messages = Notification.objects.filter(dedupe_key=f"calendar-provisional:{year}")
    assert [m.recipient for m in messages] == [users["admin"]]
    assert messages[0].level == "warning"


def test_no_warning_before_october_or_for_official_years(users):
    year = first_unknown_year()
    assert warn_unconfirmed_calendar(f"{year - 1}-09-30") == []
    assert not Notification.objects.exists()
