"""Point → grid on the district demo: 100,000 random points over the district's bounding box.

Figures: `geo.locate_many` (the batch path: one vectorised STRtree query) and `geo.locate`
one point at a time (the H3 index; with its per-call freshness check, and throttled), against
a naive loop over every grid polygon (measured on a subsample and given per point).
"""

import contextlib

import numpy as np

from .common import SQLITE_URL, Timer, rate, seed_district_once, setup_django

POINTS = 100_000
NAIVE_POINTS = 1_000
SINGLE_POINTS = 20_000


def main() -> None:
    setup_django(SQLITE_URL)
    seed_district_once()

    import shapely
    from django.conf import settings
    from django.db import connection
    from shapely.geometry import Point, shape

    from chengguan.core import geo
    from chengguan.core.errors import ValidationFailed
    from chengguan.core.models import Grid

    print(f"database: SQLite {connection.Database.sqlite_version} ({SQLITE_URL.removeprefix('sqlite:///')})")
    with Timer() as t:
        index = geo.grid_index()
    print(f"index: {len(index.grids):,} grids, {len(index.cells):,} H3 res-{index.res} cells "
          f"({index.interior_share:.0%} wholly inside one grid), built in {t.seconds:.2f} s")

    rng = np.random.default_rng(2024)
    minx, miny, maxx, maxy = shapely.total_bounds(index.geoms)
    lons, lats = rng.uniform(minx, maxx, POINTS), rng.uniform(miny, maxy, POINTS)

    geo.locate_many(lons[:1000], lats[:1000])  # warm-up
    best = float("inf")
    for _ in range(3):
        with Timer() as t:
            grid_ids, _ = geo.locate_many(lons, lats)
        best = min(best, t.seconds)
    batch_rate = POINTS / best
    inside = float(np.mean(grid_ids >= 0))

    # naive: every point against every grid polygon in code order, first one that covers it
    grids = list(Grid.objects.filter(is_active=True).order_by("code"))
    polygons = [shape(g.boundary) for g in grids]
    ids = [g.pk for g in grids]
    naive_ids = []
    with Timer() as t:
        for lon, lat in zip(lons[:NAIVE_POINTS].tolist(), lats[:NAIVE_POINTS].tolist(), strict=True):
            point = Point(lon, lat)
            naive_ids.append(next((pk for pk, poly in zip(ids, polygons, strict=True) if poly.covers(point)), -1))
    naive_rate = NAIVE_POINTS / t.seconds
    agree = int(np.sum(np.array(naive_ids) == grid_ids[:NAIVE_POINTS]))

    print(f"locate: {batch_rate:,.0f} points/s with locate_many over {POINTS:,} points, {inside:.0%} inside a grid "
          f"(naive {naive_rate:,.1f} points/s, ratio {batch_rate / naive_rate:,.0f}×; the naive loop ran on "
          f"{NAIVE_POINTS:,} of the points, its rate is per point; it agrees on {agree:,}/{NAIVE_POINTS:,})")

    def singles() -> float:
        with Timer() as t:
            for lon, lat in zip(lons[:SINGLE_POINTS].tolist(), lats[:SINGLE_POINTS].tolist(), strict=True):
                with contextlib.suppress(ValidationFailed):  # outside every grid
                    geo.locate(lon, lat)
        return SINGLE_POINTS / t.seconds

    checked = singles()
    settings.GEO_INDEX_CHECK_SECONDS = 60
    throttled = singles()
    print(f"locate one point at a time: {checked:,.0f} points/s checking the grid version (audit-chain head) on every call, "
          f"{throttled:,.0f} points/s with GEO_INDEX_CHECK_SECONDS=60 (ratio to naive "
          f"{checked / naive_rate:,.0f}× and {throttled / naive_rate:,.0f}×; {SINGLE_POINTS:,} points)")

    tree = shapely.STRtree(index.geoms)
    points = shapely.points(lons, lats)
    with Timer() as t:
        tree.query(points, predicate="intersects")
    print(f"for information, the bare STRtree query inside locate_many (no validation, no tie-breaking): "
          f"{rate(POINTS, t.seconds)} points/s")


if __name__ == "__main__":
    main()
