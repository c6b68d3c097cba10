"""Admin for document templates and issued documents.

Templates are edited here; saving goes through the services: a draft changes in place, an
edit of an active or retired version becomes a new version (the old one is kept, as issued
documents refer to it). Issued documents are read-only here: they are issued and voided by
the modules that own their subjects (cases), and their content snapshot, which holds personal
data, is not shown."""

from django import forms
from django.contrib import admin, messages

from chengguan.core.errors import ChengguanError, ValidationFailed

from . import rendering, services
from .choices import TemplateStatus
from .models import DocumentTemplate, IssuedDocument


class DocumentTemplateForm(forms.ModelForm):
    class Meta:
        model = DocumentTemplate
        fields = ("kind", "name", "body", "note")
        widgets = {"body": forms.Textarea(attrs={"rows": 30, "cols": 120, "style": "font-family: monospace"})}

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        try:
            rendering.validate_body(body)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return body


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    form = DocumentTemplateForm
    list_display = ("name", "kind", "version", "status", "activated_at", "created_by", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("name", "kind", "note")
    readonly_fields = ("version", "status", "activated_at", "created_by", "created_at")
    actions = ["activate"]

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "kind") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            saved = services.create_template(obj.kind, body=obj.body, name=obj.name, note=obj.note, by=request.user)
        else:
            original = DocumentTemplate.objects.get(pk=obj.pk)
            saved = services.revise_template(original, body=obj.body, name=obj.name, note=obj.note, by=request.user)
            if saved.pk != original.pk:
                self.message_user(request, f"已启用过的模板不能直接修改，修改内容已保存为第 {saved.version} 版"
                                           f"（{saved.get_status_display()}），第 {original.version} 版保留。")
        # The admin's redirect and log entry then refer to the version holding the edit.
        obj.pk, obj.version, obj.status = saved.pk, saved.version, saved.status

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.status == TemplateStatus.DRAFT and super().has_delete_permission(request, obj)

    @admin.action(description="启用所选版本（停用同种类的现行版本）", permissions=["change"])
    def activate(self, request, queryset):
        for template in queryset:
            try:
                services.activate_template(template, by=request.user)
            except ChengguanError as exc:
                self.message_user(request, f"{template}：{exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"已启用 {template.name} 第 {template.version} 版。")


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "subject_type", "subject_id", "template", "issued_by", "issued_at",
                    "voided_at")
    list_filter = ("kind", ("voided_at", admin.EmptyFieldListFilter))
    search_fields = ("number",)
    fields = ("kind", "number", "subject_type", "subject_id", "template", "docx", "docx_sha256", "pdf",
              "pdf_sha256", "issued_by", "issued_at", "voided_at", "voided_by", "void_reason")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
