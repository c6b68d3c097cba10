"""Audit chain service: who did what, before/after, hash-chained per app (DESIGN principle 2).

Each app writes to its own chain so that writers in different modules never wait on each
other; within a chain the head row is locked, so sequence numbers are gap-free and every
event's hash covers the previous event's hash."""

import contextlib
import contextvars
import datetime as dt
import decimal
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models.audit import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


@dataclass
class AuditContext:
    request: object | None = None
    actor: object | None = None
    request_id: str = ""
    source: str = ""


_context: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("audit_context", default=AuditContext())


@contextlib.contextmanager
def context(*, request=None, actor=None, request_id: str = "", source: str = ""):
    """Set who is acting for the enclosed block (middleware, commands, Celery tasks)."""
    token = _context.set(
        AuditContext(request=request, actor=actor, request_id=request_id or uuid.uuid4().hex, source=source)
    )
    try:
        yield
    finally:
        _context.reset(token)


def current_request_id() -> str:
    return _context.get().request_id


def _current_actor(explicit=None):
    if explicit is not None:
        return explicit
    ctx = _context.get()
    if ctx.actor is not None:
        return ctx.actor
    user = getattr(ctx.request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


# --- snapshots --------------------------------------------------------------------------------

def _redacted(value) -> str:
    """Personal data never enters the audit log in clear: a keyed digest shows that it changed."""
    digest = hmac.new(settings.SECRET_KEY.encode(), str(value).encode(), hashlib.sha256).hexdigest()
    return f"[已加密:{digest[:12]}]"


def jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if hasattr(value, "name"):  # FieldFile
        return value.name
    return str(value)


def _field_value(field, value):
    if value is None:
        return None
    if getattr(field, "personal_data", False):
        return _redacted(value)
    return jsonable(value)


def _fields(obj):
    """Snapshotted fields: all concrete ones except those the model excludes (secrets, login
    counters) and auto_now timestamps, whose change is the event's own time."""
    excluded = set(getattr(obj, "audit_exclude", ()))
    return [
        f for f in obj._meta.concrete_fields
        if f.name not in excluded and not getattr(f, "auto_now", False)
    ]


def snapshot(obj) -> dict:
    deferred = obj.get_deferred_fields()
    return {
        f.attname: _field_value(f, getattr(obj, f.attname))
        for f in _fields(obj)
        if f.attname not in deferred
    }


def snapshot_from_raw(obj, raw: dict) -> dict:
    return {f.attname: _field_value(f, raw[f.attname]) for f in _fields(obj) if f.attname in raw}


def diff(before: dict | None, after: dict) -> tuple[dict, dict]:
    if before is None:
        return {}, {}
    keys = [k for k in after if k in before and before[k] != after[k]]
    return {k: before[k] for k in keys}, {k: after[k] for k in keys}


# --- hashing ----------------------------------------------------------------------------------

HASHED_FIELDS = (
    "chain", "seq", "actor_id", "actor_name", "request_id", "source", "action",
    "object_type", "object_id", "before", "after", "created_at", "prev_hash",
)


def canonical(event: AuditEvent) -> bytes:
    payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["created_at"] = event.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


# --- appending --------------------------------------------------------------------------------

def chain_for(obj_or_label) -> str:
    if isinstance(obj_or_label, str):
        return obj_or_label
    return obj_or_label._meta.app_label


def _reserve(chain: str, count: int) -> tuple[int, str]:
    """Lock the chain head and reserve `count` sequence numbers in one statement; returns the
    last used seq and hash. The row lock is held until the caller's transaction ends."""
    sql = (f"UPDATE {HEAD_TABLE} SET seq = seq + %s WHERE chain = %s RETURNING seq - %s, hash")
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, chain, count])
        row = cursor.fetchone()
        if row is None:  # first event of this chain
            AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
            cursor.execute(sql, [count, chain, count])
            row = cursor.fetchone()
    return row[0], row[1] or GENESIS_HASH


HEAD_TABLE = AuditChainHead._meta.db_table
EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
INSERT_EVENTS = "INSERT INTO {table} ({columns}) VALUES ".format(
    table=AuditEvent._meta.db_table, columns=", ".join(f.column for f in EVENT_FIELDS)
)


def _write(chain: str, events: list[AuditEvent]) -> None:
    """Insert the events and move the head's hash. On PostgreSQL both go in one statement of
    one array parameter per column (`unnest`): its text never changes, so the driver parses it
    once per process, where a VALUES row per event makes a new statement of thousands of
    placeholders to parse on both sides for every batch size."""
    head = f"UPDATE {HEAD_TABLE} SET hash = %s WHERE chain = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [[f.get_db_prep_save(getattr(e, f.attname), connection) for e in events] for f in EVENT_FIELDS]
            cursor.execute(f"WITH inserted AS ({_insert_unnest()}) {head}", [*columns, events[-1].hash, chain])
        else:
            row = "(" + ", ".join(["%s"] * len(EVENT_FIELDS)) + ")"
            params = [f.get_db_prep_save(getattr(e, f.attname), connection) for e in events for f in EVENT_FIELDS]
            cursor.execute(INSERT_EVENTS + ", ".join([row] * len(events)), params)
            cursor.execute(head, [events[-1].hash, chain])


def _insert_unnest() -> str:
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in EVENT_FIELDS)
    return INSERT_EVENTS.replace(" VALUES ", f" SELECT * FROM unnest({arrays})")


def append(chain: str, entries: list[dict], actor=None) -> list[AuditEvent]:
    """Append events to `chain` in the caller's transaction. Each entry has action,
    object_type, object_id, before, after."""
    if not entries:
        return []
    ctx = _context.get()
    who = _current_actor(actor)
    now = timezone.now()
    events = []
    # No savepoint: appending is part of the caller's write, and a failure here must roll the
    # whole write back anyway (a savepoint would cost two more round trips per event).
    with transaction.atomic(savepoint=False):
        seq, prev = _reserve(chain, len(entries))
        for entry in entries:
            seq += 1
            event = AuditEvent(
                chain=chain,
                seq=seq,
                actor_id=who.pk if who else None,
                actor_name=(who.get_full_name() or who.get_username()) if who else "",
                request_id=ctx.request_id,
                source=ctx.source or ("web" if ctx.request is not None else "system"),
                action=entry["action"],
                object_type=entry["object_type"],
                object_id=str(entry["object_id"]),
                before=entry.get("before"),
                after=entry.get("after"),
                created_at=now,
                prev_hash=prev,
            )
            event.hash = prev = compute_hash(event)
            events.append(event)
        for start in range(0, len(events), APPEND_BATCH):
            _write(chain, events[start:start + APPEND_BATCH])
    return events


# Bound one INSERT's parameter count (SQLite allows 32,766; PostgreSQL 65,535).
APPEND_BATCH = 2000


def object_type(obj) -> str:
    return obj._meta.label_lower


def record(action: str, obj, *, before=None, after=None, actor=None) -> AuditEvent:
    entry = {"action": action, "object_type": object_type(obj), "object_id": obj.pk, "before": before, "after": after}
    return append(chain_for(obj), [entry], actor=actor)[0]


def record_many(action: str, rows, actor=None) -> list[AuditEvent]:
    """rows: (obj, before, after) triples, all of one model."""
    rows = list(rows)
    if not rows:
        return []
    entries = [
        {"action": action, "object_type": object_type(obj), "object_id": obj.pk, "before": b, "after": a}
        for obj, b, a in rows
    ]
    return append(chain_for(rows[0][0]), entries, actor=actor)


# --- verification -----------------------------------------------------------------------------

@dataclass
class VerifyResult:
    count: int
    broken: AuditEvent | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.reason


def verify(batch_size: int = 5000) -> VerifyResult:
    """Recompute every chain; report the first event whose hash, link or position is wrong."""
    count = 0
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    chains = set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    for chain in sorted(chains):
        expected_seq, prev = 1, GENESIS_HASH
        for event in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=batch_size):
            count += 1
            if event.seq != expected_seq:
                return VerifyResult(count, event, f"链 {chain} 序号应为 {expected_seq}，实际为 {event.seq}（事件缺失或被重排）")
            if event.prev_hash != prev:
                return VerifyResult(count, event, f"链 {chain} 第 {event.seq} 号事件的前序哈希不符（前一事件被删除、修改或重排）")
            if compute_hash(event) != event.hash:
                return VerifyResult(count, event, f"链 {chain} 第 {event.seq} 号事件内容与哈希不符（被修改）")
            expected_seq, prev = expected_seq + 1, event.hash
        head = heads.get(chain)
        if head and (head.seq != expected_seq - 1 or (head.hash or GENESIS_HASH) != prev):
            return VerifyResult(count, None, f"链 {chain} 的末尾事件与链头记录不符（末尾事件被删除）")
    return VerifyResult(count)
