"""Deadline warnings of enforcement cases (Celery beat, daily; eager in-process by default).

Every step keeps `next_deadline` (the nearest open deadline), so the scan reads only the open
cases whose nearest deadline falls within `CASE_DUE_SOON_WORKING_DAYS` working days (an indexed
range), warns the handling officers of each deadline in that window, and warns them and the
squad leaders of each deadline that has passed. A deadline is announced once per recipient (the inbox dedupe
key names case, deadline and due date), so a rerun sends nothing twice."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from chengguan.core import notifications
from chengguan.core.calendar import add_working_days
from chengguan.core.choices import RoleCode
from chengguan.core.models import Notification, User

from ..choices import OPEN_STATUSES
from ..models import Case
from . import clock, rules


def _recipients(case: Case, *, overdue: bool) -> list[User]:
    # Before filing a lead has no handling officers yet: the officer who entered it is told.
    officers = [link.officer for link in case.case_officers.all()] or [case.created_by]
    officers = [user for user in officers if user.is_active]
    if not overdue or case.squad is None:
        return officers
    leaders = User.objects.filter(is_active=True, roles__code=RoleCode.SQUAD_LEADER,
                                  org_unit__path__startswith=case.squad.path).distinct()
    return [*officers, *leaders]


def scan_deadlines(today: dt.date | None = None) -> dict:
    """Send due-soon and overdue warnings; returns how many messages went out of each kind."""
    today = today or clock.today()
    horizon = add_working_days(today, settings.CASE_DUE_SOON_WORKING_DAYS)
    counts = {"due_soon": 0, "overdue": 0}
    watched = (Case.objects.filter(status__in=OPEN_STATUSES, next_deadline__lte=horizon)
               .select_related("squad", "created_by").prefetch_related("case_officers__officer"))
    for case in watched.iterator(chunk_size=500):
        for deadline in rules.deadlines(case, today):
            if deadline.due > horizon:
                break
            kind = "overdue" if deadline.overdue else "due_soon"
            title = (f"案件 {case.number or case.pk} {deadline.name}已超期" if deadline.overdue
                     else f"案件 {case.number or case.pk} {deadline.name}即将到期")
            sent = notifications.notify_many(
                _recipients(case, overdue=deadline.overdue), title,
                body=f"期限 {deadline.due:%Y-%m-%d}（{deadline.basis}）。", link=f"/cases/{case.pk}/",
                level=Notification.Level.DANGER if deadline.overdue else Notification.Level.WARNING,
                dedupe_key=f"case:{case.pk}:{deadline.name}:{deadline.due:%Y%m%d}:{kind}")
            counts[kind] += len(sent)
    return counts
