"""Document templates (versioned, edited by administrators) and issued documents (numbered,
frozen, their files kept in the evidence store under their SHA-256)."""

import json

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from chengguan.core.errors import BusinessRuleError
from chengguan.core.fields import EncryptedCharField
from chengguan.core.models import AuditedModel

from .choices import TemplateStatus
from .kinds import KIND_CHOICES


def _stored(instance) -> dict | None:
    if instance.pk is None:
        return None
    return type(instance)._base_manager.filter(pk=instance.pk).values().first()


def _changed(instance, stored: dict) -> set[str]:
    return {f.attname for f in instance._meta.concrete_fields
            if f.attname in stored and stored[f.attname] != getattr(instance, f.attname)}


class DocumentTemplate(AuditedModel):
    """One version of one kind's template. Only drafts change in place; a change to an active
    or retired version becomes a new version (services.revise_template), so every issued
    document keeps pointing at the exact text it was generated from."""

    kind = models.CharField("文书种类", max_length=32, choices=KIND_CHOICES)
    name = models.CharField("文书名称", max_length=100)
    version = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=10, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT)
    body = models.TextField(
        "模板正文",
        help_text="Django 模板语法（自动转义）生成的 HTML：<h1> 标题、<p class=\"number\"> 文号、<h2> 小标题、"
                  "<p> 段落、<table> 表格、<div class=\"signature\"> 落款。可用过滤器：yuan、yuan_upper、"
                  "gongwen_date、cn_date、cn_datetime、cn_int、positive。",
    )
    note = models.CharField("修订说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    activated_at = models.DateTimeField("启用时间", null=True, blank=True)

    class Meta:
        verbose_name = "文书模板"
        verbose_name_plural = "文书模板"
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="documents_template_version"),
            models.UniqueConstraint(fields=["kind"], condition=models.Q(status="active"),
                                    name="documents_one_active_template"),
        ]

    def __str__(self) -> str:
        return f"{self.name} 第 {self.version} 版（{self.get_status_display()}）"

    def save(self, *args, **kwargs):
        stored = _stored(self)
        if stored and stored["status"] != TemplateStatus.DRAFT and _changed(self, stored) - {"status", "activated_at"}:
            raise BusinessRuleError(
                f"{self} 已启用过，内容不能再修改：请修订为新版本（旧版本保留，已出具的文书仍对应旧版本）。",
                code="document_template_frozen",
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != TemplateStatus.DRAFT:
            raise BusinessRuleError(f"{self} 已启用过，不能删除，只能停用。", code="document_template_frozen")
        return super().delete(*args, **kwargs)


class IssuedDocument(AuditedModel):
    """A numbered document as issued: the template version and context it was generated from,
    its DOCX and PDF in the evidence store with their hashes. Never changed afterwards except
    to record that it was voided (with who, when and why); never deleted."""

    kind = models.CharField("文书种类", max_length=32, choices=KIND_CHOICES)
    number = models.CharField("文书编号", max_length=120)
    subject_type = models.ForeignKey(ContentType, verbose_name="所属对象类型", on_delete=models.PROTECT,
                                     related_name="+")
    subject_id = models.PositiveBigIntegerField("所属对象编号")
    subject = GenericForeignKey("subject_type", "subject_id")
    template = models.ForeignKey(DocumentTemplate, verbose_name="模板版本", on_delete=models.PROTECT,
                                 related_name="issued")
    # The context holds personal data (ID numbers, phones): encrypted at rest (DESIGN principle 8).
    context_data = EncryptedCharField("内容快照（加密 JSON）")
    docx = models.ForeignKey("core.Evidence", verbose_name="DOCX 文件", on_delete=models.PROTECT, related_name="+")
    docx_sha256 = models.CharField("DOCX SHA-256", max_length=64)
    pdf = models.ForeignKey("core.Evidence", verbose_name="PDF 文件", on_delete=models.PROTECT, related_name="+")
    pdf_sha256 = models.CharField("PDF SHA-256", max_length=64)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="出具人", on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField("出具时间")
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="作废人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    void_reason = models.CharField("作废理由", max_length=300, blank=True)

    VOID_FIELDS = {"voided_at", "voided_by_id", "void_reason"}

    class Meta:
        verbose_name = "已出具文书"
        verbose_name_plural = "已出具文书"
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="documents_number_unique"),
            # One live document of a kind per subject: re-issuing needs the earlier one voided.
            models.UniqueConstraint(fields=["kind", "subject_type", "subject_id"],
                                    condition=models.Q(voided_at__isnull=True), name="documents_one_live_per_subject"),
        ]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="documents_subject_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}" + ("（已作废）" if self.voided_at else "")

    @property
    def context(self) -> dict:
        return json.loads(self.context_data)

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    def save(self, *args, **kwargs):
        stored = _stored(self)
        if stored:
            changed = _changed(self, stored)
            if changed - self.VOID_FIELDS or (changed and stored["voided_at"] is not None):
                raise BusinessRuleError(
                    f"文书 {self.number} 已出具，不能修改或重新生成；如有错误，请作废（写明理由）后重新出具。",
                    code="document_frozen",
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise BusinessRuleError(f"文书 {self.number} 已出具，不能删除，只能作废。", code="document_frozen")
