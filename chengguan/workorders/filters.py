"""The work-order list filter, shared by the UI pages, the Excel export and the API (one
definition). Querysets come in already scoped (`restrict(user)`); this only narrows them."""

import django_filters
from django.db.models import Q

from .choices import Channel, Status
from .models import WorkOrder

YES_NO = [("true", "是"), ("false", "否")]


def _yes(value) -> bool:
    return value in (True, "true", "True", "1", 1)


class WorkOrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="编号、标题或地址")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label="来源渠道")
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label="状态")
    category = django_filters.NumberFilter(method="filter_category", label="分类")
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")
    grid = django_filters.NumberFilter(field_name="grid_id", label="网格")
    assignee = django_filters.NumberFilter(field_name="assignee_id", label="处置人")
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="已超时")
    repeat = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="重复件")
    supervised = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="督办")
    needs_review = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="待人工分类")
    received_from = django_filters.DateFilter(field_name="received_at", lookup_expr="date__gte", label="受理日期起")
    received_to = django_filters.DateFilter(field_name="received_at", lookup_expr="date__lte", label="受理日期止")

    FLAG_FIELDS = {"overdue": "overdue", "repeat": "is_repeat", "supervised": "supervised",
                   "needs_review": "needs_review"}

    class Meta:
        model = WorkOrder
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(external_ticket=value) | Q(title__icontains=value)
                               | Q(address__icontains=value))

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category_id=value) | Q(category__parent_id=value))

    def filter_flag(self, queryset, name, value):
        return queryset.filter(**{self.FLAG_FIELDS[name]: _yes(value)})
