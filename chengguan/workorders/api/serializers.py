"""Work-orders API serializers. Read serializers render orders (reporter contact masked unless
the caller holds `workorders.view_workorder_contact`); write serializers only check the shape
of the input and resolve references within the caller's scope. Every rule — what an order
must contain, which step may follow which — lives in `workorders.services`."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chengguan.core.api.serializers import ScopedPrimaryKeyRelatedField
from chengguan.core.choices import OrgUnitKind
from chengguan.core.fields import mask_name, mask_phone
from chengguan.core.models import Evidence, OrgUnit, User

from ..choices import Channel, LimitKind, Result, Satisfaction, Stage, Status
from ..models import (
    CaseConversion,
    Category,
    ClockRequest,
    HandlingRecord,
    RepeatCandidate,
    TimeLimitRule,
    WorkOrder,
    WorkOrderStep,
)
from ..services import workflow

CONTACT_PERM = "workorders.view_workorder_contact"

# Step actions recorded by services that are not verbs of the workflow tables.
STEP_LABELS = {"receive": "受理", "extend": "延期", "dismiss_repeat": "排除疑似重复", "close_merged": "随主工单结案"}


def step_label(action: str) -> str:
    try:
        return workflow.label(action)
    except KeyError:
        return STEP_LABELS.get(action, action)


class CodeChoiceField(serializers.ChoiceField):
    """A choice field documented as a string whose description lists the codes, rather than as
    a shared enum component: field names like status, kind and result carry different choice
    sets in different apps, and one component name per field name cannot hold them all."""


class CodeChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = CodeChoiceField

    def map_serializer_field(self, auto_schema, direction):
        codes = "；".join(f"{value or '（空）'}：{label}" for value, label in self.target.choices.items())
        return {"type": "string", "description": f"取值 — {codes}"}


class ModelSerializer(serializers.ModelSerializer):
    serializer_choice_field = CodeChoiceField


def _name(user) -> str | None:
    return (user.real_name or user.username) if user is not None else None


# --- intake -------------------------------------------------------------------------------------


class IntakeOrderSerializer(serializers.Serializer):
    """One order as a hotline platform sends it (documentation of the shape: the intake
    service checks every field and answers with its own codes)."""

    channel = CodeChoiceField(choices=Channel.choices, required=False,
                                      help_text="来源渠道；接入平台可省略（取平台自己的渠道），且只能提交本渠道")
    external_ticket = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                            help_text="外部工单号；同一渠道重复提交同一工单号只会生成一张工单")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(max_length=settings.WORKORDER_MAX_TEXT, help_text="诉求内容（原文）")
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    lon = serializers.FloatField(required=False, allow_null=True, help_text="经度")
    lat = serializers.FloatField(required=False, allow_null=True, help_text="纬度")
    crs = CodeChoiceField(choices=["wgs84", "gcj02"], required=False, help_text="坐标系，默认 wgs84")
    reporter_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    reporter_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    category = serializers.CharField(required=False, allow_blank=True, help_text="分类代码（可选；不填则自动分类）")
    received_at = serializers.DateTimeField(required=False, help_text="受理时间（ISO 8601，带时区），默认当前时间")
    wants_reply = serializers.BooleanField(required=False, default=True)


class IntakeBatchSerializer(serializers.Serializer):
    orders = IntakeOrderSerializer(many=True, help_text=f"最多 {settings.WORKORDER_INTAKE_BATCH} 条")


class IntakeResultSerializer(serializers.Serializer):
    """One `intake.Received`. Lean on purpose: the intake path answers hundreds of requests a
    second."""

    id = serializers.IntegerField(source="order.pk")
    number = serializers.CharField(source="order.number", help_text="工单编号")
    channel = serializers.CharField(source="order.channel")
    external_ticket = serializers.CharField(source="order.external_ticket")
    status = CodeChoiceField(source="order.status", choices=Status.choices)
    received_at = serializers.DateTimeField(source="order.received_at")
    created = serializers.BooleanField(help_text="false：重复提交，返回的是原工单")


class IntakeBatchResultSerializer(serializers.Serializer):
    orders = IntakeResultSerializer(many=True)


class WorkOrderCreateSerializer(IntakeOrderSerializer):
    """A problem found by staff (巡查发现, default channel "patrol")."""

    photos = ScopedPrimaryKeyRelatedField(Evidence, many=True, required=False, help_text="现场照片（证据编号）")


# --- orders -------------------------------------------------------------------------------------


class ContactMixin(serializers.Serializer):
    reporter_name = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()

    def _may_see_contact(self) -> bool:
        if "may_see_contact" not in self.context:
            request = self.context.get("request")
            self.context["may_see_contact"] = bool(request and request.user.has_perm(CONTACT_PERM))
        return self.context["may_see_contact"]

    def get_reporter_name(self, obj) -> str:
        return obj.reporter_name if self._may_see_contact() else mask_name(obj.reporter_name)

    def get_reporter_phone(self, obj) -> str:
        return obj.reporter_phone if self._may_see_contact() else mask_phone(obj.reporter_phone)


class WorkOrderListSerializer(ContactMixin, ModelSerializer):
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True, default=None)
    squad_name = serializers.CharField(source="squad.name", read_only=True, default=None)
    grid_name = serializers.CharField(source="grid.name", read_only=True, default=None)
    assignee_name = serializers.CharField(source="assignee.real_name", read_only=True, default=None)

    class Meta:
        model = WorkOrder
        fields = [
            "id", "number", "channel", "channel_display", "external_ticket", "status", "status_display", "title",
            "text", "address", "lon", "lat", "grid", "grid_name", "squad", "squad_name", "located_by", "category",
            "category_name", "needs_review", "assignee", "assignee_name", "reporter_name", "reporter_phone",
            "received_at", "due_at", "reply_due_at", "overdue", "supervised", "is_repeat", "parent",
            "has_repeat_candidates",
        ]
        read_only_fields = fields


class StepSerializer(ModelSerializer):
    action_display = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrderStep
        fields = ["id", "action", "action_display", "from_status", "to_status", "actor", "actor_name", "note", "at"]
        read_only_fields = fields

    def get_action_display(self, obj) -> str:
        return step_label(obj.action)

    def get_actor_name(self, obj) -> str | None:
        return _name(obj.actor)


class HandlingSerializer(ModelSerializer):
    officer_name = serializers.CharField(source="officer.real_name", read_only=True)
    result_display = serializers.CharField(source="get_result_display", read_only=True)

    class Meta:
        model = HandlingRecord
        fields = ["id", "officer", "officer_name", "findings", "result", "result_display", "result_reason",
                  "reply_text", "photos", "lon", "lat", "created_at"]
        read_only_fields = fields


class RepeatCandidateSerializer(ModelSerializer):
    original_number = serializers.CharField(source="original.number", read_only=True)
    original_status = serializers.CharField(source="original.status", read_only=True)

    class Meta:
        model = RepeatCandidate
        fields = ["id", "order", "original", "original_number", "original_status", "score", "distance_m", "reason",
                  "status"]
        read_only_fields = fields


class ClockRequestSerializer(ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.real_name", read_only=True)
    decided_by_name = serializers.CharField(source="decided_by.real_name", read_only=True, default=None)

    class Meta:
        model = ClockRequest
        fields = ["id", "order", "kind", "kind_display", "reason", "extra_days", "status", "status_display",
                  "requested_by", "requested_by_name", "requested_at", "decided_by", "decided_by_name", "decided_at",
                  "decision_note", "new_due_at"]
        read_only_fields = fields


class CaseConversionSerializer(ModelSerializer):
    class Meta:
        model = CaseConversion
        fields = ["id", "facts", "party_name", "requested_by", "requested_at", "case_reference", "outcome"]
        read_only_fields = fields


class AllowedActionSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="动作代码（rework 即 verify 且 passed=false）")
    label = serializers.CharField()


class WorkOrderDetailSerializer(WorkOrderListSerializer):
    parent_number = serializers.CharField(source="parent.number", read_only=True, default=None)
    created_by_name = serializers.CharField(source="created_by.real_name", read_only=True, default=None)
    steps = StepSerializer(many=True, read_only=True)
    handlings = HandlingSerializer(many=True, read_only=True)
    repeat_candidates = RepeatCandidateSerializer(many=True, read_only=True)
    clock_requests = ClockRequestSerializer(many=True, read_only=True)
    case_conversion = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta(WorkOrderListSerializer.Meta):
        fields = WorkOrderListSerializer.Meta.fields + [
            "parent_number", "wants_reply", "photos", "classified_by", "predicted_category", "confidence",
            "supervised_reason", "out_of_remit_reason", "return_reason", "clock_stage", "suspended_at",
            "was_overdue", "result", "reply_text", "satisfaction", "reopened", "case_reference", "accepted_at",
            "dispatched_at", "replied_at", "verified_at", "closed_at", "created_by", "created_by_name", "steps",
            "handlings", "repeat_candidates", "clock_requests", "case_conversion", "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(CaseConversionSerializer(allow_null=True))
    def get_case_conversion(self, obj):
        conversion = getattr(obj, "case_conversion", None)
        return CaseConversionSerializer(conversion).data if conversion else None

    @extend_schema_field(AllowedActionSerializer(many=True))
    def get_allowed_actions(self, obj):
        request = self.context.get("request")
        if request is None:
            return []
        return [{"action": name, "label": step_label(name)} for name in workflow.allowed_actions(obj, request.user)]


# --- command inputs ---------------------------------------------------------------------------


def _text(required: bool = False, help_text: str = ""):
    # Lengths and blanks are the service's checks (one set of codes whichever path calls it).
    if required:
        return serializers.CharField(allow_blank=True, help_text=help_text)
    return serializers.CharField(required=False, allow_blank=True, default="", help_text=help_text)


class ScopedSquadField(ScopedPrimaryKeyRelatedField):
    def get_queryset(self):
        return super().get_queryset().filter(kind=OrgUnitKind.SQUAD)


class ActiveUserField(serializers.PrimaryKeyRelatedField):
    """An officer by id; whether he belongs to the order's squad is the service's check."""

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.filter(is_active=True).select_related("org_unit"), **kwargs)


class NoteSerializer(serializers.Serializer):
    note = _text(help_text="说明（可选）")


class OrderReasonSerializer(serializers.Serializer):
    reason = _text(required=True, help_text="理由")


class DispatchSerializer(serializers.Serializer):
    squad = ScopedSquadField(OrgUnit, required=False, allow_null=True, help_text="派遣中队；不填为定位所得中队")
    assignee = ActiveUserField(required=False, allow_null=True, help_text="处置人（可选）")
    note = _text()


class ReassignSerializer(DispatchSerializer):
    note = _text(required=True, help_text="改派原因")


class AssignSerializer(serializers.Serializer):
    assignee = ActiveUserField(help_text="处置人")


class ReplySerializer(serializers.Serializer):
    findings = _text(required=True, help_text="现场情况")
    result = CodeChoiceField(choices=Result.choices)
    reply_text = _text(help_text="答复内容（需要回复的工单必填）")
    result_reason = _text(help_text="无法解决的原因")
    photos = ScopedPrimaryKeyRelatedField(Evidence, many=True, required=False, help_text="现场照片（证据编号）")
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)


class VerifySerializer(serializers.Serializer):
    passed = serializers.BooleanField(help_text="true：核查通过；false：返工（须写明原因）")
    note = _text()


class OrderMergeSerializer(serializers.Serializer):
    parent = ScopedPrimaryKeyRelatedField(WorkOrder, help_text="主工单编号（id）")
    note = _text()


class ClassifySerializer(serializers.Serializer):
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), help_text="分类编号（id）")


class LocateSerializer(serializers.Serializer):
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    crs = CodeChoiceField(choices=["wgs84", "gcj02"], required=False, default="wgs84")
    squad = ScopedSquadField(OrgUnit, required=False, allow_null=True, help_text="直接指定责任中队")


class ExtensionSerializer(serializers.Serializer):
    reason = _text(required=True, help_text="申请理由")
    extra_days = serializers.IntegerField(help_text="延长的工作日数")


class RateSerializer(serializers.Serializer):
    satisfaction = CodeChoiceField(choices=Satisfaction.choices)
    note = _text()


class ConvertSerializer(serializers.Serializer):
    facts = _text(required=True, help_text="违法事实")
    party_name = _text(help_text="当事人")


class DecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="true：批准；false：驳回（须写明意见）")
    note = _text()


# --- configuration ----------------------------------------------------------------------------


class CategorySerializer(ModelSerializer):
    children = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "code", "name", "parent", "keywords", "in_remit", "limit_kind", "limit_amount", "order",
                  "is_active", "children"]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "object"}, "description": "下级分类（同样的字段）"})
    def get_children(self, obj):
        children = getattr(obj, "tree_children", None)
        return CategorySerializer(children or [], many=True).data


class CategoryUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    parent = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    keywords = serializers.CharField(required=False, allow_blank=True)
    in_remit = serializers.BooleanField(required=False)
    limit_kind = CodeChoiceField(choices=LimitKind.choices, required=False)
    limit_amount = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)
    order = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    is_active = serializers.BooleanField(required=False)


class CategoryCreateSerializer(CategoryUpdateSerializer):
    code = serializers.CharField(help_text="代码（小写字母、数字、下划线；创建后不可修改）")
    name = serializers.CharField(allow_blank=True)


class TimeLimitRuleSerializer(ModelSerializer):
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True, default=None)

    class Meta:
        model = TimeLimitRule
        fields = ["id", "stage", "stage_display", "channel", "category", "category_name", "kind", "kind_display",
                  "amount", "basis"]
        read_only_fields = fields


class TimeLimitRuleUpdateSerializer(serializers.Serializer):
    kind = CodeChoiceField(choices=LimitKind.choices, required=False)
    amount = serializers.DecimalField(max_digits=6, decimal_places=1, required=False)
    basis = serializers.CharField(required=False, allow_blank=True)


class TimeLimitRuleCreateSerializer(TimeLimitRuleUpdateSerializer):
    stage = CodeChoiceField(choices=Stage.choices)
    channel = CodeChoiceField(choices=[("", "任意渠道"), *Channel.choices], required=False, default="")
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    kind = CodeChoiceField(choices=LimitKind.choices)
    amount = serializers.DecimalField(max_digits=6, decimal_places=1)


# --- statistics -------------------------------------------------------------------------------


class ConversionRateQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="受理日期起（默认本月 1 日）")
    end = serializers.DateField(required=False, help_text="受理日期止（含，默认今天）")


class ConversionRateRowSerializer(serializers.Serializer):
    squad = serializers.IntegerField(allow_null=True, help_text="中队编号；为空表示尚未定位的工单")
    squad_name = serializers.CharField()
    received = serializers.IntegerField(help_text="受理工单数（不含并单重复件和非本部门职责件）")
    converted = serializers.IntegerField(help_text="其中诉转案数")
    rate = serializers.FloatField(allow_null=True, help_text="诉转案率")


class ConversionRateSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    squads = ConversionRateRowSerializer(many=True)



class IndicatorsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="统计日期起（默认本月 1 日）")
    end = serializers.DateField(required=False, help_text="统计日期止（含，默认今天）")


def _percent(help_text: str):
    return serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True, read_only=True,
                                    help_text=f"{help_text}（百分数，一位小数；分母为 0 时为空）")


class SquadIndicatorsSerializer(serializers.Serializer):
    squad = serializers.IntegerField(allow_null=True, help_text="中队编号；为空表示未定位的工单或合计行")
    squad_name = serializers.CharField()
    is_total = serializers.BooleanField(help_text="是否为合计行（数据范围内各行之和）")
    received = serializers.IntegerField(help_text="受理数（区间内受理，不含并单重复件和非本部门职责件）")
    repeats = serializers.IntegerField(help_text="重复件数")
    rejected = serializers.IntegerField(help_text="非本部门职责退回数")
    closed = serializers.IntegerField(help_text="结案数（区间内结案）")
    closed_on_time = serializers.IntegerField(help_text="按期结案数")
    overdue_open = serializers.IntegerField(help_text="区间内办理时限届满、区间结束时仍未结案的工单数")
    due = serializers.IntegerField(help_text="应结案数 = 结案数 + 超期未结数")
    closure_rate = _percent("结案率 = 结案数 / 应结案数")
    on_time_rate = _percent("按期结案率 = 按期结案数 / 应结案数")
    handled = serializers.IntegerField(help_text="处置数（区间内有处置反馈的工单）")
    reworked = serializers.IntegerField(help_text="返工数（区间内核查不通过返工的工单）")
    rework_rate = _percent("返工率 = 返工数 / 处置数")
    rated = serializers.IntegerField(help_text="评价数（区间内回访评价的工单）")
    satisfied = serializers.IntegerField(help_text="满意与基本满意数")
    satisfaction_rate = _percent("满意率")
    converted = serializers.IntegerField(help_text="诉转案数")
    conversion_rate = _percent("诉转案率 = 诉转案数 / 受理数")
    overdue_now = serializers.IntegerField(help_text="超时在办数（当前）")


class IndicatorsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    squads = SquadIndicatorsSerializer(many=True, help_text="各中队一行，最后一行为合计")
