"""Inspections API serializers. Read serializers render objects (personal data masked unless
the caller's role may see it; a draw plan's seed only once it has been revealed); write
serializers check only the shape of the input. Every rule lives in `inspections.services`."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chengguan.core.api.serializers import ScopedPrimaryKeyRelatedField
from chengguan.core.fields import mask_id_number, mask_phone
from chengguan.core.models import Evidence, OrgUnit, User

from ..choices import CheckResult, CreditGrade, InspectionOutcome, TaskStatus
from ..models import (
    ChecklistItem,
    DrawPlan,
    DrawSelection,
    InspectionRecord,
    InspectionTask,
    InspectorConflict,
    ObjectType,
    RegulatedObject,
    TierRule,
)

CONTACT_PERM = "inspections.view_regulatedobject_contact"


def _names(users) -> list[str]:
    return [u.real_name or u.username for u in users]


class ActiveUserField(serializers.PrimaryKeyRelatedField):
    """An inspector by id. Not limited to the caller's scope: a draw may send inspectors from
    other units; whether each may inspect is the service's check (certificate, role)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.filter(is_active=True), **kwargs)


class ActiveObjectTypeField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=ObjectType.objects.filter(is_active=True), **kwargs)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="理由（记入审计日志）")


# --- object types, checklists, tier rules -------------------------------------------------------


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "order", "text", "legal_basis", "is_active"]
        read_only_fields = fields


class ObjectTypeSerializer(serializers.ModelSerializer):
    checklist = serializers.SerializerMethodField()
    tier_rule = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="分级规则编号")

    class Meta:
        model = ObjectType
        fields = ["id", "code", "name", "base_risk", "is_active", "tier_rule", "checklist"]
        read_only_fields = fields

    @extend_schema_field(ChecklistItemSerializer(many=True))
    def get_checklist(self, obj):
        # prefetched; active items only (retired ones stay on old records)
        return ChecklistItemSerializer([i for i in obj.checklist.all() if i.is_active], many=True).data


class ChecklistItemInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="已有检查项的编号；不填为新增")
    text = serializers.CharField(max_length=200)
    legal_basis = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ObjectTypeCreateSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=60)
    base_risk = serializers.IntegerField(min_value=0, max_value=5, required=False)
    checklist = ChecklistItemInputSerializer(many=True, required=False,
                                             help_text="检查项，按顺序；已有项不在列表中的将停用")


class ObjectTypeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60, required=False)
    base_risk = serializers.IntegerField(min_value=0, max_value=5, required=False)
    is_active = serializers.BooleanField(required=False)
    checklist = ChecklistItemInputSerializer(many=True, required=False,
                                             help_text="检查项，按顺序；已有项不在列表中的将停用")


class TierRuleSerializer(serializers.ModelSerializer):
    object_type_name = serializers.CharField(source="object_type.name", read_only=True)

    class Meta:
        model = TierRule
        fields = ["id", "object_type", "object_type_name", "violation_weight", "violation_window_days",
                  "credit_points", "thresholds", "frequency_days"]
        read_only_fields = fields


class TierRuleUpdateSerializer(serializers.Serializer):
    """Fields not given keep their value (or the default, for a new rule)."""

    violation_weight = serializers.IntegerField(min_value=0, required=False)
    violation_window_days = serializers.IntegerField(min_value=1, required=False)
    credit_points = serializers.DictField(child=serializers.IntegerField(), required=False,
                                          help_text='如 {"A": 0, "B": 1, "C": 3, "D": 5}')
    thresholds = serializers.DictField(child=serializers.IntegerField(), required=False,
                                       help_text='得分达到即为该级，如 {"1": 9, "2": 6, "3": 3}')
    frequency_days = serializers.DictField(child=serializers.IntegerField(), required=False,
                                           help_text='每级多少天检查一次，如 {"1": 30, "2": 90, "3": 180, "4": 365}')


class TierRuleCreateSerializer(TierRuleUpdateSerializer):
    object_type = serializers.PrimaryKeyRelatedField(queryset=ObjectType.objects.all())


class TierRecomputeSerializer(serializers.Serializer):
    object_type = serializers.PrimaryKeyRelatedField(queryset=ObjectType.objects.all(), required=False,
                                                     allow_null=True, help_text="只重算该类型；不填为全部")


class TierRecomputeResultSerializer(serializers.Serializer):
    checked = serializers.IntegerField(help_text="检查的对象数")
    changed = serializers.IntegerField(help_text="等级发生变化的对象数")


# --- regulated objects ------------------------------------------------------------------------


class LicenceSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    valid_to = serializers.DateField(required=False, allow_null=True)


class RegulatedObjectSerializer(serializers.ModelSerializer):
    """ID numbers are always masked; the contact phone is masked unless the caller may see it
    (inspections.view_regulatedobject_contact)."""

    object_type_name = serializers.CharField(source="object_type.name", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True, default=None)
    squad_name = serializers.CharField(source="squad.name", read_only=True, default=None)
    tier_display = serializers.CharField(source="get_tier_display", read_only=True)
    id_number = serializers.SerializerMethodField()
    contact_phone = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = RegulatedObject
        fields = [
            "id", "object_type", "object_type_name", "name", "credit_code", "id_number", "address", "lon", "lat",
            "grid", "grid_name", "squad", "squad_name", "h3", "contact_name", "contact_phone", "licences",
            "risk_level", "credit_grade", "tier", "tier_display", "tier_reason", "tier_computed_at",
            "last_inspected_on", "next_inspection_due", "overdue", "is_active", "merged_into", "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_id_number(self, obj) -> str:
        return mask_id_number(obj.id_number)

    def get_contact_phone(self, obj) -> str:
        request = self.context.get("request")
        if request is not None and request.user.has_perm(CONTACT_PERM):
            return obj.contact_phone
        return mask_phone(obj.contact_phone)

    def get_overdue(self, obj) -> bool:
        due = obj.next_inspection_due
        return bool(obj.is_active and due and due < timezone.localdate())


class RegulatedObjectWriteFields(serializers.Serializer):
    credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True,
                                        help_text="统一社会信用代码（18 位，校验位须正确）")
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True,
                                      help_text="个体经营者身份证件号码；与信用代码至少填一项")
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.RegexField(r"^[0-9+\-\s]{0,32}$", required=False, allow_blank=True,
                                           error_messages={"invalid": "联系电话只能包含数字、+、- 和空格。"})
    licences = LicenceSerializer(many=True, required=False)
    risk_level = serializers.IntegerField(min_value=0, max_value=5, required=False)
    credit_grade = serializers.ChoiceField(choices=CreditGrade.choices, required=False)
    crs = serializers.ChoiceField(choices=[("wgs84", "WGS-84（GPS）"), ("gcj02", "GCJ-02（国测局坐标）")],
                                  required=False, help_text="lon/lat 的坐标系")


class RegulatedObjectCreateSerializer(RegulatedObjectWriteFields):
    object_type = ActiveObjectTypeField()
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=255)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)


class RegulatedObjectUpdateSerializer(RegulatedObjectWriteFields):
    object_type = ActiveObjectTypeField(required=False)
    name = serializers.CharField(max_length=200, required=False)
    address = serializers.CharField(max_length=255, required=False)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)


class MergeSerializer(serializers.Serializer):
    duplicates = serializers.ListField(child=serializers.IntegerField(), min_length=1,
                                       help_text="并入本对象的重复对象编号")
    reason = serializers.CharField(max_length=300)


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Excel 文件（.xlsx），列与导出文件相同")


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="新增对象数")
    updated = serializers.IntegerField(help_text="更新对象数")
    unchanged = serializers.IntegerField(help_text="内容未变的对象数")


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Excel 行号（表头为第 1 行）；0 表示整个文件")
    field = serializers.CharField(allow_blank=True, help_text="列名；为空表示整行或整个文件")
    code = serializers.CharField()
    message = serializers.CharField()


class ImportErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="import_failed")
    message = serializers.CharField()
    errors = ImportRowErrorSerializer(many=True)


class HistoryEntrySerializer(serializers.Serializer):
    time = serializers.DateTimeField()
    kind = serializers.CharField()
    text = serializers.CharField()
    link = serializers.CharField(allow_blank=True, allow_null=True)


class ConflictSerializer(serializers.ModelSerializer):
    inspector_name = serializers.CharField(source="inspector.real_name", read_only=True)
    regulated_object_name = serializers.CharField(source="regulated_object.name", read_only=True)

    class Meta:
        model = InspectorConflict
        fields = ["id", "inspector", "inspector_name", "regulated_object", "regulated_object_name", "reason",
                  "declared_at"]
        read_only_fields = fields


class ConflictCreateSerializer(serializers.Serializer):
    inspector = ActiveUserField(required=False, help_text="回避的检查人员；不填为本人")
    regulated_object = ScopedPrimaryKeyRelatedField(RegulatedObject)
    reason = serializers.CharField(max_length=200)


# --- draw plans -------------------------------------------------------------------------------


class DrawPlanSerializer(serializers.ModelSerializer):
    """The seed is shown only once revealed (after the draw); before that only its SHA-256
    commitment, so nobody can compute the outcome in advance."""

    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    population_sha256 = serializers.CharField(source="population_file.sha256", read_only=True, default=None,
                                              help_text="冻结对象名录文件的 SHA-256")
    pool_sha256 = serializers.CharField(source="pool_file.sha256", read_only=True, default=None,
                                        help_text="冻结检查人员名录文件的 SHA-256")
    seed = serializers.SerializerMethodField(help_text="随机种子：抽取前为空，抽取后公开")
    created_by_name = serializers.CharField(source="created_by.real_name", read_only=True)
    replaced_by = serializers.SerializerMethodField(help_text="重抽后取代本计划的新计划编号")

    class Meta:
        model = DrawPlan
        fields = [
            "id", "name", "org_unit", "org_unit_name", "period_start", "period_end", "object_types",
            "population_filters", "ratios", "inspectors_per_object", "exclude_own_squad", "inspector_units",
            "status", "status_display", "population_file", "population_sha256", "population_count", "pool_file",
            "pool_sha256", "pool_count", "seed_commitment", "seed", "committed_at", "drawn_at", "published_at",
            "publish_due", "replaces", "replaced_by", "redraw_reason", "created_by", "created_by_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_seed(self, plan) -> str | None:
        return plan.seed if plan.seed_revealed else None

    def get_replaced_by(self, plan) -> int | None:
        replaced = getattr(plan, "replaced_by", None)
        return replaced.pk if replaced is not None else None


class DrawPlanWriteFields(serializers.Serializer):
    population_filters = serializers.JSONField(required=False,
                                               help_text='{"squads": [id…], "tiers": [1, 2], "credit_grades": ["C", "D"]}')
    inspectors_per_object = serializers.IntegerField(required=False, help_text="每户检查人员数（2–10）")
    exclude_own_squad = serializers.BooleanField(required=False)
    inspector_units = ScopedPrimaryKeyRelatedField(OrgUnit, many=True, required=False,
                                                   help_text="检查人员来源单位；不填为计划所属单位")


class DrawPlanCreateSerializer(DrawPlanWriteFields):
    name = serializers.CharField(max_length=120)
    org_unit = ScopedPrimaryKeyRelatedField(OrgUnit)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    object_types = ActiveObjectTypeField(many=True)
    ratios = serializers.DictField(child=serializers.FloatField(), help_text='如 {"A": 0.02, "B": 0.05, "C": 0.1, "D": 0.2}')


class DrawPlanUpdateSerializer(DrawPlanWriteFields):
    name = serializers.CharField(max_length=120, required=False)
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    object_types = ActiveObjectTypeField(many=True, required=False)
    ratios = serializers.DictField(child=serializers.FloatField(), required=False)


class VerifyResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="按公开数据重算的结果与存档一致")
    message = serializers.CharField()


class DrawSelectionSerializer(serializers.ModelSerializer):
    regulated_object_name = serializers.CharField(source="regulated_object.name", read_only=True)
    address = serializers.CharField(source="regulated_object.address", read_only=True)
    inspector_names = serializers.SerializerMethodField()

    class Meta:
        model = DrawSelection
        fields = ["id", "rank", "regulated_object", "regulated_object_name", "address", "credit_class",
                  "inspector_ids", "inspector_names"]
        read_only_fields = fields

    def get_inspector_names(self, selection) -> list[str]:
        names = self.context.get("user_names", {})  # filled once per page by the view
        return [names.get(pk, str(pk)) for pk in selection.inspector_ids]


# --- tasks and records ------------------------------------------------------------------------


class InspectionTaskSerializer(serializers.ModelSerializer):
    regulated_object_name = serializers.CharField(source="regulated_object.name", read_only=True)
    object_type = serializers.IntegerField(source="regulated_object.object_type_id", read_only=True)
    address = serializers.CharField(source="regulated_object.address", read_only=True)
    lon = serializers.FloatField(source="regulated_object.lon", read_only=True, allow_null=True)
    lat = serializers.FloatField(source="regulated_object.lat", read_only=True, allow_null=True)
    squad_name = serializers.CharField(source="squad.name", read_only=True, default=None)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    inspector_names = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = InspectionTask
        fields = ["id", "regulated_object", "regulated_object_name", "object_type", "address", "lon", "lat",
                  "squad", "squad_name", "source", "source_display", "plan", "due_date", "inspectors",
                  "inspector_names", "status", "status_display", "overdue", "note", "created_at"]
        read_only_fields = fields

    def get_inspector_names(self, task) -> list[str]:
        return _names(task.inspectors.all())

    def get_overdue(self, task) -> bool:
        return task.status == TaskStatus.PENDING and task.due_date < timezone.localdate()


class TaskCreateSerializer(serializers.Serializer):
    regulated_object = ScopedPrimaryKeyRelatedField(RegulatedObject)
    due_date = serializers.DateField()
    inspectors = ActiveUserField(many=True, required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class GenerateScheduleSerializer(serializers.Serializer):
    until = serializers.DateField(help_text="生成应检日期不晚于此日的任务")
    squad = ScopedPrimaryKeyRelatedField(OrgUnit, required=False, allow_null=True,
                                         help_text="只为该中队生成；不填为数据范围内全部中队")


class GenerateResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="新生成的任务数")


class ChecklistResultSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="检查项编号")
    result = serializers.ChoiceField(choices=CheckResult.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class SubmitInspectionSerializer(serializers.Serializer):
    inspectors = ActiveUserField(many=True, help_text="到场检查人员（至少两名持证人员，含提交人）")
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text="检查位置经度（WGS-84）")
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="检查位置纬度（WGS-84）")
    checklist = ChecklistResultSerializer(many=True)
    findings = serializers.CharField(required=False, allow_blank=True)
    photos = ScopedPrimaryKeyRelatedField(Evidence, many=True, required=False, help_text="现场照片（证据编号）")
    signature = ScopedPrimaryKeyRelatedField(Evidence, required=False, allow_null=True,
                                             help_text="当事人签名（证据编号）")
    party_refused_to_sign = serializers.BooleanField(required=False)
    outcome = serializers.ChoiceField(choices=InspectionOutcome.choices)
    correction_deadline = serializers.DateField(required=False, allow_null=True)
    case_facts = serializers.CharField(required=False, allow_blank=True)
    inspected_at = serializers.DateTimeField(required=False, allow_null=True, help_text="检查时间；不填为提交时")


class CaseRequestSerializer(serializers.Serializer):
    facts = serializers.CharField()
    requested_at = serializers.DateTimeField()
    case_reference = serializers.CharField(allow_blank=True)


class InspectionRecordSerializer(serializers.ModelSerializer):
    regulated_object_name = serializers.CharField(source="regulated_object.name", read_only=True)
    squad_name = serializers.CharField(source="squad.name", read_only=True, default=None)
    inspector_names = serializers.SerializerMethodField()
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    case_request = serializers.SerializerMethodField()

    class Meta:
        model = InspectionRecord
        fields = [
            "id", "task", "regulated_object", "regulated_object_name", "squad", "squad_name", "inspectors",
            "inspector_names", "inspected_at", "lon", "lat", "distance_m", "location_verified", "checklist",
            "findings", "photos", "signature", "party_refused_to_sign", "outcome", "outcome_display",
            "correction_deadline", "reinspection_task", "publish_due", "published_at", "created_by",
            "case_request",
        ]
        read_only_fields = fields

    def get_inspector_names(self, record) -> list[str]:
        return _names(record.inspectors.all())

    @extend_schema_field(CaseRequestSerializer(allow_null=True))
    def get_case_request(self, record):
        request = getattr(record, "case_request", None)
        return CaseRequestSerializer(request).data if request is not None else None
