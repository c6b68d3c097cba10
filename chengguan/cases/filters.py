"""The case list filter (API now, screens later). Querysets come in scoped."""

import django_filters

from .choices import Procedure, Status
from .models import Case
from .services import clock

YES_NO = [("true", "是"), ("false", "否")]


class CaseFilter(django_filters.FilterSet):
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")
    # distinct=False: one column, and DISTINCT would sort the whole filtered set.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label="状态", distinct=False)
    procedure = django_filters.ChoiceFilter(choices=Procedure.choices, label="程序")
    matter = django_filters.NumberFilter(field_name="matter_id", label="执法事项")
    deadline_before = django_filters.DateFilter(field_name="next_deadline", lookup_expr="lte", label="最近期限不晚于")
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_overdue", label="已超期")
    number = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label="案件编号")

    class Meta:
        model = Case
        fields = []

    def filter_overdue(self, queryset, name, value):
        today = clock.today()
        if value in ("true", True):
            return queryset.filter(next_deadline__lt=today)
        return queryset.filter(next_deadline__gte=today)
