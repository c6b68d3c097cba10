"""Read queries of the inspections module shared by the UI, the API and the public portal.
Staff reads go through `restrict(user, action)`, so nothing outside the user's scope is ever
listed; the public reads return only what has been published."""

import datetime as dt
from collections import OrderedDict

from django.db.models import Count, Q
from django.utils import timezone

from chengguan.core.models import Grid, OrgUnit, User

from .choices import PlanStatus, TaskStatus
from .models import (
    ChecklistItem,
    DrawPlan,
    DrawSelection,
    InspectionRecord,
    InspectionTask,
    ObjectType,
    RegulatedObject,
    TierRule,
)

MAP_MAX_OBJECTS = 2000  # markers drawn at once; more makes phones stutter


# --- registry -------------------------------------------------------------------------------

def object_types():
    return ObjectType.objects.filter(is_active=True).order_by("code")


def object_list(user, action: str = "view"):
    return (RegulatedObject.objects.restrict(user, action)
            .select_related("object_type", "squad", "grid").order_by("pk"))


def grids_for_filter(user, squad_id: str | None = None, limit: int = 300):
    """Grids offered in the registry's grid filter: those of the chosen squad, or all in scope
    when there are few (a district has thousands)."""
    grids = Grid.objects.restrict(user).filter(is_active=True).order_by("code")
    if squad_id and str(squad_id).isdigit():
        return list(grids.filter(squad_id=squad_id)[:limit])
    grids = list(grids[:limit + 1])
    return grids if len(grids) <= limit else []


def object_map_features(queryset, limit: int | None = None) -> tuple[list[dict], int]:
    """(GeoJSON point features of the first `limit` (MAP_MAX_OBJECTS) located objects, how many
    located objects match in all)."""
    limit = limit or MAP_MAX_OBJECTS
    located = queryset.filter(lon__isnull=False, lat__isnull=False)
    total = located.count()
    rows = located.order_by("pk").values_list("pk", "name", "address", "lon", "lat", "tier",
                                              "object_type__name")[:limit]
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"id": pk, "name": name, "address": address, "tier": tier, "type": type_name}}
        for pk, name, address, lon, lat, tier, type_name in rows
    ]
    return features, total


def object_profile(user, obj: RegulatedObject) -> dict:
    """Related rows shown on an object's page (the object itself was looked up in scope)."""
    tasks = (InspectionTask.objects.restrict(user).filter(regulated_object=obj, status=TaskStatus.PENDING)
             .prefetch_related("inspectors").order_by("due_date"))
    records = (InspectionRecord.objects.restrict(user).filter(regulated_object=obj)
               .prefetch_related("inspectors").order_by("-inspected_at"))
    conflicts = obj.conflicts.select_related("inspector").order_by("-declared_at")
    return {
        "pending_tasks": list(tasks),
        "records": list(records[:20]),
        "record_total": records.count(),
        "conflicts": list(conflicts) if user.has_perm("inspections.view_inspectorconflict") else None,
        "merged_from": list(obj.merged_from.order_by("pk").only("pk", "name")),
    }


def officers_in_scope(user, also=None):
    """Active staff with a valid enforcement certificate whom the user may name as
    co-inspectors or inspectors (same scope as the staff list), plus the users `also` (a
    task's drawn inspectors, who may come from another squad)."""
    today = timezone.localdate()
    people = Q(pk__in=User.objects.restrict(user).values("pk"))
    if also is not None:
        people |= Q(pk__in=also.values("pk"))
    return (User.objects.filter(people, is_active=True, certificate_valid_from__lte=today,
                                certificate_valid_to__gte=today)
            .exclude(certificate_number="").select_related("org_unit").order_by("org_unit__path", "real_name"))


# --- tier rules -----------------------------------------------------------------------------

def tier_rules():
    """Object types with their rule (or None) and checklist sizes, for the tier-rules page."""
    return (ObjectType.objects.order_by("code")
            .select_related("tier_rule")
            .annotate(checklist_count=Count("checklist", filter=Q(checklist__is_active=True))))


def tier_rule_for(object_type: ObjectType) -> TierRule | None:
    return TierRule.objects.filter(object_type=object_type).first()


def checklist_for(object_type_id: int):
    return list(ChecklistItem.objects.filter(object_type_id=object_type_id, is_active=True).order_by("order", "pk"))


# --- tasks ----------------------------------------------------------------------------------

def task_list(user):
    return _with_related(InspectionTask.objects.restrict(user))


def _with_related(tasks):
    return (tasks.select_related("regulated_object", "regulated_object__object_type", "squad", "plan")
            .prefetch_related("inspectors").order_by("due_date", "pk"))


def assigned_tasks(user):
    """Tasks the user is named on. Being drawn for a task is enough to see it, even when the
    object lies outside the user's own squad (a 双随机 draw crosses squads)."""
    if not user.has_perm("inspections.view_inspectiontask"):
        return InspectionTask.objects.none()
    return _with_related(InspectionTask.objects.filter(inspectors=user))


def task_for_inspection(user, pk: int) -> InspectionTask | None:
    """A task the user may record an inspection for: in their scope or assigned to them."""
    return task_list(user).filter(pk=pk).first() or assigned_tasks(user).filter(pk=pk).first()


def my_tasks(user) -> dict:
    """The officer's pending tasks by due date: assigned to them, and the unassigned ones of
    their scope (schedule tasks get inspectors when someone takes them)."""
    mine = assigned_tasks(user).filter(status=TaskStatus.PENDING)
    unassigned = task_list(user).filter(status=TaskStatus.PENDING, inspectors__isnull=True)
    return {"mine": list(mine[:200]), "unassigned": list(unassigned[:100]), "unassigned_total": unassigned.count()}


def calendar(user, month_start: dt.date, squad_id=None) -> dict:
    """Pending and done tasks due in the month, grouped by day, and the overdue ones before it."""
    today = timezone.localdate()
    next_month = (month_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    tasks = task_list(user).exclude(status=TaskStatus.CANCELLED)
    if squad_id:
        tasks = tasks.filter(squad_id=squad_id)
    in_month = tasks.filter(due_date__gte=month_start, due_date__lt=next_month)
    days: OrderedDict[dt.date, list] = OrderedDict()
    for task in in_month:
        task.overdue = task.status == TaskStatus.PENDING and task.due_date < today
        days.setdefault(task.due_date, []).append(task)
    overdue = tasks.filter(status=TaskStatus.PENDING, due_date__lt=min(today, month_start))
    return {
        "days": list(days.items()),
        "overdue_before": list(overdue[:100]),
        "overdue_before_total": overdue.count(),
        "month_total": sum(len(v) for v in days.values()),
        "next_month": next_month,
        "prev_month": (month_start - dt.timedelta(days=1)).replace(day=1),
    }


# --- records --------------------------------------------------------------------------------

def record_list(user, action: str = "view"):
    return (InspectionRecord.objects.restrict(user, action)
            .select_related("regulated_object", "regulated_object__object_type", "squad")
            .prefetch_related("inspectors").order_by("-inspected_at", "-pk"))


# --- draw plans -----------------------------------------------------------------------------

def plan_list(user, action: str = "view"):
    return (DrawPlan.objects.restrict(user, action).select_related("org_unit", "created_by")
            .prefetch_related("object_types").annotate(selection_count=Count("selections", distinct=True))
            .order_by("-created_at", "-pk"))


def names_of(user_ids) -> dict[int, str]:
    return dict(User.objects.filter(pk__in=set(user_ids)).values_list("pk", "real_name"))


def selections_of(plan: DrawPlan):
    return (plan.selections.select_related("regulated_object", "regulated_object__object_type",
                                           "regulated_object__squad").order_by("rank"))


def with_inspector_names(rows) -> list[DrawSelection]:
    """The selections, each with `inspector_names` (in draw order) — one query for all."""
    rows = list(rows)
    names = names_of(i for row in rows for i in row.inspector_ids)
    for row in rows:
        row.inspector_names = [names.get(i, f"#{i}") for i in row.inspector_ids]
    return rows


def plan_selections(plan: DrawPlan, limit: int | None = None) -> list[DrawSelection]:
    """The drawn objects in draw order with their inspectors' names (two queries)."""
    rows = selections_of(plan)
    return with_inspector_names(rows[:limit] if limit else rows)


def plan_units(user):
    return OrgUnit.objects.restrict(user).filter(is_active=True).order_by("path")


# --- public portal --------------------------------------------------------------------------

def published_plans():
    """Plans that have been published (a later re-draw keeps them listed, marked superseded):
    the public never sees a draft, a committed or a drawn-but-unpublished plan."""
    return (DrawPlan.objects.filter(published_at__isnull=False,
                                    status__in=[PlanStatus.PUBLISHED, PlanStatus.SUPERSEDED])
            .select_related("org_unit").prefetch_related("object_types")
            .annotate(selection_count=Count("selections", distinct=True))
            .order_by("-published_at", "-pk"))


def published_records():
    return (InspectionRecord.objects.filter(published_at__isnull=False)
            .select_related("regulated_object", "regulated_object__object_type", "squad")
            .order_by("-inspected_at", "-pk"))
