"""Dashboard cards of the work-order module: open orders in the user's scope, overdue ones,
and those waiting for something the user's roles do."""

from django.urls import reverse

from chengguan.core.selectors import card, dashboard_card

from . import selectors
from .choices import OPEN_STATUSES
from .models import WorkOrder


@dashboard_card
def _open_card(user, today):
    if not user.has_perm("workorders.view_workorder"):
        return None
    value = WorkOrder.objects.restrict(user).filter(status__in=OPEN_STATUSES).count()
    return card("workorders_open", "在办工单", value, "inbox", reverse("workorders:list") + "?" + "&".join(
        f"status={s}" for s in sorted(OPEN_STATUSES)))


@dashboard_card
def _overdue_card(user, today):
    if not user.has_perm("workorders.view_workorder"):
        return None
    # the flag the deadline scan sets, the same one the linked list filters on
    value = WorkOrder.objects.restrict(user).filter(status__in=OPEN_STATUSES, overdue=True).count()
    return card("workorders_overdue", "超时工单", value, "alarm", reverse("workorders:list") + "?overdue=true",
                "danger" if value else "secondary")


@dashboard_card
def _awaiting_card(user, today):
    if not user.has_perm("workorders.view_workorder"):
        return None
    condition = selectors.awaiting_q(user)
    if condition is None:
        return None
    value = WorkOrder.objects.restrict(user).filter(condition).count()
    return card("workorders_awaiting", "待我处理的工单", value, "hourglass-split", reverse("workorders:index"),
                "warning" if value else "secondary")
