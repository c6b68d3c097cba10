"""The work-order list filter, shared by the UI pages, the Excel export and the API (one
definition). Querysets come in already scoped (`restrict(user)`); this only narrows them."""

import datetime as dt

import django_filters
from django.db.models import Q
from django.utils import timezone

from .choices import Channel, Status
from .models import WorkOrder

YES_NO = [("true", "是"), ("false", "否")]


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _yes(value) -> bool:
    return value in (True, "true", "True", "1", 1)


class WorkOrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="编号、标题或地址")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label="来源渠道")
    # distinct=False: a status is one column, and DISTINCT would sort the whole filtered set.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label="状态", distinct=False)
    category = django_filters.NumberFilter(method="filter_category", label="分类")
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")
    grid = django_filters.NumberFilter(field_name="grid_id", label="网格")
    assignee = django_filters.NumberFilter(field_name="assignee_id", label="处置人")
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="已超时")
    repeat = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="重复件")
    supervised = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="督办")
    needs_review = django_filters.ChoiceFilter(choices=YES_NO, method="filter_flag", label="待人工分类")
    # Compared as moments (start of the day in Beijing time), not as `received_at::date`, so
    # the (squad, status, received_at) index serves the range.
    received_from = django_filters.DateFilter(method="filter_received", label="受理日期起")
    received_to = django_filters.DateFilter(method="filter_received", label="受理日期止")

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

    def filter_received(self, queryset, name, value):
        if name == "received_from":
            return queryset.filter(received_at__gte=_day_start(value))
        return queryset.filter(received_at__lt=_day_start(value + dt.timedelta(days=1)))

    def filter_flag(self, queryset, name, value):
        return queryset.filter(**{self.FLAG_FIELDS[name]: _yes(value)})
