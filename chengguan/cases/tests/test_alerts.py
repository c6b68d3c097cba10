"""Deadline warnings in the handlers' inbox (cases.services.alerts.scan_deadlines)."""

import pytest

from chengguan.cases.services import alerts
from chengguan.core.calendar import add_working_days
from chengguan.core.choices import RoleCode as R
from chengguan.core.models import Notification

pytestmark = pytest.mark.django_db


def inbox(user):
    return list(Notification.objects.filter(recipient=user).values_list("title", "level"))


def test_statement_period_ending_soon_warns_both_officers_once(flow, staff, clock_at):
    case = flow.notified()
    assert case.statement_due > add_working_days(clock_at.today, 3)
    assert alerts.scan_deadlines(clock_at.today) == {"due_soon": 0, "overdue": 0}
    clock_at.advance(3)  # now the end of the statement period is within three working days
    assert case.statement_due <= add_working_days(clock_at.today, 3)
    counts = alerts.scan_deadlines(clock_at.today)
    assert counts == {"due_soon": 2, "overdue": 0}
    for officer in (staff[R.OFFICER], staff["officer2"]):
        assert inbox(officer) == [(f"案件 {case.number} 陈述、申辩期即将到期", Notification.Level.WARNING)]
    assert inbox(staff[R.SQUAD_LEADER]) == []
    assert alerts.scan_deadlines(clock_at.today) == {"due_soon": 0, "overdue": 0}


def test_passed_deadline_warns_officers_and_squad_leader(flow, staff, clock_at):
    case = flow.notified()
    clock_at.advance(20)
    counts = alerts.scan_deadlines(clock_at.today)
    assert counts["overdue"] == 3
    expected = (f"案件 {case.number} 陈述、申辩期已超期", Notification.Level.DANGER)
    assert expected in inbox(staff[R.SQUAD_LEADER])
    assert expected in inbox(staff[R.OFFICER])
    # Other squads' leaders are not told.
    assert inbox(staff["officer_b"]) == []


def test_far_deadline_sends_nothing(flow, staff, clock_at):
    flow.filed()  # the 90-day decision period is far away
    assert alerts.scan_deadlines(clock_at.today) == {"due_soon": 0, "overdue": 0}
    assert inbox(staff[R.OFFICER]) == []


def test_lead_without_officers_warns_whoever_entered_it(flow, staff, clock_at):
    case = flow.lead()
    clock_at.advance(30)  # past the pre-filing check period
    alerts.scan_deadlines(clock_at.today)
    titles = [title for title, _ in inbox(staff[R.OFFICER])]
    assert any(title.startswith(f"案件 {case.number or case.pk} ") and title.endswith("已超期") for title in titles)


def test_closed_case_is_never_announced(flow, staff, clock_at):
    case = flow.lead()
    from chengguan.cases.services import workflow

    workflow.withdraw(case, by=staff[R.SQUAD_LEADER], reason="违法事实不能成立")
    clock_at.advance(60)
    assert alerts.scan_deadlines(clock_at.today) == {"due_soon": 0, "overdue": 0}


def test_beat_runs_the_scan_daily_through_the_task(flow, staff, clock_at, settings):
    from chengguan.cases.tasks import scan_deadlines_task

    entry = settings.CELERY_BEAT_SCHEDULE["cases-deadlines"]
    assert entry["task"] == scan_deadlines_task.name == "cases.scan_deadlines"
    flow.notified()
    clock_at.advance(20)
    assert scan_deadlines_task.delay().get()["overdue"] == 3


def test_emergency_measure_awaiting_approval_warns_the_officers(flow, staff, clock_at):
    from chengguan.cases.services import workflow

    case = flow.filed()
    workflow.add_emergency_measure(case, by=flow.officer, kind="seize", items="货架", reason="当事人欲转移")
    alerts.scan_deadlines(clock_at.today)
    titles = [title for title, _ in inbox(staff[R.OFFICER])]
    assert any(t.startswith(f"案件 {case.number} 紧急扣押补办批准") and t.endswith("即将到期") for t in titles)
    clock_at.advance(2)  # 24 hours passed without approval
    alerts.scan_deadlines(clock_at.today)
    assert any("补办批准" in title and level == Notification.Level.DANGER
               for title, level in inbox(staff[R.SQUAD_LEADER]))
