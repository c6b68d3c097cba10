"""Core API: tokens, the caller's profile, org units, grids, staff, the audit log and point
location. Views stay thin: data scope comes from `restrict()` (see mixins), rules and writes
from `core.services`."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..errors import ValidationFailed
from ..filters import AuditEventFilter, GridFilter, OrgUnitFilter, StaffFilter
from ..models import AuditEvent, Grid, OrgUnit, User
from . import serializers as s
from .authentication import issue_token, revoke_token
from .mixins import ScopedReadOnlyViewSet, ScopedServiceViewSet
from .permissions import RolePermission

INVALID_CREDENTIALS = "登录名或密码错误；连续多次输错后账号将被临时锁定。"


class TokenView(APIView):
    """POST: exchange a user name and password for an API token. DELETE: revoke it."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [RolePermission()]

    def perform_authentication(self, request):
        # Logging in needs no prior identity; a stale token header must not block getting a new one.
        if request.method != "POST":
            super().perform_authentication(request)

    @extend_schema(
        operation_id="auth_token_create", request=s.LoginSerializer, responses={200: s.TokenSerializer},
        auth=[], summary="获取访问令牌",
        description="登录名或密码错误、账号被锁定时统一返回 400 `invalid_credentials`；连续失败会累计锁定次数。",
    )
    def post(self, request):
        serializer = s.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Through the auth backends, so a wrong password counts towards the lockout.
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            raise ValidationFailed(INVALID_CREDENTIALS, code="invalid_credentials")
        return Response(s.TokenSerializer(issue_token(user)).data)

    @extend_schema(operation_id="auth_token_destroy", request=None, responses={204: None}, summary="注销访问令牌")
    def delete(self, request):
        revoke_token(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The caller's profile, roles, permissions and data scope."""

    @extend_schema(responses=s.MeSerializer, summary="当前用户")
    def get(self, request):
        return Response(s.MeSerializer(request.user, context={"request": request}).data)


class OrgUnitViewSet(ScopedServiceViewSet):
    """Organisation units in the caller's scope, in tree order; administrators create and edit."""

    queryset = OrgUnit.objects.all()
    serializer_class = s.OrgUnitSerializer
    write_serializer_classes = {"create": s.OrgUnitCreateSerializer, "partial_update": s.OrgUnitUpdateSerializer}
    filterset_class = OrgUnitFilter
    cursor_ordering = "path"

    def perform_service_create(self, data):
        return services.create_org_unit(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return services.update_org_unit(instance, by=self.request.user, **data)


class GridViewSet(ScopedServiceViewSet):
    """Unit grids of the squads in the caller's scope; administrators create and edit."""

    queryset = Grid.objects.select_related("squad")
    serializer_class = s.GridSerializer
    write_serializer_classes = {"create": s.GridCreateSerializer, "partial_update": s.GridUpdateSerializer}
    filterset_class = GridFilter
    cursor_ordering = "code"

    def perform_service_create(self, data):
        return services.create_grid(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return services.update_grid(instance, by=self.request.user, **data)

    @extend_schema(
        summary="网格 GeoJSON",
        description="数据范围内启用网格的 GeoJSON FeatureCollection（与“一张图”相同）；可用 bbox 只取可视范围。",
        parameters=[OpenApiParameter("bbox", str, description="最小经度,最小纬度,最大经度,最大纬度（WGS-84）")],
        responses=s.FeatureCollectionSerializer, filters=False,
    )
    @action(detail=False, pagination_class=None, filterset_class=None)
    def geojson(self, request):
        bbox = None
        if request.query_params.get("bbox"):
            try:
                bbox = tuple(float(v) for v in request.query_params["bbox"].split(","))
            except ValueError:
                bbox = ()
            if len(bbox) != 4:
                raise ValidationFailed("bbox 必须是四个数：最小经度,最小纬度,最大经度,最大纬度。",
                                       field="bbox", code="invalid_bbox")
        return Response({"type": "FeatureCollection", "features": selectors.grid_features(request.user, bbox)})


class StaffViewSet(ScopedServiceViewSet):
    """Staff of the units in the caller's scope (phone masked unless the role may see it);
    administrators create and edit, roles included."""

    queryset = User.objects.select_related("org_unit").prefetch_related("roles")
    serializer_class = s.StaffSerializer
    write_serializer_classes = {"create": s.StaffCreateSerializer, "partial_update": s.StaffUpdateSerializer}
    filterset_class = StaffFilter
    cursor_ordering = "username"

    def perform_service_create(self, data):
        return services.create_staff(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return services.update_staff(instance, by=self.request.user, **data)


@extend_schema_view(list=extend_schema(summary="审计事件列表"), retrieve=extend_schema(summary="审计事件"))
class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The append-only audit log (read only; `python manage.py verify_audit` checks the chains)."""

    queryset = AuditEvent.objects.all()
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter


class LocateView(APIView):
    """Which grid, squad and H3 cell a point falls in (for routing a report by its place)."""

    required_perm = "core.view_grid"

    @extend_schema(
        summary="坐标定位到网格", parameters=[s.LocateQuerySerializer],
        responses={200: s.LocationSerializer,
                   400: OpenApiResponse(s.ErrorSerializer, description="坐标无效或不在任何网格内（outside_grids）")},
    )
    def get(self, request):
        from .. import geo  # imported on use: shapely/h3 load only when someone locates

        query = s.LocateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lon, lat = query.validated_data["lon"], query.validated_data["lat"]
        if query.validated_data["crs"] == "gcj02":
            lon, lat = geo.gcj02_to_wgs84(lon, lat)
        location = geo.locate(lon, lat)
        return Response(s.LocationSerializer({
            "grid": location.grid, "squad": location.squad, "h3": location.h3, "wgs84": [lon, lat],
        }).data)
