"""Numbering (文书编号), evidence files and the staff inbox."""

from django.conf import settings
from django.db import models

from .audit import AuditedModel
from .scoping import ScopedQuerySet


class NumberFormat(AuditedModel):
    """Format of one document kind's numbers, e.g. 闵城管罚字〔{year}〕第{seq:05d}号."""

    kind = models.CharField("文书种类代码", max_length=50, unique=True)
    name = models.CharField("文书种类名称", max_length=100)
    pattern = models.CharField("编号格式", max_length=120, help_text="可用占位符 {year} {seq}，如 闵城管罚字〔{year}〕第{seq:05d}号")

    class Meta:
        verbose_name = "文书编号格式"
        verbose_name_plural = "文书编号格式"
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.name}：{self.pattern}"


class NumberSequence(models.Model):
    """Last number issued per kind and year. Incremented under a row lock inside the caller's
    transaction, so numbers are gap-free (a rolled-back request returns its number) and never
    issued twice."""

    kind = models.CharField(max_length=50)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "编号序列"
        verbose_name_plural = "编号序列"
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="number_sequence_kind_year")]


class EvidenceQuerySet(ScopedQuerySet):
    scope_field = "squad"


class Evidence(AuditedModel):
    """One uploaded file, stored under its SHA-256 (content address) and never overwritten.
    Several uploads of the same bytes share the stored blob but keep their own metadata."""

    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField("大小 (字节)")
    content_type = models.CharField("文件类型", max_length=100)
    original_name = models.CharField("原文件名", max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    squad = models.ForeignKey(
        "core.OrgUnit", verbose_name="所属中队", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lon = models.FloatField("经度 (WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度 (WGS-84)", null=True, blank=True)
    captured_at = models.DateTimeField("拍摄/采集时间", null=True, blank=True)
    description = models.CharField("说明", max_length=255, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        verbose_name = "证据文件"
        verbose_name_plural = "证据文件"
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"

    @property
    def storage_name(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A message in one user's inbox (assignments, deadline warnings). Not audited: it is a
    delivery of facts that are themselves on the record."""

    class Level(models.TextChoices):
        INFO = "info", "通知"
        WARNING = "warning", "预警"
        DANGER = "danger", "超期"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="收件人", on_delete=models.CASCADE, related_name="notifications"
    )
    level = models.CharField("级别", max_length=10, choices=Level.choices, default=Level.INFO)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    dedupe_key = models.CharField("去重键", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_dedupe",
            )
        ]

    def __str__(self) -> str:
        return self.title
