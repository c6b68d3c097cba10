"""Time limits on the working calendar: working hours and working days across holidays and
make-up workdays, rule resolution, pauses, and the deadline scan."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from chengguan.core.calendar import working_hours_between
from chengguan.core.choices import RoleCode
from chengguan.core.models import Notification
from chengguan.workorders.choices import LimitKind, Stage, Status
from chengguan.workorders.models import Category, TimeLimitRule, WorkOrder
from chengguan.workorders.services import clocks, intake

BJ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BJ)


def test_working_hours_skip_the_national_day_holiday_and_count_the_make_up_sunday():
    # 2024: 1–7 October off; Sunday 29 September is a working day (调休).
    limit = clocks.Limit(LimitKind.WORKING_HOURS, Decimal(2))
    assert limit.due(at(2024, 9, 27, 16, 30)) == at(2024, 9, 29, 9, 30)
    assert limit.due(at(2024, 9, 30, 17, 0)) == at(2024, 10, 8, 10, 0)
    assert limit.due(at(2024, 9, 28, 10, 0)) == at(2024, 9, 29, 10, 30), "Saturday 28th is a rest day"


def test_working_days_end_at_close_of_office_on_the_nth_working_day():
    five = clocks.Limit(LimitKind.WORKING_DAYS, Decimal(5))
    # 27 Sep (Fri) + 5 working days: 29 Sep (make-up Sunday), 30 Sep, 8, 9, 10 Oct.
    assert five.due(at(2024, 9, 27, 10, 0)) == at(2024, 10, 10, 17, 30)
    one = clocks.Limit(LimitKind.WORKING_DAYS, Decimal(1))
    assert one.due(at(2024, 5, 10, 23, 0)) == at(2024, 5, 11, 17, 30), "Saturday 11 May 2024 was a make-up day"


def test_half_days_are_counted_in_office_hours():
    half = clocks.Limit(LimitKind.WORKING_DAYS, Decimal("0.5"))
    assert half.due(at(2024, 3, 4, 8, 30)) == at(2024, 3, 4, 13, 30)


def test_working_hours_between_is_the_inverse_of_adding_them():
    start = at(2024, 9, 27, 16, 30)
    for hours in (0.5, 2, 9, 30):
        end = clocks.Limit(LimitKind.WORKING_HOURS, Decimal(str(hours))).due(start)
        assert working_hours_between(start, end) == dt.timedelta(hours=hours)


def test_a_pause_keeps_the_office_time_that_was_left():
    due = at(2024, 10, 10, 17, 30)
    paused, resumed = at(2024, 10, 9, 17, 30), at(2024, 10, 14, 8, 30)  # one working day left
    assert clocks.shift_after_pause(due, paused, resumed) == at(2024, 10, 14, 17, 30)
    assert clocks.shift_after_pause(due, at(2024, 10, 11, 9, 0), resumed) == resumed, "already late: due now"


@pytest.mark.django_db
def test_the_most_specific_rule_wins():
    noise = Category.objects.get(code="noise")
    table = clocks.RuleTable()
    assert table.limit(Stage.REPLY, "12345", noise.pk) == clocks.Limit(LimitKind.WORKING_DAYS, Decimal(5),
                                                                       "分类“噪声扰民”默认时限")
    assert table.limit(Stage.REPLY, "leadership", noise.pk).amount == 3, "督办件: channel rule"
    TimeLimitRule(stage=Stage.REPLY, channel="", category=noise.parent, kind=LimitKind.WORKING_DAYS,
                  amount=Decimal(4), basis="环保类").save()
    TimeLimitRule(stage=Stage.REPLY, channel="leadership", category=noise, kind=LimitKind.WORKING_HOURS,
                  amount=Decimal(8), basis="领导交办噪声").save()
    table = clocks.RuleTable()
    assert table.limit(Stage.REPLY, "12345", noise.pk).amount == 4, "the parent category's rule"
    assert table.limit(Stage.REPLY, "leadership", noise.pk).kind == LimitKind.WORKING_HOURS
    assert table.limit(Stage.ACCEPT, "12345", None) == clocks.Limit(LimitKind.WORKING_HOURS, Decimal(2),
                                                                    "签收时限：受理后 2 个工作时（本局默认）")


@pytest.mark.django_db
def test_settings_default_applies_when_the_table_is_empty(settings):
    TimeLimitRule.objects.filter(stage=Stage.VERIFY).first().delete()
    settings.WORKORDER_VERIFY_DAYS = 2
    assert clocks.RuleTable().limit(Stage.VERIFY, "12345", None).amount == 2


def test_scan_flags_overdue_orders_and_warns_once(org, users):
    dispatcher = users[RoleCode.DISPATCHER]
    order = intake.receive(by=dispatcher, channel="12345", text="噪声扰民", category="noise",
                           lon=121.405, lat=31.105).order
    now = order.due_at + dt.timedelta(minutes=1)
    assert clocks.scan_deadlines(now) == {"overdue": 1, "due_soon": 0}
    order.refresh_from_db()
    assert order.overdue and order.was_overdue
    assert Notification.objects.filter(recipient=dispatcher, title=f"工单 {order.number} 已超时").count() == 1
    assert clocks.scan_deadlines(now)["overdue"] == 0, "each limit is announced once"


def test_scan_warns_before_the_limit(org, users, settings):
    settings.WORKORDER_DUE_SOON_HOURS = 1
    order = intake.receive(by=users[RoleCode.DISPATCHER], channel="12345", text="噪声扰民", category="noise",
                           lon=121.405, lat=31.105).order
    before = order.due_at - dt.timedelta(minutes=30)
    assert clocks.scan_deadlines(before) == {"overdue": 0, "due_soon": 1}
    order.refresh_from_db()
    assert order.due_soon_notified and not order.overdue
    assert Notification.objects.filter(title=f"工单 {order.number} 即将超时").exists()


def test_suspended_orders_are_not_scanned(org, users):
    order = intake.receive(by=users[RoleCode.DISPATCHER], channel="12345", text="噪声扰民", category="noise",
                           lon=121.405, lat=31.105).order
    order.status = Status.SUSPENDED
    order.save(audit_action="test")
    assert clocks.scan_deadlines(order.due_at + dt.timedelta(days=30))["overdue"] == 0


def test_an_order_received_late_starts_overdue(org, users):
    received = timezone.now() - dt.timedelta(days=20)
    order = intake.receive(by=users[RoleCode.DISPATCHER], channel="12345", text="噪声扰民", category="noise",
                           received_at=received.isoformat()).order
    assert order.overdue and order.was_overdue
    assert WorkOrder.objects.filter(overdue=True).count() == 1
