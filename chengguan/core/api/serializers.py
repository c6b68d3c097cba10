"""Core API serializers. Read serializers render objects; write serializers check only the
shape of the input (types, lengths, choices, references in the caller's scope). Every rule
about what is allowed lives in `core.services`, which the views call with the cleaned data."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..auth import permission_table
from ..choices import OrgUnitKind, RoleCode
from ..fields import mask_phone
from ..models import AuditEvent, Grid, OrgUnit, User
from ..scope import scope_level, scope_root

# --- shared ---------------------------------------------------------------------------------


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id that must be visible to the requesting user; an id outside the
    caller's scope reads exactly like one that does not exist."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(queryset=model.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.model.objects.restrict(user, "view")


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="出错的字段；为空表示整体错误")
    code = serializers.CharField(help_text="稳定的机器可读错误码")
    message = serializers.CharField(help_text="中文说明")


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API (see chengguan.core.api.errors)."""

    code = serializers.CharField(help_text="稳定的机器可读错误码，如 invalid、not_found、token_expired")
    message = serializers.CharField(help_text="中文说明")
    errors = FieldErrorSerializer(many=True)
    article = serializers.CharField(required=False, help_text="被违反规则的法律依据（如有）")


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "kind"]


class GridRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grid
        fields = ["id", "code", "name"]


# --- auth -----------------------------------------------------------------------------------


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=64, label="登录名")
    password = serializers.CharField(max_length=128, trim_whitespace=False, label="密码",
                                     style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(source="key", help_text="在请求头中使用：Authorization: Token <token>")
    expires_at = serializers.SerializerMethodField(help_text="过期时间；过期后需重新获取")

    def get_expires_at(self, token) -> str:
        expires = token.created + timezone.timedelta(days=settings.API_TOKEN_TTL_DAYS)
        return serializers.DateTimeField().to_representation(expires)


class ScopeSerializer(serializers.Serializer):
    level = serializers.CharField(allow_null=True, help_text="squad / brigade / bureau；无角色时为空")
    level_display = serializers.CharField(allow_null=True)
    root = UnitRefSerializer(allow_null=True, help_text="数据范围的根单位；全局范围时为空")


class MeSerializer(serializers.ModelSerializer):
    org_unit = UnitRefSerializer(read_only=True)
    roles = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField(help_text="拥有的权限代码")
    scope = serializers.SerializerMethodField(help_text="数据范围")
    can_enforce = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "real_name", "staff_number", "email", "phone", "org_unit", "roles",
                  "permissions", "scope", "certificate_number", "certificate_valid_from",
                  "certificate_valid_to", "can_enforce"]

    @extend_schema_field({"type": "array", "items": {
        "type": "object", "required": ["code", "label"],
        "properties": {"code": {"type": "string", "enum": RoleCode.values}, "label": {"type": "string"}}}})
    def get_roles(self, user):
        return [{"code": code, "label": RoleCode(code).label} for code in sorted(user.role_codes)]

    def get_permissions(self, user) -> list[str]:
        return sorted(perm for perm in permission_table() if user.has_perm(perm))

    @extend_schema_field(ScopeSerializer)
    def get_scope(self, user):
        level = scope_level(user)
        root = scope_root(user) if level else False
        return {
            "level": level.value if level else None,
            "level_display": level.label if level else None,
            "root": UnitRefSerializer(root).data if root else None,
        }


# --- org units ------------------------------------------------------------------------------


class OrgUnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "kind", "kind_display", "parent", "path", "division_code",
                  "sort_order", "is_active", "jurisdiction", "updated_at"]
        read_only_fields = fields


class OrgUnitCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    code = serializers.CharField(max_length=32)
    kind = serializers.ChoiceField(choices=OrgUnitKind.choices)
    parent = ScopedPrimaryKeyRelatedField(OrgUnit, required=False, allow_null=True)
    jurisdiction = serializers.JSONField(required=False, allow_null=True, help_text="GeoJSON Polygon/MultiPolygon, WGS-84")
    division_code = serializers.CharField(max_length=12, required=False, allow_blank=True)
    sort_order = serializers.IntegerField(min_value=0, required=False)


class OrgUnitUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    jurisdiction = serializers.JSONField(required=False, allow_null=True, help_text="GeoJSON Polygon/MultiPolygon, WGS-84")
    division_code = serializers.CharField(max_length=12, required=False, allow_blank=True)
    sort_order = serializers.IntegerField(min_value=0, required=False)
    is_active = serializers.BooleanField(required=False)


# --- grids ----------------------------------------------------------------------------------


class GridSerializer(serializers.ModelSerializer):
    squad_name = serializers.CharField(source="squad.name", read_only=True)

    class Meta:
        model = Grid
        fields = ["id", "code", "name", "squad", "squad_name", "community", "boundary", "area_m2",
                  "is_active", "updated_at"]
        read_only_fields = fields


class GridCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)
    squad = ScopedPrimaryKeyRelatedField(OrgUnit)
    boundary = serializers.JSONField(help_text="GeoJSON Polygon/MultiPolygon, WGS-84")
    community = serializers.CharField(max_length=100, required=False, allow_blank=True)


class GridUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    squad = ScopedPrimaryKeyRelatedField(OrgUnit, required=False)
    boundary = serializers.JSONField(required=False, help_text="GeoJSON Polygon/MultiPolygon, WGS-84")
    community = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class FeatureCollectionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = serializers.ListField(child=serializers.DictField(), help_text="GeoJSON Feature")


# --- staff ----------------------------------------------------------------------------------


class StaffSerializer(serializers.ModelSerializer):
    """Phone numbers are masked unless the caller may see them (core.view_user_phone);
    password hashes and lockout counters are never part of the API."""

    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True, default=None)
    roles = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    phone = serializers.SerializerMethodField()
    can_enforce = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "real_name", "staff_number", "email", "phone", "org_unit",
                  "org_unit_name", "roles", "certificate_number", "certificate_valid_from",
                  "certificate_valid_to", "has_legal_qualification", "can_enforce", "is_active"]
        read_only_fields = fields

    def get_phone(self, user) -> str:
        request = self.context.get("request")
        if request is not None and request.user.has_perm("core.view_user_phone"):
            return user.phone
        return mask_phone(user.phone)


class StaffWriteFields(serializers.Serializer):
    """Fields shared by staff create and update."""

    staff_number = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)
    phone = serializers.RegexField(r"^[0-9+\-\s]{0,32}$", required=False, allow_blank=True,
                                   error_messages={"invalid": "手机号只能包含数字、+、- 和空格。"})
    email = serializers.EmailField(required=False, allow_blank=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=RoleCode.choices), required=False)
    certificate_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    certificate_valid_from = serializers.DateField(required=False, allow_null=True)
    certificate_valid_to = serializers.DateField(required=False, allow_null=True)
    has_legal_qualification = serializers.BooleanField(required=False)

    def validate_staff_number(self, value):
        return value or None  # blank means "no number" (the column is unique)


class StaffCreateSerializer(StaffWriteFields):
    username = serializers.CharField(max_length=64)
    real_name = serializers.CharField(max_length=50)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False,
                                     style={"input_type": "password"})
    org_unit = ScopedPrimaryKeyRelatedField(OrgUnit)


class StaffUpdateSerializer(StaffWriteFields):
    real_name = serializers.CharField(max_length=50, required=False)
    org_unit = ScopedPrimaryKeyRelatedField(OrgUnit, required=False)
    is_active = serializers.BooleanField(required=False)


# --- audit ----------------------------------------------------------------------------------


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "chain", "seq", "created_at", "actor", "actor_name", "request_id", "source",
                  "action", "object_type", "object_id", "before", "after", "prev_hash", "hash"]
        read_only_fields = fields


# --- geo ------------------------------------------------------------------------------------


class LocateQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text="经度")
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="纬度")
    crs = serializers.ChoiceField(choices=[("wgs84", "WGS-84（GPS）"), ("gcj02", "GCJ-02（国测局坐标）")],
                                  default="wgs84", help_text="输入坐标的坐标系")


class LocationSerializer(serializers.Serializer):
    grid = GridRefSerializer()
    squad = UnitRefSerializer()
    h3 = serializers.CharField(help_text="H3 单元索引")
    wgs84 = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2,
                                  help_text="WGS-84 坐标 [经度, 纬度]")
