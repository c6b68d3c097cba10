"""Which org units a user's data scope covers (used by ScopedQuerySet.restrict)."""

from .choices import OrgUnitKind, RoleCode, ScopeLevel

# Widest scope each role reaches. A user with several roles gets the widest of them.
ROLE_SCOPE = {
    RoleCode.OFFICER: ScopeLevel.SQUAD,
    RoleCode.SQUAD_LEADER: ScopeLevel.SQUAD,
    RoleCode.LEGAL_REVIEWER: ScopeLevel.BRIGADE,
    RoleCode.CASE_REVIEW: ScopeLevel.BUREAU,
    RoleCode.DISPATCHER: ScopeLevel.BUREAU,
    RoleCode.SUPERVISOR: ScopeLevel.BUREAU,
    RoleCode.LEADER: ScopeLevel.BUREAU,
    RoleCode.ADMIN: ScopeLevel.BUREAU,
}
_ORDER = [ScopeLevel.SQUAD, ScopeLevel.BRIGADE, ScopeLevel.BUREAU]


def scope_level(user) -> ScopeLevel | None:
    if user.is_superuser:
        return ScopeLevel.BUREAU
    levels = [ROLE_SCOPE[code] for code in user.role_codes if code in ROLE_SCOPE]
    return max(levels, key=_ORDER.index) if levels else None


def scope_root(user):
    """The org unit whose subtree the user sees, or None for the whole bureau."""
    level = scope_level(user)
    if level == ScopeLevel.BUREAU:
        return None
    unit = user.org_unit
    if unit is None:
        return False  # no org unit, no data
    if level == ScopeLevel.SQUAD:
        return unit.ancestor_of_kind(OrgUnitKind.SQUAD) or unit
    # Brigade roles: their brigade; staff of a bureau department fall back to the bureau.
    brigade = unit.ancestor_of_kind(OrgUnitKind.BRIGADE)
    return brigade if brigade else None


def scope_units_for(user) -> list[int] | None:
    """Ids of the org units in the user's scope; None means everything. Cached per user object
    (one request)."""
    if hasattr(user, "_scope_units"):
        return user._scope_units
    from .models import OrgUnit

    if scope_level(user) is None:
        units: list[int] | None = []
    else:
        root = scope_root(user)
        if root is None:
            units = None
        elif root is False:
            units = []
        else:
            units = list(OrgUnit.objects.filter(path__startswith=root.path).values_list("pk", flat=True))
    user._scope_units = units
    return units


def in_scope(user, obj) -> bool:
    return type(obj).objects.restrict(user, "view").filter(pk=obj.pk).exists()
