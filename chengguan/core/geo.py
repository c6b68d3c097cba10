"""Place (DESIGN principle 4): point → grid and squad, H3 cells, and GCJ-02 ↔ WGS-84.

`locate(lon, lat)` answers from an in-process index of the active grids:

* every H3 cell (INDEX_RESOLUTION) that touches a grid maps to its candidate grids;
* a cell lying wholly inside one grid (and touching no other) answers with no geometry test;
* a boundary cell tests only its few candidates with prepared shapely geometries;
* a point whose cell is not in the index is outside every grid.

A point on the edge shared by two grids belongs to the grid with the smaller code (grids
"cover" their boundary, ties go to code order), so no point inside the district falls
between two grids.

Batches (`locate_many`) use one vectorised STRtree query instead, which measured faster
than calling H3 point by point from Python.

The index is built once per process and rebuilt when the grid table changes. Every call (or
batch) first reads the head of the core audit chain, a one-row primary-key lookup: every
audited grid write in any process appends to that chain, and a rolled-back one (as in tests)
takes its event back. Only when the head moved is the grid table's own version compared: its row count
and latest `updated_at` (one aggregate, ~2 ms on 6,000 grids), and the index rebuilt if that
differs. A process that locates many single points may set `GEO_INDEX_CHECK_SECONDS` to check
at most that often; a grid saved or deleted in that same process is still seen at once.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass

import h3
import numpy as np
import shapely
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from h3.api import basic_int as h3int
from shapely.geometry import shape

from .errors import ValidationFailed

# Resolution of the lookup index: res 10 (hexagons of ~0.015 km², edge ~76 m) against unit
# grids of ~0.08 km² (万米单元网格 are ~0.01–0.1 km²). Measured on the district demo (6,045
# grids, 2 shared cores): 39,700 cells, 27 % of them wholly inside one grid, the rest with 2–3
# candidates; built in 1.5–3 s; ~150,000 lookups/s. Res 11 answers 68 % of cells without a
# geometry test but needs 276,000 cells and 7–10 s to build, for no measurable gain per
# lookup (a prepared point-in-polygon test on a grid of a few vertices costs about what the
# dictionary lookup around it costs); res 9 cells are larger than grids (no interior cells).
# Res 10 is also settings.H3_RESOLUTION, so one H3 call gives the stored index and the key.
INDEX_RESOLUTION = 10

# Cells are compared with grids with a margin of ~1 cm: H3 draws cell edges as great-circle
# arcs, we draw them straight in lon/lat, and the two differ by far less than this.
CELL_EPSILON = 1e-7

LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)


@dataclass(frozen=True)
class Location:
    grid: object  # core.Grid
    squad: object  # core.OrgUnit
    h3: str  # cell at settings.H3_RESOLUTION


# --- coordinates --------------------------------------------------------------------------------

def _number(value, field: str) -> float:
    if isinstance(value, bool):
        value = None  # True/False are ints in Python, never coordinates
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ValidationFailed(f"坐标{_LABELS[field]}必须是有限的数字。", code="invalid_coordinates", field=field)
    return number


_LABELS = {"lon": "经度", "lat": "纬度"}


EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def validate_coordinates(lon, lat) -> tuple[float, float]:
    """(lon, lat) as floats within WGS-84 ranges, or ValidationFailed naming the bad field."""
    lon, lat = _number(lon, "lon"), _number(lat, "lat")
    if not LON_RANGE[0] <= lon <= LON_RANGE[1]:
        raise ValidationFailed(f"经度 {lon} 超出范围（-180 至 180）。", code="invalid_coordinates", field="lon")
    if not LAT_RANGE[0] <= lat <= LAT_RANGE[1]:
        raise ValidationFailed(f"纬度 {lat} 超出范围（-90 至 90）。", code="invalid_coordinates", field="lat")
    return lon, lat


def _as_floats(values, field: str) -> np.ndarray:
    if isinstance(values, np.ndarray):
        is_bool = values.dtype == bool
    else:
        values = list(values)
        is_bool = any(isinstance(v, bool) for v in values)
    try:
        if is_bool:
            raise TypeError("booleans are not coordinates")
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"坐标{_LABELS[field]}必须是有限的数字。", code="invalid_coordinates",
                               field=field) from exc


def _validate_arrays(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    lons, lats = _as_floats(lons, "lon"), _as_floats(lats, "lat")
    if lons.shape != lats.shape:
        raise ValidationFailed("经度与纬度的个数不一致。", code="invalid_coordinates", field="lat")
    for values, field, (low, high) in ((lons, "lon", LON_RANGE), (lats, "lat", LAT_RANGE)):
        bad = ~(np.isfinite(values) & (values >= low) & (values <= high))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationFailed(
                f"第 {i + 1} 个坐标的{_LABELS[field]} {values[i]} 无效或超出范围。",
                code="invalid_coordinates", field=field,
            )
    return lons, lats


def h3_cell(lon, lat, res: int | None = None) -> str:
    """H3 cell of a WGS-84 point (settings.H3_RESOLUTION unless `res` is given)."""
    lon, lat = validate_coordinates(lon, lat)
    return h3.latlng_to_cell(lat, lon, settings.H3_RESOLUTION if res is None else res)


# --- GCJ-02 (the offset coordinates of Chinese map apps) -----------------------------------------
# The published GCJ-02 algorithm: a Krasovsky-1940 ellipsoid and a fixed polynomial/sine
# distortion, applied only inside China's rough bounding box.

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323


def out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    common = (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat += common
    d_lon += common
    d_lat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon, lat) -> tuple[float, float]:
    lon, lat = validate_coordinates(lon, lat)
    if out_of_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon, lat, *, tolerance: float = 1e-9, max_iterations: int = 30) -> tuple[float, float]:
    """Exact inverse by fixed-point iteration: the offset varies slowly (its derivative is
    ~1e-5), so each step gains about five digits; two or three steps reach 1e-9°."""
    lon, lat = validate_coordinates(lon, lat)
    if out_of_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _ in range(max_iterations):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = g_lon - lon, g_lat - lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if abs(e_lon) < tolerance and abs(e_lat) < tolerance:
            break
    return w_lon, w_lat


# --- the grid index -------------------------------------------------------------------------------

def _cell_polygons(cells) -> np.ndarray:
    """Cell outlines as shapely polygons, built in one vectorised call."""
    rings = [h3int.cell_to_boundary(int(c)) for c in cells]
    counts = np.array([len(r) + 1 for r in rings])
    coords = np.array([(lng, lat) for ring in rings for lat, lng in (*ring, ring[0])], dtype=float)
    return shapely.polygons(shapely.linearrings(coords, indices=np.repeat(np.arange(len(rings)), counts)))


def _h3_polygons(geom) -> list:
    """shapely (Multi)Polygon → h3 LatLngPoly shapes."""
    parts = [geom] if geom.geom_type == "Polygon" else list(geom.geoms)
    return [
        h3.LatLngPoly([(y, x) for x, y in p.exterior.coords[:-1]],
                      *[[(y, x) for x, y in r.coords[:-1]] for r in p.interiors])
        for p in parts
    ]


class GridIndex:
    """Immutable lookup structures over a list of grids (sorted by code): the H3 cell map for
    single points and a shapely STRtree for batches."""

    def __init__(self, grids, res: int = INDEX_RESOLUTION, version=None):
        self.res = res
        self.version = version
        self.grids = list(grids)
        self.grid_ids = np.array([g.pk for g in self.grids], dtype=np.int64)
        self.squad_ids = np.array([g.squad_id for g in self.grids], dtype=np.int64)
        self.geoms = np.array([shape(g.boundary) for g in self.grids], dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        # cell → grid position (interior cells) or → -1 - k for candidate list k (boundary cells)
        self.cells: dict[int, int] = {}
        self.candidates: list[tuple[int, ...]] = []
        if self.grids:
            self._fill()

    def _fill(self) -> None:
        # Every cell that can touch a grid has its centre within one cell radius of it: collect
        # the cells whose centres fall in the grids' bounding boxes widened by two edge lengths.
        edge_m = h3.average_hexagon_edge_length(self.res, unit="m")
        bounds = shapely.bounds(self.geoms)
        lat0 = float(np.abs(bounds[:, [1, 3]]).max())
        pad = 2 * edge_m / (111_320.0 * max(math.cos(math.radians(min(lat0, 85.0))), 0.05))
        padded = shapely.box(bounds[:, 0] - pad, np.maximum(bounds[:, 1] - pad, -89.9),
                             bounds[:, 2] + pad, np.minimum(bounds[:, 3] + pad, 89.9))
        cell_set: set[int] = set()
        for shape_ in _h3_polygons(shapely.union_all(padded)):
            cell_set.update(h3int.h3shape_to_cells(shape_, self.res))
        cells = np.array(sorted(cell_set), dtype=np.uint64)
        cell_polys = _cell_polygons(cells)
        cell_pos, grid_pos = self.tree.query(cell_polys, predicate="dwithin", distance=CELL_EPSILON)
        # group candidate grids per cell, in grid (code) order
        order = np.lexsort((grid_pos, cell_pos))
        cell_pos, grid_pos = cell_pos[order], grid_pos[order]
        starts = np.flatnonzero(np.r_[True, cell_pos[1:] != cell_pos[:-1]])
        ends = np.r_[starts[1:], len(cell_pos)]
        single = ends - starts == 1
        lone_grids, lone_cells = self.geoms[grid_pos[starts[single]]], cell_polys[cell_pos[starts[single]]]
        interior = np.zeros(len(starts), dtype=bool)
        interior[single] = shapely.contains_properly(lone_grids, lone_cells) & (
            shapely.distance(shapely.boundary(lone_grids), lone_cells) > CELL_EPSILON
        )
        keyed: dict[tuple[int, ...], int] = {}
        for s, e, inside in zip(starts.tolist(), ends.tolist(), interior.tolist(), strict=True):
            cell = int(cells[cell_pos[s]])
            if inside:
                self.cells[cell] = int(grid_pos[s])
                continue
            cands = tuple(grid_pos[s:e].tolist())
            k = keyed.get(cands)
            if k is None:
                k = keyed[cands] = len(self.candidates)
                self.candidates.append(cands)
            self.cells[cell] = -1 - k

    @property
    def interior_share(self) -> float:
        return sum(v >= 0 for v in self.cells.values()) / max(len(self.cells), 1)

    def position(self, lon: float, lat: float, cell: int | None = None) -> int:
        """Position in self.grids of the grid covering (lon, lat), or -1."""
        entry = self.cells.get(h3int.latlng_to_cell(lat, lon, self.res) if cell is None else cell)
        if entry is None:
            return -1
        if entry >= 0:
            return entry
        for pos in self.candidates[-1 - entry]:
            if shapely.intersects_xy(self.geoms[pos], lon, lat):
                return pos
        return -1

    def positions(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """`position` for arrays of points. One vectorised STRtree query in GEOS: measured
        faster for batches than per-point H3 calls from Python (bench/bench_locate.py)."""
        n = len(lons)
        point_pos, grid_pos = self.tree.query(shapely.points(lons, lats), predicate="intersects")
        best = np.full(n, len(self.grids), dtype=np.int64)
        np.minimum.at(best, point_pos, grid_pos)  # ties: the first grid in code order
        return np.where(best < len(self.grids), best, -1)


_lock = threading.Lock()
_index: GridIndex | None = None
_seen_head = None  # the core audit chain's head when the index was last checked
_checked_at = -math.inf


def _chain_head():
    """(seq, hash) of the core app's audit chain head: every audited write to a grid (any
    process, any path) appends an event to it, and a rolled-back write takes its event back.
    The hash tells apart two different events that got the same number."""
    from .audit import chain_for
    from .models import AuditChainHead, Grid

    return AuditChainHead.objects.filter(chain=chain_for(Grid)).values_list("seq", "hash").first()


def _grid_version():
    from django.db.models import Count, Max

    from .models import Grid

    agg = Grid.objects.aggregate(n=Count("id"), latest=Max("updated_at"))
    return agg["n"], agg["latest"]


def _load_index(version) -> GridIndex:
    from .models import Grid

    grids = Grid.objects.filter(is_active=True).select_related("squad").order_by("code")
    return GridIndex(grids, version=version)


def invalidate_index(**_signal_kwargs) -> None:
    """Make the next lookup compare the grid table's version."""
    global _checked_at, _seen_head
    _checked_at, _seen_head = -math.inf, object()


# Cache invalidation only (no business rule): saves and deletes in this process are seen at once
# even when GEO_INDEX_CHECK_SECONDS throttles the checks.
post_save.connect(invalidate_index, sender="core.Grid", dispatch_uid="geo-index-grid-save")
post_delete.connect(invalidate_index, sender="core.Grid", dispatch_uid="geo-index-grid-delete")


def grid_index() -> GridIndex:
    """The current index, rebuilt if the grid table changed since it was built."""
    global _index, _checked_at, _seen_head
    now = time.monotonic()
    if _index is not None and now - _checked_at < settings.GEO_INDEX_CHECK_SECONDS:
        return _index
    with _lock:
        head = _chain_head()
        if _index is None or head != _seen_head:
            version = _grid_version()
            if _index is None or _index.version != version:
                _index = _load_index(version)
            _seen_head = head
        _checked_at = now
        return _index


def _outside(lon: float, lat: float) -> ValidationFailed:
    return ValidationFailed(
        f"坐标 ({lon:.6f}, {lat:.6f}) 不在任何网格内，请核对位置或交由指挥调度人员人工定位。",
        code="outside_grids", field="lon",
    )


def locate(lon, lat) -> Location:
    """Grid and squad responsible for a WGS-84 point; ValidationFailed(outside_grids) if none."""
    lon, lat = validate_coordinates(lon, lat)
    index = grid_index()
    cell = h3int.latlng_to_cell(lat, lon, settings.H3_RESOLUTION)
    pos = index.position(lon, lat, cell if index.res == settings.H3_RESOLUTION else None)
    if pos < 0:
        raise _outside(lon, lat)
    grid = index.grids[pos]
    # copies: callers may touch the instances, the shared index must stay as loaded
    return Location(grid=copy.copy(grid), squad=copy.copy(grid.squad), h3=h3.int_to_str(cell))


def locate_many(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    """Batch lookup for imports and analytics: arrays of grid ids and squad ids, -1 where a
    point lies outside every grid. Invalid coordinates refuse the whole batch."""
    lons, lats = _validate_arrays(lons, lats)
    index = grid_index()
    pos = index.positions(lons, lats)
    inside = pos >= 0
    grid_ids = np.full(len(pos), -1, dtype=np.int64)
    squad_ids = np.full(len(pos), -1, dtype=np.int64)
    grid_ids[inside] = index.grid_ids[pos[inside]]
    squad_ids[inside] = index.squad_ids[pos[inside]]
    return grid_ids, squad_ids


CRS_CHOICES = ("wgs84", "gcj02")


def place_fields(lon, lat, *, crs: str = "wgs84", allow_outside: bool = False) -> dict:
    """Values for the `Located` mixin (lon, lat, grid, squad, h3) of a point given in WGS-84 or
    GCJ-02 (converted first). Outside every grid: ValidationFailed, or grid and squad None
    when `allow_outside` (e.g. an intake that dispatchers will place by hand)."""
    if crs not in CRS_CHOICES:
        raise ValidationFailed("坐标系只能是 wgs84 或 gcj02。", code="invalid_choice", field="crs")
    lon, lat = validate_coordinates(lon, lat)
    if crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    try:
        where = locate(lon, lat)
    except ValidationFailed as exc:
        if not (allow_outside and exc.code == "outside_grids"):
            raise
        return {"lon": lon, "lat": lat, "grid": None, "squad": None, "h3": h3_cell(lon, lat)}
    return {"lon": lon, "lat": lat, "grid": where.grid, "squad": where.squad, "h3": where.h3}
