"""Dashboard cards of the inspections module (registered when the app is ready)."""

from django.urls import reverse

from chengguan.core.selectors import card, dashboard_card

from .choices import TaskStatus
from .models import InspectionRecord, InspectionTask


@dashboard_card
def _pending_tasks_card(user, today):
    if not user.has_perm("inspections.view_inspectiontask"):
        return None
    value = InspectionTask.objects.restrict(user).filter(status=TaskStatus.PENDING).count()
    return card("inspection_tasks", "待检查任务", value, "clipboard-check", reverse("inspections:calendar"))


@dashboard_card
def _overdue_tasks_card(user, today):
    if not user.has_perm("inspections.view_inspectiontask"):
        return None
    value = InspectionTask.objects.restrict(user).filter(status=TaskStatus.PENDING, due_date__lt=today).count()
    return card("inspection_overdue", "逾期未检", value, "alarm", reverse("inspections:calendar"),
                "danger" if value else "secondary")


@dashboard_card
def _publication_overdue_card(user, today):
    if not user.has_perm("inspections.view_inspectionrecord"):
        return None
    value = (InspectionRecord.objects.restrict(user)
             .filter(published_at__isnull=True, publish_due__lt=today).count())
    url = reverse("inspections:record_list") + "?publication_overdue=true"
    return card("inspection_publication_overdue", "检查结果逾期未公示", value, "megaphone", url,
                "warning" if value else "secondary", note="20 个工作日内应公示")
