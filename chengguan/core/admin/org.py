from django.contrib import admin

from ..models import AuditEvent, Grid, OrgUnit, User


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")
    readonly_fields = ("path",)


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "squad", "community", "is_active")
    list_filter = ("squad", "is_active")
    search_fields = ("code", "name", "community")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("username", "real_name", "staff_number", "org_unit", "certificate_valid_to", "is_active")
    list_filter = ("roles", "is_active", "org_unit")
    search_fields = ("username", "real_name", "staff_number", "certificate_number")
    exclude = ("password", "failed_logins", "locked_until", "last_login")
    filter_horizontal = ("roles",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only services write (the audit chain, evidence, notifications)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The chain is append-only."""

    list_display = ("chain", "seq", "created_at", "actor_name", "action", "object_type", "object_id")
    list_filter = ("chain", "action", "object_type")
    search_fields = ("object_id", "actor_name", "request_id")
