"""Work orders on PostgreSQL (issue 5): sustained intake through the HTTP API, and the order
list over 1,000,000 orders.

Set-up, not measured, kept in the database between runs (BENCH_WORKORDERS_POSTGRES_URL,
default cg_bench_workorders): the district demo's org tree and 6,045 grids; 1,000,000 orders
spread over the squads, grids, categories, statuses and the last 365 days, their texts drawn
from ~4,000 complaints built from the demo's templates, roads and places (requests draw theirs
from the same set), written by one INSERT … SELECT (never the ORM); a classifier trained on the category tree and 2,000 orders
classified through the service; an intake client.

Intake: gunicorn (`WORKERS` sync processes) serves the real API; `CLIENTS` threads POST
orders with new tickets for `SECONDS` seconds, each request doing all the work an order needs
before it answers — API-key authentication, validation, idempotency lock and check,
classification, routing (coordinates → grid → squad), repeat and hotspot check against the
1M-row table, clocks, numbering, the audited insert of the order and its first step. Nothing is
left to a background queue (the intake enqueues no task), so nothing can fall behind. Figures
for one order per request and for batches of `BATCH`, and the ratio to a bare INSERT of the
same rows (psycopg `executemany`, one transaction per request's worth of rows, same table).

List: `GET /api/v1/workorders/?squad=…&status=…&received_from=…&received_to=…` through
Django's test client (no network) as a dispatcher (bureau-wide) and as a squad leader
(scoped), random squads, statuses and 30-day windows: p50 and p95 over 300 requests each.
"""

import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from .common import ROOT, Timer, create_database, setup_django

URL = os.environ.get("BENCH_WORKORDERS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/cg_bench_workorders")
ORDERS = int(os.environ.get("BENCH_WORKORDERS_ORDERS", "1000000"))
SECONDS = float(os.environ.get("BENCH_WORKORDERS_SECONDS", "20"))
WORKERS = int(os.environ.get("BENCH_WORKORDERS_WORKERS", "3"))
CLIENTS = int(os.environ.get("BENCH_WORKORDERS_CLIENTS", "6"))
BATCH = int(os.environ.get("BENCH_WORKORDERS_BATCH", "50"))
LIST_REQUESTS = 300
SEED = 2026


def _complaints() -> list[str]:
    """Every demo complaint template filled with every road and place: ~4,000 texts about the
    district's usual matters, so that orders at one place are repeats of each other about as
    often as real ones are (the real TipDM board: 10.5 % of messages have a similar earlier one)."""
    from chengguan.workorders.demo import PLACES, ROADS, TEXTS

    return sorted({template.format(p=place, r=road) for templates in TEXTS.values() for template in templates
                   for place in PLACES for road in ROADS})


COMPLAINTS: list[str] = []


def random_places(n: int, rng: random.Random) -> list[tuple[int, int, float, float]]:
    """(grid id, squad id, lon, lat) of n random points inside random grids of the district."""
    from shapely.geometry import shape

    from chengguan.core.demo import point_in
    from chengguan.core.models import Grid

    grids = [(pk, squad_id, shape(boundary)) for pk, squad_id, boundary
             in Grid.objects.values_list("pk", "squad_id", "boundary")]
    places = []
    for _ in range(n):
        pk, squad_id, geom = rng.choice(grids)
        places.append((pk, squad_id, *point_in(rng, geom)))
    return places


def load_orders(n: int) -> None:
    """n orders in one INSERT … SELECT over generate_series, columns derived from the row
    number and arrays of real grid/squad/category ids."""
    from django.db import connection

    from chengguan.core import geo
    from chengguan.workorders.models import Category

    # 50,000 random places in the district (20 orders a place a year: about the density of a
    # busy district's complaints, so the repeat check meets a realistic number of neighbours).
    grid_ids, squad_ids, cells, lons, lats = [], [], [], [], []
    for grid_id, squad_id, lon, lat in random_places(50_000, random.Random(SEED)):
        grid_ids.append(grid_id)
        squad_ids.append(squad_id)
        lons.append(lon)
        lats.append(lat)
        cells.append(geo.h3_cell(lon, lat))
    leaves = list(Category.objects.filter(children__isnull=True).values_list("pk", flat=True))
    # Orders of the last 30 days in every state; older ones almost all finished, as in a
    # bureau that closes 99 % of its orders (a few stay suspended or in long handling).
    statuses = ["received", "accepted", "dispatched", "handling", "replied", "verified", "closed", "closed",
                "closed", "closed", "closed", "merged", "rejected", "returned", "suspended"]
    old_statuses = ["closed"] * 46 + ["merged", "merged", "rejected", "suspended"]
    channels = ["12345", "12345", "12345", "patrol", "12319", "962000", "workstation", "leadership"]
    sql = """
    INSERT INTO workorders_workorder (
        number, channel, external_ticket, title, text, fingerprint, address, located_by, reporter_name,
        reporter_phone, wants_reply, classified_by, needs_review, status, is_repeat, has_repeat_candidates,
        supervised, supervised_reason, out_of_remit_reason, return_reason, clock_stage, overdue, was_overdue,
        due_soon_notified, overdue_notified, result, reply_text, satisfaction, reopened, case_reference,
        received_at, due_at, reply_due_at, lon, lat, h3, grid_id, squad_id, category_id)
    SELECT 'BENCH' || lpad(g::text, 8, '0'), (%(channels)s::text[])[1 + g %% 8], 'BENCH-' || g,
           '市民反映 ' || g, (%(texts)s::text[])[1 + (g * 31) %% %(ntexts)s] || '（' || g || '）',
           substr(md5(g::text), 1, 16), '', 'coordinates', '', '', true, 'model', false,
           CASE WHEN g %% 525600 < 43200 THEN (%(statuses)s::text[])[1 + (g * 7) %% 15]
                ELSE (%(old_statuses)s::text[])[1 + (g * 7) %% 50] END,
           false, false, false, '', '', '', '', false, false,
           false, false, '', '', '', 0, '',
           now() - ((g %% 525600) || ' minutes')::interval,
           now() - ((g %% 525600) || ' minutes')::interval + interval '5 days',
           now() - ((g %% 525600) || ' minutes')::interval + interval '7 days',
           (%(lons)s::float8[])[1 + g %% %(k)s], (%(lats)s::float8[])[1 + g %% %(k)s],
           (%(cells)s::text[])[1 + g %% %(k)s], (%(grids)s::int[])[1 + g %% %(k)s],
           (%(squads)s::int[])[1 + g %% %(k)s], (%(leaves)s::int[])[1 + g %% %(nleaves)s]
    FROM generate_series(1, %(n)s) AS g
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"texts": COMPLAINTS, "ntexts": len(COMPLAINTS), "channels": channels, "statuses": statuses, "old_statuses": old_statuses, "lons": lons, "lats": lats, "cells": cells,
                             "grids": grid_ids, "squads": squad_ids, "leaves": leaves, "k": len(grid_ids),
                             "nleaves": len(leaves), "n": n})
        cursor.execute("ANALYZE workorders_workorder")


def prepare() -> tuple[str, list[tuple[float, float]]]:
    """The database ready for both measurements; returns an intake key and points in grids."""
    COMPLAINTS[:] = _complaints()
    from django.db import connection

    from chengguan.core import audit, demo
    from chengguan.core.choices import RoleCode
    from chengguan.core.models import OrgUnit, User
    from chengguan.workorders.choices import Channel
    from chengguan.workorders.models import ClassifierModel, IntakeClient, WorkOrder
    from chengguan.workorders.services import classification, clients, intake

    with audit.context(source="command:bench"):
        if not OrgUnit.objects.exists():
            with Timer() as t:
                demo.seed_database(demo.build_plan("district", seed=1))
            print(f"set-up: district org tree and grids in {t.seconds:.0f} s")
        if not WorkOrder.objects.filter(number__startswith="BENCH").exists():
            with Timer() as t:
                load_orders(ORDERS)
            print(f"set-up: {ORDERS:,} orders loaded in {t.seconds:.0f} s")
        dispatcher = User.objects.filter(roles__code=RoleCode.DISPATCHER).order_by("pk").first()
        rng = random.Random(SEED)
        points = [(lon, lat) for _, _, lon, lat in random_places(20_000, rng)]
        if not WorkOrder.objects.filter(classified_by="person", number__startswith="GD").exists():
            from chengguan.workorders.demo import TEXTS

            codes = sorted(TEXTS)
            items = []
            for n in range(2000):
                code = codes[n % len(codes)]
                lon, lat = points[n % len(points)]
                items.append({"channel": "patrol", "text": rng.choice(TEXTS[code]).format(p="小区门口", r="江川路"),
                              "category": code, "lon": lon, "lat": lat})
            for start in range(0, len(items), 200):
                intake.receive_many(items[start:start + 200], by=dispatcher)
        if not ClassifierModel.objects.exists():
            classification.train(by=dispatcher, evaluate=False)
        admin = User.objects.filter(roles__code=RoleCode.ADMIN).order_by("pk").first()
        client = IntakeClient.objects.filter(name="基准测试热线").first()
        if client is None:
            client, key = clients.create_client(by=admin, name="基准测试热线", channel=Channel.HOTLINE_12345)
        else:
            client, key = clients.rotate_key(client, by=admin)
    connection.close()
    return key, points


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": URL, "DJANGO_SETTINGS_MODULE": "chengguan.settings", "DEBUG": "0",
           "GEO_INDEX_CHECK_SECONDS": "60"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "chengguan.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(WORKERS), "--log-level", "warning"], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    return server


def post(port: int, key: str, body: dict) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/workorders/intake/",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())




def intake_run(port: int, key: str, points, batch: int, tag: str, seconds: float = SECONDS
               ) -> tuple[int, float, list[float]]:
    stop = time.perf_counter() + seconds
    counts, latencies, errors = [0] * CLIENTS, [], []
    lock = threading.Lock()

    def client(index: int):
        rng = random.Random(f"{tag}-{index}")
        n = 0
        while time.perf_counter() < stop:
            orders = []
            for _ in range(batch):
                n += 1
                lon, lat = rng.choice(points)
                orders.append({"external_ticket": f"{tag}-{index}-{n}", "text": rng.choice(COMPLAINTS) + f"（{n}）",
                               "lon": lon, "lat": lat, "reporter_phone": "13800138000"})
            began = time.perf_counter()
            try:
                answer = post(port, key, {"orders": orders} if batch > 1 else orders[0])
            except Exception as exc:  # noqa: BLE001 - reported, and the run counts as failed
                errors.append(repr(exc)[:200])
                return
            with lock:
                latencies.append(time.perf_counter() - began)
            created = answer.get("orders", [answer]) if isinstance(answer, dict) else answer
            counts[index] += len(created)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        print(f"  {len(errors)} client errors, first: {errors[0]}")
    return sum(counts), elapsed, latencies


def bare_insert(rows: int, batch: int) -> float:
    """Rows per second for a bare INSERT of the same columns the service writes."""
    import psycopg

    columns = ("number", "channel", "external_ticket", "title", "text", "fingerprint", "address", "located_by",
               "reporter_name", "reporter_phone", "wants_reply", "classified_by", "needs_review", "status",
               "is_repeat", "has_repeat_candidates", "supervised", "supervised_reason", "out_of_remit_reason",
               "return_reason", "clock_stage", "overdue", "was_overdue", "due_soon_notified", "overdue_notified",
               "result", "reply_text", "satisfaction", "reopened", "case_reference", "received_at", "due_at",
               "reply_due_at", "lon", "lat", "h3")
    insert = (f"INSERT INTO workorders_workorder ({', '.join(columns)}) VALUES "
              f"({', '.join(['%s'] * len(columns))})")
    now = dt.datetime.now(dt.UTC)
    tag = f"BARE{int(time.time())}"
    with psycopg.connect(URL) as conn:
        with Timer() as t:
            for start in range(0, rows, batch):
                with conn.transaction():
                    conn.cursor().executemany(insert, [
                        (f"{tag}{i:08d}", "12345", f"{tag}-{i}", "", COMPLAINTS[i % len(COMPLAINTS)], "0" * 16, "", "coordinates",
                         "gAAAAA-encrypted-name", "gAAAAA-encrypted-phone", True, "model", False, "received", False,
                         False, False, "", "", "", "accept", False, False, False, False, "", "", "", 0, "",
                         now, now, now, 121.4, 31.1, "8a309a4b2a6ffff") for i in range(start, start + batch)])
        conn.execute("DELETE FROM workorders_workorder WHERE number LIKE %s", [f"{tag}%"])
    return rows / t.seconds


def list_benchmark() -> None:
    from django.test import Client

    from chengguan.core.choices import RoleCode
    from chengguan.core.models import OrgUnit, User

    squads = list(OrgUnit.objects.filter(kind="squad").values_list("pk", flat=True))
    statuses = ["received", "dispatched", "handling", "closed", "replied"]
    rng = random.Random(SEED)
    today = dt.date.today()
    for role in (RoleCode.DISPATCHER, RoleCode.SQUAD_LEADER):
        user = User.objects.filter(roles__code=role, is_active=True).order_by("pk").first()
        client = Client()
        client.force_login(user)
        own_squad = user.org_unit.ancestor_of_kind("squad") if role == RoleCode.SQUAD_LEADER else None
        times, rows = [], 0
        for n in range(LIST_REQUESTS + 20):
            squad = own_squad.pk if own_squad else rng.choice(squads)
            start = today - dt.timedelta(days=rng.randint(30, 360))
            query = {"squad": squad, "status": rng.choice(statuses), "received_from": start.isoformat(),
                     "received_to": (start + dt.timedelta(days=30)).isoformat()}
            began = time.perf_counter()
            response = client.get("/api/v1/workorders/", query)
            elapsed = time.perf_counter() - began
            assert response.status_code == 200, response.content[:300]
            if n >= 20:  # warm-up excluded
                times.append(elapsed * 1000)
                rows += len(response.json()["results"])
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"list over {ORDERS:,} orders as {role.label}: p50 {statistics.median(times):.1f} ms, "
              f"p95 {p95:.1f} ms (target < 100 ms → {100 / p95:.1f}× under), {rows / len(times):.0f} rows a page")


def repeat_share(ticket_prefix: str) -> str:
    """How much repeat-detection work the run's orders made: the share of orders given a likely
    repeat, and candidates per order."""
    from django.db import connection

    from chengguan.workorders.models import RepeatCandidate, WorkOrder

    orders = WorkOrder.objects.filter(external_ticket__startswith=ticket_prefix)
    total = orders.count()
    candidates = RepeatCandidate.objects.filter(order__in=orders)
    flagged = candidates.values("order").distinct().count()
    share = (f"{flagged / total:.0%} of the run's orders got a likely repeat, "
             f"{candidates.count() / total:.2f} candidates an order") if total else "no orders"
    connection.close()
    return share


def main() -> None:
    if create_database(URL, "work orders (PostgreSQL)") is None:
        return
    setup_django(URL)
    key, points = prepare()
    list_benchmark()
    from django.db import connection

    connection.close()
    port = free_port()
    server = start_server(port)
    try:
        run_tag = f"R{int(time.time())}"
        # Every worker loads its indexes and the model before the clock starts.
        intake_run(port, key, points, 5, f"{run_tag}-warm", seconds=8)
        for batch in (1, BATCH):
            orders, elapsed, latencies = intake_run(port, key, points, batch, f"{run_tag}-{batch}")
            rate_ = orders / elapsed
            bare = bare_insert(min(20_000, max(batch * 200, 2_000)), batch)
            latencies.sort()
            p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else float("nan")
            print(f"intake over HTTP, {batch} order(s) a request, {WORKERS} gunicorn workers, {CLIENTS} clients: "
                  f"{orders:,} orders in {elapsed:.1f} s = {rate_:,.0f} orders/s (target ≥ 300 → "
                  f"{rate_ / 300:.2f}×); request p95 {p95:.0f} ms; bare INSERT of the same rows "
                  f"{bare:,.0f} rows/s → ratio {rate_ / bare:.2f}; {repeat_share(f'{run_tag}-{batch}-')}")
        print("background queue: the intake enqueues no task — every order is complete when its request answers")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
