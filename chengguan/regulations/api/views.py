"""Regulations API: the catalogue read by every role, and one command — compute the fine range
of a benchmark tier (POST …/benchmarks/{id}/propose-fine/). Views stay thin: rules live in
`regulations.services`. The catalogue is bureau-wide configuration (no org-unit scope)."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from chengguan.core.errors import ValidationFailed

from .. import services
from ..models import Benchmark, BenchmarkTier, ExemptionEntry, LegalBasis, Matter
from . import serializers as s


class CatalogueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Readable by every holder of the model's view permission (RolePermission)."""

    pagination_class = None  # a catalogue of a few hundred matters at most

    def filter_queryset(self, queryset):
        params = self.request.query_params
        for name in self.filter_params:
            if params.get(name):
                queryset = queryset.filter(**{self.filter_params[name]: params[name]})
        return queryset

    filter_params: dict[str, str] = {}


@extend_schema_view(list=extend_schema(summary="法律依据列表"), retrieve=extend_schema(summary="法律依据"))
class LegalBasisViewSet(CatalogueViewSet):
    queryset = LegalBasis.objects.all()
    serializer_class = s.LegalBasisSerializer


@extend_schema_view(list=extend_schema(summary="执法事项列表", description="可按 category、is_active、code 筛选。"),
                    retrieve=extend_schema(summary="执法事项", description="含今日适用的裁量基准和免罚清单。"))
class MatterViewSet(CatalogueViewSet):
    queryset = Matter.objects.prefetch_related("violation_bases", "penalty_bases")
    serializer_class = s.MatterSerializer
    filter_params = {"category": "category", "code": "code", "is_active": "is_active"}

    def get_serializer_class(self):
        return s.MatterDetailSerializer if self.action == "retrieve" else s.MatterSerializer

    def filter_queryset(self, queryset):
        params = self.request.query_params
        if params.get("is_active") not in (None, ""):
            queryset = queryset.filter(is_active=params["is_active"].lower() in ("1", "true", "是"))
        for name in ("category", "code"):
            if params.get(name):
                queryset = queryset.filter(**{name: params[name]})
        return queryset


@extend_schema_view(list=extend_schema(summary="裁量基准列表", description="可按 matter、status 筛选。"),
                    retrieve=extend_schema(summary="裁量基准（含裁量阶次）"))
class BenchmarkViewSet(CatalogueViewSet):
    queryset = Benchmark.objects.select_related("matter").prefetch_related(
        Prefetch("tiers", queryset=BenchmarkTier.objects.order_by("order", "pk")))
    serializer_class = s.BenchmarkSerializer
    filter_params = {"matter": "matter_id", "status": "status"}
    # Computing a range changes nothing: whoever may read benchmarks may ask.
    action_perms = {"propose_fine": "regulations.view_benchmark"}

    @extend_schema(summary="计算罚款幅度",
                   description="按该版本的一个裁量阶次和案件事实（违法数量、违法所得或计罚基数）计算罚款幅度与建议金额；"
                               "给出 amount 时同时检查是否在幅度内。金额以字符串传递（元，两位小数）。",
                   request=s.ProposeFineSerializer, responses=s.FineProposalSerializer)
    @action(detail=True, methods=["post"], url_path="propose-fine")
    def propose_fine(self, request, pk=None):
        benchmark = self.get_object()
        data = s.ProposeFineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if v not in ("", None)}
        tier = benchmark.tiers.filter(pk=values["tier"]).select_related("benchmark__matter").first()
        if tier is None:
            raise ValidationFailed("该裁量阶次不属于此版本裁量基准。", code="unknown_tier", field="tier")
        facts = {k: values.get(k) for k in ("units", "illegal_gains", "base_value")}
        proposal = services.propose_fine(tier, **facts)
        within, message = None, ""
        if values.get("amount") is not None:
            outside = services.check_fine(tier, values["amount"], **facts)
            within, message = outside is None, (outside.message if outside else "")
        return Response(s.FineProposalSerializer({
            "benchmark": benchmark.pk, "tier": tier.pk, "min": proposal.min, "max": proposal.max,
            "suggested": proposal.suggested, "fine": proposal.fine, "basis_text": proposal.basis_text,
            "within_range": within, "outside_message": message,
        }).data)


@extend_schema_view(list=extend_schema(summary="免罚清单", description="可按 matter、kind 筛选。"),
                    retrieve=extend_schema(summary="免罚清单事项"))
class ExemptionViewSet(CatalogueViewSet):
    queryset = ExemptionEntry.objects.select_related("matter")
    serializer_class = s.ExemptionSerializer
    filter_params = {"matter": "matter_id", "kind": "kind"}
