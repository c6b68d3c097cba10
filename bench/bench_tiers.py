"""Tier recomputation (分级分类) over 2,000,000 regulated objects on PostgreSQL (issue 4).

Set-up, not measured, and kept in the database between runs (BENCH_TIERS_POSTGRES_URL,
default cg_bench_tiers): 22 object types with tier rules (two look-back windows), ten squads,
2,000,000 objects loaded with COPY (never the ORM), 1 % of them with a non-compliant inspection
in the last year and as many with a compliant one (tasks and records, COPY too), and the
initial tiers written in one UPDATE from the same `tiering.evaluate_tiers` the service uses.

Measured: `recompute_tiers()` end to end (read the columns, grouped violation counts, numpy,
and the batched, audited writes of the changed rows) after 5 % of the objects got a new credit
grade (an external credit feed, applied in SQL as part of the set-up); then a second run with
nothing to change; and the ratio to a bare numpy computation of the same formula over the
same arrays.
"""

import datetime as dt
import io
import os
import sys
import time

import numpy as np

from .common import ROOT, Timer, create_database, rate, setup_django

URL = os.environ.get("BENCH_TIERS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_tiers")
N = int(os.environ.get("BENCH_TIERS_OBJECTS", "2000000"))  # fewer only to try the script out
CHANGE_SHARE = 0.05
VIOLATION_SHARE = 0.01
COPY_CHUNK = 200_000
SEED = 2024

TYPES = [  # name, share of objects, base risk, look-back window (days)
    ("沿街商户", 0.55, 1, 365), ("餐饮单位", 0.12, 2, 365), ("住宅小区", 0.06, 1, 730),
    ("物业企业", 0.03, 1, 730), ("房地产经纪机构", 0.03, 1, 365), ("户外广告设施", 0.05, 2, 365),
    ("建筑工地", 0.02, 3, 730), ("历史保护建筑", 0.005, 3, 730), ("餐厨垃圾收运单位", 0.005, 3, 365),
    ("废弃油脂收运单位", 0.005, 3, 365), ("生活垃圾收运单位", 0.005, 2, 365), ("建筑垃圾运输单位", 0.01, 3, 365),
    ("集贸市场", 0.01, 2, 365), ("临时设摊点", 0.02, 2, 365), ("停车场（库）", 0.01, 1, 730),
    ("加油站", 0.005, 4, 730), ("绿化养护单位", 0.005, 1, 730), ("市容环境责任区单位", 0.02, 1, 365),
    ("景观照明设施", 0.005, 1, 730), ("拆房工地", 0.005, 4, 365), ("渣土消纳场", 0.005, 4, 365),
    ("其他监管对象", 0.035, 1, 365),
]
OBJECT_COLUMNS = ("object_type_id", "name", "credit_code", "id_number", "id_digest", "address", "contact_name",
                  "contact_phone", "licences", "risk_level", "credit_grade", "tier", "tier_reason",
                  "last_inspected_on", "is_active", "created_at", "updated_at", "lon", "lat", "squad_id", "h3")


def database_state(url: str) -> str:
    """"ready" (loaded and tiered), "partial" (a load that did not finish), "missing", or
    "unreachable"; creates the database when missing."""
    import psycopg

    created = create_database(url, "tier recompute (PostgreSQL)")
    if created is None:
        return "unreachable"
    if created:
        return "missing"
    with psycopg.connect(url, connect_timeout=3) as conn:
        if not conn.execute("SELECT to_regclass('inspections_regulatedobject')").fetchone()[0]:
            return "missing"
        count, untiered = conn.execute("SELECT count(*), count(*) FILTER (WHERE tier_computed_at IS NULL) "
                                       "FROM inspections_regulatedobject").fetchone()
    if count == 0:
        return "missing"
    return "ready" if count == N and untiered == 0 else "partial"


def recreate(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def copy_rows(table: str, columns, lines) -> None:
    """COPY text-format lines (already tab-separated) into `table`, in chunks."""
    from django.db import connection

    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        buffer = io.StringIO()
        for i, line in enumerate(lines, 1):
            buffer.write(line)
            if i % COPY_CHUNK == 0:
                with cursor.copy(statement) as copy:
                    copy.write(buffer.getvalue())
                buffer = io.StringIO()
        if buffer.tell():
            with cursor.copy(statement) as copy:
                copy.write(buffer.getvalue())


def load() -> None:
    """Types, rules and squads through the ORM (a few rows); objects, tasks and records with COPY."""
    from django.db import connection, transaction
    from django.utils import timezone

    from chengguan.core import audit
    from chengguan.core.calendar import add_working_days
    from chengguan.core.choices import OrgUnitKind
    from chengguan.core.models import OrgUnit
    from chengguan.core.testing import make_user
    from chengguan.inspections.models import (
        InspectionRecord,
        InspectionTask,
        ObjectType,
        RegulatedObject,
        TierRule,
    )
    from chengguan.inspections.services import tiering

    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    with audit.context(source="command:bench"), transaction.atomic():
        bureau = OrgUnit.objects.create(name="基准区城管执法局", code="BT", kind=OrgUnitKind.BUREAU)
        brigade = OrgUnit.objects.create(name="第一大队", code="BT-D1", kind=OrgUnitKind.BRIGADE, parent=bureau)
        squads = [OrgUnit.objects.create(name=f"第{i}中队", code=f"BT-S{i}", kind=OrgUnitKind.SQUAD, parent=brigade).pk
                  for i in range(1, 11)]
        inspector = make_user("officer", OrgUnit.objects.get(pk=squads[0]), username="bench-inspector")
        type_ids = []
        for i, (name, _, base_risk, window) in enumerate(TYPES):
            ot = ObjectType.objects.create(code=f"type{i:02d}", name=name, base_risk=base_risk)
            TierRule.objects.create(object_type=ot, **{**tiering.DEFAULT_RULE, "violation_window_days": window})
            type_ids.append(ot.pk)

    shares = np.array([share for _, share, _, _ in TYPES])
    type_of = rng.choice(len(TYPES), N, p=shares / shares.sum())
    risk = rng.choice(6, N, p=[0.35, 0.3, 0.15, 0.1, 0.06, 0.04])
    grade = rng.choice(4, N, p=[0.3, 0.5, 0.15, 0.05])
    squad = rng.choice(squads, N)
    now = timezone.now()
    today = timezone.localdate()
    created = np.datetime_as_string(np.datetime64(now.replace(tzinfo=None), "s")
                                    - (rng.random(N) * 1095 * 86400).astype("timedelta64[s]"), timezone="UTC")
    inspected_ago = rng.integers(1, 365, N)
    inspected = rng.random(N) < 0.7
    lon, lat = 121.3 + 0.2 * rng.random(N), 31.0 + 0.15 * rng.random(N)

    def objects():
        for i, (t, r, g, s, stamp, ago, was, x, y) in enumerate(zip(
                type_of.tolist(), risk.tolist(), grade.tolist(), squad.tolist(), created.tolist(),
                inspected_ago.tolist(), inspected.tolist(), lon.tolist(), lat.tolist(), strict=True)):
            last = (today - dt.timedelta(days=ago)).isoformat() if was else r"\N"
            yield (f"{type_ids[t]}\t基准商户{i}\t91310112{i:09d}X\t\t\t闵行区某某路{i % 9999}号{i // 9999}室\t"
                   f"联系人{i % 97}\t\t[]\t{r}\t{'ABCD'[g]}\t3\t\t{last}\tt\t{stamp}\t{stamp}\t{x:.6f}\t{y:.6f}\t{s}\t\n")

    copy_rows(RegulatedObject._meta.db_table, OBJECT_COLUMNS, objects())
    object_ids = np.array(RegulatedObject.objects.order_by("pk").values_list("pk", flat=True))

    # Inspections in the last year: 1 % non-compliant (责令改正), as many compliant.
    picked = rng.choice(N, int(2 * VIOLATION_SHARE * N), replace=False)
    days_ago = rng.integers(1, 360, len(picked))
    task_table = InspectionTask._meta.db_table
    copy_rows(task_table, ("regulated_object_id", "squad_id", "source", "due_date", "status", "note", "created_at"), (
        f"{object_ids[i]}\t{squad[i]}\tschedule\t{today - dt.timedelta(days=int(d))}\tdone\t\t{now.isoformat()}\n"
        for i, d in zip(picked.tolist(), days_ago.tolist(), strict=True)))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {task_table} ORDER BY id")
        task_ids = [row[0] for row in cursor.fetchall()]

    def records():
        for k, (i, d, task_id) in enumerate(zip(picked.tolist(), days_ago.tolist(), task_ids, strict=True)):
            day = today - dt.timedelta(days=int(d))
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
            bad = k % 2 == 0
            outcome, deadline = ("order_to_correct", day + dt.timedelta(days=7)) if bad else ("compliant", r"\N")
            yield (f"{task_id}\t{object_ids[i]}\t{squad[i]}\t{at.isoformat()}\t{lon[i]:.6f}\t{lat[i]:.6f}\t12.5\tt\t[]\t"
                   f"\tf\t{outcome}\t{deadline}\t{add_working_days(day, 20)}\t{inspector.pk}\n")

    copy_rows(InspectionRecord._meta.db_table, (
        "task_id", "regulated_object_id", "squad_id", "inspected_at", "lon", "lat", "distance_m",
        "location_verified", "checklist", "findings", "party_refused_to_sign", "outcome", "correction_deadline",
        "publish_due", "created_by_id"), records())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    loaded = time.perf_counter() - started

    # Initial tiers: the service's own evaluation, written in one UPDATE (a data load, like a
    # migration: not per-object events).
    with Timer() as t:
        ev = tiering.evaluate_tiers()
        stamp = timezone.now().isoformat()
        write_initial_tiers(ev, stamp)
    print(f"set-up: {N:,} objects, {len(picked):,} inspections loaded with COPY in {loaded:.0f} s; "
          f"initial tiers ({len(ev.reasons):,} distinct reasons) in {t.seconds:.0f} s")


def write_initial_tiers(ev, stamp: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_tiers (id bigint, tier smallint, reason text, due date)")
    pk, tier, due = ev.rows.pk.tolist(), ev.tier.tolist(), ev.due.astype(str).tolist()
    copy_rows("bench_tiers", ("id", "tier", "reason", "due"), (
        f"{pk[i]}\t{tier[i]}\t{ev.reasons[r]}\t{due[i]}\n" for i, r in enumerate(ev.reason_index.tolist())))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inspections_regulatedobject o SET tier = b.tier, tier_reason = b.reason, "
                       "next_inspection_due = b.due, tier_computed_at = %s FROM bench_tiers b WHERE o.id = b.id",
                       [stamp])
        cursor.execute("DROP TABLE bench_tiers")
        cursor.execute("VACUUM (ANALYZE) inspections_regulatedobject")


def change_credit_grades(rng) -> int:
    """The credit feed of the day: 5 % of the objects get another grade (set-up, in SQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, credit_grade FROM inspections_regulatedobject")
        ids, grades = zip(*cursor.fetchall(), strict=True)
    picked = rng.choice(len(ids), int(CHANGE_SHARE * len(ids)), replace=False)
    shift = rng.integers(1, 4, len(picked))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_grades (id bigint, grade char(1))")
    copy_rows("bench_grades", ("id", "grade"), (
        f"{ids[i]}\t{'ABCD'[('ABCD'.index(grades[i]) + s) % 4]}\n"
        for i, s in zip(picked.tolist(), shift.tolist(), strict=True)))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inspections_regulatedobject o SET credit_grade = g.grade FROM bench_grades g "
                       "WHERE o.id = g.id")
        cursor.execute("DROP TABLE bench_grades")
        cursor.execute("VACUUM (ANALYZE) inspections_regulatedobject")
    return len(picked)


def bare_numpy(ev):
    """The same formula over the same arrays with nothing else: (seconds, tiers, due dates)."""
    from chengguan.inspections.models import ObjectType
    from chengguan.inspections.services import tiering

    rows = ev.rows
    types = np.unique(rows.type_id)
    rules = [tiering.rule_for(ot) for ot in ObjectType.objects.select_related("tier_rule").filter(pk__in=types)
             .order_by("pk")]
    t = np.searchsorted(types, rows.type_id)
    base = np.array([r.object_type.base_risk for r in rules])[t]
    weight = np.array([r.violation_weight for r in rules])[t]
    points = np.array([[r.credit_points[g] for g in "ABCD"] + [0] for r in rules])[t, rows.grade]
    limits = np.array([[r.thresholds[k] for k in "123"] for r in rules])[t]
    frequency = np.array([[r.frequency_days[k] for k in "1234"] for r in rules])[t]
    best = float("inf")
    for _ in range(5):
        with Timer() as timer:
            score = base + rows.risk + weight * ev.violations + points
            tier = np.where(score >= limits[:, 0], 1, np.where(score >= limits[:, 1], 2,
                                                                 np.where(score >= limits[:, 2], 3, 4)))
            due = rows.base + np.take_along_axis(frequency, (tier - 1)[:, None], 1)[:, 0].astype("timedelta64[D]")
        best = min(best, timer.seconds)
    return best, tier, due


def main() -> None:
    state = database_state(URL)
    if state == "unreachable":
        return
    if state == "partial":
        print("set-up: an unfinished load found; reloading")
        recreate(URL)
    setup_django(URL)

    from django.db import connection

    from chengguan.core import audit
    from chengguan.inspections.services import tiering

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"database: PostgreSQL {version} at {URL}")
    if state != "ready":
        load()
    else:
        print(f"set-up: {N:,} objects already loaded (cached in the database)")

    rng = np.random.default_rng()
    changed_grades = change_credit_grades(rng)
    with audit.context(source="command:bench"):
        with Timer() as t:
            result = tiering.recompute_tiers()
        with Timer() as idle:
            again = tiering.recompute_tiers()
        ev = tiering.evaluate_tiers()
    numpy_s, tier, due = bare_numpy(ev)
    agree = bool(np.array_equal(tier, ev.tier) and np.array_equal(due, ev.due))

    writing = t.seconds - idle.seconds
    print(f"tier recompute: {result.checked:,} objects in {t.seconds:.1f} s ({rate(result.checked, t.seconds)} "
          f"objects/s; {result.changed:,} changed) after {changed_grades:,} credit grades changed "
          f"({CHANGE_SHARE:.0%}); writing the changed rows with one audit event each took about {writing:.0f} s "
          f"({writing / max(result.changed, 1) * 1000:.2f} ms a row)")
    print(f"tier recompute with nothing to change: {again.checked:,} objects in {idle.seconds:.1f} s "
          f"({rate(again.checked, idle.seconds)} objects/s; {again.changed:,} changed)")
    print(f"bare numpy, same formula and arrays: {numpy_s * 1000:.0f} ms (recompute is {t.seconds / numpy_s:,.0f}× "
          f"that, {idle.seconds / numpy_s:,.0f}× with nothing to change; tiers and due dates agree: {agree})")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
