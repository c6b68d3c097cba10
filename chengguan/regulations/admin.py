"""Admin for the violation catalogue: read-mostly. Legal bases, matters and no-penalty entries
are configuration edited here by those holding the role rights; benchmark drafts may be edited,
published versions are read-only (they are frozen — draft a new version instead), and
publishing or retiring goes through the services (admin actions)."""

from django.contrib import admin, messages
from django.utils import timezone

from chengguan.core.errors import ChengguanError

from . import services
from .models import Benchmark, BenchmarkTier, ExemptionEntry, LegalBasis, Matter


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False  # cases refer to these rows: retire or deactivate instead


@admin.register(LegalBasis)
class LegalBasisAdmin(NoDeleteAdmin):
    list_display = ("__str__", "version_note", "verified")
    list_filter = ("verified", "law_name")
    search_fields = ("law_name", "article", "summary")


@admin.register(Matter)
class MatterAdmin(NoDeleteAdmin):
    list_display = ("code", "name", "category", "simple_procedure_allowed", "is_active")
    list_filter = ("category", "simple_procedure_allowed", "is_active")
    search_fields = ("code", "name", "description")
    filter_horizontal = ("violation_bases", "penalty_bases")


class TierInline(admin.TabularInline):
    model = BenchmarkTier
    extra = 0
    fields = ("order", "label", "party_kind", "conditions", "rule", "min_amount", "max_amount", "unit_rate",
              "unit_rate_max", "unit_name", "min_factor", "max_factor", "base_name")

    def _editable(self, obj) -> bool:
        return obj is None or not obj.is_frozen

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)


@admin.register(Benchmark)
class BenchmarkAdmin(NoDeleteAdmin):
    list_display = ("matter", "version", "status", "valid_from", "valid_to", "published_at")
    list_filter = ("status",)
    search_fields = ("matter__code", "matter__name", "document")
    inlines = [TierInline]
    actions = ["publish", "draft_copy"]
    readonly_fields = ("status", "published_at", "published_by", "retired_at", "retired_by", "retire_reason")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False  # frozen: shown read-only
        return super().has_change_permission(request, obj)

    @admin.action(description="发布所选草稿", permissions=["change"])
    def publish(self, request, queryset):
        for benchmark in queryset:
            try:
                services.publish_benchmark(benchmark, by=request.user)
            except ChengguanError as exc:
                self.message_user(request, f"{benchmark}：{exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"已发布 {benchmark}。")

    @admin.action(description="以所选版本为底稿起草新版本（自明日起生效）", permissions=["change"])
    def draft_copy(self, request, queryset):
        start = timezone.localdate() + timezone.timedelta(days=1)
        for benchmark in queryset:
            try:
                new = services.draft_new_version(benchmark, by=request.user, valid_from=start)
            except ChengguanError as exc:
                self.message_user(request, f"{benchmark}：{exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"已起草 {new}。")


@admin.register(ExemptionEntry)
class ExemptionEntryAdmin(NoDeleteAdmin):
    list_display = ("matter", "kind", "valid_from", "valid_to", "source")
    list_filter = ("kind",)
    search_fields = ("matter__code", "matter__name", "conditions")
