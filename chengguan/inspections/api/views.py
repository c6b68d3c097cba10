"""Inspections API: the registry, tier rules, 双随机 plans, tasks and records. Views stay thin:
scope comes from `restrict()` (through `core.api.mixins` and `inspections.selectors`), rules and
writes from `inspections.services`; every transition is a command endpoint (POST …/verb/)."""

from django.db import transaction
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from chengguan.core.api.mixins import ScopedQuerysetMixin, ScopedServiceViewSet, ServiceWriteMixin
from chengguan.core.errors import ValidationFailed
from chengguan.core.exports import XLSX, xlsx_response
from chengguan.core.scope import scope_units_for

from .. import selectors
from ..choices import TaskStatus
from ..filters import (
    DrawPlanFilter,
    InspectionRecordFilter,
    InspectionTaskFilter,
    RegulatedObjectFilter,
)
from ..models import (
    DrawPlan,
    InspectionRecord,
    InspectionTask,
    InspectorConflict,
    ObjectType,
    RegulatedObject,
    TierRule,
)
from ..services import draws, object_types, records, registry, tiering
from . import serializers as s


def with_own(restricted, base, user):
    """The rows in the user's scope plus those they inspect: drawn inspectors may come from
    other squads, and their own tasks and records are theirs to see (and tasks to submit)."""
    if scope_units_for(user) is None or not user.has_perm(f"inspections.view_{base.model._meta.model_name}"):
        return restricted  # bureau-wide (sees them all anyway) or no right to see any
    own = base.model.objects.filter(inspectors=user).values("pk")
    return base.filter(Q(pk__in=restricted.values("pk")) | Q(pk__in=own))


def _ok(serializer_class, instance, view, status_code=status.HTTP_200_OK):
    return Response(serializer_class(instance, context=view.get_serializer_context()).data, status=status_code)


# --- configuration: object types and tier rules --------------------------------------------------


class ConfigViewSet(ServiceWriteMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """Bureau-wide configuration: readable by every role holding the model's view permission
    (RolePermission), whatever its data scope; written by administrators through services."""

    pagination_class = None  # a few dozen rows

    def ensure_in_scope(self, instance, action):
        pass  # configuration has no org unit


@extend_schema_view(list=extend_schema(summary="监管对象类型列表"), retrieve=extend_schema(summary="监管对象类型"))
class ObjectTypeViewSet(ConfigViewSet):
    queryset = ObjectType.objects.select_related("tier_rule").prefetch_related("checklist")
    serializer_class = s.ObjectTypeSerializer
    write_serializer_classes = {"create": s.ObjectTypeCreateSerializer,
                                "partial_update": s.ObjectTypeUpdateSerializer}

    def perform_service_create(self, data):
        return object_types.create_object_type(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return object_types.update_object_type(instance, by=self.request.user, **data)

    @extend_schema(summary="检查项清单", description="该类型启用中的检查项，按顺序（检查记录须逐项填写）。",
                   responses=s.ChecklistItemSerializer(many=True))
    @action(detail=True)
    def checklist(self, request, pk=None):
        return Response(s.ChecklistItemSerializer(selectors.checklist_for(self.get_object().pk), many=True).data)


@extend_schema_view(list=extend_schema(summary="分级规则列表"), retrieve=extend_schema(summary="分级规则"))
class TierRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tier rules are bureau-wide configuration, readable by every role."""

    queryset = TierRule.objects.select_related("object_type").order_by("object_type__code")
    serializer_class = s.TierRuleSerializer
    pagination_class = None
    action_perms = {"create": "inspections.change_tierrule", "recompute": "inspections.recompute_tiers"}

    @extend_schema(summary="设定分级规则", description="为对象类型设定分级规则（已有则按所给字段修改）。",
                   request=s.TierRuleCreateSerializer, responses={201: s.TierRuleSerializer})
    def create(self, request):
        data = s.TierRuleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = tiering.set_tier_rule(data.validated_data.pop("object_type"), by=request.user, **data.validated_data)
        return _ok(s.TierRuleSerializer, self.queryset.get(pk=rule.pk), self, status.HTTP_201_CREATED)

    @extend_schema(summary="修改分级规则", request=s.TierRuleUpdateSerializer, responses=s.TierRuleSerializer)
    def partial_update(self, request, pk=None):
        rule = self.get_object()
        data = s.TierRuleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = tiering.set_tier_rule(rule.object_type, by=request.user, **data.validated_data)
        return _ok(s.TierRuleSerializer, self.queryset.get(pk=rule.pk), self)

    @extend_schema(summary="重新计算分级",
                   description="按现行规则重算数据范围内在管对象的监管等级，只写入发生变化的对象（记入审计日志）。",
                   request=s.TierRecomputeSerializer, responses=s.TierRecomputeResultSerializer)
    @action(detail=False, methods=["post"])
    def recompute(self, request):
        data = s.TierRecomputeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        objects = RegulatedObject.objects.restrict(request.user).filter(is_active=True)
        if data.validated_data.get("object_type"):
            objects = objects.filter(object_type=data.validated_data["object_type"])
        result = tiering.recompute_tiers(objects, by=request.user)
        return Response({"checked": result.checked, "changed": result.changed})


# --- the registry ---------------------------------------------------------------------------


class RegulatedObjectViewSet(ScopedServiceViewSet):
    """The 执法对象监管库 in the caller's scope. Contact phones are masked unless the role may
    see them; ID numbers always are."""

    queryset = RegulatedObject.objects.select_related("object_type", "squad", "grid")
    serializer_class = s.RegulatedObjectSerializer
    write_serializer_classes = {"create": s.RegulatedObjectCreateSerializer,
                                "partial_update": s.RegulatedObjectUpdateSerializer}
    filterset_class = RegulatedObjectFilter
    cursor_ordering = "pk"
    scope_actions = {"merge": "merge", "deactivate": "change"}
    action_perms = {
        "merge": "inspections.merge_regulatedobject",
        "deactivate": "inspections.change_regulatedobject",
        "import_": "inspections.import_regulatedobject",
    }

    def perform_service_create(self, data):
        return registry.create_object(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return registry.update_object(instance, by=self.request.user, **data)

    @extend_schema(summary="对象履历", description="检查、任务、抽查（以后还有案件），时间倒序。",
                   responses=s.HistoryEntrySerializer(many=True), filters=False)
    @action(detail=True, pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        return Response(s.HistoryEntrySerializer(registry.object_history(self.get_object()), many=True).data)

    @extend_schema(summary="疑似重复对象", description="同一信用代码、同一证件号或名称地址相同的在管对象（数据范围内）。",
                   responses=s.RegulatedObjectSerializer(many=True), filters=False)
    @action(detail=True, pagination_class=None, filterset_class=None)
    def duplicates(self, request, pk=None):
        found = [d.pk for d in registry.find_duplicates(self.get_object())]
        rows = self.get_queryset().filter(pk__in=found).order_by("pk")  # only those in scope
        return Response(s.RegulatedObjectSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(summary="合并重复对象",
                   description="把重复对象并入本对象：其任务、检查记录和回避申报改挂本对象，重复对象停用并标明并入何处；"
                               "已抽取的抽查结果保持原样。",
                   request=s.MergeSerializer, responses=s.RegulatedObjectSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        keep = self.get_object()  # restrict(user, "merge"): out of scope → 404
        data = s.MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["duplicates"]
        duplicates = list(RegulatedObject.objects.restrict(request.user, "merge").filter(pk__in=ids))
        missing = sorted(set(ids) - {d.pk for d in duplicates})
        if missing:
            raise ValidationFailed(f"重复对象 {'、'.join(map(str, missing))} 不存在或不在您的数据范围内。",
                                   code="does_not_exist", field="duplicates")
        kept = registry.merge_objects(keep, duplicates, by=request.user, reason=data.validated_data["reason"])
        return self.read_response(self.queryset.get(pk=kept.pk))

    @extend_schema(summary="停用（不再监管）", request=s.ReasonSerializer, responses=s.RegulatedObjectSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        obj = self.get_object()
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registry.deactivate_object(obj, by=request.user, reason=data.validated_data["reason"])
        return self.read_response(self.queryset.get(pk=obj.pk))

    @extend_schema(
        summary="Excel 批量导入或更新",
        description="全部行通过校验才写入；任何一行有误则不保存任何数据，返回 400 `import_failed`，"
                    "`errors` 逐条列出行号、列名和原因。列与导出文件相同。",
        request={"multipart/form-data": s.ImportSerializer},
        responses={200: s.ImportResultSerializer,
                   400: OpenApiResponse(s.ImportErrorSerializer, description="文件有误（import_failed），未保存任何数据")},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_(self, request):
        data = s.ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = registry.import_objects(data.validated_data["file"], by=request.user)
        if result.errors:
            return Response({
                "code": "import_failed",
                "message": f"导入文件有 {len(result.errors)} 处错误，未保存任何数据，请修改后重新导入。",
                "errors": [{"row": e.row, "field": e.field, "code": e.code, "message": e.message}
                           for e in result.errors],
            }, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": result.created, "updated": result.updated, "unchanged": result.unchanged})

    def perform_content_negotiation(self, request, force=False):
        # The export answers with a spreadsheet whatever the client accepts; errors stay JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "export")

    @extend_schema(summary="导出 Excel", description="按筛选条件导出数据范围内的对象（联系电话按权限脱敏，证件号脱敏）。",
                   responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="Excel 文件")})
    @action(detail=False, pagination_class=None)
    def export(self, request):
        objects = self.filter_queryset(self.get_queryset()).order_by("pk")
        return xlsx_response("监管对象", registry.export_columns(request.user), objects.iterator(chunk_size=2000),
                             model=RegulatedObject, filters=request.query_params.dict(), actor=request.user)


class ConflictViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """回避申报: everyone may declare (for themselves; planners for any inspector); planners
    list those on objects in their scope."""

    queryset = InspectorConflict.objects.select_related("inspector", "regulated_object")
    serializer_class = s.ConflictSerializer

    def get_queryset(self):
        objects = RegulatedObject.objects.restrict(self.request.user)
        return self.queryset.filter(regulated_object__in=objects).order_by("-pk")

    def get_serializer_class(self):
        return s.ConflictCreateSerializer if self.action == "create" else s.ConflictSerializer

    @extend_schema(summary="申报回避", request=s.ConflictCreateSerializer, responses={201: s.ConflictSerializer})
    def create(self, request, *args, **kwargs):
        data = s.ConflictCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        conflict = registry.declare_conflict(by=request.user, inspector=data.validated_data.get("inspector", request.user),
                                             regulated_object=data.validated_data["regulated_object"],
                                             reason=data.validated_data["reason"])
        return _ok(s.ConflictSerializer, conflict, self, status.HTTP_201_CREATED)


# --- 双随机 plans -------------------------------------------------------------------------------


class DrawPlanViewSet(ScopedServiceViewSet):
    """Plans of the units in the caller's scope. Lifecycle commands: commit (freeze the lists,
    publish the seed's hash) → draw (reveal the seed, compute the selections) → publish; a
    re-draw is a new plan with a reason. The seed never appears before the draw."""

    queryset = DrawPlan.objects.select_related(
        "org_unit", "created_by", "population_file", "pool_file", "replaced_by"
    ).prefetch_related("object_types", "inspector_units")
    serializer_class = s.DrawPlanSerializer
    write_serializer_classes = {"create": s.DrawPlanCreateSerializer, "partial_update": s.DrawPlanUpdateSerializer}
    filterset_class = DrawPlanFilter
    scope_actions = {"commit": "change", "draw": "change", "publish": "change", "redraw": "change"}
    action_perms = {"commit": "inspections.change_drawplan", "draw": "inspections.change_drawplan",
                    "publish": "inspections.change_drawplan", "redraw": "inspections.add_drawplan"}

    def perform_service_create(self, data):
        return draws.create_plan(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return draws.update_plan(instance, by=self.request.user, **data)

    def _command(self, verb):
        plan = self.get_object()
        verb(plan, by=self.request.user)
        return self.read_response(self.queryset.get(pk=plan.pk))

    @extend_schema(summary="冻结名录并承诺种子",
                   description="冻结对象名录和检查人员名录（存档并计算 SHA-256），生成随机种子并公布其 SHA-256；种子本身在抽取时才公开。",
                   request=None, responses=s.DrawPlanSerializer)
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        return self._command(draws.commit_plan)

    @extend_schema(summary="抽取", description="公开种子，按公开算法从冻结名录中抽取对象并随机选派检查人员，生成检查任务。",
                   request=None, responses=s.DrawPlanSerializer)
    @action(detail=True, methods=["post"])
    def draw(self, request, pk=None):
        return self._command(draws.run_draw)

    @extend_schema(summary="公示", request=None, responses=s.DrawPlanSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._command(draws.publish_plan)

    @extend_schema(summary="重新抽取",
                   description="原计划作废（保留记录），以相同条件建立新计划并说明理由；抽取结果不会被悄悄改变。",
                   request=s.ReasonSerializer, responses={201: s.DrawPlanSerializer})
    @action(detail=True, methods=["post"])
    def redraw(self, request, pk=None):
        plan = self.get_object()
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            new = draws.redraw(plan, by=request.user, reason=data.validated_data["reason"])
            self.ensure_in_scope(new, "view")
        return self.read_response(self.queryset.get(pk=new.pk), status.HTTP_201_CREATED)

    @extend_schema(summary="核验抽取结果", description="用公开的名录和种子重算抽取，与存档结果比对。",
                   responses=s.VerifyResultSerializer, filters=False)
    @action(detail=True, pagination_class=None, filterset_class=None)
    def verify(self, request, pk=None):
        result = draws.verify_plan(self.get_object(), by=request.user)
        return Response({"ok": result.ok, "message": result.message})

    @extend_schema(summary="抽中对象", responses=s.DrawSelectionSerializer(many=True), filters=False)
    @action(detail=True, filterset_class=None)
    def selections(self, request, pk=None):
        plan = self.get_object()
        rows = plan.selections.select_related("regulated_object")
        self.cursor_ordering = "rank"
        page = self.paginate_queryset(rows)
        context = {**self.get_serializer_context(),
                   "user_names": selectors.names_of(i for row in page for i in row.inspector_ids)}
        return self.get_paginated_response(s.DrawSelectionSerializer(page, many=True, context=context).data)


# --- tasks and records ----------------------------------------------------------------------


MINE = OpenApiParameter("mine", OpenApiTypes.BOOL, description="1：只列本人待检查的任务")


@extend_schema_view(list=extend_schema(summary="检查任务列表", parameters=[MINE]), retrieve=extend_schema(summary="检查任务"))
class InspectionTaskViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    queryset = InspectionTask.objects.select_related("regulated_object", "squad").prefetch_related("inspectors")
    serializer_class = s.InspectionTaskSerializer
    filterset_class = InspectionTaskFilter
    cursor_ordering = ("due_date", "pk")
    # officers submit the tasks they may see; cancelling needs the right to change tasks
    scope_actions = {"submit": "view", "cancel": "change"}
    action_perms = {"submit": "inspections.add_inspectionrecord", "cancel": "inspections.change_inspectiontask",
                    "generate": "inspections.add_inspectiontask"}

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        if self.scope_action() == "view":
            queryset = with_own(queryset, self.queryset, user)
        if self.action == "list" and self.request.query_params.get("mine") in {"1", "true"}:
            queryset = queryset.filter(inspectors=user, status=TaskStatus.PENDING)
        return queryset

    @extend_schema(summary="新建专项检查任务", request=s.TaskCreateSerializer, responses={201: s.InspectionTaskSerializer})
    def create(self, request):
        data = s.TaskCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        task = records.create_manual_task(by=request.user, **data.validated_data)
        return _ok(s.InspectionTaskSerializer, self.queryset.get(pk=task.pk), self, status.HTTP_201_CREATED)

    @extend_schema(summary="按分级频次生成检查任务",
                   description="为数据范围内应检日期不晚于 until、尚无待检任务的在管对象生成任务；可只为一个中队生成。",
                   request=s.GenerateScheduleSerializer, responses=s.GenerateResultSerializer)
    @action(detail=False, methods=["post"])
    def generate(self, request):
        data = s.GenerateScheduleSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        created = tiering.generate_schedule(by=request.user, until=data.validated_data["until"],
                                            squad=data.validated_data.get("squad"))
        return Response({"created": created})

    @extend_schema(summary="取消任务", request=s.ReasonSerializer, responses=s.InspectionTaskSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        task = self.get_object()
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        records.cancel_task(task, by=request.user, reason=data.validated_data["reason"])
        return _ok(s.InspectionTaskSerializer, self.queryset.get(pk=task.pk), self)

    @extend_schema(
        summary="提交检查记录",
        description="至少两名持证检查人员（含提交人）；检查位置须在对象附近（否则 409 `too_far`）；须逐项填写检查项；"
                    "责令改正须有整改期限（自动生成复查任务），立案查处须写明违法事实。",
        request=s.SubmitInspectionSerializer, responses={201: s.InspectionRecordSerializer},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        task = self.get_object()
        data = s.SubmitInspectionSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        record = records.submit_inspection(task, by=request.user, **data.validated_data)
        return _ok(s.InspectionRecordSerializer, InspectionRecordViewSet.queryset.get(pk=record.pk), self,
                   status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(summary="检查记录列表"), retrieve=extend_schema(summary="检查记录"))
class InspectionRecordViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              viewsets.GenericViewSet):
    queryset = InspectionRecord.objects.select_related(
        "regulated_object", "squad", "case_request").prefetch_related("inspectors", "photos")
    serializer_class = s.InspectionRecordSerializer
    filterset_class = InspectionRecordFilter
    cursor_ordering = ("-inspected_at", "-pk")
    scope_actions = {"publish": "publish"}
    action_perms = {"publish": "inspections.publish_inspectionrecord"}

    def get_queryset(self):
        queryset = super().get_queryset()
        return with_own(queryset, self.queryset, self.request.user) if self.scope_action() == "view" else queryset

    @extend_schema(summary="公示检查结果", request=None, responses=s.InspectionRecordSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        record = self.get_object()
        records.publish_record(record, by=request.user)
        return _ok(s.InspectionRecordSerializer, self.queryset.get(pk=record.pk), self)

