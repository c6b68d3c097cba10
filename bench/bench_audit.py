"""Audit append on PostgreSQL: `audit.record` one event per transaction (the realistic path:
each business write appends one event) against a bare INSERT loop of the same rows into a copy
of the table (same columns and indexes, one transaction each), plus `record_many` batches."""

import json
import sys

from .common import POSTGRES_URL, Timer, create_database, setup_django

EVENTS = 5_000
WARM_UP = 200
BATCH = 1_000
BATCHES = 5


def main() -> None:
    if create_database(POSTGRES_URL, "audit append (PostgreSQL)") is None:
        return
    setup_django(POSTGRES_URL)

    from django.db import connection, transaction

    from chengguan.core import audit
    from chengguan.core.choices import OrgUnitKind
    from chengguan.core.models import AuditEvent, OrgUnit

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    print(f"database: PostgreSQL {version} (synchronous_commit={sync}) at {POSTGRES_URL}")

    with audit.context(source="command:bench"):
        subject = OrgUnit.objects.filter(code="BENCH").first() or OrgUnit.objects.create(
            name="基准测试单位", code="BENCH", kind=OrgUnitKind.BUREAU
        )

        def one(i: int):
            # the size of a typical field change of a business record
            return audit.record("bench.update", subject, before={"name": f"名称{i}", "sort_order": i},
                                after={"name": f"名称{i + 1}", "sort_order": i + 1})

        for i in range(WARM_UP):
            one(i)
        first = AuditEvent.objects.filter(chain="core").order_by("-seq").values_list("seq", flat=True).first()
        with Timer() as t:
            for i in range(EVENTS):
                one(i)
        record_rate = EVENTS / t.seconds

        with Timer() as t:
            for b in range(BATCHES):
                with transaction.atomic():
                    audit.record_many("bench.update", [
                        (subject, {"sort_order": i}, {"sort_order": i + 1}) for i in range(b * BATCH, (b + 1) * BATCH)
                    ])
        batch_rate = BATCHES * BATCH / t.seconds

    columns = ["chain", "seq", "actor_id", "actor_name", "request_id", "source", "action", "object_type",
               "object_id", "before", "after", "created_at", "prev_hash", "hash"]
    rows = list(
        AuditEvent.objects.filter(chain="core", seq__gt=first, seq__lte=first + EVENTS).order_by("seq")
        .values_list(*columns)
    )
    placeholders = ", ".join("%s::jsonb" if c in ("before", "after") else "%s" for c in columns)
    insert = f"INSERT INTO bench_audit_bare ({', '.join(columns)}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_audit_bare")
        cursor.execute("CREATE TABLE bench_audit_bare (LIKE core_auditevent INCLUDING ALL)")
        rows = [
            tuple(json.dumps(v, ensure_ascii=False) if c in ("before", "after") else v for c, v in zip(columns, row, strict=True))
            for row in rows
        ]
        for row in rows[:WARM_UP]:  # warm-up rows go in under other sequence numbers
            cursor.execute(insert, (row[0] + "-warm", *row[1:]))
        with Timer() as t:
            for row in rows:  # autocommit: each INSERT is its own transaction
                cursor.execute(insert, row)
        bare_rate = len(rows) / t.seconds
        cursor.execute("DROP TABLE bench_audit_bare")

    print(f"audit append (PostgreSQL): {record_rate:,.0f} events/s with audit.record, one transaction each "
          f"(bare INSERT {bare_rate:,.0f} rows/s, ratio {record_rate / bare_rate:.2f}; {EVENTS:,} events)")
    print(f"audit append (PostgreSQL), batched: {batch_rate:,.0f} events/s with record_many of {BATCH:,} "
          f"in one transaction (ratio to the bare one-row INSERT loop {batch_rate / bare_rate:.1f}×)")


if __name__ == "__main__":
    sys.exit(main())
