from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .. import numbering
from ..errors import ValidationFailed
from ..models import Evidence, Notification, NumberFormat
from .org import ReadOnlyAdmin


class NumberFormatForm(forms.ModelForm):
    class Meta:
        model = NumberFormat
        fields = ("kind", "name", "pattern")

    def clean(self):
        data = super().clean()
        checks = [("pattern", numbering.validate_pattern)]
        if "kind" in self.fields:  # read-only once created
            checks.append(("kind", numbering.validate_kind))
        for field, check in checks:
            try:
                check(data.get(field, ""))
            except ValidationFailed as exc:
                self.add_error(field, forms.ValidationError(exc.message, code=exc.code))
        return data


@admin.register(NumberFormat)
class NumberFormatAdmin(admin.ModelAdmin):
    """Saved through the numbering service (validated, audited). A kind cannot be renamed or
    deleted: numbers already issued refer to it."""

    form = NumberFormatForm
    list_display = ("kind", "name", "pattern", "example")
    search_fields = ("kind", "name")

    @admin.display(description="示例")
    def example(self, obj):
        return obj.pattern.format(year=2025, seq=1)

    def get_readonly_fields(self, request, obj=None):
        return ("kind",) if obj else ()

    def save_model(self, request, obj, form, change):
        # The form ran the same checks, so the service accepts what reaches here.
        obj.pk = numbering.set_number_format(obj.kind, obj.name, obj.pattern, by=request.user).pk

    def has_delete_permission(self, request, obj=None):
        return False




@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    """Read-only: evidence enters through the evidence service and is never edited."""

    list_display = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at", "squad", "download")
    list_filter = ("content_type", "squad")
    search_fields = ("original_name", "sha256", "description")
    list_select_related = ("uploaded_by", "squad")

    def get_queryset(self, request):
        return Evidence.objects.restrict(request.user)

    @admin.display(description="下载（校验哈希）")
    def download(self, obj):
        return format_html('<a href="{}">下载</a>', reverse("core:evidence_download", args=[obj.pk]))


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("title", "recipient", "level", "created_at", "read_at")
    list_filter = ("level",)
    search_fields = ("title", "recipient__username", "recipient__real_name")
    list_select_related = ("recipient",)
