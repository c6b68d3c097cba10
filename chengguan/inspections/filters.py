"""FilterSets of the inspections lists, shared by the UI pages and the API (one definition per
list). Querysets come in already scoped (`restrict(user)`); these only narrow them."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from .choices import CreditGrade, InspectionOutcome, PlanStatus, TaskSource, TaskStatus, Tier
from .models import DrawPlan, InspectionRecord, InspectionTask, RegulatedObject

YES_NO = [("true", "是"), ("false", "否")]


def _yes(value) -> bool:
    return value in (True, "true", "True", "1", 1)


class RegulatedObjectFilter(django_filters.FilterSet):
    """Objects in management by default (`state=active`); merged or deactivated ones with
    `state=inactive`, everything with `state=all`."""

    STATES = [("active", "在管"), ("inactive", "已停管/已合并"), ("all", "全部")]

    q = django_filters.CharFilter(method="search", label="名称、信用代码或地址")
    object_type = django_filters.NumberFilter(field_name="object_type_id", label="对象类型")
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")
    grid = django_filters.NumberFilter(field_name="grid_id", label="网格")
    tier = django_filters.ChoiceFilter(choices=Tier.choices, label="监管等级")
    credit_grade = django_filters.ChoiceFilter(choices=CreditGrade.choices, label="信用等级")
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_overdue", label="逾期未检")
    state = django_filters.ChoiceFilter(choices=STATES, method="filter_state", label="状态", empty_label=None)

    class Meta:
        model = RegulatedObject
        fields = ["q", "object_type", "squad", "grid", "tier", "credit_grade", "overdue", "state"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = "active"
        super().__init__(data, *args, **kwargs)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__icontains=value)
                               | Q(address__icontains=value))

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        overdue = Q(is_active=True, next_inspection_due__lt=today)
        return queryset.filter(overdue) if _yes(value) else queryset.exclude(overdue)

    def filter_state(self, queryset, name, value):
        if value == "all":
            return queryset
        return queryset.filter(is_active=value != "inactive")


class InspectionTaskFilter(django_filters.FilterSet):
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, label="状态")
    source = django_filters.ChoiceFilter(choices=TaskSource.choices, label="来源")
    due_from = django_filters.DateFilter(field_name="due_date", lookup_expr="gte", label="应检日期起")
    due_to = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label="应检日期止")
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_overdue", label="逾期未检")
    inspector = django_filters.NumberFilter(field_name="inspectors", label="检查人员")
    plan = django_filters.NumberFilter(field_name="plan_id", label="抽查计划")

    class Meta:
        model = InspectionTask
        fields = ["squad", "status", "source", "due_from", "due_to", "overdue", "inspector", "plan"]

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status=TaskStatus.PENDING, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if _yes(value) else queryset.exclude(overdue)


class InspectionRecordFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="regulated_object__name", lookup_expr="icontains", label="对象名称")
    outcome = django_filters.ChoiceFilter(choices=InspectionOutcome.choices, label="检查结果")
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")
    object_type = django_filters.NumberFilter(field_name="regulated_object__object_type_id", label="对象类型")
    date_from = django_filters.DateFilter(field_name="inspected_at", lookup_expr="date__gte", label="检查日期起")
    date_to = django_filters.DateFilter(field_name="inspected_at", lookup_expr="date__lte", label="检查日期止")
    published = django_filters.ChoiceFilter(choices=YES_NO, method="filter_published", label="已公示")
    publication_overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_publication_overdue",
                                                      label="逾期未公示")

    class Meta:
        model = InspectionRecord
        fields = ["q", "outcome", "squad", "object_type", "date_from", "date_to", "published",
                  "publication_overdue"]

    def filter_published(self, queryset, name, value):
        return queryset.filter(published_at__isnull=not _yes(value))

    def filter_publication_overdue(self, queryset, name, value):
        overdue = Q(published_at__isnull=True, publish_due__lt=timezone.localdate())
        return queryset.filter(overdue) if _yes(value) else queryset.exclude(overdue)


class DrawPlanFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="计划名称")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label="状态")
    org_unit = django_filters.NumberFilter(field_name="org_unit_id", label="组织单位")
    object_type = django_filters.NumberFilter(field_name="object_types", label="对象类型")
    period_from = django_filters.DateFilter(field_name="period_end", lookup_expr="gte", label="检查期间起")
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte", label="检查期间止")

    class Meta:
        model = DrawPlan
        fields = ["q", "status", "org_unit", "object_type", "period_from", "period_to"]


class PublicRecordFilter(django_filters.FilterSet):
    """The public portal's search over published results: object type and date only."""

    object_type = django_filters.NumberFilter(field_name="regulated_object__object_type_id", label="对象类型")
    date_from = django_filters.DateFilter(field_name="inspected_at", lookup_expr="date__gte", label="检查日期起")
    date_to = django_filters.DateFilter(field_name="inspected_at", lookup_expr="date__lte", label="检查日期止")

    class Meta:
        model = InspectionRecord
        fields = ["object_type", "date_from", "date_to"]
