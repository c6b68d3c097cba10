"""The regulated-object registry (执法对象监管库), tiered supervision (分级分类), verifiable
random inspection plans (双随机一公开) and inspection records."""

from django.conf import settings
from django.db import models

from chengguan.core.fields import EncryptedCharField
from chengguan.core.models import AuditedModel, Located, ScopedQuerySet

from .choices import CreditGrade, InspectionOutcome, PlanStatus, TaskSource, TaskStatus, Tier


class ObjectType(AuditedModel):
    """A kind of regulated object (沿街商户, 建筑工地 …); administrators add types."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60, unique=True)
    base_risk = models.PositiveSmallIntegerField("基础风险分", default=1, help_text="0–5，类型本身的风险")
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "监管对象类型"
        verbose_name_plural = "监管对象类型"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(AuditedModel):
    """One line of the inspection checklist of an object type."""

    object_type = models.ForeignKey(ObjectType, verbose_name="对象类型", on_delete=models.PROTECT,
                                    related_name="checklist")
    order = models.PositiveSmallIntegerField("序号", default=0)
    text = models.CharField("检查内容", max_length=200)
    legal_basis = models.CharField("依据", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "检查项"
        verbose_name_plural = "检查项"
        ordering = ["object_type", "order", "pk"]

    def __str__(self) -> str:
        return self.text


class TierRule(AuditedModel):
    """How an object type's tier is computed and how often each tier is inspected.

    score = type base risk + object risk level + weight × violations in the look-back window
            + credit points (A/B/C/D); the tier is the first whose threshold the score reaches."""

    object_type = models.OneToOneField(ObjectType, verbose_name="对象类型", on_delete=models.PROTECT,
                                       related_name="tier_rule")
    violation_weight = models.PositiveSmallIntegerField("每起违法加分", default=2)
    violation_window_days = models.PositiveIntegerField("违法记录回溯天数", default=365)
    credit_points = models.JSONField("信用等级加分", default=dict, help_text='如 {"A": 0, "B": 1, "C": 3, "D": 5}')
    thresholds = models.JSONField("分级阈值", default=dict, help_text='得分达到即为该级，如 {"1": 9, "2": 6, "3": 3}')
    frequency_days = models.JSONField("检查频次（天）", default=dict,
                                      help_text='每级多少天检查一次，如 {"1": 30, "2": 90, "3": 180, "4": 365}')

    class Meta:
        verbose_name = "分级规则"
        verbose_name_plural = "分级规则"

    def __str__(self) -> str:
        return f"{self.object_type} 分级规则"


class RegulatedObjectQuerySet(ScopedQuerySet):
    scope_field = "squad"


class RegulatedObject(Located, AuditedModel):
    object_type = models.ForeignKey(ObjectType, verbose_name="对象类型", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=200)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True, db_index=True)
    id_number = EncryptedCharField("身份证件号码", max_length=32, blank=True)
    id_digest = models.CharField("证件号摘要", max_length=64, blank=True, db_index=True, editable=False)
    address = models.CharField("地址", max_length=255)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = EncryptedCharField("联系电话", max_length=32, blank=True)
    licences = models.JSONField("证照", default=list, blank=True,
                                help_text='[{"name": "营业执照", "number": "…", "valid_to": "2027-01-01"}]')
    risk_level = models.PositiveSmallIntegerField("风险等级分", default=0, help_text="0–5，现场风险因素")
    credit_grade = models.CharField("信用等级", max_length=1, choices=CreditGrade.choices, default=CreditGrade.B)
    tier = models.PositiveSmallIntegerField("监管等级", choices=Tier.choices, default=Tier.THREE)
    tier_reason = models.CharField("定级理由", max_length=300, blank=True)
    tier_computed_at = models.DateTimeField("定级时间", null=True, blank=True)
    last_inspected_on = models.DateField("最近检查日期", null=True, blank=True)
    next_inspection_due = models.DateField("下次应检日期", null=True, blank=True, db_index=True)
    is_active = models.BooleanField("在管", default=True)
    merged_into = models.ForeignKey("self", verbose_name="已合并至", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged_from")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = RegulatedObjectQuerySet.as_manager()

    class Meta:
        verbose_name = "监管对象"
        verbose_name_plural = "监管对象"
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["squad", "object_type", "tier"], name="regobj_scope_type_tier"),
            models.Index(fields=["object_type", "credit_grade"], name="regobj_type_credit"),
        ]

    def __str__(self) -> str:
        return self.name


class InspectorConflict(AuditedModel):
    """回避: an inspector's declared interest in an object (APL art. 43); never drawn for it."""

    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="检查人员", on_delete=models.PROTECT,
                                  related_name="+")
    regulated_object = models.ForeignKey(RegulatedObject, verbose_name="监管对象", on_delete=models.PROTECT,
                                         related_name="conflicts")
    reason = models.CharField("回避事由", max_length=200)
    declared_at = models.DateTimeField("申报时间", auto_now_add=True)

    class Meta:
        verbose_name = "回避申报"
        verbose_name_plural = "回避申报"
        constraints = [models.UniqueConstraint(fields=["inspector", "regulated_object"], name="conflict_unique")]

    def __str__(self) -> str:
        return f"{self.inspector} 回避 {self.regulated_object}"


class DrawPlanQuerySet(ScopedQuerySet):
    scope_field = "org_unit"


class DrawPlan(AuditedModel):
    """A 双随机 plan. Lifecycle: draft → committed (population and inspector pool frozen as
    files in the evidence store with their SHA-256; the seed's SHA-256 published) → drawn (the
    seed revealed; selections computed by `draws.run_draw`) → published. A re-draw is a new
    plan pointing at the one it replaces, with a reason."""

    name = models.CharField("计划名称", max_length=120)
    org_unit = models.ForeignKey("core.OrgUnit", verbose_name="组织单位", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField("检查期间起")
    period_end = models.DateField("检查期间止")
    object_types = models.ManyToManyField(ObjectType, verbose_name="抽查对象类型", related_name="+")
    population_filters = models.JSONField("对象范围条件", default=dict, blank=True,
                                          help_text='{"squads": [id…], "tiers": [1, 2], "credit_grades": ["C", "D"]}')
    ratios = models.JSONField("各信用等级抽取比例", default=dict,
                              help_text='如 {"A": 0.02, "B": 0.05, "C": 0.10, "D": 0.20}')
    inspectors_per_object = models.PositiveSmallIntegerField("每户检查人员数", default=2)
    exclude_own_squad = models.BooleanField("本中队人员回避本辖区对象", default=False)
    inspector_units = models.ManyToManyField("core.OrgUnit", verbose_name="检查人员来源单位", blank=True,
                                             related_name="+")
    status = models.CharField("状态", max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    population_file = models.ForeignKey("core.Evidence", verbose_name="冻结对象名录", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    population_count = models.PositiveIntegerField("对象总数", default=0)
    pool_file = models.ForeignKey("core.Evidence", verbose_name="冻结检查人员名录", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    pool_count = models.PositiveIntegerField("检查人员数", default=0)
    seed = EncryptedCharField("随机种子", max_length=64, blank=True)
    seed_commitment = models.CharField("种子承诺值 SHA-256", max_length=64, blank=True)
    committed_at = models.DateTimeField("冻结时间", null=True, blank=True)
    drawn_at = models.DateTimeField("抽取时间", null=True, blank=True)
    published_at = models.DateTimeField("公示时间", null=True, blank=True)
    publish_due = models.DateField("公示期限", null=True, blank=True)
    replaces = models.OneToOneField("self", verbose_name="重抽所替代的计划", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="replaced_by")
    redraw_reason = models.CharField("重抽理由", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = DrawPlanQuerySet.as_manager()

    class Meta:
        verbose_name = "双随机抽查计划"
        verbose_name_plural = "双随机抽查计划"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def seed_revealed(self) -> bool:
        return self.status in {PlanStatus.DRAWN, PlanStatus.PUBLISHED, PlanStatus.SUPERSEDED}


class DrawSelection(AuditedModel):
    """One drawn object of a plan with its randomly assigned inspectors (ids in draw order)."""

    plan = models.ForeignKey(DrawPlan, verbose_name="计划", on_delete=models.PROTECT, related_name="selections")
    rank = models.PositiveIntegerField("抽取顺序")
    regulated_object = models.ForeignKey(RegulatedObject, verbose_name="监管对象", on_delete=models.PROTECT,
                                         related_name="+")
    credit_class = models.CharField("抽取时信用等级", max_length=1)
    inspector_ids = models.JSONField("检查人员")

    class Meta:
        verbose_name = "抽中对象"
        verbose_name_plural = "抽中对象"
        ordering = ["plan", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "regulated_object"], name="selection_object_once"),
            models.UniqueConstraint(fields=["plan", "rank"], name="selection_rank_once"),
        ]


class InspectionTaskQuerySet(ScopedQuerySet):
    scope_field = "squad"


class InspectionTask(AuditedModel):
    regulated_object = models.ForeignKey(RegulatedObject, verbose_name="监管对象", on_delete=models.PROTECT,
                                         related_name="tasks")
    squad = models.ForeignKey("core.OrgUnit", verbose_name="责任中队", null=True, on_delete=models.PROTECT,
                              related_name="+")
    source = models.CharField("来源", max_length=16, choices=TaskSource.choices)
    plan = models.ForeignKey(DrawPlan, verbose_name="抽查计划", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="tasks")
    due_date = models.DateField("应检日期", db_index=True)
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="检查人员", blank=True,
                                        related_name="inspection_tasks")
    status = models.CharField("状态", max_length=12, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    objects = InspectionTaskQuerySet.as_manager()

    class Meta:
        verbose_name = "检查任务"
        verbose_name_plural = "检查任务"
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["squad", "status", "due_date"], name="task_scope_status_due")]

    def __str__(self) -> str:
        return f"{self.regulated_object} {self.due_date}"


class InspectionRecordQuerySet(ScopedQuerySet):
    scope_field = "squad"


class InspectionRecord(AuditedModel):
    """What was found on an inspection. `checklist` holds one entry per checklist item:
    {"item": id, "text": "…", "result": "pass|fail|na", "note": "…"}."""

    task = models.OneToOneField(InspectionTask, verbose_name="检查任务", on_delete=models.PROTECT,
                                related_name="record")
    regulated_object = models.ForeignKey(RegulatedObject, verbose_name="监管对象", on_delete=models.PROTECT,
                                         related_name="inspections")
    squad = models.ForeignKey("core.OrgUnit", verbose_name="责任中队", null=True, on_delete=models.PROTECT,
                              related_name="+")
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="检查人员", related_name="+")
    inspected_at = models.DateTimeField("检查时间")
    lon = models.FloatField("检查位置经度")
    lat = models.FloatField("检查位置纬度")
    distance_m = models.FloatField("与对象距离（米）")
    location_verified = models.BooleanField("到场核验")
    checklist = models.JSONField("检查项结果", default=list)
    findings = models.TextField("检查情况", blank=True)
    photos = models.ManyToManyField("core.Evidence", verbose_name="现场照片", blank=True, related_name="+")
    signature = models.ForeignKey("core.Evidence", verbose_name="当事人签名", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    party_refused_to_sign = models.BooleanField("当事人拒绝签名", default=False)
    outcome = models.CharField("检查结果", max_length=20, choices=InspectionOutcome.choices)
    correction_deadline = models.DateField("整改期限", null=True, blank=True)
    reinspection_task = models.OneToOneField(InspectionTask, verbose_name="复查任务", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="reinspection_of")
    publish_due = models.DateField("公示期限", null=True, blank=True)
    published_at = models.DateTimeField("公示时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT,
                                   related_name="+")

    objects = InspectionRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "检查记录"
        verbose_name_plural = "检查记录"
        ordering = ["-inspected_at"]

    def __str__(self) -> str:
        return f"{self.regulated_object} {self.inspected_at:%Y-%m-%d}"


class CaseConversionRequest(AuditedModel):
    """A recorded request to open an enforcement case from an inspection, kept until the cases
    module takes it over (issue: enforcement cases)."""

    record = models.OneToOneField(InspectionRecord, verbose_name="检查记录", on_delete=models.PROTECT,
                                  related_name="case_request")
    facts = models.TextField("违法事实")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提请人", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField("提请时间", auto_now_add=True)
    case_reference = models.CharField("案件编号", max_length=64, blank=True)

    class Meta:
        verbose_name = "立案请求"
        verbose_name_plural = "立案请求"

    def __str__(self) -> str:
        return f"立案请求：{self.record}"
