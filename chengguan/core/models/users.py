"""Staff, roles and login lockout."""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, UserManager
from django.db import models
from django.utils import timezone

from ..choices import RoleCode
from ..fields import EncryptedCharField
from .audit import AuditedModel
from .org import OrgUnit
from .scoping import ScopedQuerySet


class Role(models.Model):
    """A role from RoleCode; what each role may do is declared in core/permissions.py."""

    code = models.CharField("代码", max_length=32, primary_key=True, choices=RoleCode.choices)

    class Meta:
        verbose_name = "角色"
        verbose_name_plural = "角色"

    def __str__(self) -> str:
        return self.get_code_display()


class UserQuerySet(ScopedQuerySet):
    scope_field = "org_unit"


class StaffManager(UserManager.from_queryset(UserQuerySet)):
    def create_superuser(self, username, email=None, password=None, **extra):
        extra.setdefault("is_superuser", True)
        extra.setdefault("is_staff", True)
        user = self.create_user(username, email, password, **extra)
        user.roles.add(Role.objects.get_or_create(code=RoleCode.ADMIN)[0])
        return user


class User(AuditedModel, AbstractBaseUser):
    username = models.CharField("登录名", max_length=64, unique=True)
    real_name = models.CharField("姓名", max_length=50)
    staff_number = models.CharField("工号", max_length=32, unique=True, null=True, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    phone = EncryptedCharField("手机号", max_length=32, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="所属单位", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    roles = models.ManyToManyField(Role, verbose_name="角色", blank=True, related_name="users")
    certificate_number = models.CharField("执法证号", max_length=32, blank=True)
    certificate_valid_from = models.DateField("执法证有效期起", null=True, blank=True)
    certificate_valid_to = models.DateField("执法证有效期止", null=True, blank=True)
    has_legal_qualification = models.BooleanField("具有法律职业资格", default=False)
    is_active = models.BooleanField("在岗", default=True)
    is_staff = models.BooleanField("可进入管理后台", default=False)
    is_superuser = models.BooleanField("超级管理员", default=False)
    date_joined = models.DateTimeField("创建时间", default=timezone.now)
    failed_logins = models.PositiveIntegerField("连续登录失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    audit_exclude = ("password", "last_login", "failed_logins", "locked_until")

    objects = StaffManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["real_name"]
    EMAIL_FIELD = "email"

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"
        ordering = ["org_unit__path", "staff_number", "username"]

    def __str__(self) -> str:
        return f"{self.real_name}（{self.username}）" if self.real_name else self.username

    def get_full_name(self) -> str:
        return self.real_name or self.username

    def get_short_name(self) -> str:
        return self.real_name or self.username

    # --- roles and permissions (resolved by chengguan.core.auth.RolePermissionBackend) -------

    @property
    def role_codes(self) -> frozenset[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("code", flat=True)) if self.pk else frozenset()
            self._role_codes = cached
        return cached

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))

    def has_perm(self, perm, obj=None):
        from ..auth import role_has_perm

        return self.is_active and (self.is_superuser or role_has_perm(self.role_codes, perm))

    def has_perms(self, perm_list, obj=None):
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label):
        return self.is_active and (self.is_superuser or self.is_staff)

    # --- enforcement certificate (APL art. 42: only certified officers may enforce) ----------

    def certificate_valid_on(self, day: dt.date | None = None) -> bool:
        day = day or timezone.localdate()
        return bool(
            self.certificate_number
            and self.certificate_valid_from
            and self.certificate_valid_to
            and self.certificate_valid_from <= day <= self.certificate_valid_to
        )

    @property
    def can_enforce(self) -> bool:
        return self.is_active and self.certificate_valid_on()

    @property
    def is_locked(self) -> bool:
        return bool(self.locked_until and self.locked_until > timezone.now())
