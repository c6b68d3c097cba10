"""Scheduled jobs of the work-order app (Celery beat; eager in-process by default)."""

from celery import shared_task

from chengguan.core import audit

from .services import clocks


@shared_task(name="workorders.scan_deadlines")
def scan_deadlines_task() -> dict:
    """Flag overdue orders and warn before limits run out."""
    with audit.context(source="job:workorder_deadlines"):
        return clocks.scan_deadlines()
