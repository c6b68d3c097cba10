"""OpenAPI generation (drf-spectacular) tuned to our conventions, so views need
`@extend_schema` only where the shape cannot be inferred:

* every operation documents the error answers it can give, all in the one error format;
* write actions of `ServiceWriteMixin` viewsets take their write serializer as the request
  body and answer with the read serializer."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from .serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "输入有误（invalid 等字段错误码）或请求体无法解析（parse_error）",
    "401": "未登录、令牌无效或已过期（not_authenticated / authentication_failed / token_expired）",
    "403": "角色无此权限（permission_denied）",
    "404": "对象不存在或不在数据范围内（not_found）",
    "409": "业务规则不允许此操作（各规则自己的错误码）",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    def _is_public(self) -> bool:
        return any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _needs_permission(self) -> bool:
        """Whether RolePermission checks a role permission here (not just "signed in")."""
        view = self.view
        return bool(getattr(view, "queryset", None) is not None or getattr(view, "required_perm", None)
                    or getattr(view, "action_perms", None))

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in {"POST", "PUT", "PATCH"} or (self.method == "GET" and self._is_list_view()):
            codes.append("400")
        if not self._is_public():
            codes.append("401")
            if self._needs_permission():
                codes.append("403")
        if "{" in self.path:
            codes.append("404")
        # Business rules are enforced by the service verbs that guarded writes call.
        if self.method in WRITE_METHODS and self._needs_permission():
            codes.append("409")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code, direction=direction
                )
        return responses

    def _write_serializers(self) -> dict:
        return getattr(self.view, "write_serializer_classes", None) or {}

    def get_request_serializer(self):
        return self._write_serializers().get(getattr(self.view, "action", None)) or super().get_request_serializer()

    def get_response_serializers(self):
        if getattr(self.view, "action", None) in self._write_serializers():
            return self.view.serializer_class
        return super().get_response_serializers()
