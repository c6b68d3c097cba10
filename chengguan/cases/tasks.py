"""Scheduled jobs of the cases app (Celery beat; eager in-process by default)."""

from celery import shared_task

from chengguan.core import audit

from .services import alerts, disclosure


@shared_task(name="cases.run_disclosures")
def run_disclosures_task() -> dict:
    """Publish penalty decisions that fall due, warn squad leaders of late ones, expire the
    ones whose publication period ended."""
    with audit.context(source="job:case_disclosures"):
        return disclosure.run_daily()


@shared_task(name="cases.scan_deadlines")
def scan_deadlines_task() -> dict:
    """Warn the handlers of case deadlines about to run out, and them and the squad leaders of
    those that have."""
    with audit.context(source="job:case_deadlines"):
        return alerts.scan_deadlines()
