"""The audit chain (全过程记录, APL art. 47) and the base class that makes every business
record write to it in the same transaction as its own change."""

import re

from django.db import connections, models, transaction

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

    def bulk_create(self, objs, *args, audit_action: str = "create", actor=None, **kwargs):
        from .. import audit

        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            snapshots = [audit.snapshot(obj) for obj in created]  # once: it hashes every personal field
            audit.record_many(audit_action, [(obj, None, s) for obj, s in zip(created, snapshots, strict=True)],
                              actor=actor)
        for obj, s in zip(created, snapshots, strict=True):
            obj._audit_loaded = s
        return created

    def bulk_update_audited(self, objs, fields, *, action: str, actor=None, batch_size: int | None = None) -> int:
        """Bulk update that stays on the record: objects loaded from the database and changed in
        memory get one event each with the before/after of `fields` (one `record_many` call),
        then Django's real `bulk_update` writes them, in one transaction. Objects whose
        `fields` did not change are neither written nor recorded. Returns how many were."""
        from .. import audit

        names = {self.model._meta.get_field(name).attname for name in fields}
        rows, changed = [], []
        for obj in objs:
            before = obj._audit_before() if obj.pk is not None else None
            if before is None:
                raise ValueError("bulk_update_audited needs objects loaded from the database")
            after = audit.snapshot(obj)
            old, new = audit.diff({k: v for k, v in before.items() if k in names},
                                  {k: v for k, v in after.items() if k in names})
            if new:
                rows.append((obj, old, new))
                changed.append(obj)
        if not changed:
            return 0
        with transaction.atomic(using=self.db, savepoint=False):
            audit.record_many(action, rows, actor=actor)
            _update_rows(self.model, changed, fields, self.db, batch_size)
        for obj in changed:
            obj._audit_loaded, obj._audit_raw = audit.snapshot(obj), None
        return len(changed)


def _update_rows(model, objs, fields, using: str, batch_size: int | None) -> None:
    """Write `fields` of `objs` with one UPDATE per batch joined to the new values: on
    PostgreSQL one array parameter per column (`unnest`), on SQLite ≥ 3.33 a VALUES list.
    Django's bulk_update builds a CASE expression per field and object — about a millisecond
    of Python per object, and a statement whose cost grows with rows × cases (measured in
    bench/bench_tiers.py) — and stays the fallback elsewhere."""
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    if not postgres and not (connection.vendor == "sqlite" and connection.Database.sqlite_version_info >= (3, 33)):
        models.QuerySet(model, using=using).bulk_update(objs, fields, batch_size=batch_size)
        return
    qn = connection.ops.quote_name
    pk = model._meta.pk
    columns = [pk, *(model._meta.get_field(name) for name in fields)]
    if postgres:
        names = [f"c{i}" for i in range(len(columns))]
        size = batch_size or 10_000
    else:  # SQLite names VALUES columns itself; stay well under its 32,766 parameters
        names = [f"column{i + 1}" for i in range(len(columns))]
        size = max(1, min(batch_size or 1000, 30_000 // len(columns)))
    table = qn(model._meta.db_table)
    assignments = ", ".join(f"{qn(f.column)} = v.{n}" for f, n in zip(columns[1:], names[1:], strict=True))
    update = f"UPDATE {table} SET {assignments} FROM {{source}} WHERE {table}.{qn(pk.column)} = v.{names[0]}"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), size):
            rows = [(pk.get_db_prep_value(obj.pk, connection),
                     *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns[1:]))
                    for obj in objs[start:start + size]]
            if postgres:
                # The base type: a cast to varchar(n) would silently truncate, assignment refuses.
                source = ("unnest(" + ", ".join(f"%s::{re.sub(r'[(].*?[)]', '', f.db_type(connection))}[]"
                                                for f in columns)
                          + f") AS v ({', '.join(names)})")
                params = [list(column) for column in zip(*rows, strict=True)]
            else:
                row = "(" + ", ".join(["%s"] * len(columns)) + ")"
                source = "(VALUES " + ", ".join([row] * len(rows)) + ") AS v"
                params = [value for r in rows for value in r]
            cursor.execute(update.format(source=source), params)


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
        with transaction.atomic(using=kwargs.get("using") or self._state.db or "default", savepoint=False):
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

        with transaction.atomic(using=kwargs.get("using") or self._state.db or "default", savepoint=False):
            audit.record("delete", self, before=audit.snapshot(self), after=None, actor=actor)
            return super().delete(*args, **kwargs)
