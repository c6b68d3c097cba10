"""Work-order statistics for the command centre and leaders."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count
from django.utils import timezone

from chengguan.core.errors import ValidationFailed
from chengguan.core.models import OrgUnit

from ..choices import Status
from ..models import CaseConversion, WorkOrder

MAX_RANGE_DAYS = 366


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


def conversion_rate_by_squad(start: dt.date, end: dt.date, user) -> list[dict]:
    """诉转案率 per squad: orders received from `start` to `end` (local dates, inclusive) in the
    user's scope — merged repeats and orders returned as outside the remit left out, since
    neither could become a case on its own — against how many of those orders were converted
    (CaseConversion). Rows by squad name; orders not yet placed in a squad form a row with
    `squad` None. `rate` is None where no order was received."""
    since, until = _bounds(start, end)
    orders = (WorkOrder.objects.restrict(user, "view")
              .filter(received_at__gte=since, received_at__lt=until, is_repeat=False)
              .exclude(status__in=[Status.MERGED, Status.REJECTED]))
    received = dict(orders.values_list("squad_id").annotate(n=Count("pk")).order_by())
    converted = defaultdict(int, CaseConversion.objects.filter(order__in=orders.values("pk"))
                            .values_list("order__squad_id").annotate(n=Count("pk")).order_by())
    names = dict(OrgUnit.objects.filter(pk__in=[k for k in received if k]).values_list("pk", "name"))
    rows = []
    for squad_id, count in received.items():
        done = converted[squad_id]
        rows.append({"squad": squad_id, "squad_name": names.get(squad_id, "未定位"), "received": count,
                     "converted": done, "rate": round(done / count, 4) if count else None})
    rows.sort(key=lambda r: (r["squad"] is None, r["squad_name"]))
    return rows
