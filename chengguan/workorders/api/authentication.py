"""API keys of intake clients (hotline platforms, Open311 applications).

A client sends `Authorization: ApiKey <key>` or `X-API-Key: <key>`; Open311 clients may also
send the spec's `api_key` parameter (see `chengguan.workorders.open311`). Only the SHA-256 of
a key is stored. The intake path is benchmarked at hundreds of requests per second, so a
resolved key is kept in a small per-process cache for a few seconds: one indexed query per
key per process per TTL. Rotating or deactivating a key clears this process's cache at once;
other processes notice within `CACHE_TTL` seconds."""

from __future__ import annotations

import copy
import hashlib
import threading
import time

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from ..models import IntakeClient

KEYWORD = "ApiKey"
HEADER = "HTTP_X_API_KEY"
CACHE_TTL = 10.0  # seconds
CACHE_MAX = 1024

_cache: dict[str, tuple[float, IntakeClient]] = {}
_lock = threading.Lock()


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def client_for_key(key: str) -> IntakeClient | None:
    """The active client holding `key`, or None. The instance returned is the caller's own
    copy (a request may set attributes on it and on its user)."""
    if not key or len(key) > 200:
        return None
    digest = key_digest(key)
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit is not None and hit[0] > now:
        client = hit[1]
    else:
        client = (IntakeClient.objects.select_related("user")
                  .filter(key_digest=digest, is_active=True, user__is_active=True).first())
        if client is None:
            return None
        with _lock:
            if len(_cache) >= CACHE_MAX:
                _cache.clear()
            _cache[digest] = (now + CACHE_TTL, client)
    mine = copy.copy(client)
    mine.user = copy.copy(client.user)
    return mine


def key_from_headers(request) -> str | None:
    """The key in `Authorization: ApiKey …` or `X-API-Key`, or None when neither is sent
    (other schemes, e.g. `Token`, are left to their own authentication class)."""
    meta = request.META
    parts = get_authorization_header(request).split()
    if parts and parts[0].decode(errors="replace").lower() == KEYWORD.lower():
        if len(parts) != 2:
            raise AuthenticationFailed("接入密钥格式错误：应为 Authorization: ApiKey <密钥>。", code="invalid_api_key")
        return parts[1].decode(errors="replace")
    value = meta.get(HEADER)
    return value.strip() if value else None


class IntakeClientAuthentication(BaseAuthentication):
    """request.user = the client's system user, request.auth = the IntakeClient."""

    def authenticate(self, request):
        key = key_from_headers(request)
        if key is None:
            return None
        client = client_for_key(key)
        if client is None:
            raise AuthenticationFailed("接入密钥无效或已停用。", code="invalid_api_key")
        return client.user, client

    def authenticate_header(self, request):
        return KEYWORD


class IntakeClientScheme(OpenApiAuthenticationExtension):
    target_class = IntakeClientAuthentication
    name = "intakeApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key",
                "description": "接入平台密钥；也可用 Authorization: ApiKey <密钥>"}
