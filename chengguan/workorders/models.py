"""Work orders (工单): everything that comes in to be handled — hotline complaints, grid and
patrol discoveries, camera alerts, leadership referrals — with the category tree, time-limit
rules, the step history, handling records, clock requests (extension / suspension), repeat
candidates, the district address list used to locate orders without coordinates, intake
clients (hotline platforms, Open311 applications) and case-conversion requests (诉转案)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from chengguan.core.fields import EncryptedCharField
from chengguan.core.models import AuditedModel, Located, ScopedQuerySet

from .choices import (
    Channel,
    ClassifiedBy,
    LimitKind,
    LocatedBy,
    RepeatStatus,
    RequestKind,
    RequestStatus,
    Result,
    Satisfaction,
    Stage,
    Status,
)


class Category(AuditedModel):
    """A node of the category tree (大类 → 小类), editable by administrators. `in_remit=False`
    marks matters outside the bureau's remit (非本部门职责): such orders are returned with a
    reason. The reply time limit is the category's default; `TimeLimitRule` refines it."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    parent = models.ForeignKey("self", verbose_name="上级分类", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    keywords = models.CharField("关键词", max_length=300, blank=True,
                                help_text="以空格分隔，供自动分类参考（如：摊贩 夜市 占道）")
    in_remit = models.BooleanField("本部门职责", default=True)
    limit_kind = models.CharField("处置时限单位", max_length=16, choices=LimitKind.choices,
                                  default=LimitKind.WORKING_DAYS)
    limit_amount = models.DecimalField("处置时限", max_digits=6, decimal_places=1, default=5)
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "工单分类"
        verbose_name_plural = "工单分类"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent_id and self.parent else self.name


class TimeLimitRule(AuditedModel):
    """Time limit of one stage for a channel and/or category (blank = any). The most specific
    rule wins: channel + category, then category, then channel, then the settings default."""

    stage = models.CharField("环节", max_length=12, choices=Stage.choices)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices, blank=True)
    category = models.ForeignKey(Category, verbose_name="分类", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="time_limits")
    kind = models.CharField("单位", max_length=16, choices=LimitKind.choices)
    amount = models.DecimalField("时限", max_digits=6, decimal_places=1)
    basis = models.CharField("依据", max_length=200, blank=True)

    class Meta:
        verbose_name = "办理时限规则"
        verbose_name_plural = "办理时限规则"
        constraints = [
            models.UniqueConstraint(fields=["stage", "channel", "category"], condition=Q(category__isnull=False),
                                    name="time_limit_unique"),
            models.UniqueConstraint(fields=["stage", "channel"], condition=Q(category__isnull=True),
                                    name="time_limit_unique_any_category"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.amount}{self.get_kind_display()}"


class WorkOrderQuerySet(ScopedQuerySet):
    scope_field = "squad"


class WorkOrder(Located, AuditedModel):
    number = models.CharField("工单编号", max_length=32, unique=True)
    channel = models.CharField("来源渠道", max_length=16, choices=Channel.choices)
    external_ticket = models.CharField("外部工单号", max_length=64, blank=True)
    title = models.CharField("标题", max_length=200, blank=True)
    text = models.TextField("诉求内容（原文）")
    # Digest of the normalised text: finds word-for-word repeats with one indexed lookup.
    fingerprint = models.CharField("文本指纹", max_length=16, blank=True, db_index=True)
    address = models.CharField("地址", max_length=255, blank=True)
    located_by = models.CharField("定位方式", max_length=12, choices=LocatedBy.choices, blank=True)
    reporter_name = EncryptedCharField("反映人", max_length=50, blank=True)
    reporter_phone = EncryptedCharField("联系电话", max_length=32, blank=True)
    wants_reply = models.BooleanField("需要回复", default=True)
    photos = models.ManyToManyField("core.Evidence", verbose_name="照片", blank=True, related_name="+")
    category = models.ForeignKey(Category, verbose_name="分类", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    classified_by = models.CharField("分类方式", max_length=8, choices=ClassifiedBy.choices, blank=True)
    predicted_category = models.ForeignKey(Category, verbose_name="自动分类建议", null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    confidence = models.FloatField("分类置信度", null=True, blank=True)
    needs_review = models.BooleanField("待人工分类", default=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.RECEIVED)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处置人", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("self", verbose_name="并入主工单", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="repeats")
    is_repeat = models.BooleanField("重复件", default=False)
    has_repeat_candidates = models.BooleanField("疑似重复", default=False)
    supervised = models.BooleanField("督办", default=False)
    supervised_reason = models.CharField("督办原因", max_length=200, blank=True)
    out_of_remit_reason = models.CharField("非本部门职责说明", max_length=200, blank=True)
    return_reason = models.CharField("退单原因", max_length=200, blank=True)
    # The running clock: which stage it measures and when it falls due (null when stopped).
    clock_stage = models.CharField("计时环节", max_length=12, choices=Stage.choices, blank=True)
    due_at = models.DateTimeField("当前环节时限", null=True, blank=True)
    reply_due_at = models.DateTimeField("处置反馈时限", null=True, blank=True)
    suspended_at = models.DateTimeField("挂起时间", null=True, blank=True)
    overdue = models.BooleanField("已超时", default=False)
    was_overdue = models.BooleanField("曾超时", default=False)
    due_soon_notified = models.BooleanField("已发临期提醒", default=False)
    overdue_notified = models.BooleanField("已发超时提醒", default=False)
    result = models.CharField("处置结果", max_length=16, choices=Result.choices, blank=True)
    reply_text = models.TextField("答复内容", blank=True)
    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices, blank=True)
    reopened = models.PositiveSmallIntegerField("重办次数", default=0)
    case_reference = models.CharField("案件编号", max_length=64, blank=True)
    received_at = models.DateTimeField("受理时间", db_index=True)
    accepted_at = models.DateTimeField("签收时间", null=True, blank=True)
    dispatched_at = models.DateTimeField("派遣时间", null=True, blank=True)
    replied_at = models.DateTimeField("反馈时间", null=True, blank=True)
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        verbose_name = "工单"
        verbose_name_plural = "工单"
        ordering = ["-received_at", "-pk"]
        constraints = [
            # A resent hotline ticket never creates a second order (issue: idempotent intake).
            models.UniqueConstraint(fields=["channel", "external_ticket"], condition=~Q(external_ticket=""),
                                    name="workorder_ticket_once"),
        ]
        indexes = [
            # The list: filtered by squad, status and date, newest first (cursor on received_at, id).
            models.Index(fields=["squad", "status", "-received_at", "-id"], name="wo_squad_status_received"),
            models.Index(fields=["status", "-received_at", "-id"], name="wo_status_received"),
            models.Index(fields=["status", "due_at"], name="wo_status_due"),
            models.Index(fields=["h3", "received_at"], name="wo_h3_received"),
        ]

    def __str__(self) -> str:
        return self.number


class WorkOrderStep(AuditedModel):
    """One step of an order's timeline (append-only: services only create steps)."""

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.PROTECT, related_name="steps")
    action = models.CharField("动作", max_length=32)
    from_status = models.CharField("原状态", max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField("新状态", max_length=12, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    note = models.CharField("说明", max_length=500, blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "工单环节"
        verbose_name_plural = "工单环节"
        ordering = ["order", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.order} {self.action}"


class HandlingRecord(AuditedModel):
    """What an officer found and did on site, and the reply to the reporter."""

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.PROTECT, related_name="handlings")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处置人", on_delete=models.PROTECT,
                                related_name="+")
    findings = models.TextField("现场情况")
    result = models.CharField("处置结果", max_length=16, choices=Result.choices)
    result_reason = models.CharField("无法解决原因", max_length=300, blank=True)
    reply_text = models.TextField("答复内容", blank=True)
    photos = models.ManyToManyField("core.Evidence", verbose_name="现场照片", blank=True, related_name="+")
    lon = models.FloatField("处置位置经度", null=True, blank=True)
    lat = models.FloatField("处置位置纬度", null=True, blank=True)
    created_at = models.DateTimeField("处置时间", auto_now_add=True)

    class Meta:
        verbose_name = "处置记录"
        verbose_name_plural = "处置记录"
        ordering = ["order", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order} {self.get_result_display()}"


class ClockRequest(AuditedModel):
    """An extension (延期) or suspension (挂起) of an order's clock, approved or rejected."""

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.PROTECT, related_name="clock_requests")
    kind = models.CharField("类型", max_length=12, choices=RequestKind.choices)
    reason = models.CharField("理由", max_length=300)
    extra_days = models.PositiveSmallIntegerField("延长工作日", null=True, blank=True)
    status = models.CharField("审批状态", max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=300, blank=True)
    new_due_at = models.DateTimeField("调整后时限", null=True, blank=True)

    class Meta:
        verbose_name = "延期/挂起申请"
        verbose_name_plural = "延期/挂起申请"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.order} {self.get_kind_display()}"


class RepeatCandidate(AuditedModel):
    """A likely repeat found at intake: `order` looks like `original` (an earlier order)."""

    order = models.ForeignKey(WorkOrder, verbose_name="工单", on_delete=models.PROTECT,
                              related_name="repeat_candidates")
    original = models.ForeignKey(WorkOrder, verbose_name="疑似重复的原工单", on_delete=models.PROTECT,
                                 related_name="+")
    score = models.FloatField("相似度")
    distance_m = models.FloatField("距离（米）", null=True, blank=True)
    reason = models.CharField("判断依据", max_length=300)
    status = models.CharField("状态", max_length=10, choices=RepeatStatus.choices, default=RepeatStatus.PENDING)

    class Meta:
        verbose_name = "疑似重复"
        verbose_name_plural = "疑似重复"
        ordering = ["order", "-score"]
        constraints = [models.UniqueConstraint(fields=["order", "original"], name="repeat_pair_once")]

    def __str__(self) -> str:
        return f"{self.order} ≈ {self.original}"


class AddressEntry(AuditedModel):
    """One address of the district's address list (标准地址库), used to locate orders that came
    without coordinates. `normalized` is the matching key (see services.addresses)."""

    address = models.CharField("地址", max_length=255)
    normalized = models.CharField("标准化地址", max_length=255, db_index=True)
    lon = models.FloatField("经度 (WGS-84)")
    lat = models.FloatField("纬度 (WGS-84)")

    class Meta:
        verbose_name = "标准地址"
        verbose_name_plural = "标准地址"
        constraints = [models.UniqueConstraint(fields=["normalized"], name="address_once")]

    def __str__(self) -> str:
        return self.address


class IntakeClient(AuditedModel):
    """A machine client that submits orders: a hotline platform or an Open311 application. Its
    key is shown once; only the SHA-256 is kept. Orders it submits are recorded under `user`."""

    name = models.CharField("名称", max_length=100, unique=True)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="系统账号", on_delete=models.PROTECT,
                                related_name="intake_client")
    key_prefix = models.CharField("密钥前缀", max_length=8)
    key_digest = models.CharField("密钥摘要", max_length=64, unique=True)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "接入平台"
        verbose_name_plural = "接入平台"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseConversion(AuditedModel):
    """诉转案: a request to open an enforcement case from an order, carrying its facts, party and
    place. Until the cases module exists the request and the case number (once known) are the
    link; `outcome` records what became of the case."""

    order = models.OneToOneField(WorkOrder, verbose_name="工单", on_delete=models.PROTECT,
                                 related_name="case_conversion")
    squad = models.ForeignKey("core.OrgUnit", verbose_name="中队", null=True, on_delete=models.PROTECT,
                              related_name="+")
    facts = models.TextField("违法事实")
    party_name = models.CharField("当事人", max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提请人", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField("提请时间", auto_now_add=True)
    case_reference = models.CharField("案件编号", max_length=64, blank=True)
    outcome = models.CharField("案件结果", max_length=100, blank=True)

    class Meta:
        verbose_name = "诉转案"
        verbose_name_plural = "诉转案"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"诉转案：{self.order}"


class ClassifierModel(AuditedModel):
    """A trained classifier, versioned; the newest active one classifies new orders. The
    serialised model lives in the evidence store (content-addressed, never overwritten)."""

    version = models.PositiveIntegerField("版本", unique=True)
    file = models.ForeignKey("core.Evidence", verbose_name="模型文件", on_delete=models.PROTECT, related_name="+")
    training_size = models.PositiveIntegerField("训练样本数")
    labels = models.JSONField("分类")
    cv_accuracy = models.FloatField("交叉验证准确率", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="训练人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    trained_at = models.DateTimeField("训练时间", auto_now_add=True)

    class Meta:
        verbose_name = "分类模型"
        verbose_name_plural = "分类模型"
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"分类模型 v{self.version}"
