"""Evidence API: upload (multipart), list and detail within the caller's data scope, and the
hash-verified download."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ..choices import OrgUnitKind
from ..evidence import store_evidence
from ..models import Evidence, OrgUnit
from ..views_evidence import verified_response
from .mixins import ScopedQuerysetMixin
from .serializers import ErrorSerializer


class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by_name = serializers.CharField(source="uploaded_by.get_full_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id", "sha256", "size", "content_type", "original_name", "uploaded_by", "uploaded_by_name",
            "uploaded_at", "squad", "lon", "lat", "captured_at", "description", "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return reverse("evidence-download", args=[obj.pk])


class EvidenceUploadSerializer(serializers.Serializer):
    # Emptiness, size and type are the service's checks (one code for every path in).
    file = serializers.FileField(allow_empty_file=True)
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    captured_at = serializers.DateTimeField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=255)
    squad = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.filter(kind=OrgUnitKind.SQUAD), required=False, allow_null=True
    )


class EvidenceViewSet(ScopedQuerysetMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
                      mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Evidence.objects.select_related("uploaded_by")
    serializer_class = EvidenceSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["squad", "sha256", "content_type"]

    def get_serializer_class(self):
        return EvidenceUploadSerializer if self.action == "create" else EvidenceSerializer

    @extend_schema(request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceSerializer})
    def create(self, request, *args, **kwargs):
        upload = EvidenceUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        evidence = store_evidence(upload.validated_data.pop("file"), by=request.user, **upload.validated_data)
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    def perform_content_negotiation(self, request, force=False):
        # A download answers with the file's own type whatever the client accepts; errors stay JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    @extend_schema(
        parameters=[OpenApiParameter("inline", OpenApiTypes.BOOL, description="1：在浏览器中直接显示而非下载")],
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="原文件（哈希已复核）"),
            409: OpenApiResponse(ErrorSerializer, description="文件与上传时的哈希不一致（evidence_tampered），不提供内容"),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return verified_response(self.get_object(), by=request.user, inline=request.query_params.get("inline") == "1")
