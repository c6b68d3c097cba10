"""Scheduled jobs of the inspections app (Celery beat, daily; eager in-process by default)."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from chengguan.core import audit

from .models import RegulatedObject
from .services import tiering

# How far ahead the nightly job puts due inspections on the squads' schedules.
SCHEDULE_HORIZON_DAYS = 30


@shared_task(name="inspections.recompute_tiers")
def recompute_tiers_task(object_type_id: int | None = None) -> dict:
    """Re-tier every active object (or one type's, after its rule changed): violations age out
    of the window and new ones come in, so tiers move even when nobody edits an object."""
    queryset = None if object_type_id is None else RegulatedObject.objects.filter(object_type_id=object_type_id)
    with audit.context(source="job:recompute_tiers"):
        result = tiering.recompute_tiers(queryset)
    return {"checked": result.checked, "changed": result.changed}


@shared_task(name="inspections.generate_schedule")
def generate_schedule_task(horizon_days: int = SCHEDULE_HORIZON_DAYS) -> int:
    """Put every object due within the horizon on its squad's inspection schedule."""
    until = timezone.localdate() + dt.timedelta(days=horizon_days)
    with audit.context(source="job:generate_schedule"):
        return tiering.generate_schedule(by=None, until=until)
