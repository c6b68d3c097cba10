"""Row-level data scope: one queryset method, `restrict(user, action)`, used by UI lists, API
lists, object lookups and exports alike (after NetBox's RestrictedQuerySet)."""

from .audit import AuditedQuerySet


class ScopedQuerySet(AuditedQuerySet):
    """`scope_field` names the path to the responsible org unit (usually the squad FK);
    "self" means the model is the OrgUnit itself. Records with no org unit yet (e.g. an
    unlocated work order) are visible only to bureau-wide roles."""

    scope_field = "squad"

    def restrict(self, user, action: str = "view"):
        from ..scope import scope_units_for

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        perm = f"{self.model._meta.app_label}.{action}_{self.model._meta.model_name}"
        if not user.has_perm(perm):
            return self.none()
        units = scope_units_for(user)
        if units is None:  # bureau-wide
            return self
        if self.scope_field == "self":
            return self.filter(pk__in=units)
        return self.filter(**{f"{self.scope_field}__in": units})
