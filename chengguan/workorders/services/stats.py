"""Work-order statistics for the command centre and leaders: per-squad indicators after
GB/T 30428.4 (domain README §7.6) and the 诉转案率 endpoint's figures. Every figure is an
aggregate query grouped by squad, in the caller's data scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.utils import timezone

from chengguan.core.choices import OrgUnitKind
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import OrgUnit

from ..choices import OPEN_STATUSES, Satisfaction, Status
from ..models import WorkOrder, WorkOrderStep

MAX_RANGE_DAYS = 366
UNPLACED = "未定位"
TOTAL = "合计"
# Orders that count as received (受理): merged repeats are one matter with their parent, orders
# returned as outside the remit were never ours to handle.
COUNTED = Q(is_repeat=False) & ~Q(status__in=[Status.MERGED, Status.REJECTED])


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValidationFailed("请提供起止日期。", code="required", field="start")
    if start > end:
        raise ValidationFailed("开始日期不能晚于结束日期。", code="invalid_range", field="start")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"统计区间不能超过 {MAX_RANGE_DAYS} 天。", code="range_too_long", field="end")
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def _by_squad(queryset, group: str = "squad_id", **counts) -> dict:
    """{squad id: {name: count}} from one GROUP BY query."""
    rows = queryset.values(group).annotate(**counts).order_by()
    return {row.pop(group): row for row in rows}


def _received_counts(user, since: dt.datetime, until: dt.datetime) -> dict:
    """Orders received in [since, until) per squad: 受理数 (COUNTED), 重复件数, 非本部门职责退回数
    and 诉转案数 (counted orders with a CaseConversion: the 诉转案率 numerator)."""
    orders = WorkOrder.objects.restrict(user, "view").filter(received_at__gte=since, received_at__lt=until)
    return _by_squad(
        orders,
        received=Count("pk", filter=COUNTED),
        repeats=Count("pk", filter=Q(is_repeat=True)),
        rejected=Count("pk", filter=Q(status=Status.REJECTED)),
        converted=Count("pk", filter=COUNTED & Q(case_conversion__isnull=False)),
    )


def _rate(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal; None where there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def conversion_rate_by_squad(start: dt.date, end: dt.date, user) -> list[dict]:
    """诉转案率 per squad: orders received from `start` to `end` (local dates, inclusive) in the
    user's scope — merged repeats and orders returned as outside the remit left out, since
    neither could become a case on its own — against how many of those orders were converted
    (CaseConversion). Rows by squad name; orders not yet placed in a squad form a row with
    `squad` None. `rate` is a fraction (0.5), None where no order was received."""
    since, until = _bounds(start, end)
    counts = {k: v for k, v in _received_counts(user, since, until).items() if v["received"]}
    names = dict(OrgUnit.objects.filter(pk__in=[k for k in counts if k]).values_list("pk", "name"))
    rows = [{"squad": squad_id, "squad_name": names.get(squad_id, UNPLACED), "received": c["received"],
             "converted": c["converted"], "rate": round(c["converted"] / c["received"], 4)}
            for squad_id, c in counts.items()]
    rows.sort(key=lambda r: (r["squad"] is None, r["squad_name"]))
    return rows


@dataclass
class SquadIndicators:
    """One squad's row (`squad` None: orders not placed in a squad; `is_total`: the bureau
    total of the rows in scope). Counts are fields; rates are percentages (Decimal, one
    decimal) or None where the denominator is 0."""

    squad: int | None
    squad_name: str
    is_total: bool = False
    received: int = 0          # 受理数
    repeats: int = 0           # 重复件数
    rejected: int = 0          # 非本部门职责退回数
    closed: int = 0            # 结案数
    closed_on_time: int = 0    # 按期结案数
    overdue_open: int = 0      # 应结未结数: reply clock ran out in the range, not closed by its end
    handled: int = 0           # 处置数: orders with a 处置反馈 in the range
    reworked: int = 0          # 返工数: orders sent back after a failed 核查 in the range
    rated: int = 0             # 评价数
    satisfied: int = 0         # 满意 + 基本满意
    converted: int = 0         # 诉转案数
    overdue_now: int = 0       # 超时在办数 (now, whatever the range)
    COUNTS = ("received", "repeats", "rejected", "closed", "closed_on_time", "overdue_open", "handled",
              "reworked", "rated", "satisfied", "converted", "overdue_now")

    @property
    def due(self) -> int:  # 应结案数
        return self.closed + self.overdue_open

    @property
    def closure_rate(self) -> Decimal | None:  # 结案率
        return _rate(self.closed, self.due)

    @property
    def on_time_rate(self) -> Decimal | None:  # 按期结案率
        return _rate(self.closed_on_time, self.due)

    @property
    def rework_rate(self) -> Decimal | None:  # 返工率
        return _rate(self.reworked, self.handled)

    @property
    def satisfaction_rate(self) -> Decimal | None:  # 满意率
        return _rate(self.satisfied, self.rated)

    @property
    def conversion_rate(self) -> Decimal | None:  # 诉转案率
        return _rate(self.converted, self.received)


def indicators_by_squad(start: dt.date, end: dt.date, user, *, now: dt.datetime | None = None
                        ) -> list[SquadIndicators]:
    """Work-order indicators per squad for `start`–`end` (local dates, inclusive) in the user's
    data scope, after GB/T 30428.4 as described in the domain README §7.6; the last row is the
    total of the rows (`is_total`). Every squad in scope has a row, zeros included; orders not
    placed in a squad form a row of their own where there are any.

    - 受理数: orders received in the range, less merged repeats and 非本部门职责 returns, which
      are counted apart (重复件数, 非本部门职责退回数). 诉转案数 / 诉转案率: of those received,
      the ones converted to a case (the same figures as `conversion_rate_by_squad`).
    - 结案数: orders closed in the range (by `closed_at`: an order closed in the range and
      reopened since no longer counts); 按期结案数: those of them that never ran past a limit
      (`was_overdue` false).
    - 应结案数 = 结案数 + orders whose reply clock (`reply_due_at`, the 办结时限) ran out in the
      range and that were not closed by its end. Suspended orders are left out: their clock
      is stopped and their limit moves when they resume. 结案率 and 按期结案率 divide by it.
    - 返工率 = orders sent back after a failed 核查 (a "rework" step) in the range / 处置数, the
      orders with a 处置反馈 ("reply" step) in the range; both count orders, not steps. The
      standard's denominator is unverified (README §7.6: 返工数/处置数 as recalled; a local
      system uses 立案数) — this is our choice, made so that the rate reads as "share of the
      handled orders that had to be redone".
    - 满意率 = (满意 + 基本满意) / orders rated in the range, by each order's latest rating.
    - 超时在办数: orders open and past their limit now, whatever the range.

    Rates are percentages with one decimal, None where the denominator is 0. Refused
    (PermissionDenied) without `workorders.view_stats`; bad ranges raise ValidationFailed."""
    if not user.has_perm("workorders.view_stats"):
        raise PermissionDenied("您没有查看工单统计的权限。")
    since, until = _bounds(start, end)
    now = now or timezone.now()
    scoped = WorkOrder.objects.restrict(user, "view")

    received = _received_counts(user, since, until)
    closed_in_range = Q(status=Status.CLOSED, closed_at__gte=since, closed_at__lt=until)
    ran_out = Q(reply_due_at__gte=since, reply_due_at__lt=min(until, now))
    open_at_end = Q(status__in=OPEN_STATUSES - {Status.SUSPENDED}) | Q(status=Status.CLOSED, closed_at__gte=until)
    overdue_now = Q(status__in=OPEN_STATUSES, overdue=True)
    closure = _by_squad(
        scoped.filter(closed_in_range | (ran_out & open_at_end) | overdue_now),
        closed=Count("pk", filter=closed_in_range),
        closed_on_time=Count("pk", filter=closed_in_range & Q(was_overdue=False)),
        overdue_open=Count("pk", filter=ran_out & open_at_end),
        overdue_now=Count("pk", filter=overdue_now),
    )
    good = [Satisfaction.SATISFIED, Satisfaction.BASICALLY]
    steps = _by_squad(
        WorkOrderStep.objects.filter(order__in=scoped.values("pk"), at__gte=since, at__lt=until,
                                     action__in=["reply", "rework", "rate"]),
        group="order__squad_id",
        handled=Count("order", distinct=True, filter=Q(action="reply")),
        reworked=Count("order", distinct=True, filter=Q(action="rework")),
        rated=Count("order", distinct=True, filter=Q(action="rate")),
        satisfied=Count("order", distinct=True, filter=Q(action="rate", order__satisfaction__in=good)),
    )

    squads = dict(OrgUnit.objects.restrict(user).filter(kind=OrgUnitKind.SQUAD, is_active=True)
                  .order_by("path").values_list("pk", "name"))
    seen = {*received, *closure, *steps}
    missing = [pk for pk in seen if pk and pk not in squads]  # a squad closed since, say
    squads.update(OrgUnit.objects.filter(pk__in=missing).values_list("pk", "name"))
    rows = [_row(squad_id, name, received, closure, steps) for squad_id, name in squads.items()]
    if None in seen:
        rows.append(_row(None, UNPLACED, received, closure, steps))
    total = SquadIndicators(squad=None, squad_name=TOTAL, is_total=True)
    for name in SquadIndicators.COUNTS:
        setattr(total, name, sum(getattr(r, name) for r in rows))
    rows.append(total)
    return rows


def _row(squad_id, name, *sources) -> SquadIndicators:
    row = SquadIndicators(squad=squad_id, squad_name=name)
    for source in sources:
        for key, value in source.get(squad_id, {}).items():
            setattr(row, key, value)
    return row
