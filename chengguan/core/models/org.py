"""Organisation tree (局 → 大队/处室 → 中队) and unit grids (单元网格)."""

from django.db import models

from ..choices import OrgUnitKind
from .audit import AuditedModel
from .scoping import ScopedQuerySet

PATH_STEP = 4  # each tree level adds a zero-padded 4-digit segment to OrgUnit.path


class OrgUnitQuerySet(ScopedQuerySet):
    scope_field = "self"

    def subtree_of(self, unit: "OrgUnit"):
        return self.filter(path__startswith=unit.path)


class OrgUnit(AuditedModel):
    """A node of the bureau's organisation. `path` is a materialised path for subtree queries
    that work the same on SQLite and PostgreSQL."""

    name = models.CharField("名称", max_length=100)
    code = models.CharField("编码", max_length=32, unique=True)
    kind = models.CharField("类型", max_length=16, choices=OrgUnitKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级单位", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    jurisdiction = models.JSONField("辖区范围 (GeoJSON, WGS-84)", null=True, blank=True)
    division_code = models.CharField("行政区划代码", max_length=12, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = "组织机构"
        verbose_name_plural = "组织机构"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return len(self.path) // PATH_STEP

    def ancestors(self, include_self: bool = True):
        prefixes = [self.path[:i] for i in range(PATH_STEP, len(self.path) + 1, PATH_STEP)]
        if not include_self:
            prefixes = prefixes[:-1]
        return OrgUnit.objects.filter(path__in=prefixes).order_by("path")

    def ancestor_of_kind(self, *kinds: str) -> "OrgUnit | None":
        """The nearest unit of one of `kinds` on the way up to the root (self included)."""
        for unit in reversed(list(self.ancestors())):
            if unit.kind in kinds:
                return unit
        return None

    def squad(self) -> "OrgUnit | None":
        return self.ancestor_of_kind(OrgUnitKind.SQUAD)

    def assign_path(self) -> None:
        """Compute `path` for a new unit: the parent's path plus the next free segment."""
        siblings = OrgUnit.objects.filter(parent=self.parent).exclude(pk=self.pk)
        prefix = self.parent.path if self.parent else ""
        used = {int(p[len(prefix):][:PATH_STEP]) for p in siblings.values_list("path", flat=True) if p}
        serial = max(used, default=0) + 1
        self.path = f"{prefix}{serial:0{PATH_STEP}d}"

    def save(self, *args, **kwargs):
        if not self.path:
            self.assign_path()
        super().save(*args, **kwargs)


class GridQuerySet(ScopedQuerySet):
    scope_field = "squad"


class Grid(AuditedModel):
    """单元网格: the smallest management area, owned by one squad."""

    code = models.CharField("网格编码", max_length=20, unique=True)
    name = models.CharField("网格名称", max_length=100)
    squad = models.ForeignKey(OrgUnit, verbose_name="责任中队", on_delete=models.PROTECT, related_name="grids")
    community = models.CharField("所属社区", max_length=100, blank=True)
    boundary = models.JSONField("边界 (GeoJSON Polygon, WGS-84)")
    area_m2 = models.FloatField("面积 (平方米)", default=0)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = GridQuerySet.as_manager()

    class Meta:
        verbose_name = "单元网格"
        verbose_name_plural = "单元网格"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
