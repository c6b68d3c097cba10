"""One error format for the whole API:

    {"code": "<stable machine code>", "message": "<中文说明>", "errors": [{"field", "code", "message"}]}

Tests assert `code`; `message` is for people."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import ChengguanError

TOP_LEVEL = {
    exceptions.NotAuthenticated: ("not_authenticated", "请先登录或提供有效的访问令牌。"),
    exceptions.AuthenticationFailed: ("authentication_failed", "身份认证失败。"),
    exceptions.PermissionDenied: ("permission_denied", "您没有执行此操作的权限。"),
    exceptions.NotFound: ("not_found", "对象不存在或不在您的数据范围内。"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法。"),
    exceptions.ParseError: ("parse_error", "请求内容格式错误，无法解析。"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的请求内容类型。"),
    exceptions.Throttled: ("throttled", "请求过于频繁，请稍后再试。"),
    exceptions.ValidationError: ("invalid", "提交的数据有误，请检查后重试。"),
}


def _flatten(detail, prefix=""):
    """ValidationError detail → [{"field", "code", "message"}]."""
    items = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = key if key != "non_field_errors" else ""
            name = f"{prefix}.{field}" if prefix and field else (field or prefix)
            items.extend(_flatten(value, name))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and not isinstance(value, exceptions.ErrorDetail):
                items.extend(_flatten(value, f"{prefix}[{index}]" if prefix else str(index)))
            else:
                items.extend(_flatten(value, prefix))
    else:
        items.append({"field": prefix or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)})
    return items


def exception_handler(exc, context):
    if isinstance(exc, ChengguanError):
        body = {"code": exc.code, "message": exc.message, "errors": []}
        if exc.field:
            body["errors"].append({"field": exc.field, "code": exc.code, "message": exc.message})
        if exc.article:
            body["article"] = exc.article
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code, message = next(
        ((c, m) for cls, (c, m) in TOP_LEVEL.items() if isinstance(exc, cls)),
        ("error", "请求失败。"),
    )
    errors = []
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        detail_code = exc.get_codes() if isinstance(exc.get_codes(), str) else None
        if detail_code and detail_code not in {"not_authenticated", "authentication_failed", "permission_denied",
                                               "not_found", "error", "invalid"}:
            code = detail_code
        if isinstance(exc.detail, str) and exc.detail and _is_chinese(str(exc.detail)):
            message = str(exc.detail)
    response.data = {"code": code, "message": message, "errors": errors}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Token"
    return response


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
