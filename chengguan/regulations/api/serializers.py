"""Regulations API serializers: read-only views of the catalogue, and the input shape of the
propose-fine command (amounts as strings or integers — floats are refused by the service)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import PenaltyKind
from ..models import Benchmark, BenchmarkTier, ExemptionEntry, LegalBasis, Matter
from ..services import benchmark_for


class LegalBasisSerializer(serializers.ModelSerializer):
    citation = serializers.CharField(read_only=True)

    class Meta:
        model = LegalBasis
        fields = ["id", "citation", "law_name", "article", "clause", "version_note", "summary", "verified", "note"]
        read_only_fields = fields


class TierSerializer(serializers.ModelSerializer):
    party_kind_display = serializers.CharField(source="get_party_kind_display", read_only=True)
    rule_display = serializers.CharField(source="get_rule_display", read_only=True)

    class Meta:
        model = BenchmarkTier
        fields = ["id", "order", "label", "party_kind", "party_kind_display", "conditions", "rule", "rule_display",
                  "min_amount", "max_amount", "unit_rate", "unit_rate_max", "unit_name", "min_factor", "max_factor",
                  "base_name"]
        read_only_fields = fields


class BenchmarkSerializer(serializers.ModelSerializer):
    matter_code = serializers.CharField(source="matter.code", read_only=True)
    matter_name = serializers.CharField(source="matter.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    tiers = TierSerializer(many=True, read_only=True)

    class Meta:
        model = Benchmark
        fields = ["id", "matter", "matter_code", "matter_name", "version", "status", "status_display", "valid_from",
                  "valid_to", "document", "note", "published_at", "retired_at", "retire_reason", "tiers"]
        read_only_fields = fields


class ExemptionSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    matter_code = serializers.CharField(source="matter.code", read_only=True)

    class Meta:
        model = ExemptionEntry
        fields = ["id", "matter", "matter_code", "kind", "kind_display", "conditions", "source", "valid_from",
                  "valid_to"]
        read_only_fields = fields


class MatterSerializer(serializers.ModelSerializer):
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    violation_bases = LegalBasisSerializer(many=True, read_only=True)
    penalty_bases = LegalBasisSerializer(many=True, read_only=True)
    penalty_kinds_display = serializers.SerializerMethodField()

    class Meta:
        model = Matter
        fields = ["id", "code", "name", "category", "category_display", "description", "statutory_penalty",
                  "violation_bases", "penalty_bases", "penalty_kinds", "penalty_kinds_display",
                  "simple_procedure_allowed", "is_active"]
        read_only_fields = fields

    def get_penalty_kinds_display(self, obj) -> list[str]:
        labels = dict(PenaltyKind.choices)
        return [labels.get(k, k) for k in obj.penalty_kinds]


class MatterDetailSerializer(MatterSerializer):
    current_benchmark = serializers.SerializerMethodField(help_text="今日适用的已发布裁量基准")
    exemptions = serializers.SerializerMethodField(help_text="今日有效的免罚清单事项")

    class Meta(MatterSerializer.Meta):
        fields = [*MatterSerializer.Meta.fields, "current_benchmark", "exemptions"]
        read_only_fields = fields

    @extend_schema_field(BenchmarkSerializer(allow_null=True))
    def get_current_benchmark(self, obj):
        benchmark = benchmark_for(obj, timezone.localdate())
        return BenchmarkSerializer(benchmark).data if benchmark else None

    @extend_schema_field(ExemptionSerializer(many=True))
    def get_exemptions(self, obj):
        from ..services import exemptions_for

        return ExemptionSerializer(exemptions_for(obj, timezone.localdate()).select_related("matter"), many=True).data


class ProposeFineSerializer(serializers.Serializer):
    tier = serializers.IntegerField(help_text="裁量阶次编号（须属于该版本）")
    units = serializers.CharField(required=False, allow_blank=True, help_text="违法数量（按计量单位计罚时）")
    illegal_gains = serializers.CharField(required=False, allow_blank=True, help_text="违法所得（元）")
    base_value = serializers.CharField(required=False, allow_blank=True, help_text="计罚基数（元），如建设工程造价")
    amount = serializers.CharField(required=False, allow_blank=True, help_text="拟处罚款（元），给出则检查是否在幅度内")

    def to_internal_value(self, data):
        # JSON numbers with a fraction arrive as floats: refuse them rather than round them.
        from chengguan.core.errors import ValidationFailed

        for key in ("units", "illegal_gains", "base_value", "amount"):
            if isinstance(data.get(key) if hasattr(data, "get") else None, float):
                raise ValidationFailed("金额和数量请以字符串或整数传递（如 \"1234.50\"），不接受浮点数。",
                                       code="float_not_allowed", field=key)
        for key in ("units", "illegal_gains", "base_value", "amount"):
            if hasattr(data, "get") and isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
                data = {**data, key: str(data[key])}
        return super().to_internal_value(data)


class FineProposalSerializer(serializers.Serializer):
    benchmark = serializers.IntegerField()
    tier = serializers.IntegerField()
    min = serializers.DecimalField(max_digits=14, decimal_places=2)
    max = serializers.DecimalField(max_digits=14, decimal_places=2)
    suggested = serializers.DecimalField(max_digits=14, decimal_places=2)
    fine = serializers.BooleanField()
    basis_text = serializers.CharField()
    within_range = serializers.BooleanField(allow_null=True)
    outside_message = serializers.CharField(allow_blank=True)
