"""Cases API: the case list (squad, status, procedure, deadline filters; nearest deadline
first) and detail, opening a lead, the on-the-spot decision (POST /simple/), and one command
endpoint per step (POST /{id}/<verb>/). Views stay thin: scope from `restrict()` (out of scope
→ 404), the verb's permission from `workflow.TRANSITIONS` / `ACTIONS` (→ 403), every rule from
the services (refused step → 409 with the rule's code and article, bad input → 400).

Also the publication records of penalty decisions (GET /disclosures/, POST
/disclosures/{id}/publish/ and /exclude/), scoped and permitted the same way."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from chengguan.core.api.mixins import ScopedQuerysetMixin

from ..filters import CaseFilter
from ..models import Case, CaseOfficer, CaseStep, Disclosure, DisclosureStatus
from ..services import commands, disclosure, simple, workflow
from . import serializers as s


def detail_queryset():
    return Case.objects.select_related("squad", "matter").prefetch_related(
        Prefetch("steps", queryset=CaseStep.objects.select_related("actor")),
        Prefetch("case_officers", queryset=CaseOfficer.objects.select_related("officer")),
        "measures",
    )


def command(name: str, serializer, summary: str, description: str = ""):
    """POST /{id}/<verb>/: the case in the caller's scope, the input's shape checked, the
    command run, the case answered."""

    def handler(self, request, pk=None):
        case = self.get_object()
        checked = serializer(data=request.data, context={**self.get_serializer_context(), "case": case})
        checked.is_valid(raise_exception=True)
        commands.run(name, case, by=request.user, data=checked.validated_data)
        return self.detail_response(case.pk)

    handler.__name__ = name
    handler.__doc__ = summary
    handler = action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(handler)
    return extend_schema(summary=summary, description=description or None, request=serializer,
                         responses=s.CaseDetailSerializer)(handler)


@extend_schema_view(
    list=extend_schema(summary="案件列表", description="数据范围内的案件，按最近期限排序（游标分页）；"
                                                  "可按中队、状态、程序、期限、是否超期筛选。"),
    retrieve=extend_schema(summary="案件详情", description="含当事人（按权限脱敏）、承办人员、环节、期限和当前可执行的动作。"),
)
class CaseViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Case.objects.select_related("squad", "matter")
    serializer_class = s.CaseListSerializer
    filterset_class = CaseFilter
    cursor_ordering = ("next_deadline", "pk")
    lookup_value_regex = r"[0-9]+"
    action_perms = {"create": "cases.add_case", "simple": "cases.add_case",
                    **{name: workflow.rule_for(name).perm for name in commands.COMMANDS}}

    def get_queryset(self):
        if self.action == "retrieve":
            return detail_queryset().restrict(self.request.user, "view")
        return super().get_queryset()

    def get_serializer_class(self):
        return s.CaseDetailSerializer if self.action == "retrieve" else s.CaseListSerializer

    def detail_response(self, pk, status_code=status.HTTP_200_OK):
        case = detail_queryset().get(pk=pk)
        return Response(s.CaseDetailSerializer(case, context=self.get_serializer_context()).data, status=status_code)

    def _input(self, serializer_class):
        checked = serializer_class(data=self.request.data, context=self.get_serializer_context())
        checked.is_valid(raise_exception=True)
        return dict(checked.validated_data)

    @extend_schema(summary="录入案件线索", request=s.LeadCreateSerializer, responses={201: s.CaseDetailSerializer},
                   description="巡查、检查、监控、移送等来源的线索，待中队长审批立案。")
    def create(self, request):
        case = workflow.open_lead(by=request.user, **self._input(s.LeadCreateSerializer))
        return self.detail_response(case.pk, status.HTTP_201_CREATED)

    @extend_schema(summary="当场处罚（简易程序）", request=s.SimpleCreateSerializer,
                   responses={201: s.CaseDetailSerializer},
                   description="《行政处罚法》第五十一条限额内的警告或罚款，当场编号送达并备案。")
    @action(detail=False, methods=["post"])
    def simple(self, request):
        case = simple.decide_on_the_spot(by=request.user, **self._input(s.SimpleCreateSerializer))
        return self.detail_response(case.pk, status.HTTP_201_CREATED)

    file = command("file", s.FileSerializer, "立案（审批）")
    add_party = command("add_party", s.PartyInputSerializer, "添加当事人")
    assign_officers = command("assign_officers", s.OfficersSerializer, "调整承办人员")
    add_record = command("add_record", s.RecordSerializer, "制作笔录")
    add_measure = command("add_measure", s.MeasureCreateSerializer, "采取强制措施（先行登记保存、查封、扣押）")
    add_emergency_measure = command(
        "add_emergency_measure", s.EmergencyMeasureSerializer, "紧急实施查封、扣押（事后补办批准）",
        "承办人员在紧急情况下当场实施，二十四小时内登记报告，由中队长补办批准（《行政强制法》第十九条）。")
    approve_measure = command("approve_measure", s.MeasureApproveSerializer, "强制措施补办批准",
                              "approved=false 不予批准，措施立即解除（《行政强制法》第十九条）。")
    extend_measure = command("extend_measure", s.MeasureExtendSerializer, "延长查封扣押期限")
    end_measure = command("end_measure", s.MeasureEndSerializer, "处理强制措施")
    report = command("report", s.ReportSerializer, "调查终结报告")
    notify = command("notify", s.ServedOnSerializer, "事先告知")
    record_statement = command("record_statement", s.StatementSerializer, "陈述申辩及复核")
    waive_statement = command("waive_statement", s.WaiveSerializer, "放弃陈述申辩和听证")
    request_hearing = command("request_hearing", s.HearingRequestSerializer, "申请听证")
    schedule_hearing = command("schedule_hearing", s.HearingScheduleSerializer, "听证通知")
    hold_hearing = command("hold_hearing", s.HearingHoldSerializer, "举行听证")
    legal_review = command("legal_review", s.LegalReviewSerializer, "法制审核",
                           "passed=false 退回补充调查。")
    transfer_review = command("transfer_review", s.LegalReviewSerializer, "移送法制审核",
                              "移送公安机关、司法机关前的法制审核；不改变案件状态。")
    collective_discussion = command("collective_discussion", s.DiscussionSerializer, "集体讨论")
    extend_deadline = command("extend_deadline", s.ExtendDeadlineSerializer, "延长办案期限")
    decide = command("decide", s.CaseDecideSerializer, "作出决定")
    serve = command("serve", s.ServeSerializer, "送达")
    record_payment = command("record_payment", s.PaymentSerializer, "登记缴款")
    approve_payment_plan = command("approve_payment_plan", s.PaymentPlanSerializer, "批准暂缓/分期缴纳")
    remind = command("remind", s.ServedOnSerializer, "催告")
    apply_to_court = command("apply_to_court", s.CourtSerializer, "申请法院强制执行")
    record_enforcement = command("record_enforcement", s.EnforcementSerializer, "登记强制执行结果")
    record_appeal = command("record_appeal", s.AppealSerializer, "登记复议/诉讼")
    record_appeal_outcome = command("record_appeal_outcome", s.AppealOutcomeSerializer, "登记复议/诉讼结果")
    close = command("close", s.CaseNoteSerializer, "结案（审批）")
    archive = command("archive", s.CaseNoteSerializer, "归档")
    withdraw = command("withdraw", s.CaseReasonSerializer, "撤案")
    transfer = command("transfer", s.TransferSerializer, "移送")


# --- publication (公示) of penalty decisions --------------------------------------------------------

class DisclosureFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DisclosureStatus.choices, label="公示状态", distinct=False)
    squad = django_filters.NumberFilter(field_name="squad_id", label="责任中队")
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label="公示期限不晚于")

    class Meta:
        model = Disclosure
        fields = []


@extend_schema_view(
    list=extend_schema(summary="处罚决定公示列表", description="数据范围内作出的行政处罚决定的公示记录（待公示、已公示、"
                                                      "已撤回、不予公示、公示期满），最新决定在前；可按状态、中队、公示期限筛选。"),
    retrieve=extend_schema(summary="处罚决定公示详情", description="待公示的记录附 preview：现在公示将公开的内容（已脱敏）。"),
)
class DisclosureViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    queryset = Disclosure.objects.select_related("case", "squad", "matter", "published_by")
    serializer_class = s.DisclosureSerializer
    filterset_class = DisclosureFilter
    cursor_ordering = ("-decided_on", "-pk")
    lookup_value_regex = r"[0-9]+"
    action_perms = {"publish": disclosure.PUBLISH_PERM, "exclude": disclosure.PUBLISH_PERM}

    def get_serializer_class(self):
        return s.DisclosureDetailSerializer if self.action == "retrieve" else s.DisclosureSerializer

    def _answer(self, record):
        record = self.get_queryset().get(pk=record.pk)
        return Response(s.DisclosureDetailSerializer(record, context=self.get_serializer_context()).data)

    @extend_schema(summary="公示处罚决定", request=None, responses=s.DisclosureDetailSerializer,
                   description="中队长（本中队）或案审中心公示一项待公示的处罚决定：处罚决定书送达当事人后方可公示；"
                               "公示内容在此时脱敏固定，之后不再随案件变化。")
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._answer(disclosure.publish(self.get_object(), by=request.user))

    @extend_schema(summary="不予公示", request=s.DisclosureExcludeSerializer, responses=s.DisclosureDetailSerializer,
                   description="待公示的处罚决定写明理由后不予公示（如涉及国家秘密、商业秘密或者个人隐私）。")
    @action(detail=True, methods=["post"])
    def exclude(self, request, pk=None):
        checked = s.DisclosureExcludeSerializer(data=request.data)
        checked.is_valid(raise_exception=True)
        return self._answer(disclosure.exclude(self.get_object(), by=request.user, **checked.validated_data))
