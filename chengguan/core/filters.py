"""FilterSets shared by the UI lists and the API (one definition per list)."""

import django_filters

from .choices import OrgUnitKind, RoleCode
from .models import AuditEvent, Grid, OrgUnit, User


class OrgUnitFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="名称或编码")
    kind = django_filters.ChoiceFilter(choices=OrgUnitKind.choices, label="类型")
    parent = django_filters.NumberFilter(field_name="parent_id", label="上级单位")

    class Meta:
        model = OrgUnit
        fields = ["q", "kind", "parent", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value) | queryset.filter(code__icontains=value)


class GridFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="网格编码或名称")
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")

    class Meta:
        model = Grid
        fields = ["q", "squad", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(code__icontains=value) | queryset.filter(name__icontains=value)


class StaffFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="姓名、登录名或工号")
    org_unit = django_filters.NumberFilter(field_name="org_unit_id", label="所属单位")
    role = django_filters.ChoiceFilter(field_name="roles__code", choices=RoleCode.choices, label="角色")
    certificate_expires_before = django_filters.DateFilter(
        field_name="certificate_valid_to", lookup_expr="lt", label="执法证有效期早于"
    )

    class Meta:
        model = User
        fields = ["q", "org_unit", "role", "is_active", "certificate_expires_before"]

    def search(self, queryset, name, value):
        return (
            queryset.filter(real_name__icontains=value)
            | queryset.filter(username__icontains=value)
            | queryset.filter(staff_number__icontains=value)
        )


class AuditEventFilter(django_filters.FilterSet):
    object_type = django_filters.CharFilter(label="对象类型（如 core.grid）")
    object_id = django_filters.CharFilter(label="对象编号")
    action = django_filters.CharFilter(label="动作（如 grid.update）")
    actor = django_filters.NumberFilter(field_name="actor_id", label="操作人")
    chain = django_filters.CharFilter(label="链")
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="起始日期")
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="截止日期")

    class Meta:
        model = AuditEvent
        fields = ["object_type", "object_id", "action", "actor", "chain", "date_from", "date_to"]
