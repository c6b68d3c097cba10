"""The violation catalogue: enforcement matters (执法事项) with their legal bases, versioned
discretion benchmarks (裁量基准, 《行政处罚法》第三十四条) and the no-penalty list (免罚清单,
第三十三条). Configuration for the whole bureau: no org-unit scope.

Published benchmark versions are frozen: cases keep the version they were decided under, so a
published version must never change. The services refuse such edits with a Chinese message; the
models refuse them too, so no other path (admin, shell, a bug) can alter a decided basis."""

from django.conf import settings
from django.db import models

from chengguan.core.errors import BusinessRuleError
from chengguan.core.models import AuditedModel

from .choices import BenchmarkStatus, ExemptionKind, FineRule, MatterCategory, PartyKind

MONEY = {"max_digits": 14, "decimal_places": 2}
FACTOR = {"max_digits": 8, "decimal_places": 4}


class LegalBasis(AuditedModel):
    """One provision: law + article + paragraph/item, e.g. 《上海市市容环境卫生管理条例》第二十四条第一款."""

    law_name = models.CharField("法律法规名称", max_length=120, help_text="不含书名号，如 中华人民共和国大气污染防治法")
    article = models.CharField("条", max_length=30, help_text="如 第一百一十八条")
    clause = models.CharField("款、项", max_length=60, blank=True, help_text="如 第一款第（二）项")
    version_note = models.CharField("文本版本", max_length=60, blank=True, help_text="如 2018年修正文本")
    summary = models.TextField("条文要点", blank=True)
    verified = models.BooleanField("已核实", default=True, help_text="条号、幅度未经原文核实的标记为待核实")
    note = models.CharField("备注", max_length=300, blank=True)

    class Meta:
        verbose_name = "法律依据"
        verbose_name_plural = "法律依据"
        ordering = ["law_name", "article", "clause"]
        constraints = [
            models.UniqueConstraint(fields=["law_name", "article", "clause", "version_note"],
                                    name="regulations_basis_unique"),
        ]

    def __str__(self) -> str:
        return self.citation

    @property
    def citation(self) -> str:
        text = f"《{self.law_name}》{self.article}{self.clause}"
        return text if self.verified else f"{text}（待核实）"


class Matter(AuditedModel):
    """An enforcement matter (执法事项): one kind of violation the bureau may penalise."""

    code = models.CharField("事项编码", max_length=40, unique=True)
    name = models.CharField("事项名称", max_length=200)
    category = models.CharField("类别", max_length=30, choices=MatterCategory.choices)
    description = models.TextField("说明", blank=True)
    violation_bases = models.ManyToManyField(LegalBasis, verbose_name="违法依据", blank=True,
                                             related_name="violated_by")
    penalty_bases = models.ManyToManyField(LegalBasis, verbose_name="处罚依据", blank=True,
                                           related_name="penalised_by")
    statutory_penalty = models.CharField("法定处罚幅度", max_length=300, blank=True,
                                         help_text="法律规定的处罚种类和幅度，如 责令改正，处五千元以上五万元以下罚款")
    penalty_kinds = models.JSONField("处罚种类", default=list, blank=True,
                                     help_text="《行政处罚法》第九条的种类代码列表")
    simple_procedure_allowed = models.BooleanField("可适用简易程序", default=False)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "执法事项"
        verbose_name_plural = "执法事项"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


FROZEN_STATES = (BenchmarkStatus.PUBLISHED, BenchmarkStatus.RETIRED)
# What may still change on a published version: retirement, and closing an open validity period
# when a newer version supersedes it (see services.publish_benchmark).
MUTABLE_WHEN_PUBLISHED = {"status", "valid_to", "retired_at", "retired_by_id", "retire_reason", "updated_at"}


def frozen_message(benchmark) -> str:
    return (f"执法事项“{benchmark.matter.name}”的裁量基准第 {benchmark.version} 版已"
            f"{'发布' if benchmark.status == BenchmarkStatus.PUBLISHED else '废止'}，不能修改；"
            "如需调整，请起草新版本。")


class Benchmark(AuditedModel):
    """One version of a matter's discretion benchmark (裁量基准)."""

    matter = models.ForeignKey(Matter, verbose_name="执法事项", on_delete=models.PROTECT, related_name="benchmarks")
    version = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=12, choices=BenchmarkStatus.choices, default=BenchmarkStatus.DRAFT)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True, help_text="含当日；留空为长期有效")
    document = models.CharField("发布文件", max_length=200, blank=True, help_text="如 沪城管规〔2025〕2号")
    note = models.TextField("说明", blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    retired_at = models.DateTimeField("废止时间", null=True, blank=True)
    retired_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="废止人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    retire_reason = models.CharField("废止理由", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "裁量基准"
        verbose_name_plural = "裁量基准"
        ordering = ["matter__code", "-version"]
        constraints = [models.UniqueConstraint(fields=["matter", "version"], name="regulations_benchmark_version")]
        indexes = [models.Index(fields=["matter", "status", "valid_from"], name="regulations_bm_lookup")]

    def __str__(self) -> str:
        return f"{self.matter.name} 裁量基准第 {self.version} 版（{self.get_status_display()}）"

    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN_STATES

    def _stored(self) -> dict | None:
        if self.pk is None:
            return None
        return type(self)._base_manager.filter(pk=self.pk).values().first()

    def save(self, *args, **kwargs):
        stored = self._stored()
        if stored and stored["status"] in FROZEN_STATES:
            changed = {f.attname for f in self._meta.concrete_fields
                       if f.attname in stored and stored[f.attname] != getattr(self, f.attname)}
            allowed = MUTABLE_WHEN_PUBLISHED if stored["status"] == BenchmarkStatus.PUBLISHED else {"updated_at"}
            if changed - allowed or (stored["valid_to"] is not None and "valid_to" in changed):
                raise BusinessRuleError(frozen_message(self), code="benchmark_frozen")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        stored = self._stored()
        if stored and stored["status"] in FROZEN_STATES:
            raise BusinessRuleError(frozen_message(self), code="benchmark_frozen")
        return super().delete(*args, **kwargs)

    def covers(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class BenchmarkTier(AuditedModel):
    """One circumstance tier (裁量阶次) of a benchmark version, with its fine rule. Amounts are
    yuan with two decimals; factors (倍数/比例) have four."""

    benchmark = models.ForeignKey(Benchmark, verbose_name="裁量基准", on_delete=models.CASCADE, related_name="tiers")
    order = models.PositiveSmallIntegerField("序号", default=1)
    label = models.CharField("档次", max_length=30, help_text="轻微、一般、较重、严重或自定义")
    party_kind = models.CharField("适用对象", max_length=20, choices=PartyKind.choices, blank=True,
                                  help_text="留空为不区分")
    conditions = models.TextField("适用情形", blank=True)
    rule = models.CharField("计罚方式", max_length=20, choices=FineRule.choices, default=FineRule.FIXED_RANGE)
    min_amount = models.DecimalField("最低罚款（元）", null=True, blank=True, **MONEY,
                                     help_text="固定幅度的下限；按单位或倍数计罚时为保底金额")
    max_amount = models.DecimalField("最高罚款（元）", null=True, blank=True, **MONEY,
                                     help_text="固定幅度的上限；按单位或倍数计罚时为封顶金额")
    unit_rate = models.DecimalField("单价（元/单位）", null=True, blank=True, **MONEY)
    unit_rate_max = models.DecimalField("单价上限（元/单位）", null=True, blank=True, **MONEY,
                                        help_text="单价为幅度时填写")
    unit_name = models.CharField("计量单位", max_length=20, blank=True, help_text="如 平方米、日、辆")
    min_factor = models.DecimalField("最低倍数", null=True, blank=True, **FACTOR, help_text="如 1；百分之五填 0.05")
    max_factor = models.DecimalField("最高倍数", null=True, blank=True, **FACTOR)
    base_name = models.CharField("计罚基数", max_length=30, blank=True, help_text="如 违法所得、建设工程造价")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "裁量阶次"
        verbose_name_plural = "裁量阶次"
        ordering = ["benchmark", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.benchmark} · {self.label}"

    def _guard(self) -> None:
        benchmark_id = self.benchmark_id
        stored = None
        if self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("benchmark_id", flat=True).first()
        for pk in {benchmark_id, stored} - {None}:
            benchmark = Benchmark._base_manager.select_related("matter").get(pk=pk)
            if benchmark.is_frozen:
                raise BusinessRuleError(frozen_message(benchmark), code="benchmark_frozen")

    def save(self, *args, **kwargs):
        self._guard()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._guard()
        return super().delete(*args, **kwargs)


class ExemptionEntry(AuditedModel):
    """A line of the no-penalty list (免罚清单): matter, which rule of 《行政处罚法》第三十三条,
    and the conditions under which it applies."""

    matter = models.ForeignKey(Matter, verbose_name="执法事项", on_delete=models.PROTECT, related_name="exemptions")
    kind = models.CharField("免罚类型", max_length=20, choices=ExemptionKind.choices)
    conditions = models.TextField("适用条件")
    source = models.CharField("清单文件", max_length=200, blank=True)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True, help_text="含当日；留空为长期有效")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "免罚清单事项"
        verbose_name_plural = "免罚清单"
        ordering = ["matter__code", "kind", "valid_from"]

    def __str__(self) -> str:
        return f"{self.matter.name}：{self.get_kind_display()}"
