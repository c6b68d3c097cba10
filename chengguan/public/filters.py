"""Search on the public portal's pages of published penalty decisions."""

import django_filters
from django.db.models import Q

from chengguan.cases.models import Disclosure, DisclosureStatus

KEYWORD_MAX = 50


class PublicDecisionFilter(django_filters.FilterSet):
    """By matter, decision date, street (the responsible squad) and keyword. The keyword
    searches the text of a decision only while it is published: a withdrawn one is found by
    its number, title and area, never by the words of the text it no longer shows."""

    matter = django_filters.NumberFilter(field_name="matter_id", label="执法事项")
    squad = django_filters.NumberFilter(field_name="squad_id", label="街镇")
    date_from = django_filters.DateFilter(field_name="decided_on", lookup_expr="gte", label="决定日期起")
    date_to = django_filters.DateFilter(field_name="decided_on", lookup_expr="lte", label="决定日期止")
    q = django_filters.CharFilter(method="keyword", label="关键词")

    class Meta:
        model = Disclosure
        fields = ["matter", "squad", "date_from", "date_to", "q"]

    def keyword(self, queryset, name, value):
        value = " ".join(value.split())[:KEYWORD_MAX]
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(decision_number__icontains=value) | Q(area__icontains=value)
            | Q(status=DisclosureStatus.PUBLISHED, public_text__icontains=value)
        )
