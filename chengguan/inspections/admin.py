"""Admin for the inspections app. Object types and their checklists are configuration edited
here; regulated objects, tier rules and conflicts are written through the services (the same
validation and audit as the screens); plans, draws, tasks and records are read-only."""

from django import forms
from django.contrib import admin

from chengguan.core.admin.org import ReadOnlyAdmin
from chengguan.core.errors import ValidationFailed

from .models import (
    CaseConversionRequest,
    ChecklistItem,
    DrawPlan,
    DrawSelection,
    InspectionRecord,
    InspectionTask,
    InspectorConflict,
    ObjectType,
    RegulatedObject,
    TierRule,
)
from .services import registry, tiering


def _add_service_error(form, exc: ValidationFailed) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 1
    fields = ("order", "text", "legal_basis", "is_active")

    def has_delete_permission(self, request, obj=None):
        return False  # records refer to items by id: retire them with 启用 instead


@admin.register(ObjectType)
class ObjectTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "base_risk", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")
    inlines = [ChecklistItemInline]

    def has_delete_permission(self, request, obj=None):
        return False


class TierRuleForm(forms.ModelForm):
    class Meta:
        model = TierRule
        fields = ("object_type", *tiering.RULE_FIELDS)

    def clean(self):
        data = super().clean()
        try:
            tiering.validate_rule_fields({k: data[k] for k in tiering.RULE_FIELDS if k in data})
        except ValidationFailed as exc:
            _add_service_error(self, exc)
        return data


@admin.register(TierRule)
class TierRuleAdmin(admin.ModelAdmin):
    form = TierRuleForm
    list_display = ("object_type", "violation_weight", "violation_window_days", "thresholds", "frequency_days")

    def get_readonly_fields(self, request, obj=None):
        return ("object_type",) if obj else ()

    def save_model(self, request, obj, form, change):
        fields = {k: form.cleaned_data[k] for k in tiering.RULE_FIELDS}
        saved = tiering.set_tier_rule(form.cleaned_data.get("object_type") or obj.object_type, by=request.user,
                                      **fields)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


class RegulatedObjectForm(forms.ModelForm):
    """The few fields the admin may correct; the registry service validates and saves them."""

    class Meta:
        model = RegulatedObject
        fields = ("name", "address", "contact_name", "contact_phone", "risk_level", "credit_grade")

    def clean(self):
        data = super().clean()
        current = {f: getattr(self.instance, f) for f in registry.EDITABLE - {"lon", "lat", "crs"}}
        _, errors = registry.clean_fields({**current, **{f: data.get(f) for f in self.changed_data}})
        for exc in errors:
            _add_service_error(self, exc)
        return data


@admin.register(RegulatedObject)
class RegulatedObjectAdmin(admin.ModelAdmin):
    form = RegulatedObjectForm
    list_display = ("name", "object_type", "credit_code", "squad", "grid", "tier", "credit_grade", "is_active")
    list_filter = ("object_type", "tier", "credit_grade", "is_active", "squad")
    search_fields = ("name", "credit_code", "address")
    list_select_related = ("object_type", "squad", "grid")
    readonly_fields = ("object_type", "credit_code", "lon", "lat", "grid", "squad", "h3", "tier", "tier_reason",
                       "tier_computed_at", "last_inspected_on", "next_inspection_due", "is_active", "merged_into",
                       "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def save_model(self, request, obj, form, change):
        changes = {f: form.cleaned_data[f] for f in form.changed_data}
        if changes:
            registry.update_object(obj, by=request.user, **changes)

    def has_add_permission(self, request):
        return False  # objects are registered with a location: the registry screens and the import

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate or merge instead, keeping the history


class InspectorConflictForm(forms.ModelForm):
    class Meta:
        model = InspectorConflict
        fields = ("inspector", "regulated_object", "reason")


@admin.register(InspectorConflict)
class InspectorConflictAdmin(admin.ModelAdmin):
    form = InspectorConflictForm
    list_display = ("inspector", "regulated_object", "reason", "declared_at")
    search_fields = ("inspector__real_name", "regulated_object__name", "reason")
    autocomplete_fields = ("regulated_object",)

    def save_model(self, request, obj, form, change):
        saved = registry.declare_conflict(by=request.user, inspector=obj.inspector,
                                          regulated_object=obj.regulated_object, reason=obj.reason)
        obj.pk = saved.pk

    def has_change_permission(self, request, obj=None):
        return obj is None  # declarations are kept as made

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DrawPlan)
class DrawPlanAdmin(ReadOnlyAdmin):
    list_display = ("name", "org_unit", "period_start", "period_end", "status", "population_count", "created_at")
    list_filter = ("status",)
    search_fields = ("name",)
    exclude = ("seed",)  # shown only once revealed, by the plan screens


@admin.register(DrawSelection)
class DrawSelectionAdmin(ReadOnlyAdmin):
    list_display = ("plan", "rank", "regulated_object", "credit_class")
    list_select_related = ("plan", "regulated_object")


@admin.register(InspectionTask)
class InspectionTaskAdmin(ReadOnlyAdmin):
    list_display = ("regulated_object", "squad", "source", "due_date", "status")
    list_filter = ("source", "status")
    list_select_related = ("regulated_object", "squad")


@admin.register(InspectionRecord)
class InspectionRecordAdmin(ReadOnlyAdmin):
    list_display = ("regulated_object", "inspected_at", "outcome", "location_verified", "published_at")
    list_filter = ("outcome", "location_verified")
    list_select_related = ("regulated_object",)


@admin.register(CaseConversionRequest)
class CaseConversionRequestAdmin(ReadOnlyAdmin):
    list_display = ("record", "requested_by", "requested_at", "case_reference")
