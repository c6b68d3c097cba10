"""`make bench`: every benchmark, each in its own process because each points Django at its
own database (SQLite var/bench.sqlite3 seeded once with the district demo; PostgreSQL
cg_bench, created and migrated when needed, or BENCH_POSTGRES_URL)."""

import subprocess
import sys
import time

from .common import ROOT, machine

BENCHMARKS = ["bench.bench_locate", "bench.bench_audit", "bench.bench_draw", "bench.bench_tiers", "bench.bench_classifier",
              "bench.bench_workorders", "bench.bench_documents", "bench.bench_cases"]


def main() -> int:
    print(f"machine: {machine()}")
    started = time.perf_counter()
    failed = []
    for module in BENCHMARKS:
        print(f"--- {module}", flush=True)
        if subprocess.run([sys.executable, "-m", module], cwd=ROOT).returncode:
            failed.append(module)
    print(f"--- done in {time.perf_counter() - started:.0f} s" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
