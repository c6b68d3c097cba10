"""Time limits (办理时限) of work orders, counted on the foundation's working calendar.

Which limit applies: the most specific `TimeLimitRule` for the stage — channel and category,
then category (or its parent), then channel — else the category's own reply limit, else the
settings default. Working days run to the close of office on the n-th working day after the
start (the start day is not counted, as for every period in 工作日); working hours count
office time only (数字城管 limits are in 工作时, domain §7.5)."""

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chengguan.core import notifications
from chengguan.core.calendar import (
    add_working_days,
    add_working_hours,
    end_of_working_day,
    working_hours_between,
)
from chengguan.core.choices import RoleCode
from chengguan.core.models import Notification, User

from ..choices import OPEN_STATUSES, LimitKind, Stage, Status
from ..models import Category, TimeLimitRule, WorkOrder

# Statuses whose clock runs, with the stage it measures. Verified orders wait only for the
# closing signature; suspended ones keep their due time but the clock is paused.
CLOCK_STAGE = {
    Status.RECEIVED: Stage.ACCEPT,
    Status.ACCEPTED: Stage.DISPATCH,
    Status.RETURNED: Stage.DISPATCH,
    Status.DISPATCHED: Stage.REPLY,
    Status.HANDLING: Stage.REPLY,
    Status.REPLIED: Stage.VERIFY,
}


@dataclass(frozen=True)
class Limit:
    kind: str
    amount: Decimal
    basis: str = ""

    def due(self, start: dt.datetime) -> dt.datetime:
        if self.kind == LimitKind.WORKING_HOURS:
            return add_working_hours(start, self.amount)
        whole = int(self.amount)
        if whole == self.amount:
            return end_of_working_day(add_working_days(timezone.localtime(start).date(), whole))
        return add_working_hours(start, self.amount * Decimal(office_day_hours()))


def office_day_hours() -> float:
    from chengguan.core.calendar import office_hours

    return sum((dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, b)).seconds / 3600
               for b, e in office_hours())


DEFAULTS = {
    Stage.ACCEPT: lambda: Limit(LimitKind.WORKING_HOURS, Decimal(str(settings.WORKORDER_ACCEPT_HOURS)), "系统默认"),
    Stage.DISPATCH: lambda: Limit(LimitKind.WORKING_HOURS, Decimal(str(settings.WORKORDER_DISPATCH_HOURS)),
                                  "系统默认"),
    Stage.REPLY: lambda: Limit(LimitKind.WORKING_DAYS, Decimal(str(settings.WORKORDER_REPLY_DAYS)),
                               "《上海市“12345”市民服务热线工作管理办法》一般诉求 5 个工作日（默认）"),
    Stage.VERIFY: lambda: Limit(LimitKind.WORKING_DAYS, Decimal(str(settings.WORKORDER_VERIFY_DAYS)), "系统默认"),
}


class RuleTable:
    """All time-limit rules in memory (a few hundred rows at most): one query per batch."""

    def __init__(self):
        self.rules = {(r.stage, r.channel, r.category_id): r for r in TimeLimitRule.objects.all()}
        self.categories = {c.pk: c for c in Category.objects.all()}

    def limit(self, stage: str, channel: str, category_id: int | None) -> Limit:
        chain = []
        cid = category_id
        while cid is not None:  # the category, then its ancestors
            chain.append(cid)
            cid = self.categories[cid].parent_id if cid in self.categories else None
        for cid in chain:
            rule = self.rules.get((stage, channel, cid)) or self.rules.get((stage, "", cid))
            if rule:
                return Limit(rule.kind, rule.amount, rule.basis)
        rule = self.rules.get((stage, channel, None))
        if rule:
            return Limit(rule.kind, rule.amount, rule.basis)
        if stage == Stage.REPLY and chain:
            category = self.categories[chain[0]]
            return Limit(category.limit_kind, category.limit_amount, f"分类“{category.name}”默认时限")
        rule = self.rules.get((stage, "", None))
        if rule:
            return Limit(rule.kind, rule.amount, rule.basis)
        return DEFAULTS[stage]()


CACHE_SECONDS = 30  # another process's edits to the rules apply within this time
_cache = {"table": None, "loaded": float("-inf")}


def rule_table() -> RuleTable:
    """The rules, cached per process (edits in this process apply at once, see `invalidate`)."""
    now = time.monotonic()
    if _cache["table"] is None or now - _cache["loaded"] >= CACHE_SECONDS:
        _cache["table"], _cache["loaded"] = RuleTable(), now
    return _cache["table"]


def invalidate(**_signal_kwargs) -> None:
    _cache["table"] = None


def limit_for(stage: str, order: WorkOrder, table: RuleTable | None = None) -> Limit:
    return (table or rule_table()).limit(stage, order.channel, order.category_id)


def start_clock(order: WorkOrder, stage: str | None, start: dt.datetime, table: RuleTable | None = None) -> None:
    """Point the order's running clock at `stage` from `start` (in memory; the caller saves).
    The reply clock runs from receipt (12345: 自受理之日起) and is computed once, at intake or
    on reclassification; the other stages start when they begin."""
    order.clock_stage = stage or ""
    order.overdue = False
    order.due_soon_notified = order.overdue_notified = False
    if stage is None:
        order.due_at = None
    elif stage == Stage.REPLY:
        if order.reply_due_at is None:
            order.reply_due_at = limit_for(Stage.REPLY, order, table).due(order.received_at)
        order.due_at = order.reply_due_at
    else:
        order.due_at = limit_for(stage, order, table).due(start)
    if order.due_at is not None and order.due_at <= timezone.now():
        order.overdue = order.was_overdue = True


def clock_for_status(order: WorkOrder, now: dt.datetime, table: RuleTable | None = None) -> None:
    start_clock(order, CLOCK_STAGE.get(order.status), now, table)


def shift_after_pause(due: dt.datetime | None, paused_at: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """A due time moved by the office time that passed while the clock was paused: what was
    left at the pause is what is left now."""
    if due is None:
        return None
    remaining = working_hours_between(paused_at, due)
    return add_working_hours(now, remaining.total_seconds() / 3600) if remaining else now


def _recipients(order: WorkOrder) -> list[User]:
    users = User.objects.filter(is_active=True, roles__code=RoleCode.DISPATCHER)
    if order.squad_id:
        users = users | User.objects.filter(is_active=True, roles__code=RoleCode.SQUAD_LEADER,
                                            org_unit__path__startswith=order.squad.path)
    recipients = list(users.distinct())
    if order.assignee_id:
        recipients.append(order.assignee)
    return recipients


def scan_deadlines(now: dt.datetime | None = None) -> dict:
    """Mark overdue orders and warn before and at the limit (Celery beat, every few minutes).
    Due soon = the limit falls within settings.WORKORDER_DUE_SOON_HOURS office hours."""
    now = now or timezone.now()
    soon = add_working_hours(now, settings.WORKORDER_DUE_SOON_HOURS)
    running = (WorkOrder.objects.filter(status__in=OPEN_STATUSES, due_at__isnull=False)
               .exclude(status=Status.SUSPENDED).select_related("squad", "assignee"))
    counts = {"overdue": 0, "due_soon": 0}
    with transaction.atomic():
        late = list(running.filter(due_at__lte=now, overdue_notified=False).select_for_update(of=("self",)))
        for order in late:
            order.overdue = order.was_overdue = order.overdue_notified = True
            notifications.notify_many(
                _recipients(order), f"工单 {order.number} 已超时",
                body=f"{order.get_clock_stage_display()}时限 {timezone.localtime(order.due_at):%Y-%m-%d %H:%M} 已过。",
                link=f"/workorders/{order.pk}/", level=Notification.Level.DANGER,
                dedupe_key=f"workorder:{order.pk}:{order.clock_stage}:{order.due_at:%Y%m%d%H%M}:overdue")
        WorkOrder.objects.bulk_update_audited(late, ["overdue", "was_overdue", "overdue_notified"],
                                              action="workorder.overdue")
        counts["overdue"] = len(late)
        near = list(running.filter(due_at__gt=now, due_at__lte=soon, due_soon_notified=False)
                    .select_for_update(of=("self",)))
        for order in near:
            order.due_soon_notified = True
            notifications.notify_many(
                _recipients(order), f"工单 {order.number} 即将超时",
                body=f"{order.get_clock_stage_display()}时限 {timezone.localtime(order.due_at):%Y-%m-%d %H:%M}。",
                link=f"/workorders/{order.pk}/", level=Notification.Level.WARNING,
                dedupe_key=f"workorder:{order.pk}:{order.clock_stage}:{order.due_at:%Y%m%d%H%M}:soon")
        WorkOrder.objects.bulk_update_audited(near, ["due_soon_notified"], action="workorder.due_soon")
        counts["due_soon"] = len(near)
    return counts
