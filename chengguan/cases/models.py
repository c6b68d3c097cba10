"""Enforcement cases (执法案件) under 《行政处罚法》: parties, the case with its append-only step
history, records (笔录), compulsory measures, decision-deadline extensions, legal reviews,
collective discussions, payments, payment plans, reminders, court applications and
reconsideration/litigation outcomes. Every change goes through `cases.services`."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from chengguan.core.errors import AuditBypassError, BusinessRuleError
from chengguan.core.fields import EncryptedCharField
from chengguan.core.models import AuditedModel, Located, ScopedQuerySet

from .choices import (
    AppealKind,
    AppealOutcome,
    CourtResult,
    DecisionOutcome,
    Ending,
    IdType,
    MeasureApproval,
    MeasureKind,
    MeasureOutcome,
    NoPenaltyGround,
    OfficerRole,
    PartyKind,
    PaymentMethod,
    PlanKind,
    Procedure,
    RecordKind,
    ReviewPurpose,
    ReviewResult,
    ServiceMethod,
    SourceKind,
    Status,
    TransferKind,
)

MONEY = {"max_digits": 12, "decimal_places": 2}
# `next_deadline` of a case with nothing left to watch: keeps the column non-null, so the list
# sorts and pages by (next_deadline, id) the same way on SQLite and PostgreSQL.
NO_DEADLINE = dt.date(9999, 12, 31)
USER = settings.AUTH_USER_MODEL
# 《行政强制法》第十九条: an emergency measure is reported to the agency head within 24 hours.
EMERGENCY_REPORT_WINDOW = dt.timedelta(hours=24)


def _user_fk(label: str, **extra):
    return models.ForeignKey(USER, verbose_name=label, on_delete=models.PROTECT, related_name="+", **extra)


class Party(AuditedModel):
    """当事人: a natural person or an organisation. Found again by `identity_digest` (a keyed
    HMAC of the ID number or credit code), never by decrypting."""

    kind = models.CharField("当事人类型", max_length=20, choices=PartyKind.choices)
    name = models.CharField("姓名/名称", max_length=200)
    id_type = models.CharField("证件类型", max_length=20, choices=IdType.choices, blank=True)
    id_number = EncryptedCharField("证件号码", max_length=40, blank=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    identity_digest = models.CharField("身份摘要", max_length=64, blank=True, editable=False)
    legal_representative = models.CharField("法定代表人/负责人", max_length=50, blank=True)
    phone = EncryptedCharField("联系电话", max_length=32, blank=True)
    address = models.CharField("住所/地址", max_length=255, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "当事人"
        verbose_name_plural = "当事人"
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["identity_digest"], condition=~Q(identity_digest=""),
                                               name="cases_party_identity_once")]

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(ScopedQuerySet):
    scope_field = "squad"


class Case(Located, AuditedModel):
    number = models.CharField("案件编号", max_length=64, blank=True)
    procedure = models.CharField("程序", max_length=10, choices=Procedure.choices, default=Procedure.ORDINARY)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.LEAD)
    matter = models.ForeignKey("regulations.Matter", verbose_name="执法事项", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    # The benchmark version and tier the penalty was computed under (frozen once published).
    benchmark = models.ForeignKey("regulations.Benchmark", verbose_name="裁量基准版本", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    tier = models.ForeignKey("regulations.BenchmarkTier", verbose_name="裁量阶次", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    parties = models.ManyToManyField(Party, verbose_name="当事人", through="CaseParty", related_name="cases")
    address = models.CharField("违法地点", max_length=255, blank=True)
    facts = models.TextField("违法事实", blank=True)
    source_kind = models.CharField("案件来源", max_length=16, choices=SourceKind.choices)
    work_order_conversion = models.OneToOneField("workorders.CaseConversion", verbose_name="诉转案请求", null=True,
                                                 blank=True, on_delete=models.PROTECT, related_name="case")
    inspection_request = models.OneToOneField("inspections.CaseConversionRequest", verbose_name="检查立案请求",
                                              null=True, blank=True, on_delete=models.PROTECT, related_name="case")
    act_date = models.DateField("违法行为发生日期", null=True, blank=True)
    act_ended_on = models.DateField("违法行为终了日期", null=True, blank=True,
                                    help_text="连续或继续状态的违法行为，填写终了之日（《行政处罚法》第三十六条）")
    harm_to_safety = models.BooleanField("涉及生命健康安全、金融安全且有危害后果", default=False)
    complex_case = models.BooleanField("疑难复杂或重大案件", default=False)
    officers = models.ManyToManyField(USER, verbose_name="承办人员", through="CaseOfficer", related_name="+")
    evidence = models.ManyToManyField("core.Evidence", verbose_name="证据", blank=True, related_name="+")
    filed_at = models.DateTimeField("立案时间", null=True, blank=True)
    filed_by = _user_fk("立案批准人", null=True, blank=True)
    # --- penalty -------------------------------------------------------------------------
    penalty_kinds = models.JSONField("处罚种类", default=list, blank=True)
    fine_units = models.DecimalField("违法数量", max_digits=14, decimal_places=4, null=True, blank=True)
    illegal_gains = models.DecimalField("违法所得（元）", null=True, blank=True, **MONEY)
    base_value = models.DecimalField("计罚基数（元）", null=True, blank=True, **MONEY)
    proposed_fine = models.DecimalField("拟罚款（元）", null=True, blank=True, **MONEY)
    notified_fine = models.DecimalField("告知罚款（元）", null=True, blank=True, **MONEY)
    decided_fine = models.DecimalField("决定罚款（元）", null=True, blank=True, **MONEY)
    outside_benchmark = models.BooleanField("超出裁量基准", default=False)
    outside_benchmark_reason = models.TextField("超出裁量基准的理由", blank=True)
    mitigated = models.BooleanField("减轻处罚", default=False)
    report_text = models.TextField("调查终结报告", blank=True)
    reported_at = models.DateTimeField("调查终结时间", null=True, blank=True)
    # --- pre-decision notice, statement, hearing (APL arts. 44, 45, 62–65) -----------------
    notice_served_on = models.DateField("事先告知送达日期", null=True, blank=True)
    statement_due = models.DateField("陈述申辩期限", null=True, blank=True)
    hearing_eligible = models.BooleanField("告知听证权利", default=False)
    hearing_request_due = models.DateField("听证申请期限", null=True, blank=True)
    statement_waived = models.BooleanField("明确放弃陈述申辩和听证", default=False)
    statement_text = models.TextField("陈述申辩意见", blank=True)
    reexamination = models.TextField("复核意见", blank=True)
    hearing_requested_on = models.DateField("申请听证日期", null=True, blank=True)
    hearing_notice_served_on = models.DateField("听证通知送达日期", null=True, blank=True)
    hearing_on = models.DateField("听证日期", null=True, blank=True)
    hearing_place = models.CharField("听证地点", max_length=200, blank=True)
    hearing_chair = _user_fk("听证主持人", null=True, blank=True)
    hearing_held_on = models.DateField("听证举行日期", null=True, blank=True)
    hearing_report = models.TextField("听证报告", blank=True)
    # --- decision, service, execution -------------------------------------------------------
    decision_outcome = models.CharField("决定结果", max_length=12, choices=DecisionOutcome.choices, blank=True)
    no_penalty_ground = models.CharField("不予处罚理由", max_length=20, choices=NoPenaltyGround.choices, blank=True)
    exemption = models.ForeignKey("regulations.ExemptionEntry", verbose_name="免罚清单事项", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField("决定日期", null=True, blank=True)
    decided_by = _user_fk("决定人", null=True, blank=True)
    remedy_text = models.TextField("救济途径告知", blank=True)
    service_due = models.DateField("送达期限", null=True, blank=True)
    served_on = models.DateField("送达日期", null=True, blank=True)
    service_method = models.CharField("送达方式", max_length=16, choices=ServiceMethod.choices, blank=True)
    service_consent = models.ForeignKey("core.Evidence", verbose_name="电子送达确认书", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    party_refused_to_sign = models.BooleanField("当事人拒绝签收", default=False)
    payment_due = models.DateField("缴款期限", null=True, blank=True)
    paid_amount = models.DecimalField("已缴金额（元）", default=0, **MONEY)
    collected_on_spot = models.BooleanField("当场收缴", default=False)
    filed_with_bureau_at = models.DateTimeField("备案时间", null=True, blank=True)
    # --- endings --------------------------------------------------------------------------
    ending = models.CharField("结案方式", max_length=16, choices=Ending.choices, blank=True)
    ending_reason = models.TextField("结案/撤案/移送理由", blank=True)
    transfer_kind = models.CharField("移送类型", max_length=20, choices=TransferKind.choices, blank=True)
    transfer_to = models.CharField("移送机关", max_length=200, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    closed_by = _user_fk("结案批准人", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    archived_by = _user_fk("归档人", null=True, blank=True)
    # Earliest open deadline (maintained by the services; NO_DEADLINE when none).
    next_deadline = models.DateField("最近期限", default=NO_DEADLINE)
    next_deadline_name = models.CharField("最近期限事项", max_length=60, blank=True)
    created_by = _user_fk("录入人")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "执法案件"
        verbose_name_plural = "执法案件"
        ordering = ["next_deadline", "pk"]
        constraints = [models.UniqueConstraint(fields=["number"], condition=~Q(number=""),
                                               name="cases_case_number_once")]
        indexes = [
            # The case list: by squad and status, nearest deadline first (cursor on next_deadline, id).
            models.Index(fields=["squad", "status", "next_deadline", "id"], name="case_squad_status_deadline"),
            models.Index(fields=["status", "next_deadline", "id"], name="case_status_deadline"),
            models.Index(fields=["next_deadline", "id"], name="case_deadline"),
            models.Index(fields=["matter", "act_date"], name="case_matter_act"),
        ]

    def __str__(self) -> str:
        return self.number or f"线索 #{self.pk}"

    def save(self, *args, **kwargs):
        # An archived case file (归档卷宗) never changes, whatever path tries (admin, shell, a bug).
        if self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == Status.ARCHIVED:
                raise BusinessRuleError(f"案件 {self.number} 已归档，卷宗不得修改。", code="case_archived")
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.CLOSED, Status.ARCHIVED)


class CaseParty(AuditedModel):
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="case_parties")
    party = models.ForeignKey(Party, verbose_name="当事人", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "案件当事人"
        verbose_name_plural = "案件当事人"
        ordering = ["case", "pk"]
        constraints = [models.UniqueConstraint(fields=["case", "party"], name="cases_party_once_per_case")]


class CaseOfficer(AuditedModel):
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="case_officers")
    officer = models.ForeignKey(USER, verbose_name="执法人员", on_delete=models.PROTECT, related_name="+")
    role = models.CharField("角色", max_length=8, choices=OfficerRole.choices)

    class Meta:
        verbose_name = "承办人员"
        verbose_name_plural = "承办人员"
        ordering = ["case", "role", "pk"]
        constraints = [models.UniqueConstraint(fields=["case", "officer"], name="cases_officer_once_per_case")]


class CaseStep(AuditedModel):
    """One step of a case's history. Append-only: never changed or deleted."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="steps")
    action = models.CharField("动作", max_length=40)
    from_status = models.CharField("原状态", max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField("新状态", max_length=16, choices=Status.choices)
    actor = _user_fk("操作人", null=True, blank=True)
    at = models.DateTimeField("时间")
    note = models.CharField("说明", max_length=500, blank=True)
    data = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = "案件环节"
        verbose_name_plural = "案件环节"
        ordering = ["case", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.case} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditBypassError("案件环节只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditBypassError("案件环节只能追加，不能删除。")


class CaseRecord(AuditedModel):
    """笔录 and other written records of the investigation, with their evidence files."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="records")
    kind = models.CharField("种类", max_length=20, choices=RecordKind.choices)
    made_at = models.DateTimeField("制作时间")
    place = models.CharField("地点", max_length=200, blank=True)
    content = models.TextField("内容")
    evidence = models.ManyToManyField("core.Evidence", verbose_name="证据文件", blank=True, related_name="+")
    party_signed = models.BooleanField("当事人签名", default=False)
    refusal_note = models.CharField("未签名说明", max_length=300, blank=True)
    correction_due = models.DateField("责令改正期限", null=True, blank=True)
    recorded_by = _user_fk("记录人")

    class Meta:
        verbose_name = "笔录"
        verbose_name_plural = "笔录"
        ordering = ["case", "made_at", "pk"]


class Measure(AuditedModel):
    """先行登记保存 (APL art. 56) or 查封/扣押 (ACL arts. 22–28), approved beforehand (ACL art.
    18) or, taken on the spot in an emergency, reported within 24 hours and approved afterwards
    (art. 19): pending until the squad leader approves, released at once if he disapproves."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField("种类", max_length=16, choices=MeasureKind.choices)
    items = models.TextField("物品清单")
    started_on = models.DateField("开始日期")
    due_on = models.DateField("期限")
    emergency = models.BooleanField("紧急情况下当场实施", default=False)
    emergency_reason = models.CharField("紧急情况说明", max_length=500, blank=True)
    started_at = models.DateTimeField("实施时间", null=True, blank=True)
    approval = models.CharField("审批状态", max_length=12, choices=MeasureApproval.choices,
                                default=MeasureApproval.APPROVED)
    approved_by = _user_fk("批准人", null=True, blank=True)
    approved_at = models.DateTimeField("批准时间", null=True, blank=True)
    approval_note = models.CharField("审批意见", max_length=500, blank=True)
    extended = models.BooleanField("已延长", default=False)
    extension_reason = models.CharField("延长理由", max_length=300, blank=True)
    extension_approved_by = _user_fk("延长批准人", null=True, blank=True)
    testing_days = models.PositiveIntegerField("检测、检验、检疫、鉴定天数", default=0)
    ended_on = models.DateField("处理日期", null=True, blank=True)
    outcome = models.CharField("处理结果", max_length=16, choices=MeasureOutcome.choices, blank=True)

    class Meta:
        verbose_name = "强制措施"
        verbose_name_plural = "强制措施"
        ordering = ["case", "started_on", "pk"]

    @property
    def approval_due_at(self):
        """An emergency measure's report and approval are due 24 hours after it was taken."""
        return self.started_at + EMERGENCY_REPORT_WINDOW if self.emergency and self.started_at else None


class Extension(AuditedModel):
    """An approved extension of the 90-day decision period (APL art. 60)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="extensions")
    days = models.PositiveIntegerField("延长天数")
    reason = models.CharField("理由", max_length=300)
    approved_by = _user_fk("批准人")
    approved_at = models.DateTimeField("批准时间")

    class Meta:
        verbose_name = "办案期限延长"
        verbose_name_plural = "办案期限延长"
        ordering = ["case", "approved_at", "pk"]


class LegalReview(AuditedModel):
    """法制审核 (APL art. 58): the reviewed fine is part of what passed. A review is of the
    penalty decision, or of the transfer of a suspected crime (Shanghai legal-review rules,
    art. 3(3))."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="legal_reviews")
    purpose = models.CharField("审核事项", max_length=10, choices=ReviewPurpose.choices,
                               default=ReviewPurpose.DECISION)
    reviewer = _user_fk("审核人")
    result = models.CharField("审核结论", max_length=10, choices=ReviewResult.choices)
    opinion = models.TextField("审核意见")
    reviewed_fine = models.DecimalField("审核时拟罚款（元）", null=True, blank=True, **MONEY)
    reviewed_at = models.DateTimeField("审核时间")

    class Meta:
        verbose_name = "法制审核"
        verbose_name_plural = "法制审核"
        ordering = ["case", "reviewed_at", "pk"]


class CollectiveDiscussion(AuditedModel):
    """集体讨论 (APL art. 57(2))."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="discussions")
    held_on = models.DateField("讨论日期")
    attendees = models.ManyToManyField(USER, verbose_name="参加人员", related_name="+")
    minutes = models.TextField("讨论记录")
    conclusion = models.TextField("结论")
    recorded_by = _user_fk("记录人")

    class Meta:
        verbose_name = "集体讨论"
        verbose_name_plural = "集体讨论"
        ordering = ["case", "held_on", "pk"]


class Payment(AuditedModel):
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField("金额（元）", **MONEY)
    paid_on = models.DateField("缴款日期")
    method = models.CharField("方式", max_length=12, choices=PaymentMethod.choices)
    receipt_number = models.CharField("票据号", max_length=64, blank=True)
    recorded_by = _user_fk("登记人")

    class Meta:
        verbose_name = "缴款"
        verbose_name_plural = "缴款"
        ordering = ["case", "paid_on", "pk"]


class PaymentPlan(AuditedModel):
    """Approved deferral or instalments (APL art. 66(2))."""

    case = models.OneToOneField(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="payment_plan")
    kind = models.CharField("类型", max_length=12, choices=PlanKind.choices)
    reason = models.CharField("理由", max_length=300)
    instalments = models.JSONField("缴款计划", default=list, help_text='[{"due_on": "2025-01-31", "amount": "500.00"}]')
    final_due_on = models.DateField("最后缴款期限")
    approved_by = _user_fk("批准人")
    approved_at = models.DateTimeField("批准时间")

    class Meta:
        verbose_name = "暂缓/分期缴纳"
        verbose_name_plural = "暂缓/分期缴纳"


class Reminder(AuditedModel):
    """催告 (ACL arts. 35, 54)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="reminders")
    served_on = models.DateField("催告书送达日期")
    amount_due = models.DecimalField("催告金额（元）", **MONEY)
    recorded_by = _user_fk("登记人")

    class Meta:
        verbose_name = "催告"
        verbose_name_plural = "催告"
        ordering = ["case", "served_on", "pk"]


class CourtApplication(AuditedModel):
    """Application to the people's court for enforcement (ACL arts. 53–58)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="court_applications")
    court = models.CharField("人民法院", max_length=100)
    applied_on = models.DateField("申请日期")
    result = models.CharField("结果", max_length=12, choices=CourtResult.choices, default=CourtResult.PENDING)
    result_on = models.DateField("结果日期", null=True, blank=True)
    recorded_by = _user_fk("登记人")

    class Meta:
        verbose_name = "申请法院强制执行"
        verbose_name_plural = "申请法院强制执行"
        ordering = ["case", "applied_on", "pk"]


class Review(AuditedModel):
    """Reconsideration (行政复议) or litigation (行政诉讼) against the decision and its outcome.
    No late-payment surcharge accrues while one is pending (APL art. 73)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="appeals")
    kind = models.CharField("类型", max_length=16, choices=AppealKind.choices)
    body = models.CharField("复议机关/人民法院", max_length=100)
    started_on = models.DateField("申请/起诉日期")
    outcome = models.CharField("结果", max_length=20, choices=AppealOutcome.choices, default=AppealOutcome.PENDING)
    ended_on = models.DateField("结果日期", null=True, blank=True)
    changed_fine = models.DecimalField("变更后罚款（元）", null=True, blank=True, **MONEY)
    note = models.CharField("说明", max_length=500, blank=True)
    recorded_by = _user_fk("登记人")

    class Meta:
        verbose_name = "复议诉讼"
        verbose_name_plural = "复议诉讼"
        ordering = ["case", "started_on", "pk"]


# --- publication (公示) of penalty decisions ----------------------------------------------------

class DisclosureStatus(models.TextChoices):
    PENDING = "pending", "待公示"
    PUBLISHED = "published", "已公示"
    WITHDRAWN = "withdrawn", "已撤回"
    EXCLUDED = "excluded", "不予公示"
    EXPIRED = "expired", "公示期满"


# Fields written once, when the decision is published: what the public read is never derived
# from the live case again (a later correction of the case does not rewrite history).
SNAPSHOT_FIELDS = ("decision_number", "title", "area", "public_data", "public_text")


class DisclosureQuerySet(ScopedQuerySet):
    scope_field = "squad"

    def public(self, today: dt.date):
        """What the portal shows: published decisions and withdrawal notices, until the end
        of their publication period."""
        return self.filter(status__in=(DisclosureStatus.PUBLISHED, DisclosureStatus.WITHDRAWN), ends_on__gte=today)


class Disclosure(AuditedModel):
    """公示记录: the publication of one penalty decision (《行政处罚法》第四十八条), created when
    the decision is made — pending with its due date, or excluded with the reason — then
    published with a masked snapshot (art. 50), withdrawn with the reason if the decision is
    revoked, changed, confirmed illegal or void, and expired after the publication period.
    Every change goes through `cases.services.disclosure`."""

    case = models.OneToOneField(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="disclosure")
    status = models.CharField("公示状态", max_length=12, choices=DisclosureStatus.choices,
                              default=DisclosureStatus.PENDING)
    exclusion_reason = models.CharField("不予公示理由", max_length=300, blank=True)
    matter = models.ForeignKey("regulations.Matter", verbose_name="执法事项", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    squad = models.ForeignKey("core.OrgUnit", verbose_name="责任中队", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField("决定日期")
    fine = models.DecimalField("罚款（元）", null=True, blank=True, **MONEY)
    due_on = models.DateField("公示期限", null=True, blank=True)
    published_at = models.DateTimeField("公示时间", null=True, blank=True)
    published_by = _user_fk("公示人", null=True, blank=True)  # empty: published by the daily job
    ends_on = models.DateField("公示截止日期", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = _user_fk("撤回登记人", null=True, blank=True)
    withdrawal_reason = models.CharField("撤回理由", max_length=500, blank=True)
    withdrawal_due = models.DateField("撤回期限", null=True, blank=True)
    appeal = models.ForeignKey(Review, verbose_name="引起撤回的复议/诉讼", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    expired_at = models.DateTimeField("期满时间", null=True, blank=True)
    # --- the public snapshot (masked when published) ------------------------------------------
    decision_number = models.CharField("决定书文号", max_length=120, blank=True)
    title = models.CharField("公示标题", max_length=300, blank=True)
    area = models.CharField("区域（区、街镇）", max_length=100, blank=True)
    public_data = models.JSONField("公示内容", default=dict, blank=True)
    public_text = models.TextField("公示全文", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        verbose_name = "处罚决定公示"
        verbose_name_plural = "处罚决定公示"
        ordering = ["-decided_on", "-pk"]
        indexes = [
            models.Index(fields=["status", "decided_on", "id"], name="disclosure_status_decided"),
            models.Index(fields=["status", "due_on"], name="disclosure_status_due"),
            models.Index(fields=["squad", "status", "decided_on"], name="disclosure_squad_status"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_status_display()}"

    def save(self, *args, **kwargs):
        # A published text is a public record: it is withdrawn or expires, never rewritten.
        if self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).values("status", *SNAPSHOT_FIELDS).first()
            if stored and stored["status"] not in (DisclosureStatus.PENDING, DisclosureStatus.EXCLUDED) \
                    and any(stored[f] != getattr(self, f) for f in SNAPSHOT_FIELDS):
                raise BusinessRuleError("已公示的处罚决定内容不得修改，只能撤回。", code="disclosure_frozen")
        super().save(*args, **kwargs)
