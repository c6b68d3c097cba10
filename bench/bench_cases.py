"""Enforcement cases on PostgreSQL (issue 3): the case list over 1,000,000 cases, filtered by
squad, status and deadline, as the API and the screen serve it.

Set-up, not measured, kept in the database between runs (BENCH_CASES_POSTGRES_URL, default
cg_bench_cases): the district demo's org tree and grids, the demo violation catalogue, and
1,000,000 cases spread over the squads, matters, procedures, statuses and the last five years,
written by one INSERT … SELECT (never the ORM). About 3 % are open (a bureau closes most cases
within months), each with a next deadline within ±60 days of today, as the services keep it.

Measured: `GET /api/v1/cases/?squad=…&status=…&deadline_before=…` and the same filter on the
case list screen `/cases/`, through Django's test client (no network), as a bureau-wide legal
reviewer and as a squad leader (scoped to the squad): p50 and p95 over 300 requests each,
random squads, open statuses and deadline horizons.
"""

import datetime as dt
import os
import random
import statistics
import sys
import time

from .common import Timer, create_database, setup_django

URL = os.environ.get("BENCH_CASES_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_cases")
CASES = int(os.environ.get("BENCH_CASES_CASES", "1000000"))
REQUESTS = 300
SEED = 2026
OPEN = ["lead", "investigating", "reported", "notified", "hearing", "deliberation", "decided", "executing", "executed"]

# Columns given a value by the loader (psycopg placeholders, so a modulo is %%); every other
# column gets its type's empty value.
VALUES = {
    "number": "'BENCH' || lpad(g::text, 8, '0')",
    "procedure": "CASE WHEN g %% 2 = 0 THEN 'simple' ELSE 'ordinary' END",
    # 3 % open (spread over every open state), the rest closed or archived.
    "status": "CASE WHEN g %% 100 < 3 THEN (%(open)s::text[])[1 + (g / 100) %% 9] "
              "WHEN g %% 100 < 40 THEN 'closed' ELSE 'archived' END",
    "matter_id": "(%(matters)s::bigint[])[1 + g %% %(nmatters)s]",
    "source_kind": "(ARRAY['work_order','inspection','camera','patrol','transfer_in'])[1 + g %% 5]",
    "act_date": "current_date - (g %% 1825)",
    "facts": "'当事人在' || g || '号门前占道经营，经责令改正拒不改正。'",
    "address": "'江川路' || (g %% 900) || '号'",
    "next_deadline": "CASE WHEN g %% 100 < 3 THEN current_date + ((g * 7) %% 121 - 60) ELSE DATE '9999-12-31' END",
    "next_deadline_name": "CASE WHEN g %% 100 < 3 THEN '作出处理决定' ELSE '' END",
    "lon": "(%(lons)s::float8[])[1 + g %% %(k)s]",
    "lat": "(%(lats)s::float8[])[1 + g %% %(k)s]",
    "h3": "(%(cells)s::text[])[1 + g %% %(k)s]",
    "grid_id": "(%(grids)s::bigint[])[1 + g %% %(k)s]",
    "squad_id": "(%(squads)s::bigint[])[1 + g %% %(k)s]",
    "created_by_id": "%(creator)s",
    "created_at": "now() - ((g %% 1825) || ' days')::interval",
    "updated_at": "now()",
}
EMPTY = {"CharField": "''", "TextField": "''", "BooleanField": "false", "JSONField": "'[]'::jsonb",
         "DecimalField": "0"}


def load_cases(n: int) -> None:
    """n cases in one INSERT … SELECT over generate_series."""
    from django.db import connection

    from bench.bench_workorders import random_places
    from chengguan.cases.models import Case
    from chengguan.core import geo
    from chengguan.core.models import User
    from chengguan.regulations.models import Matter

    places = random_places(20_000, random.Random(SEED))
    columns, values = [], []
    for field in Case._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in VALUES:
            values.append(VALUES[field.column])
        elif field.null:
            values.append("NULL")
        else:
            values.append(EMPTY[field.get_internal_type()])
    sql = (f"INSERT INTO cases_case ({', '.join(columns)}) SELECT {', '.join(values)} "
           "FROM generate_series(1, %(n)s) AS g")
    matters = list(Matter.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(sql, {
            "open": OPEN, "matters": matters, "nmatters": len(matters), "n": n, "k": len(places),
            "lons": [p[2] for p in places], "lats": [p[3] for p in places],
            "cells": [geo.h3_cell(p[2], p[3]) for p in places],
            "grids": [p[0] for p in places], "squads": [p[1] for p in places],
            "creator": User.objects.order_by("pk").values_list("pk", flat=True).first(),
        })
        cursor.execute("ANALYZE cases_case")


def prepare() -> None:
    from chengguan.cases.models import Case
    from chengguan.core import audit
    from chengguan.regulations import demo as catalogue_demo
    from chengguan.regulations.models import Matter

    from .common import seed_district_once

    seed_district_once()
    with audit.context(source="command:bench"):
        if not Matter.objects.exists():
            catalogue_demo.seed("district", 1)
        if not Case.objects.filter(number__startswith="BENCH").exists():
            with Timer() as t:
                load_cases(CASES)
            print(f"set-up: {CASES:,} cases loaded in {t.seconds:.0f} s")


def measure(path: str, role, *, json_results: bool) -> None:
    from django.test import Client

    from chengguan.core.models import OrgUnit, User

    squads = list(OrgUnit.objects.filter(kind="squad").values_list("pk", flat=True))
    user = User.objects.filter(roles__code=role, is_active=True).order_by("pk").first()
    own_squad = user.org_unit.ancestor_of_kind("squad") if user.org_unit else None
    client = Client()
    client.force_login(user)
    rng = random.Random(SEED)
    today = dt.date.today()
    times, rows = [], 0
    for n in range(REQUESTS + 20):
        query = {"squad": own_squad.pk if own_squad else rng.choice(squads), "status": rng.choice(OPEN),
                 "deadline_before": (today + dt.timedelta(days=rng.choice([0, 3, 7, 30]))).isoformat()}
        began = time.perf_counter()
        response = client.get(path, query)
        elapsed = time.perf_counter() - began
        assert response.status_code == 200, response.content[:300]
        if n >= 20:  # warm-up excluded
            times.append(elapsed * 1000)
            rows += len(response.json()["results"]) if json_results else 0
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    shown = f", {rows / len(times):.0f} rows a page" if json_results else ""
    print(f"{path} over {CASES:,} cases as {role.label}: p50 {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms (target < 100 ms → {100 / p95:.1f}× under){shown}")


def main() -> None:
    if create_database(URL, "cases (PostgreSQL)") is None:
        return
    setup_django(URL)
    prepare()
    from django.urls import reverse

    from chengguan.core.choices import RoleCode

    for role in (RoleCode.LEGAL_REVIEWER, RoleCode.SQUAD_LEADER):
        measure("/api/v1/cases/", role, json_results=True)
        measure(reverse("cases:index"), role, json_results=False)


if __name__ == "__main__":
    sys.exit(main())
