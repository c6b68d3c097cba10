"""Intake clients: the hotline platforms and Open311 applications that submit orders with an
API key. The key is shown once, when it is made; only its first characters (to recognise it)
and its SHA-256 are kept. Each client acts through its own system user (no password, no
roles), so every order and audit event it causes names it."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify

from chengguan.core.errors import ValidationFailed
from chengguan.core.models import User

from ..api.authentication import clear_cache, key_digest
from ..choices import Channel
from ..models import IntakeClient


def _check_perm(by, perm: str) -> None:
    # `by=None` is the management command (server operator).
    if by is not None and not by.has_perm(perm):
        raise PermissionDenied("您没有管理接入平台的权限。")


def _new_key() -> tuple[str, str, str]:
    key = secrets.token_urlsafe(32)
    return key, key[:8], key_digest(key)


def _username(name: str, channel: str) -> str:
    base = f"intake-{slugify(name)[:40] or channel}"
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _forget_keys() -> None:
    # Now (this process stops accepting the old key at once) and after commit (a request that
    # cached the row before the commit is forgotten too).
    clear_cache()
    transaction.on_commit(clear_cache)


@transaction.atomic
def create_client(*, by, name: str, channel: str) -> tuple[IntakeClient, str]:
    """A new client and its key (returned once, never stored)."""
    _check_perm(by, "workorders.add_intakeclient")
    name = (name or "").strip() if isinstance(name, str) else None
    if not name:
        raise ValidationFailed("请填写接入平台名称。", code="required", field="name")
    if len(name) > 100:
        raise ValidationFailed("接入平台名称不能超过 100 个字。", code="too_long", field="name")
    if channel not in Channel.values:
        raise ValidationFailed(f"未知的来源渠道“{channel}”。", code="unknown_channel", field="channel")
    if IntakeClient.objects.filter(name=name).exists():
        raise ValidationFailed(f"接入平台“{name}”已存在。", code="duplicate", field="name")
    user = User(username=_username(name, channel), real_name=name[:50])
    user.set_unusable_password()
    user.save(audit_action="intake_client.user", actor=by)
    key, prefix, digest = _new_key()
    client = IntakeClient(name=name, channel=channel, user=user, key_prefix=prefix, key_digest=digest)
    client.save(audit_action="intake_client.create", actor=by)
    return client, key


@transaction.atomic
def rotate_key(client: IntakeClient, by) -> tuple[IntakeClient, str]:
    """Replace the key (the old one stops working at once in this process, within seconds
    elsewhere); the new key is returned once."""
    _check_perm(by, "workorders.change_intakeclient")
    client = IntakeClient.objects.select_for_update().get(pk=client.pk)
    key, client.key_prefix, client.key_digest = _new_key()
    client.save(audit_action="intake_client.rotate_key", actor=by)
    _forget_keys()
    return client, key


@transaction.atomic
def deactivate(client: IntakeClient, by) -> IntakeClient:
    """Stop the client: its key and its system user no longer authenticate."""
    _check_perm(by, "workorders.change_intakeclient")
    client = IntakeClient.objects.select_for_update().select_related("user").get(pk=client.pk)
    client.is_active = False
    client.save(audit_action="intake_client.deactivate", actor=by)
    if client.user.is_active:
        client.user.is_active = False
        client.user.save(audit_action="intake_client.user.deactivate", actor=by)
    _forget_keys()
    return client
