import datetime as dt
import io
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from lunar_python import Lunar, Solar
from rest_framework.test import APIClient

from chengguan.core import calendar
from chengguan.core.calendar import (
    CalendarStatus,
    DeadlineKind,
    add_calendar_days,
    add_months,
    add_working_days,
    add_working_hours,
    calendar_status,
    is_workday,
    working_days_between,
)
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import AuditEvent, HolidayOverride

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat
BJ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BJ)


@pytest.fixture(autouse=True)
def fresh_calendar():
    # Each test's database is rolled back without a commit, so the post-commit version bump
    # never runs; start and end every test with a fresh calendar version.
    calendar.invalidate()
    yield
    calendar.invalidate()


def days(first: str, last: str) -> list[dt.date]:
    start, end = D(first), D(last)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# --- official years (from the package) --------------------------------------------------------

def test_2024_national_day_with_its_make_up_days():
    assert is_workday(D("2024-09-29"))  # Sunday worked
    assert is_workday(D("2024-10-12"))  # Saturday worked
    assert not any(is_workday(d) for d in days("2024-10-01", "2024-10-07"))
    assert not is_workday(D("2024-09-28"))  # an ordinary Saturday
    assert is_workday(D("2024-10-08"))
    assert calendar_status(2024) == CalendarStatus.OFFICIAL


def test_2025_spring_festival_with_its_make_up_days():
    assert is_workday(D("2025-01-26")) and is_workday(D("2025-02-08"))
    assert not any(is_workday(d) for d in days("2025-01-28", "2025-02-04"))
    assert is_workday(D("2025-02-05"))


def test_add_working_days_skips_the_holiday_and_counts_make_up_days():
    assert add_working_days(D("2024-09-27"), 3) == D("2024-10-08")
    assert add_working_days(D("2024-09-27"), 1) == D("2024-09-29")
    # The start day is not counted even when it is itself a working day.
    assert add_working_days(D("2024-11-04"), 1) == D("2024-11-05")
    # A datetime counts from its Beijing-time date.
    assert add_working_days(dt.datetime(2024, 9, 26, 17, 0, tzinfo=dt.UTC), 1) == D("2024-09-29")


def test_working_days_between():
    assert working_days_between(D("2024-09-27"), D("2024-10-08")) == 3
    assert working_days_between(D("2024-10-08"), D("2024-09-27")) == -3
    assert working_days_between(D("2024-10-01"), D("2024-10-07")) == 0
    assert working_days_between(D("2024-11-04"), D("2024-11-04")) == 0


# --- calendar-day and month periods roll forward (CPL art. 85) ---------------------------------

def test_calendar_days_roll_forward_past_holidays_and_weekends():
    assert add_calendar_days(D("2024-09-16"), 15) == D("2024-10-08")  # lands on 10-01 (holiday)
    assert add_calendar_days(D("2024-11-01"), 15) == D("2024-11-18")  # lands on Saturday 11-16
    assert add_calendar_days(D("2024-11-01"), 14) == D("2024-11-15")  # Friday: no roll
    # A make-up Saturday is a working day, so a period ending on it ends there.
    assert add_calendar_days(D("2024-09-27"), 15) == D("2024-10-12")


def test_months_use_the_corresponding_day_then_roll_forward():
    assert add_months(D("2024-11-30"), 3) == D("2025-02-28")  # no Feb 30: month's last day
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert add_months(D("2024-07-01"), 3) == D("2024-10-08")  # 10-01 holiday → first workday
    assert add_months(D("2024-10-15"), 3) == D("2025-01-15")


# --- working hours ---------------------------------------------------------------------------

def test_working_hours_skip_lunch_evening_weekend_and_holiday():
    assert add_working_hours(at("2024-11-05 11:00"), 2) == at("2024-11-05 14:00")  # lunch
    assert add_working_hours(at("2024-11-05 19:00"), 1) == at("2024-11-06 09:30")  # evening
    assert add_working_hours(at("2024-11-05 06:00"), 1) == at("2024-11-05 09:30")  # before work
    assert add_working_hours(at("2024-11-08 17:00"), 1) == at("2024-11-11 09:00")  # weekend
    assert add_working_hours(at("2024-11-09 10:00"), 1) == at("2024-11-11 09:30")  # start on Saturday
    assert add_working_hours(at("2024-09-30 16:00"), 4) == at("2024-10-08 11:00")  # National Day
    assert add_working_hours(at("2024-10-11 17:00"), 1) == at("2024-10-12 09:00")  # make-up Saturday


def test_working_hours_fractions_span_ends_and_time_zones():
    assert add_working_hours(at("2024-11-05 08:30"), 0.25) == at("2024-11-05 08:45")
    assert add_working_hours(at("2024-11-05 08:30"), "3.5") == at("2024-11-05 12:00")  # ends at span end
    assert add_working_hours(at("2024-11-05 12:00"), 0.5) == at("2024-11-05 13:30")
    utc = dt.datetime(2024, 11, 5, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
    result = add_working_hours(utc, 1)
    assert result == at("2024-11-05 10:00") and result.utcoffset() == dt.timedelta(hours=8)
    with pytest.raises(ValidationFailed) as err:
        add_working_hours(dt.datetime(2024, 11, 5, 9, 0), 1)
    assert err.value.code == "invalid_datetime"
    for bad in (0, -1, "abc", "nan"):
        with pytest.raises(ValidationFailed) as err:
            add_working_hours(at("2024-11-05 09:00"), bad)
        assert err.value.code == "invalid_number"


def test_office_hours_come_from_settings(settings):
    settings.OFFICE_HOURS = [("09:00", "17:00")]
    assert add_working_hours(at("2024-11-05 16:00"), 2) == at("2024-11-06 10:00")
    settings.OFFICE_HOURS = [("13:00", "17:00"), ("08:30", "12:00")]
    with pytest.raises(ImproperlyConfigured):
        add_working_hours(at("2024-11-05 16:00"), 2)


# --- provisional years (the statutory fallback) ---------------------------------------------

PACKAGE_NAMES = {
    "元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Tomb-sweeping Day", "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival", "中秋节": "Mid-autumn Festival", "国庆节": "National Day",
}


@pytest.mark.parametrize("year", [2025, 2026])  # the years the package knows under the 2024 revision
def test_statutory_fallback_matches_the_package_on_known_years(year):
    statutory = calendar.statutory_holidays(year)
    art2 = {d: name for d, name in statutory.items() if not name.endswith("补假")}
    assert len(art2) == 13  # 《全国年节及纪念日放假办法》 art. 2 (2024 revision)
    for day, name in statutory.items():
        on_holiday, package_name = chinese_calendar.get_holiday_detail(day)
        assert on_holiday and package_name == PACKAGE_NAMES[name.removesuffix("补假")], (day, name, package_name)


def test_statutory_fallback_make_up_rest_days():
    # 2026: 清明 on Sunday 04-05 → Monday 04-06; 劳动节 Saturday 05-02 → Monday 05-04.
    statutory = calendar.statutory_holidays(2026)
    assert statutory[D("2026-04-06")] == "清明节补假" and statutory[D("2026-05-04")] == "劳动节补假"
    assert D("2026-05-03") not in statutory  # a plain Sunday


def test_2027_is_provisional_and_uses_the_statutory_holidays():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D("2027-01-04"))  # why the fallback exists
    assert calendar_status(2027) == CalendarStatus.PROVISIONAL
    assert calendar_status(2026) == CalendarStatus.OFFICIAL
    # Spring Festival 2027 from the lunar calendar: 正月初一 is 02-06, so 除夕 is 02-05.
    new_year = Lunar.fromYmd(2027, 1, 1).getSolar()
    assert (new_year.getYear(), new_year.getMonth(), new_year.getDay()) == (2027, 2, 6)
    assert Solar.fromYmd(2027, 4, 5).getLunar().getJieQi() == "清明"
    rest = ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-04-05", "2027-05-01",
            "2027-05-03", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-04"]
    assert not any(is_workday(D(d)) for d in rest)
    # 02-09 and 02-10 make up for the Saturday and Sunday inside the Spring Festival (art. 6).
    assert not is_workday(D("2027-02-09")) and not is_workday(D("2027-02-10"))
    assert is_workday(D("2027-02-11")) and is_workday(D("2027-01-04"))
    assert not is_workday(D("2027-01-09"))  # weekends as usual
    assert add_working_days(D("2026-12-31"), 1) == D("2027-01-04")


def test_years_outside_the_calendar_are_refused():
    for call in (lambda: is_workday(D("2003-06-02")), lambda: calendar_status(2101),
                 lambda: add_working_days(D("2100-12-30"), 5)):
        with pytest.raises(ValidationFailed) as err:
            call()
        assert err.value.code == "year_out_of_range"


# --- overrides --------------------------------------------------------------------------------

def test_override_wins_over_the_package_and_is_audited(users):
    admin = users["admin"]
    calendar.set_holiday_override(D("2024-10-08"), False, "台风停工", by=admin)
    calendar.set_holiday_override(D("2024-10-05"), True, "临时上班", by=admin)
    assert not is_workday(D("2024-10-08")) and is_workday(D("2024-10-05"))
    assert add_working_days(D("2024-09-27"), 3) == D("2024-10-05")
    event = AuditEvent.objects.filter(action="calendar.override.set").latest("seq")
    assert event.actor == admin and event.after["date"] == "2024-10-05"

    calendar.remove_holiday_override(D("2024-10-05"), by=admin)
    assert not is_workday(D("2024-10-05"))
    assert AuditEvent.objects.filter(action="delete", object_type="core.holidayoverride").count() == 1
    # Setting the same day again replaces the override instead of adding a second one.
    calendar.set_holiday_override(D("2024-10-08"), True, "恢复上班", by=admin)
    assert HolidayOverride.objects.filter(date=D("2024-10-08")).get().name == "恢复上班"
    assert is_workday(D("2024-10-08"))


def test_overrides_carry_a_provisional_year(users):
    # The State Council's 2027 调休, as an administrator would enter it.
    calendar.set_holiday_override(D("2027-02-11"), False, "春节", by=users["admin"])
    calendar.set_holiday_override(D("2027-02-20"), True, "春节调休上班", by=users["admin"])
    assert not is_workday(D("2027-02-11")) and is_workday(D("2027-02-20"))
    assert calendar_status(2027) == CalendarStatus.PROVISIONAL  # still not the package's data


def test_bad_override_input_is_refused_and_nothing_saved(users):
    cases = [((D("2030-01-02"), "yes", ""), "required"), ((D("2030-01-02"), True, "名" * 51), "too_long"),
             ((D("1999-01-02"), True, ""), "year_out_of_range"), (("2030-01-02", True, ""), "invalid_date")]
    for args, code in cases:
        with pytest.raises(ValidationFailed) as err:
            calendar.set_holiday_override(*args, by=users["admin"])
        assert err.value.code == code
    with pytest.raises(ValidationFailed) as err:
        calendar.remove_holiday_override(D("2030-01-02"), by=users["admin"])
    assert err.value.code == "not_found"
    assert not HolidayOverride.objects.exists()


def test_year_sets_are_cached_and_an_override_edit_invalidates_them(users, django_assert_num_queries):
    assert not is_workday(D("2027-02-20"))
    with django_assert_num_queries(0):  # cached: no query, however many days are stepped
        assert add_working_days(D("2027-01-01"), 200) == add_working_days(D("2027-01-01"), 200)
    # A row written behind the service's back is not seen until the version changes...
    HolidayOverride(date=D("2027-02-20"), is_workday=True).save()
    assert not is_workday(D("2027-02-20"))
    calendar.invalidate()
    assert is_workday(D("2027-02-20"))
    # ...while the service's edits take effect at once.
    calendar.set_holiday_override(D("2027-02-27"), True, "调休上班", by=users["admin"])
    assert is_workday(D("2027-02-27"))
    calendar.remove_holiday_override(D("2027-02-27"), by=users["admin"])
    assert not is_workday(D("2027-02-27"))


def test_override_edit_bumps_the_version_again_after_commit(users, django_capture_on_commit_callbacks):
    # Other processes may rebuild from the uncommitted state; the post-commit bump evicts that.
    with django_capture_on_commit_callbacks() as callbacks:
        calendar.set_holiday_override(D("2027-03-01"), False, "测试", by=users["admin"])
    before = calendar._current().version
    for callback in callbacks:
        callback()
    assert len(callbacks) == 1 and calendar._current().version != before


def test_long_periods_do_not_query_per_day(django_assert_max_num_queries):
    # one override query per year built (9 years), plus a confirmation lookup per fallback year
    with django_assert_max_num_queries(12):
        end = add_working_days(D("2020-01-01"), 2000)
    assert end.year == 2028 and is_workday(end)


@settings(max_examples=150, deadline=None)
@given(start=st.dates(dt.date(2020, 1, 1), dt.date(2027, 12, 31)), n=st.integers(1, 400))
def test_working_day_arithmetic_round_trips(start, n):
    end = add_working_days(start, n)
    assert is_workday(end)
    assert working_days_between(start, end) == n
    assert working_days_between(start, end - dt.timedelta(days=1)) == n - 1


# --- deadline rules ---------------------------------------------------------------------------

def test_deadline_rules_name_their_kind_and_basis():
    rules = calendar.DEADLINE_RULES
    assert rules["apl_payment"].kind == DeadlineKind.CALENDAR_DAYS and "第六十七条" in rules["apl_payment"].basis
    assert rules["apl_payment"].due(D("2024-09-16")) == D("2024-10-08")
    assert rules["apl_service"].due(D("2024-09-27")) == D("2024-10-12")  # 7 working days
    assert rules["apl_decision"].due(D("2024-07-03")) == D("2024-10-08")  # 90 days → 10-01, rolled
    assert rules["acl_court_application"].due(D("2024-07-01")) == D("2024-10-08")
    assert all(rule.basis.startswith("《") and rule.amount > 0 for rule in rules.values())
    assert [code for code, rule in rules.items() if not rule.verified] == [
        "apl_statement", "case_prefiling_check", "case_announcement_service", "case_decision_publication"]


def test_configurable_deadlines_follow_settings(settings):
    assert calendar.deadline_rule("apl_statement").amount == 5
    settings.DEADLINE_OVERRIDES = {"apl_statement": 3}
    rule = calendar.deadline_rule("apl_statement")
    assert rule.amount == 3 and rule.due(D("2024-09-27")) == D("2024-10-08")
    settings.DEADLINE_OVERRIDES = {"apl_payment": 30}
    with pytest.raises(ImproperlyConfigured):
        calendar.deadline_rule("apl_payment")  # fixed by statute


def test_decision_publication_deadline_is_configurable(settings):
    rule = calendar.deadline_rule("case_decision_publication")
    assert rule.kind == DeadlineKind.WORKING_DAYS and rule.amount == 7 and not rule.verified
    # Across the National Day week (Sunday 09-29 and Saturday 10-12 are make-up working days).
    assert rule.due(D("2024-09-27")) == D("2024-10-12")
    assert calendar.deadline_rule("apl_withdraw_publication").due(D("2024-09-27")) == D("2024-10-08")
    settings.DEADLINE_OVERRIDES = {"case_decision_publication": 5}
    assert calendar.deadline_rule("case_decision_publication").due(D("2024-09-27")) == D("2024-10-10")


# --- management command ----------------------------------------------------------------------

def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("workdays", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_command_examples():
    assert run("add", "2024-09-27", "3")[0] == "2024-10-08"
    assert run("add-calendar", "2024-09-16", "15")[0] == "2024-10-08"
    assert run("add-months", "2024-07-01", "3")[0] == "2024-10-08"
    assert run("between", "2024-09-27", "2024-10-08")[0] == "3"
    assert run("add-hours", "2024-09-30 16:00", "4")[0] == "2024-10-08 11:00"
    assert run("is-workday", "2024-09-29")[0] == "工作日"
    assert run("is-workday", "2024-10-02")[0] == "休息日"
    assert run("status", "2026")[0].startswith("official")
    assert run("status", "2027")[0].startswith("provisional")


def test_command_warns_when_a_provisional_year_is_involved():
    out, err = run("add", "2026-12-25", "10")
    assert out == "2027-01-11" and "2027 年的日历为暂定" in err
    assert run("add", "2024-09-27", "3")[1] == ""


@pytest.mark.parametrize("args, message", [
    (("add", "2024-13-01", "3"), "日期“2024-13-01”无效"),
    (("add", "2024-09-27", "0"), "不是 1–100000 之间的整数"),
    (("add", "2024-09-27", "三"), "不是 1–100000 之间的整数"),
    (("add-hours", "明天", "4"), "时间“明天”无效"),
    (("add-hours", "2024-09-30 16:00", "-1"), "小时数"),
    (("status", "1999"), "2004–2100"),
])
def test_command_refuses_bad_input_in_chinese(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


# --- API ----------------------------------------------------------------------------------------

def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


COMPUTE = "/api/v1/calendar/compute/"
OVERRIDES = "/api/v1/calendar/overrides/"


@pytest.mark.parametrize("params, result", [
    ({"op": "add-working-days", "date": "2024-09-27", "n": "3"}, "2024-10-08"),
    ({"op": "add-calendar-days", "date": "2024-09-16", "n": "15"}, "2024-10-08"),
    ({"op": "add-months", "date": "2024-07-01", "n": "3"}, "2024-10-08"),
    ({"op": "add-working-hours", "start": "2024-09-30 16:00", "hours": "4"}, "2024-10-08T11:00:00+08:00"),
    ({"op": "between", "a": "2024-09-27", "b": "2024-10-08"}, 3),
    ({"op": "is-workday", "date": "2024-10-12"}, True),
    ({"op": "status", "year": "2026"}, "official"),
])
def test_api_compute(users, params, result):
    response = api(users["officer"]).get(COMPUTE, params)
    assert response.status_code == 200, response.json()
    assert response.json() == {"result": result, "provisional_years": []}


def test_api_compute_flags_provisional_years(users):
    body = api(users["officer"]).get(COMPUTE, {"op": "add-working-days", "date": "2026-12-25", "n": "10"}).json()
    assert body == {"result": "2027-01-11", "provisional_years": [2027]}


@pytest.mark.parametrize("params, field, code", [
    ({"op": "fly"}, "op", "invalid_choice"),
    ({}, "op", "invalid_choice"),
    ({"op": "add-working-days", "date": "2024-02-30", "n": "3"}, "date", "invalid_date"),
    ({"op": "add-working-days", "date": "2024-09-27"}, "n", "required"),
    ({"op": "add-working-days", "date": "2024-09-27", "n": "-2"}, "n", "invalid_number"),
    ({"op": "add-working-hours", "start": "x", "hours": "1"}, "start", "invalid_datetime"),
    ({"op": "between", "a": "2024-09-27", "b": "1990-01-01"}, "b", "year_out_of_range"),
])
def test_api_compute_refuses_bad_params(users, params, field, code):
    response = api(users["officer"]).get(COMPUTE, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["errors"] == [{"field": field, "code": code, "message": body["message"]}]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])


def test_api_needs_authentication():
    assert api().get(COMPUTE, {"op": "status", "year": "2026"}).status_code == 401
    assert api().get(OVERRIDES).status_code == 401


def test_api_officer_may_read_overrides_but_not_write(users):
    calendar.set_holiday_override(D("2027-02-20"), True, "春节调休上班", by=users["admin"])
    events = AuditEvent.objects.count()
    officer = api(users["officer"])
    listing = officer.get(OVERRIDES, {"year": "2027"})
    assert listing.status_code == 200
    assert listing.json()["results"] == [{"date": "2027-02-20", "is_workday": True, "name": "春节调休上班"}]
    assert officer.get(f"{OVERRIDES}2027-02-20/").status_code == 200

    refused = officer.post(OVERRIDES, {"date": "2027-02-11", "is_workday": False, "name": "春节"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert officer.delete(f"{OVERRIDES}2027-02-20/").status_code == 403
    assert list(HolidayOverride.objects.values_list("date", flat=True)) == [D("2027-02-20")]
    assert AuditEvent.objects.count() == events
    assert is_workday(D("2027-02-11"))


def test_api_admin_creates_and_deletes_overrides_through_the_service(users):
    admin = api(users["admin"])
    created = admin.post(OVERRIDES, {"date": "2027-02-11", "is_workday": False, "name": "春节"}, format="json")
    assert created.status_code == 201 and created.json()["date"] == "2027-02-11"
    assert AuditEvent.objects.filter(action="calendar.override.set", actor=users["admin"]).exists()
    assert admin.get(COMPUTE, {"op": "is-workday", "date": "2027-02-11"}).json()["result"] is False

    bad = admin.post(OVERRIDES, {"date": "1990-01-01", "is_workday": False}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "year_out_of_range"
    missing = admin.post(OVERRIDES, {"date": "2027-02-12"}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "is_workday"

    assert admin.delete(f"{OVERRIDES}2027-02-11/").status_code == 204
    assert not HolidayOverride.objects.exists()
    assert admin.get(COMPUTE, {"op": "is-workday", "date": "2027-02-11"}).json()["result"] is True
    assert admin.delete(f"{OVERRIDES}2027-02-11/").status_code == 404


# --- admin ------------------------------------------------------------------------------------

def test_admin_saves_and_deletes_through_the_service(users, client):
    user = users["admin"]
    user.is_staff = True
    user.save()
    client.force_login(user)
    response = client.post("/admin/core/holidayoverride/add/", {"date": "2027-02-11", "name": "春节"})
    assert response.status_code == 302
    override = HolidayOverride.objects.get(date=D("2027-02-11"))
    assert not override.is_workday and not is_workday(D("2027-02-11"))
    assert AuditEvent.objects.filter(action="calendar.override.set", actor=user).exists()
    assert client.get("/admin/core/holidayoverride/?year=2027").status_code == 200

    refused = client.post("/admin/core/holidayoverride/add/", {"date": "1990-01-01", "name": "x"})
    assert refused.status_code == 200 and "2004–2100" in refused.content.decode()

    client.post(f"/admin/core/holidayoverride/{override.pk}/delete/", {"post": "yes"})
    assert not HolidayOverride.objects.exists() and is_workday(D("2027-02-11"))


def test_confirming_a_fallback_year_makes_it_official(users):
    from chengguan.core.tasks import warn_unconfirmed_calendar

    year = 2027
    while calendar.calendar_status(year) == calendar.CalendarStatus.OFFICIAL:
        year += 1  # the package learnt 2027: confirm the first year it does not know
    admin = users["admin"]
    with pytest.raises(ValidationFailed) as exc:
        calendar.confirm_year(year, "  ", by=admin)
    assert exc.value.code == "required"
    with pytest.raises(ValidationFailed) as exc:
        calendar.confirm_year(2024, "国办发明电〔2023〕7号", by=admin)
    assert exc.value.code == "already_official"
    assert warn_unconfirmed_calendar(f"{year - 1}-12-01") == [year]
    calendar.confirm_year(year, "国务院办公厅关于2027年部分节假日安排的通知", by=admin)
    assert calendar.calendar_status(year) == calendar.CalendarStatus.OFFICIAL
    assert warn_unconfirmed_calendar(f"{year - 1}-12-02") == []
