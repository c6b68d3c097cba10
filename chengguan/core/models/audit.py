"""The audit chain (全过程记录, APL art. 47) and the base class that makes every business
record write to it in the same transaction as its own change."""

from django.db import models, transaction

from ..errors import AuditBypassError


class AuditChainHead(models.Model):
    """Last sequence number and hash of one chain. Appending locks this row, so writers to the
    same chain queue up while writers to other chains (one per app) proceed in parallel."""

    chain = models.CharField(max_length=40, primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"


class AuditEvent(models.Model):
    """One append-only, hash-chained event. Never updated or deleted (a PostgreSQL trigger
    refuses both); `python manage.py verify_audit` recomputes every chain."""

    chain = models.CharField("链", max_length=40)
    seq = models.BigIntegerField("序号")
    actor = models.ForeignKey(
        "core.User", verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField("操作人姓名", max_length=100, blank=True)
    request_id = models.CharField("请求号", max_length=64, blank=True)
    source = models.CharField("来源", max_length=60, blank=True)
    action = models.CharField("动作", max_length=80)
    object_type = models.CharField("对象类型", max_length=80)
    object_id = models.CharField("对象编号", max_length=64)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    created_at = models.DateTimeField("时间")
    prev_hash = models.CharField("前一事件哈希", max_length=64)
    hash = models.CharField("本事件哈希", max_length=64)

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        ordering = ["chain", "seq"]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditBypassError("审计事件只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditBypassError("审计事件只能追加，不能删除。")


class AuditedQuerySet(models.QuerySet):
    """Bulk writes that would skip the audit chain are refused; bulk creation is audited."""

    def update(self, **kwargs):
        raise AuditBypassError(f"{self.model._meta.verbose_name}不允许批量更新（会绕过审计记录），请逐条通过业务服务修改。")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditBypassError(f"{self.model._meta.verbose_name}不允许批量更新（会绕过审计记录），请逐条通过业务服务修改。")

    def delete(self):
        raise AuditBypassError(f"{self.model._meta.verbose_name}不允许批量删除（会绕过审计记录）。")

    def bulk_create(self, objs, *args, audit_action: str = "create", **kwargs):
        from .. import audit

        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            audit.record_many(audit_action, [(obj, None, audit.snapshot(obj)) for obj in created])
        for obj in created:
            obj._audit_loaded = audit.snapshot(obj)
        return created


class AuditedModel(models.Model):
    """Base for every business record: each create, change and delete writes an AuditEvent in
    the same transaction, whichever path (UI, API, admin, command, job) made it. Services name
    the workflow step with `save(audit_action="case.file", actor=user)`."""

    audit_exclude: tuple[str, ...] = ()

    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._audit_loaded = None  # snapshot computed lazily on first save
        instance._audit_raw = dict(zip(field_names, values, strict=False))
        return instance

    def refresh_from_db(self, *args, **kwargs):
        from .. import audit

        super().refresh_from_db(*args, **kwargs)
        self._audit_loaded, self._audit_raw = audit.snapshot(self), None

    def _audit_before(self) -> dict | None:
        from .. import audit

        loaded = getattr(self, "_audit_loaded", None)
        if loaded is not None:
            return loaded
        raw = getattr(self, "_audit_raw", None)
        if raw is None:
            return None
        return audit.snapshot_from_raw(self, raw)

    def save(self, *args, audit_action: str | None = None, actor=None, **kwargs):
        from .. import audit

        creating = self._state.adding
        before = None if creating else self._audit_before()
        with transaction.atomic(using=kwargs.get("using") or self._state.db or "default"):
            super().save(*args, **kwargs)
            after = audit.snapshot(self)
            changed_before, changed_after = audit.diff(before, after)
            if creating or audit_action or changed_after:
                audit.record(
                    audit_action or ("create" if creating else "update"),
                    self,
                    before=None if creating else changed_before,
                    after=after if creating else changed_after,
                    actor=actor,
                )
        self._audit_loaded = after
        self._audit_raw = None

    def delete(self, *args, actor=None, **kwargs):
        from .. import audit

        with transaction.atomic(using=kwargs.get("using") or self._state.db or "default"):
            audit.record("delete", self, before=audit.snapshot(self), after=None, actor=actor)
            return super().delete(*args, **kwargs)
