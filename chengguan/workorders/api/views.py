"""Work-orders API: intake for hotline platforms, the order list and detail, and one command
endpoint per workflow verb (POST /{id}/<verb>/). Views stay thin: scope comes from
`restrict()` (out of scope → 404), the role permission from `RolePermission` (the verb's
permission in `workflow.TRANSITIONS` / `ACTIONS` → 403), every rule from the services
(refused step → 409 with the rule's code, bad input → 400)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from chengguan.core.api.mixins import ScopedQuerysetMixin, ServiceWriteMixin
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import Evidence

from ..choices import Channel, RequestKind
from ..filters import WorkOrderFilter
from ..models import (
    Category,
    ClockRequest,
    HandlingRecord,
    IntakeClient,
    RepeatCandidate,
    TimeLimitRule,
    WorkOrder,
    WorkOrderStep,
)
from ..services import categories, intake, stats, workflow
from . import serializers as s
from .authentication import IntakeClientAuthentication

INTAKE_FIELDS = ("channel", "external_ticket", "title", "text", "address", "lon", "lat", "crs", "reporter_name",
                 "reporter_phone", "category", "received_at", "wants_reply")
INTAKE_PERM = "workorders.intake_workorder"


def _fail(message: str, code: str, field: str | None) -> ValidationFailed:
    return ValidationFailed(message, code=code, field=field,
                            errors=[{"field": field, "code": code, "message": message}] if field else None)


# --- intake -------------------------------------------------------------------------------------


class IntakePermission(BasePermission):
    """An intake client (API key) or staff allowed to take orders in."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return isinstance(request.auth, IntakeClient) or user.has_perm(INTAKE_PERM)


def _prepare(item, client: IntakeClient | None, prefix: str):
    """The submitted fields the intake service takes (anything else is ignored); a client's
    orders are of its own channel."""
    if not isinstance(item, dict):
        return item  # the service refuses it with its own message
    values = {k: item[k] for k in INTAKE_FIELDS if k in item}
    field = f"{prefix}channel"
    channel = values.get("channel")
    if client is not None:
        if channel in (None, ""):
            values["channel"] = client.channel
        elif channel != client.channel:
            raise _fail(f"接入平台“{client.name}”只能提交“{client.get_channel_display()}”渠道的工单。",
                        "channel_not_allowed", field)
    elif channel in (None, ""):
        raise _fail("请填写来源渠道。", "required", field)
    return values


INTAKE_REQUEST = PolymorphicProxySerializer(
    component_name="IntakeSubmission", serializers=[s.IntakeOrderSerializer, s.IntakeBatchSerializer],
    resource_type_field_name=None)
INTAKE_RESPONSE = PolymorphicProxySerializer(
    component_name="IntakeAnswer", serializers=[s.IntakeResultSerializer, s.IntakeBatchResultSerializer],
    resource_type_field_name=None)


class IntakeView(APIView):
    """POST one order or {"orders": [...]} (all valid or none saved). A resent ticket
    (same channel and external ticket) returns the order made the first time."""

    authentication_classes = [IntakeClientAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [IntakePermission]

    @extend_schema(
        summary="接收工单（热线平台接入）",
        description="认证：接入平台用 `Authorization: ApiKey <密钥>` 或 `X-API-Key: <密钥>`；指挥中心人员用令牌。"
                    "请求体为一条工单，或 `{\"orders\": [...]}` 批量提交（全部通过校验才保存）。"
                    "有新工单时返回 201；全部为重复提交时返回 200，内容为原工单（created=false）。",
        request=INTAKE_REQUEST,
        responses={201: INTAKE_RESPONSE, 200: INTAKE_RESPONSE},
    )
    def post(self, request):
        body = request.data
        batch = isinstance(body, dict) and "orders" in body
        items = body["orders"] if batch else [body]
        if not isinstance(items, list):
            raise _fail("orders 必须是数组。", "invalid", "orders")
        client = request.auth if isinstance(request.auth, IntakeClient) else None
        prepared = [_prepare(item, client, f"orders[{i}]." if batch and len(items) > 1 else "")
                    for i, item in enumerate(items)]
        results = intake.receive_many(prepared, by=request.user)
        data = s.IntakeResultSerializer(results, many=True).data
        code = status.HTTP_201_CREATED if any(r.created for r in results) else status.HTTP_200_OK
        return Response({"orders": data} if batch else data[0], status=code)


# --- orders -------------------------------------------------------------------------------------


def detail_queryset():
    return WorkOrder.objects.select_related(
        "category", "squad", "grid", "assignee", "parent", "created_by", "case_conversion",
    ).prefetch_related(
        "photos",
        Prefetch("steps", queryset=WorkOrderStep.objects.select_related("actor")),
        Prefetch("handlings", queryset=HandlingRecord.objects.select_related("officer").prefetch_related("photos")),
        Prefetch("repeat_candidates", queryset=RepeatCandidate.objects.select_related("original")),
        Prefetch("clock_requests", queryset=ClockRequest.objects.select_related("requested_by", "decided_by")),
    )


def _rule(name: str):
    return workflow.TRANSITIONS.get(name) or workflow.ACTIONS[name]


def command(name: str, verb: str, serializer, call, summary: str, description: str = ""):
    """A POST /{id}/<verb>/ endpoint: look the order up in the caller's scope, check the input's
    shape, call the workflow verb, answer with the order."""

    def handler(self, request, pk=None):
        order = self.get_object()
        data = {}
        if serializer is not None:
            checked = serializer(data=request.data, context=self.get_serializer_context())
            checked.is_valid(raise_exception=True)
            data = checked.validated_data
        call(order, request.user, data)
        return self.detail_response(order.pk)

    handler.__name__ = name
    handler.__doc__ = summary
    handler = action(detail=True, methods=["post"], url_path=verb.replace("_", "-"))(handler)
    return extend_schema(summary=summary, description=description or None, request=serializer,
                         responses=s.WorkOrderDetailSerializer)(handler)


COMMANDS = {  # viewset action → workflow rule (its permission)
    "accept": "accept", "dispatch_": "dispatch", "reassign": "reassign", "assign": "assign", "start": "start",
    "reply": "reply", "return_": "return", "verify": "verify", "close": "close", "reject": "reject",
    "merge": "merge", "escalate": "escalate", "classify": "classify", "locate": "locate",
    "request_extension": "request_extension", "request_suspension": "request_suspension", "resume": "resume",
    "rate": "rate", "convert_to_case": "convert_to_case",
}


@extend_schema_view(
    list=extend_schema(summary="工单列表", description="数据范围内的工单（反映人信息按权限脱敏），游标分页。"),
    retrieve=extend_schema(summary="工单详情", description="含办理环节、处置记录、疑似重复、延期挂起申请和当前可执行的动作。"),
)
class WorkOrderViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    queryset = WorkOrder.objects.select_related("category", "squad", "grid", "assignee")
    serializer_class = s.WorkOrderListSerializer
    filterset_class = WorkOrderFilter
    cursor_ordering = ("-received_at", "-pk")
    lookup_value_regex = r"[0-9]+"
    action_perms = {"create": "workorders.add_workorder",
                    **{name: _rule(rule).perm for name, rule in COMMANDS.items()}}

    def get_queryset(self):
        if self.action == "retrieve":
            return detail_queryset().restrict(self.request.user, "view")
        return super().get_queryset()

    def get_serializer_class(self):
        return s.WorkOrderDetailSerializer if self.action == "retrieve" else s.WorkOrderListSerializer

    def detail_response(self, pk, status_code=status.HTTP_200_OK):
        order = detail_queryset().get(pk=pk)
        return Response(s.WorkOrderDetailSerializer(order, context=self.get_serializer_context()).data,
                        status=status_code)

    @extend_schema(
        summary="录入工单（巡查发现等）",
        description="工作人员上报发现的问题，渠道默认 patrol（巡查发现）；其他渠道需要“接收工单”权限。"
                    "字段与接收接口相同，另可附现场照片（证据编号）。",
        request=s.WorkOrderCreateSerializer,
        responses={201: s.WorkOrderDetailSerializer, 200: OpenApiResponse(s.WorkOrderDetailSerializer,
                                                                          description="重复提交：原工单")},
    )
    def create(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationFailed("请求体必须是一个对象。", code="invalid")
        values = {k: body[k] for k in INTAKE_FIELDS if k in body}
        values["channel"] = values.get("channel") or Channel.PATROL
        if values["channel"] != Channel.PATROL and not request.user.has_perm(INTAKE_PERM):
            raise PermissionDenied("您只能上报巡查发现的问题；其他渠道的工单由指挥中心录入。")
        values["photos"] = self._photos(body.get("photos"))
        received = intake.receive(by=request.user, **values)
        return self.detail_response(received.order.pk,
                                    status.HTTP_201_CREATED if received.created else status.HTTP_200_OK)

    def _photos(self, ids) -> list[Evidence]:
        if ids in (None, ""):
            return []
        if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise _fail("照片须为证据编号的数组。", "invalid", "photos")
        found = list(Evidence.objects.restrict(self.request.user, "view").filter(pk__in=ids))
        missing = sorted(set(ids) - {e.pk for e in found})
        if missing:
            raise _fail(f"证据 {'、'.join(map(str, missing))} 不存在或不在您的数据范围内。", "does_not_exist", "photos")
        return found

    accept = command("accept", "accept", s.NoteSerializer,
                     lambda o, u, d: workflow.accept(o, by=u, **d), "签收")
    # not "dispatch": that name is the view's request handler
    dispatch_ = command("dispatch_", "dispatch", s.DispatchSerializer,
                       lambda o, u, d: workflow.dispatch(o, by=u, **d), "派遣",
                       "派往定位所得中队或指定中队，可同时指定处置人。非本部门职责的分类不能派遣（409 out_of_remit）。")
    reassign = command("reassign", "reassign", s.ReassignSerializer,
                       lambda o, u, d: workflow.reassign(o, by=u, **d), "改派")
    assign = command("assign", "assign", s.AssignSerializer,
                     lambda o, u, d: workflow.assign(o, by=u, **d), "指派处置人")
    start = command("start", "start", None, lambda o, u, d: workflow.start(o, by=u), "开始处置")
    reply = command("reply", "reply", s.ReplySerializer,
                    lambda o, u, d: workflow.reply(o, by=u, **d), "处置反馈")
    return_ = command("return_", "return", s.OrderReasonSerializer,
                      lambda o, u, d: workflow.return_order(o, by=u, **d), "退单")
    verify = command("verify", "verify", s.VerifySerializer,
                     lambda o, u, d: workflow.verify(o, by=u, **d), "核查",
                     "passed=true 核查通过；passed=false 返工，须写明原因。")
    close = command("close", "close", s.NoteSerializer, lambda o, u, d: workflow.close(o, by=u, **d), "结案")
    reject = command("reject", "reject", s.OrderReasonSerializer,
                     lambda o, u, d: workflow.reject(o, by=u, **d), "非本部门职责退回")
    merge = command("merge", "merge", s.OrderMergeSerializer,
                    lambda o, u, d: workflow.merge(o, by=u, **d), "并单", "把本工单作为重复件并入主工单。")
    escalate = command("escalate", "escalate", s.OrderReasonSerializer,
                       lambda o, u, d: workflow.escalate(o, by=u, **d), "督办")
    classify = command("classify", "classify", s.ClassifySerializer,
                       lambda o, u, d: workflow.classify(o, by=u, **d), "人工分类")
    locate = command("locate", "locate", s.LocateSerializer,
                     lambda o, u, d: workflow.locate(o, by=u, **d), "定位", "在地图上选点，或直接指定责任中队。")
    request_extension = command(
        "request_extension", "request_extension", s.ExtensionSerializer,
        lambda o, u, d: workflow.request_clock(o, by=u, kind=RequestKind.EXTENSION, **d), "申请延期")
    request_suspension = command(
        "request_suspension", "request_suspension", s.OrderReasonSerializer,
        lambda o, u, d: workflow.request_clock(o, by=u, kind=RequestKind.SUSPENSION, **d), "申请挂起")
    resume = command("resume", "resume", s.NoteSerializer, lambda o, u, d: workflow.resume(o, by=u, **d), "恢复办理")
    rate = command("rate", "rate", s.RateSerializer, lambda o, u, d: workflow.rate(o, by=u, **d), "回访评价",
                   "回访反映人后录入满意度；不满意的工单重新办理一次。")
    convert_to_case = command("convert_to_case", "convert_to_case", s.ConvertSerializer,
                              lambda o, u, d: workflow.convert_to_case(o, by=u, **d), "诉转案")


class OrderChildViewSet(viewsets.GenericViewSet):
    """Objects hanging off an order: in scope when their order is."""

    def get_queryset(self):
        orders = WorkOrder.objects.restrict(self.request.user, "view")
        return self.queryset.filter(order__in=orders.values("pk"))


class ClockRequestViewSet(OrderChildViewSet):
    queryset = ClockRequest.objects.select_related("order", "requested_by", "decided_by")
    serializer_class = s.ClockRequestSerializer
    action_perms = {"decide": "workorders.approve_workorder"}

    @extend_schema(summary="审批延期/挂起申请", request=s.DecideSerializer, responses=s.ClockRequestSerializer,
                   description="approve=true 批准（延期顺延处置时限，挂起暂停计时）；false 驳回，须写明意见。不能审批自己的申请。")
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        clock_request = self.get_object()
        data = s.DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow.decide_clock(clock_request, by=request.user, **data.validated_data)
        return Response(s.ClockRequestSerializer(self.queryset.get(pk=clock_request.pk)).data)


class RepeatCandidateViewSet(OrderChildViewSet):
    queryset = RepeatCandidate.objects.select_related("order", "original")
    serializer_class = s.RepeatCandidateSerializer
    action_perms = {"dismiss": _rule("classify").perm}

    @extend_schema(summary="排除疑似重复", request=None, responses=s.RepeatCandidateSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        candidate = workflow.dismiss_repeat(self.get_object(), by=request.user)
        return Response(s.RepeatCandidateSerializer(self.queryset.get(pk=candidate.pk)).data)


# --- configuration ------------------------------------------------------------------------------


class ConfigViewSet(ServiceWriteMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bureau-wide configuration: read by every role holding the view permission, written by
    administrators through services."""

    pagination_class = None

    def ensure_in_scope(self, instance, action):
        pass  # configuration has no org unit


@extend_schema_view(list=extend_schema(summary="工单分类树", description="大类及其下级小类（含已停用的）。"),
                    retrieve=extend_schema(summary="工单分类"),
                    create=extend_schema(summary="新增分类"), partial_update=extend_schema(summary="修改分类"))
class CategoryViewSet(ConfigViewSet):
    queryset = Category.objects.all()
    serializer_class = s.CategorySerializer
    write_serializer_classes = {"create": s.CategoryCreateSerializer, "partial_update": s.CategoryUpdateSerializer}
    http_method_names = ["get", "post", "patch", "head", "options"]

    @staticmethod
    def _with_children(nodes):
        by_parent = {}
        for node in Category.objects.all():
            by_parent.setdefault(node.parent_id, []).append(node)
        for node in nodes:
            node.tree_children = by_parent.get(node.pk, [])
        return nodes

    def list(self, request, *args, **kwargs):
        roots = self._with_children([c for c in Category.objects.all() if c.parent_id is None])
        return Response(s.CategorySerializer(roots, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(s.CategorySerializer(self._with_children([self.get_object()])[0]).data)

    def read_response(self, instance, status_code=status.HTTP_200_OK):
        return Response(s.CategorySerializer(self._with_children([instance])[0]).data, status=status_code)

    def perform_service_create(self, data):
        return categories.create_category(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return categories.update_category(instance, by=self.request.user, **data)


@extend_schema_view(list=extend_schema(summary="办理时限规则"), retrieve=extend_schema(summary="办理时限规则详情"),
                    create=extend_schema(summary="新增时限规则"), partial_update=extend_schema(summary="修改时限规则"))
class TimeLimitRuleViewSet(ConfigViewSet):
    queryset = TimeLimitRule.objects.select_related("category").order_by("stage", "channel", "category__code", "pk")
    serializer_class = s.TimeLimitRuleSerializer
    write_serializer_classes = {"create": s.TimeLimitRuleCreateSerializer,
                                "partial_update": s.TimeLimitRuleUpdateSerializer}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_service_create(self, data):
        return categories.create_time_limit(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return categories.update_time_limit(instance, by=self.request.user, **data)


# --- statistics ---------------------------------------------------------------------------------


class ConversionRateView(APIView):
    required_perm = "workorders.view_stats"

    @extend_schema(summary="诉转案率（按中队）",
                   description="区间内受理的工单（不含并单重复件和非本部门职责件）中提请立案的比例，限数据范围内。",
                   parameters=[s.ConversionRateQuerySerializer], responses=s.ConversionRateSerializer)
    def get(self, request):
        start, end = _date_range(request, s.ConversionRateQuerySerializer)
        rows = stats.conversion_rate_by_squad(start, end, request.user)
        return Response(s.ConversionRateSerializer({"start": start, "end": end, "squads": rows}).data)


def _date_range(request, serializer_class):
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    today = timezone.localdate()
    return query.validated_data.get("start") or today.replace(day=1), query.validated_data.get("end") or today


class IndicatorsView(APIView):
    required_perm = "workorders.view_stats"

    @extend_schema(summary="工单考核指标（按中队）",
                   description="GB/T 30428.4 口径的受理数、结案率、按期结案率、返工率、满意率、诉转案率等，"
                               "各中队一行加合计行，限数据范围内。口径见 services/stats.indicators_by_squad。",
                   parameters=[s.IndicatorsQuerySerializer], responses=s.IndicatorsSerializer)
    def get(self, request):
        start, end = _date_range(request, s.IndicatorsQuerySerializer)
        rows = stats.indicators_by_squad(start, end, request.user)
        return Response(s.IndicatorsSerializer({"start": start, "end": end, "squads": rows}).data)
