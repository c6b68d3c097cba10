"""Core service verbs: organisation, grids and staff. Views, API, admin and commands call
these; each runs in one transaction and writes its audit event through the audited save."""

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from shapely.geometry import shape

from . import audit
from .choices import OrgUnitKind, RoleCode
from .errors import BusinessRuleError, ValidationFailed
from .models import Grid, OrgUnit, Role, User

# Which kinds may sit under which (None = the root).
ALLOWED_PARENT_KINDS = {
    OrgUnitKind.BUREAU: {None},
    OrgUnitKind.BRIGADE: {OrgUnitKind.BUREAU},
    OrgUnitKind.DEPARTMENT: {OrgUnitKind.BUREAU, OrgUnitKind.BRIGADE},
    OrgUnitKind.SQUAD: {OrgUnitKind.BUREAU, OrgUnitKind.BRIGADE},
}


def validate_polygon(geojson, field: str) -> None:
    """A WGS-84 GeoJSON Polygon or MultiPolygon that is valid and lies within China's extent."""
    if not isinstance(geojson, dict) or geojson.get("type") not in {"Polygon", "MultiPolygon"}:
        raise ValidationFailed("边界必须是 GeoJSON 的 Polygon 或 MultiPolygon。", field=field, code="invalid_geometry")
    try:
        geom = shape(geojson)
    except Exception as exc:
        raise ValidationFailed("边界坐标格式错误，无法解析。", field=field, code="invalid_geometry") from exc
    if geom.is_empty or not geom.is_valid:
        raise ValidationFailed("边界多边形无效（自相交或为空）。", field=field, code="invalid_geometry")
    minx, miny, maxx, maxy = geom.bounds
    if not (minx >= 73 and maxx <= 136 and miny >= 3 and maxy <= 54):
        raise ValidationFailed("边界坐标超出中国范围，请确认使用 WGS-84 经纬度。", field=field, code="out_of_range")


def _check_parent(kind: str, parent: OrgUnit | None) -> None:
    if kind not in ALLOWED_PARENT_KINDS:
        raise ValidationFailed("未知的机构类型。", field="kind", code="invalid_choice")
    parent_kind = parent.kind if parent else None
    if parent_kind not in ALLOWED_PARENT_KINDS[kind]:
        raise ValidationFailed(
            f"{OrgUnitKind(kind).label}不能设在{OrgUnitKind(parent_kind).label if parent_kind else '最顶层'}之下。",
            field="parent",
            code="invalid_parent",
        )


def _check_unique(model, field: str, value, exclude_pk=None, label: str = "编码") -> None:
    qs = model._base_manager.filter(**{field: value})
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationFailed(f"{label}“{value}”已被使用。", field=field, code="duplicate")


@transaction.atomic
def create_org_unit(*, by, name: str, code: str, kind: str, parent: OrgUnit | None = None,
                    jurisdiction=None, division_code: str = "", sort_order: int = 0) -> OrgUnit:
    if not name.strip():
        raise ValidationFailed("名称不能为空。", field="name", code="required")
    _check_parent(kind, parent)
    _check_unique(OrgUnit, "code", code)
    if jurisdiction is not None:
        validate_polygon(jurisdiction, "jurisdiction")
    unit = OrgUnit(name=name.strip(), code=code, kind=kind, parent=parent, jurisdiction=jurisdiction,
                   division_code=division_code, sort_order=sort_order)
    unit.save(audit_action="org.create", actor=by)
    return unit


ORG_EDITABLE = {"name", "jurisdiction", "division_code", "sort_order", "is_active"}


@transaction.atomic
def update_org_unit(unit: OrgUnit, *, by, **changes) -> OrgUnit:
    unknown = set(changes) - ORG_EDITABLE
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if changes.get("jurisdiction") is not None:
        validate_polygon(changes["jurisdiction"], "jurisdiction")
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationFailed("名称不能为空。", field="name", code="required")
    if changes.get("is_active") is False and unit.staff.filter(is_active=True).exists():
        raise BusinessRuleError("该单位仍有在岗人员，不能停用。", code="unit_has_staff")
    for key, value in changes.items():
        setattr(unit, key, value)
    unit.save(audit_action="org.update", actor=by)
    return unit


def grid_area_m2(boundary) -> float:
    """Approximate planar area at the polygon's latitude (good to <1 % for grid-sized cells)."""
    import math

    geom = shape(boundary)
    lat = geom.centroid.y
    metres_per_deg_lat = 111_320.0
    metres_per_deg_lon = 111_320.0 * math.cos(math.radians(lat))
    return geom.area * metres_per_deg_lat * metres_per_deg_lon


@transaction.atomic
def create_grid(*, by, code: str, name: str, squad: OrgUnit, boundary, community: str = "") -> Grid:
    if squad.kind != OrgUnitKind.SQUAD:
        raise ValidationFailed("网格只能归属于中队。", field="squad", code="invalid_squad")
    _check_unique(Grid, "code", code, label="网格编码")
    validate_polygon(boundary, "boundary")
    grid = Grid(code=code, name=name, squad=squad, boundary=boundary, community=community,
                area_m2=round(grid_area_m2(boundary), 1))
    grid.save(audit_action="grid.create", actor=by)
    return grid


GRID_EDITABLE = {"name", "squad", "boundary", "community", "is_active"}


@transaction.atomic
def update_grid(grid: Grid, *, by, **changes) -> Grid:
    unknown = set(changes) - GRID_EDITABLE
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    grid = Grid.objects.select_for_update().get(pk=grid.pk)
    if "squad" in changes and changes["squad"].kind != OrgUnitKind.SQUAD:
        raise ValidationFailed("网格只能归属于中队。", field="squad", code="invalid_squad")
    if "boundary" in changes:
        validate_polygon(changes["boundary"], "boundary")
        grid.area_m2 = round(grid_area_m2(changes["boundary"]), 1)
    for key, value in changes.items():
        setattr(grid, key, value)
    grid.save(audit_action="grid.update", actor=by)
    return grid


def _validate_certificate(number: str, valid_from: dt.date | None, valid_to: dt.date | None) -> None:
    if number and not (valid_from and valid_to):
        raise ValidationFailed("填写执法证号时必须同时填写有效期起止日期。", field="certificate_valid_to", code="required")
    if valid_from and valid_to and valid_from > valid_to:
        raise ValidationFailed("执法证有效期止不能早于有效期起。", field="certificate_valid_to", code="invalid_range")


def _set_roles(user: User, roles, by) -> None:
    codes = sorted({str(r) for r in roles})
    unknown = set(codes) - set(RoleCode.values)
    if unknown:
        raise ValidationFailed(f"未知角色：{'、'.join(sorted(unknown))}。", field="roles", code="invalid_choice")
    before = sorted(user.roles.values_list("code", flat=True))
    if before == codes:
        return
    user.roles.set(Role.objects.filter(code__in=codes))
    user._role_codes = None
    audit.record("staff.roles", user, before={"roles": before}, after={"roles": codes}, actor=by)


@transaction.atomic
def create_staff(*, by, username: str, real_name: str, password: str, org_unit: OrgUnit, roles=(),
                 staff_number: str | None = None, phone: str = "", email: str = "",
                 certificate_number: str = "", certificate_valid_from=None, certificate_valid_to=None,
                 has_legal_qualification: bool = False, validate_strength: bool = True) -> User:
    if not username.strip():
        raise ValidationFailed("登录名不能为空。", field="username", code="required")
    if not real_name.strip():
        raise ValidationFailed("姓名不能为空。", field="real_name", code="required")
    _check_unique(User, "username", username, label="登录名")
    if staff_number:
        _check_unique(User, "staff_number", staff_number, label="工号")
    _validate_certificate(certificate_number, certificate_valid_from, certificate_valid_to)
    user = User(
        username=username.strip(), real_name=real_name.strip(), staff_number=staff_number or None,
        phone=phone, email=email, org_unit=org_unit, certificate_number=certificate_number,
        certificate_valid_from=certificate_valid_from, certificate_valid_to=certificate_valid_to,
        has_legal_qualification=has_legal_qualification,
    )
    if validate_strength:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed("；".join(exc.messages), field="password", code="weak_password") from exc
    user.set_password(password)
    user.save(audit_action="staff.create", actor=by)
    _set_roles(user, roles, by)
    return user


STAFF_EDITABLE = {
    "real_name", "staff_number", "phone", "email", "org_unit", "certificate_number",
    "certificate_valid_from", "certificate_valid_to", "has_legal_qualification", "is_active",
}


@transaction.atomic
def update_staff(user: User, *, by, roles=None, **changes) -> User:
    unknown = set(changes) - STAFF_EDITABLE
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    user = User.objects.select_for_update().get(pk=user.pk)
    if changes.get("staff_number"):
        _check_unique(User, "staff_number", changes["staff_number"], exclude_pk=user.pk, label="工号")
    if changes.get("is_active") is False and user.pk == getattr(by, "pk", None):
        raise BusinessRuleError("不能停用自己的账号。", code="cannot_deactivate_self")
    for key, value in changes.items():
        setattr(user, key, value)
    _validate_certificate(user.certificate_number, user.certificate_valid_from, user.certificate_valid_to)
    user.save(audit_action="staff.update", actor=by)
    if roles is not None:
        _set_roles(user, roles, by)
    return user


@transaction.atomic
def change_password(user: User, *, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationFailed("原密码不正确。", field="old_password", code="wrong_password")
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed("；".join(exc.messages), field="new_password", code="weak_password") from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record("staff.password_change", user, actor=user)


def require_enforcement_officers(officers, *, minimum: int = 2, on: dt.date | None = None) -> None:
    """APL art. 42 / ACL art. 18: enforcement needs at least two officers holding a valid
    enforcement certificate. Raises with the name of each officer who may not act."""
    officers = list({o.pk: o for o in officers}.values())
    invalid = [o for o in officers if not (o.is_active and o.certificate_valid_on(on))]
    if invalid:
        names = "、".join(o.get_full_name() for o in invalid)
        raise BusinessRuleError(
            f"{names} 的执法证不在有效期内（或未持证），不能作为执法人员（《行政处罚法》第四十二条）。",
            code="certificate_invalid", field="officers", article="《行政处罚法》第四十二条",
        )
    if len(officers) < minimum:
        raise BusinessRuleError(
            f"执法人员不得少于{minimum}人（《行政处罚法》第四十二条）。",
            code="too_few_officers", field="officers", article="《行政处罚法》第四十二条",
        )
