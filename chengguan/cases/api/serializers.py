"""Cases API serializers. Read serializers render cases (parties' ID numbers, phones and
natural persons' names masked unless the caller holds `cases.view_case_party`); write
serializers only check the shape of the input and resolve references. Every rule lives in
`cases.services`."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chengguan.core.api.serializers import ScopedPrimaryKeyRelatedField
from chengguan.core.models import Evidence, OrgUnit, User
from chengguan.regulations.choices import PenaltyKind
from chengguan.regulations.models import BenchmarkTier, ExemptionEntry, Matter
from chengguan.workorders.api.serializers import CodeChoiceField, ModelSerializer

from ..choices import (
    AppealKind,
    AppealOutcome,
    CourtResult,
    DecisionOutcome,
    IdType,
    MeasureKind,
    MeasureOutcome,
    NoPenaltyGround,
    PartyKind,
    PaymentMethod,
    PlanKind,
    RecordKind,
    ServiceMethod,
    SourceKind,
    TransferKind,
)
from ..models import Case, CaseStep, CourtApplication, Disclosure, DisclosureStatus, Measure, Review
from ..services import clock, disclosure, parties, rules, workflow

PENALTY_KINDS = [(k, label) for k, label in PenaltyKind.choices if k != PenaltyKind.DETENTION]


def _users():
    return User.objects.filter(is_active=True)


class UserField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=_users(), **kwargs)


@extend_schema_field({"type": "string", "example": "150.00", "description": "元，两位小数的十进制字符串"})
class MoneyField(serializers.Field):
    """Yuan as a decimal string ("150.00"). Passed to the services as given: they refuse
    floats (float_not_allowed), more than two places and negative amounts with their codes."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            raise serializers.ValidationError("金额格式错误。", code="invalid_amount")
        return data

    def to_representation(self, value):
        return str(value)


# --- read -----------------------------------------------------------------------------------------

class CaseStepSerializer(ModelSerializer):
    action_display = serializers.SerializerMethodField()
    actor_name = serializers.CharField(source="actor.real_name", default=None, read_only=True)

    class Meta:
        model = CaseStep
        fields = ["id", "action", "action_display", "from_status", "to_status", "actor", "actor_name", "at", "note",
                  "data"]
        read_only_fields = fields

    def get_action_display(self, obj) -> str:
        try:
            return workflow.label(obj.action)
        except KeyError:
            return obj.action


class DeadlineSerializer(serializers.Serializer):
    name = serializers.CharField()
    due = serializers.DateField()
    basis = serializers.CharField()
    overdue = serializers.BooleanField()


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField()
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_number = serializers.CharField(help_text="无权限时脱敏")
    credit_code = serializers.CharField()
    legal_representative = serializers.CharField()
    phone = serializers.CharField(help_text="无权限时脱敏")
    address = serializers.CharField()


class OfficerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="officer_id")
    name = serializers.CharField(source="officer.real_name")
    role = serializers.CharField()
    certificate_number = serializers.CharField(source="officer.certificate_number")


class MeasureSerializer(ModelSerializer):
    class Meta:
        model = Measure
        fields = ["id", "kind", "items", "started_on", "due_on", "extended", "testing_days", "ended_on", "outcome",
                  "emergency", "emergency_reason", "started_at", "approval", "approved_at", "approval_note"]
        read_only_fields = fields


def _deadline_out(value):
    from ..models import NO_DEADLINE

    return None if value == NO_DEADLINE else value


class CaseListSerializer(ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    procedure_display = serializers.CharField(source="get_procedure_display", read_only=True)
    squad_name = serializers.CharField(source="squad.name", read_only=True, default=None)
    matter_name = serializers.CharField(source="matter.name", read_only=True, default=None)
    next_deadline = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "number", "procedure", "procedure_display", "status", "status_display", "matter",
                  "matter_name", "squad", "squad_name", "address", "act_date", "filed_at", "decided_fine",
                  "next_deadline", "next_deadline_name", "ending", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_next_deadline(self, obj):
        return _deadline_out(obj.next_deadline)


class CaseDetailSerializer(CaseListSerializer):
    parties = serializers.SerializerMethodField()
    officers = OfficerSerializer(source="case_officers", many=True, read_only=True)
    steps = CaseStepSerializer(many=True, read_only=True)
    measures = MeasureSerializer(many=True, read_only=True)
    deadlines = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    surcharge = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = CaseListSerializer.Meta.fields + [
            "source_kind", "facts", "lon", "lat", "grid", "act_ended_on", "harm_to_safety", "complex_case",
            "benchmark", "tier", "penalty_kinds", "proposed_fine", "notified_fine", "outside_benchmark",
            "outside_benchmark_reason", "mitigated", "notice_served_on", "statement_due", "hearing_eligible",
            "hearing_request_due", "statement_waived", "hearing_requested_on", "hearing_on", "hearing_held_on",
            "decision_outcome", "no_penalty_ground", "decided_on", "remedy_text", "service_due", "served_on",
            "service_method", "payment_due", "paid_amount", "collected_on_spot", "filed_with_bureau_at",
            "ending_reason", "transfer_kind", "transfer_to", "closed_at", "archived_at", "parties", "officers",
            "steps", "measures", "deadlines", "allowed_actions", "surcharge",
        ]
        read_only_fields = fields

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field(PartySerializer(many=True))
    def get_parties(self, obj):
        user = self._user()
        return [parties.shown(link.party, user) for link in obj.case_parties.select_related("party")]

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, obj):
        return DeadlineSerializer(rules.deadlines(obj, clock.today()), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, obj):
        user = self._user()
        return workflow.allowed_actions(obj, user) if user else []

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_surcharge(self, obj):
        return str(rules.surcharge(obj, clock.today()))


# --- write ----------------------------------------------------------------------------------------

class PartyInputSerializer(serializers.Serializer):
    kind = CodeChoiceField(choices=PartyKind.choices)
    name = serializers.CharField(max_length=200)
    id_type = CodeChoiceField(choices=IdType.choices, required=False)
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    credit_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    legal_representative = serializers.CharField(max_length=50, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PlaceMixin(serializers.Serializer):
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    squad = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all(), required=False, allow_null=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)


class LeadCreateSerializer(PlaceMixin):
    source_kind = CodeChoiceField(choices=SourceKind.choices)
    facts = serializers.CharField(max_length=5000)
    matter = serializers.PrimaryKeyRelatedField(queryset=Matter.objects.all(), required=False, allow_null=True)
    act_date = serializers.DateField(required=False, allow_null=True)
    act_ended_on = serializers.DateField(required=False, allow_null=True)
    harm_to_safety = serializers.BooleanField(required=False, default=False)
    parties = serializers.ListField(child=serializers.DictField(), required=False, source="party_list",
                                    help_text="当事人（格式同 PartyInput）；证件号码、信用代码格式错误时指明字段")
    evidence = ScopedPrimaryKeyRelatedField(Evidence, many=True, required=False)


class SimpleCreateSerializer(PlaceMixin):
    officers = UserField(many=True, help_text="当场执法人员（不少于两人，含本人）")
    party = serializers.DictField(help_text="当事人（格式同 PartyInput）")
    matter = serializers.PrimaryKeyRelatedField(queryset=Matter.objects.all())
    facts = serializers.CharField(max_length=5000)
    penalty_kind = CodeChoiceField(choices=[(PenaltyKind.WARNING, "警告"), (PenaltyKind.FINE, "罚款")])
    fine = MoneyField()
    act_date = serializers.DateField(required=False, allow_null=True)
    tier = serializers.PrimaryKeyRelatedField(queryset=BenchmarkTier.objects.all(), required=False, allow_null=True)
    refused_to_sign = serializers.BooleanField(required=False, default=False)
    collect_on_spot = serializers.BooleanField(required=False, default=False)
    evidence = ScopedPrimaryKeyRelatedField(Evidence, many=True, required=False)


class CaseNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class FileSerializer(CaseNoteSerializer):
    officers = UserField(many=True, help_text="承办人员，第一位为主办")
    matter = serializers.PrimaryKeyRelatedField(queryset=Matter.objects.all(), required=False, allow_null=True)
    act_date = serializers.DateField(required=False, allow_null=True)


class OfficersSerializer(serializers.Serializer):
    officers = UserField(many=True)


class RecordSerializer(serializers.Serializer):
    kind = CodeChoiceField(choices=RecordKind.choices)
    content = serializers.CharField(max_length=20000)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    evidence = ScopedPrimaryKeyRelatedField(Evidence, many=True, required=False)
    party_signed = serializers.BooleanField(required=False, default=True)
    refusal_note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    correction_due = serializers.DateField(required=False, allow_null=True)


class MeasureCreateSerializer(serializers.Serializer):
    kind = CodeChoiceField(choices=MeasureKind.choices)
    items = serializers.CharField(max_length=5000)
    started_on = serializers.DateField(required=False, allow_null=True)


class EmergencyMeasureSerializer(serializers.Serializer):
    kind = CodeChoiceField(choices=[c for c in MeasureKind.choices if c[0] != MeasureKind.PRESERVATION])
    items = serializers.CharField(max_length=5000)
    reason = serializers.CharField(max_length=500, help_text="紧急情况说明")
    started_at = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="当场实施的时间；不填为现在。须在二十四小时内登记报告")


class MeasureRefMixin(serializers.Serializer):
    measure = serializers.PrimaryKeyRelatedField(queryset=Measure.objects.all())

    def validate_measure(self, measure):
        if measure.case_id != self.context["case"].pk:
            raise serializers.ValidationError("强制措施不属于本案。", code="does_not_exist")
        return measure


class MeasureExtendSerializer(MeasureRefMixin):
    reason = serializers.CharField(max_length=300)
    testing_days = serializers.IntegerField(required=False, default=0, min_value=0, max_value=365)


class MeasureApproveSerializer(MeasureRefMixin):
    approved = serializers.BooleanField(help_text="false：不予批准，立即解除")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                   help_text="不予批准时必填")


class MeasureEndSerializer(MeasureRefMixin):
    outcome = CodeChoiceField(choices=MeasureOutcome.choices)
    ended_on = serializers.DateField(required=False, allow_null=True)


class ReportSerializer(serializers.Serializer):
    report_text = serializers.CharField(max_length=20000)
    penalty_kinds = serializers.ListField(child=CodeChoiceField(choices=PENALTY_KINDS), allow_empty=True,
                                          help_text="拟处罚种类；空列表表示拟不予处罚")
    tier = serializers.PrimaryKeyRelatedField(queryset=BenchmarkTier.objects.all(), required=False, allow_null=True)
    fine = MoneyField(help_text="拟罚款；不填则取裁量幅度中值")
    units = serializers.CharField(max_length=20, required=False, allow_null=True)
    illegal_gains = MoneyField()
    base_value = MoneyField()
    outside_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    mitigated = serializers.BooleanField(required=False, default=False)
    complex_case = serializers.BooleanField(required=False, default=False)


class ServedOnSerializer(serializers.Serializer):
    served_on = serializers.DateField(required=False, allow_null=True)


class StatementSerializer(serializers.Serializer):
    statement = serializers.CharField(max_length=10000)
    reexamination = serializers.CharField(max_length=10000)
    revised_fine = MoneyField()


class WaiveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500)
    evidence = ScopedPrimaryKeyRelatedField(Evidence, many=True, required=False)


class HearingRequestSerializer(serializers.Serializer):
    requested_on = serializers.DateField(required=False, allow_null=True)


class HearingScheduleSerializer(serializers.Serializer):
    hearing_on = serializers.DateField()
    place = serializers.CharField(max_length=200)
    chair = UserField()
    notice_served_on = serializers.DateField(required=False, allow_null=True)


class HearingHoldSerializer(serializers.Serializer):
    report_text = serializers.CharField(max_length=20000)
    held_on = serializers.DateField(required=False, allow_null=True)
    party_absent = serializers.BooleanField(required=False, default=False)


class LegalReviewSerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    opinion = serializers.CharField(max_length=10000)


class DiscussionSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    attendees = UserField(many=True)
    minutes = serializers.CharField(max_length=20000)
    conclusion = serializers.CharField(max_length=5000)


class ExtendDeadlineSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    reason = serializers.CharField(max_length=300)


class CaseDecideSerializer(serializers.Serializer):
    outcome = CodeChoiceField(choices=DecisionOutcome.choices)
    fine = MoneyField(help_text="决定罚款；不填则取复核后的拟罚款")
    penalty_kinds = serializers.ListField(child=CodeChoiceField(choices=PENALTY_KINDS), required=False)
    no_penalty_ground = CodeChoiceField(choices=NoPenaltyGround.choices, required=False)
    exemption = serializers.PrimaryKeyRelatedField(queryset=ExemptionEntry.objects.all(), required=False,
                                                   allow_null=True)


class ServeSerializer(serializers.Serializer):
    method = CodeChoiceField(choices=ServiceMethod.choices)
    served_on = serializers.DateField(required=False, allow_null=True)
    consent = ScopedPrimaryKeyRelatedField(Evidence, required=False, allow_null=True,
                                           help_text="电子送达确认书（证据编号）")
    refused_to_sign = serializers.BooleanField(required=False, default=False)


class PaymentSerializer(serializers.Serializer):
    amount = MoneyField(required=True, allow_null=False)
    method = CodeChoiceField(choices=[c for c in PaymentMethod.choices if c[0] != PaymentMethod.ENFORCED],
                             required=False, default=PaymentMethod.BANK)
    paid_on = serializers.DateField(required=False, allow_null=True)
    receipt_number = serializers.CharField(max_length=64, required=False, allow_blank=True)


class InstalmentSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    amount = MoneyField(required=True, allow_null=False)


class PaymentPlanSerializer(serializers.Serializer):
    kind = CodeChoiceField(choices=PlanKind.choices)
    reason = serializers.CharField(max_length=300)
    due_on = serializers.DateField(required=False, allow_null=True)
    instalments = InstalmentSerializer(many=True, required=False)


class CourtSerializer(serializers.Serializer):
    court = serializers.CharField(max_length=100)
    applied_on = serializers.DateField(required=False, allow_null=True)


class EnforcementSerializer(serializers.Serializer):
    application = serializers.PrimaryKeyRelatedField(queryset=CourtApplication.objects.all())
    result = CodeChoiceField(choices=[c for c in CourtResult.choices if c[0] != CourtResult.PENDING])
    result_on = serializers.DateField(required=False, allow_null=True)

    def validate_application(self, application):
        if application.case_id != self.context["case"].pk:
            raise serializers.ValidationError("申请不属于本案。", code="does_not_exist")
        return application


class AppealSerializer(serializers.Serializer):
    kind = CodeChoiceField(choices=AppealKind.choices)
    body = serializers.CharField(max_length=100)
    started_on = serializers.DateField(required=False, allow_null=True)


class AppealOutcomeSerializer(serializers.Serializer):
    appeal = serializers.PrimaryKeyRelatedField(queryset=Review.objects.all())
    outcome = CodeChoiceField(choices=[c for c in AppealOutcome.choices if c[0] != AppealOutcome.PENDING])
    ended_on = serializers.DateField(required=False, allow_null=True)
    changed_fine = MoneyField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate_appeal(self, appeal):
        if appeal.case_id != self.context["case"].pk:
            raise serializers.ValidationError("复议诉讼不属于本案。", code="does_not_exist")
        return appeal


class CaseReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class TransferSerializer(CaseReasonSerializer):
    kind = CodeChoiceField(choices=TransferKind.choices)
    to = serializers.CharField(max_length=200)


# --- publication (公示) ---------------------------------------------------------------------------

class DisclosureSerializer(ModelSerializer):
    """A penalty decision's publication record; `public_data`/`public_text` are the masked
    snapshot taken when it was published (empty before)."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)
    squad_name = serializers.CharField(source="squad.name", read_only=True, default=None)
    matter_name = serializers.CharField(source="matter.name", read_only=True, default=None)
    published_by_name = serializers.CharField(source="published_by.real_name", read_only=True, default=None)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Disclosure
        fields = ["id", "case", "case_number", "status", "status_display", "exclusion_reason", "matter", "matter_name",
                  "squad", "squad_name", "decided_on", "fine", "due_on", "overdue", "published_at", "published_by",
                  "published_by_name", "ends_on", "withdrawn_at", "withdrawal_reason", "withdrawal_due", "appeal",
                  "expired_at", "decision_number", "title", "area", "public_data", "public_text"]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        """Still pending after the publication deadline."""
        return obj.status == DisclosureStatus.PENDING and obj.due_on is not None and obj.due_on < clock.today()


class DisclosureDetailSerializer(DisclosureSerializer):
    preview = serializers.SerializerMethodField()

    class Meta(DisclosureSerializer.Meta):
        fields = DisclosureSerializer.Meta.fields + ["preview"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "nullable": True,
                          "description": "待公示的记录：现在公示将公开的内容（已脱敏）；其他状态为 null"})
    def get_preview(self, obj):
        return disclosure.preview(obj) if obj.status == DisclosureStatus.PENDING else None


class DisclosureExcludeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="不予公示的理由，如涉及国家秘密、商业秘密或者个人隐私")
