"""Authentication with lockout, and role-based permissions gathered from every app."""

from functools import lru_cache

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.core.cache import cache
from django.utils import timezone

from .models import User


@lru_cache(maxsize=1)
def permission_table() -> dict[str, frozenset[str]]:
    """perm codename → roles, merged from `<app>/permissions.py` of every installed app."""
    import importlib

    from django.apps import apps

    table: dict[str, frozenset[str]] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("chengguan."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.permissions")
        except ModuleNotFoundError:
            continue
        for perm, roles in module.ROLE_PERMISSIONS.items():
            table[perm] = frozenset(str(r) for r in roles)
    return table


def role_has_perm(role_codes, perm: str) -> bool:
    allowed = permission_table().get(perm)
    return bool(allowed and allowed.intersection(role_codes))


def _unknown_key(username: str) -> str:
    return f"login-failures:{username.lower()}"


class RolePermissionBackend(BaseBackend):
    """Username/password login. After LOGIN_MAX_FAILURES wrong attempts the account is locked
    for LOGIN_LOCKOUT_MINUTES; unknown user names are counted the same way (in the cache) so
    the answer never reveals whether a name exists."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same cost as a real check (timing)
            key = _unknown_key(username)
            cache.set(key, cache.get(key, 0) + 1, settings.LOGIN_LOCKOUT_MINUTES * 60)
            return None
        if user.is_locked:
            return None
        if user.check_password(password) and user.is_active:
            if user.failed_logins or user.locked_until:
                user.failed_logins, user.locked_until = 0, None
                user.save(update_fields=["failed_logins", "locked_until"])
            return user
        user.failed_logins += 1
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            user.locked_until = timezone.now() + timezone.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            user.failed_logins = 0
        user.save(update_fields=["failed_logins", "locked_until"])
        return None

    def get_user(self, user_id):
        user = User.objects.filter(pk=user_id).select_related("org_unit").first()
        return user if user and user.is_active else None
