"""Shared helpers: Django set-up on a chosen database, machine facts, number formatting."""

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_URL = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/cg_bench")


def create_database(url: str, label: str) -> bool | None:
    """Create the PostgreSQL database of `url` when missing: True if created, False if it was
    there, None (with a message naming the benchmark `label`) when PostgreSQL is unreachable."""
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except psycopg.OperationalError as exc:
        print(f"{label}: skipped, PostgreSQL unreachable at {url} ({str(exc).strip()[:120]})")
        return None


def setup_django(database_url: str) -> None:
    """Point Django at `database_url` (before settings load), set it up and migrate quietly."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    sys.path.insert(0, str(ROOT))
    (ROOT / "var").mkdir(exist_ok=True)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    import chengguan.wsgi  # noqa: F401 - start-up as a server process does it (gc.freeze)


def seed_district_once() -> None:
    """Seed the district demo (seed 1) unless the database already has it; report the time."""
    from chengguan.core import audit, demo
    from chengguan.core.models import OrgUnit

    if OrgUnit.objects.exists():
        return
    started = time.perf_counter()
    plan = demo.build_plan("district", seed=1)
    planned = time.perf_counter()
    with audit.context(source="command:bench"):
        counts = demo.seed_database(plan)
    done = time.perf_counter()
    print(f"seed_demo district: {counts['grids']:,} grids, {counts['staff']:,} staff in {done - started:.1f} s "
          f"(plan {planned - started:.1f} s, write {done - planned:.1f} s)")


def machine() -> str:
    import h3
    import shapely

    return (f"{platform.node()}: {os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}, "
            f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), h3 {h3.__version__}")


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}"


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
