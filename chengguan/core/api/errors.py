"""One error format for the whole API:

    {"code": "<stable machine code>", "message": "<中文说明>",
     "errors": [{"field": "<name or null>", "code": "<code>", "message": "<中文说明>"}]}

plus "article" (the legal basis) when a business rule refused the step. Tests assert `code`;
`message` is for people."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import ChengguanError

# Machine code and Chinese message for each DRF exception (first match wins, so subclasses
# come before their bases).
TOP_LEVEL = (
    (exceptions.NotAuthenticated, "not_authenticated", "请先登录或提供有效的访问令牌。"),
    (exceptions.AuthenticationFailed, "authentication_failed", "身份认证失败。"),
    (exceptions.PermissionDenied, "permission_denied", "您没有执行此操作的权限。"),
    (exceptions.NotFound, "not_found", "对象不存在或不在您的数据范围内。"),
    (exceptions.MethodNotAllowed, "method_not_allowed", "不支持该请求方法。"),
    (exceptions.NotAcceptable, "not_acceptable", "无法按请求的格式返回内容。"),
    (exceptions.ParseError, "parse_error", "请求内容格式错误，无法解析。"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", "不支持的请求内容类型。"),
    (exceptions.Throttled, "throttled", "请求过于频繁，请稍后再试。"),
    (exceptions.ValidationError, "invalid", "提交的数据有误，请检查后重试。"),
)
# DRF's generic detail codes; a more specific code (e.g. "token_expired") replaces the default.
GENERIC_CODES = {"not_authenticated", "authentication_failed", "permission_denied", "not_found", "error",
                 "invalid", "parse_error", "method_not_allowed"}


def field_errors(detail, prefix: str = "") -> list[dict]:
    """A ValidationError detail (nested dicts and lists) → [{"field", "code", "message"}];
    nested fields are named "parent.child", list items "items[0].name"."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            key = "" if key in ("non_field_errors", "__all__") else str(key)
            if key.isdigit():
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix and key else (key or prefix)
            items.extend(field_errors(value, name))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            nested = isinstance(value, (dict, list))
            items.extend(field_errors(value, f"{prefix}[{index}]" if nested else prefix))
        return items
    return [{"field": prefix or None, "code": getattr(detail, "code", None) or "invalid", "message": str(detail)}]


def error_body(code: str, message: str, errors: list[dict] | None = None) -> dict:
    return {"code": code, "message": message, "errors": errors or []}


def exception_handler(exc, context):
    if isinstance(exc, ChengguanError):
        errors = exc.errors or ([{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else [])
        body = error_body(exc.code, exc.message, errors)
        if exc.article:
            body["article"] = exc.article
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # e.g. a model validator reached through a service
        exc = exceptions.ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: a real server error, logged by Django
    code, message = next(((c, m) for cls, c, m in TOP_LEVEL if isinstance(exc, cls)), ("error", "请求失败。"))
    errors = []
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        if len(errors) == 1 and errors[0]["field"] is None:
            code, message, errors = errors[0]["code"], errors[0]["message"], []
    elif isinstance(exc, exceptions.APIException):
        detail_code = exc.get_codes()
        if isinstance(detail_code, str) and detail_code not in GENERIC_CODES:
            code = detail_code
        # A message written for this case (ours, or DRF's translated one) beats the generic one.
        if str(exc.detail) != str(exc.default_detail) and is_chinese(str(exc.detail)):
            message = str(exc.detail)
    response.data = error_body(code, message, errors)
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Token"
    return response


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
