import math
import random

import h3
import numpy as np
import pytest
import shapely
from django.db.models.signals import post_save
from shapely.geometry import Point, shape

from chengguan.core import demo, geo, services
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import Grid
from chengguan.core.testing import square

# --- locate on the `org` fixture (squad A: grids a1, a2 at 121.40–121.42; squad B east of it) ---


def test_points_inside_grids_give_grid_squad_and_h3(org):
    where = geo.locate(121.405, 31.105)
    assert (where.grid, where.squad) == (org.grid_a1, org.squad_a)
    assert where.h3 == h3.latlng_to_cell(31.105, 121.405, 10) == geo.h3_cell(121.405, 31.105)
    where = geo.locate("121.435", "31.109")  # numbers as text, as forms send them
    assert (where.grid, where.squad) == (org.grid_b2, org.squad_b)


def test_boundary_points_belong_to_a_grid_ties_going_to_the_smaller_code(org):
    assert geo.locate(121.41, 31.105).grid == org.grid_a1  # edge shared by a1 and a2
    assert geo.locate(121.42, 31.10).grid == org.grid_a2  # corner shared by a2 and b1
    assert geo.locate(121.40, 31.105).grid == org.grid_a1  # outer edge of the district
    assert geo.locate(121.44, 31.11).grid == org.grid_b2  # outer corner


def test_point_outside_every_grid_is_refused_clearly(org):
    with pytest.raises(ValidationFailed) as exc:
        geo.locate(121.3999, 31.105)
    assert exc.value.code == "outside_grids"
    assert exc.value.message == (
        "坐标 (121.399900, 31.105000) 不在任何网格内，请核对位置或交由指挥调度人员人工定位。"
    )


def test_no_grids_at_all_means_outside(db):
    with pytest.raises(ValidationFailed) as exc:
        geo.locate(121.405, 31.105)
    assert exc.value.code == "outside_grids"


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [
        (math.nan, 31.1, "lon"), (121.4, math.inf, "lat"), ("东经121度", 31.1, "lon"), (None, 31.1, "lon"),
        (True, 31.1, "lon"), (181, 31.1, "lon"), (-180.5, 31.1, "lon"), (121.4, 90.01, "lat"),
        (121.4, -91, "lat"),
    ],
)
def test_bad_coordinates_are_refused(db, lon, lat, field):
    for call in (geo.locate, geo.h3_cell, geo.place_fields, geo.wgs84_to_gcj02, geo.gcj02_to_wgs84):
        with pytest.raises(ValidationFailed) as exc:
            call(lon, lat)
        assert (exc.value.code, exc.value.field) == ("invalid_coordinates", field)
    with pytest.raises(ValidationFailed) as exc:
        geo.locate_many([121.4, lon], [31.1, lat])
    assert (exc.value.code, exc.value.field) == ("invalid_coordinates", field)


def test_index_follows_grid_edits_through_the_service(org, users, settings):
    settings.GEO_INDEX_CHECK_SECONDS = 3600  # even when throttled, a save here is seen at once
    assert geo.locate(121.435, 31.105).grid == org.grid_b2
    services.update_grid(org.grid_b2, by=users["admin"], boundary=square(121.45, 31.10))
    with pytest.raises(ValidationFailed):
        geo.locate(121.435, 31.105)
    assert geo.locate(121.455, 31.105).grid == org.grid_b2
    services.update_grid(org.grid_b2, by=users["admin"], is_active=False)
    with pytest.raises(ValidationFailed):
        geo.locate(121.455, 31.105)
    services.create_grid(by=users["admin"], code="31011210200101", name="新网格", squad=org.squad_b,
                         boundary=square(121.46, 31.10))
    assert geo.locate(121.465, 31.105).grid.code == "31011210200101"


def test_index_sees_changes_made_by_another_process(org, users):
    assert geo.locate(121.435, 31.105).grid == org.grid_b2
    # Another process's edit: the audited save reaches the database, no signal reaches us.
    post_save.disconnect(dispatch_uid="geo-index-grid-save", sender="core.Grid")
    try:
        services.update_grid(org.grid_b2, by=users["admin"], boundary=square(121.45, 31.10))
    finally:
        post_save.connect(geo.invalidate_index, sender="core.Grid", dispatch_uid="geo-index-grid-save")
    with pytest.raises(ValidationFailed):
        geo.locate(121.435, 31.105)
    assert geo.locate(121.455, 31.105).grid == org.grid_b2


def test_located_instances_are_copies(org):
    geo.locate(121.405, 31.105).grid.name = "改过的名字"
    assert geo.locate(121.405, 31.105).grid.name == "江川1号网格"


def test_place_fields_fill_the_located_mixin(org):
    fields = geo.place_fields(121.405, 31.105)
    assert fields == {"lon": 121.405, "lat": 31.105, "grid": org.grid_a1, "squad": org.squad_a,
                      "h3": geo.h3_cell(121.405, 31.105)}
    # the same place read off a Chinese map app (GCJ-02)
    gcj_lon, gcj_lat = geo.wgs84_to_gcj02(121.415, 31.105)
    assert abs(gcj_lon - 121.415) > 0.003  # the offset is hundreds of metres here
    fields = geo.place_fields(gcj_lon, gcj_lat, crs="gcj02")
    assert abs(fields["lon"] - 121.415) < 1e-8 and abs(fields["lat"] - 31.105) < 1e-8
    assert fields["grid"] == org.grid_a2
    with pytest.raises(ValidationFailed) as exc:
        geo.place_fields(121.405, 31.105, crs="bd09")
    assert (exc.value.code, exc.value.field) == ("invalid_choice", "crs")


def test_place_fields_outside_grids_only_when_allowed(org):
    with pytest.raises(ValidationFailed):
        geo.place_fields(121.30, 31.0)
    fields = geo.place_fields(121.30, 31.0, allow_outside=True)
    assert (fields["grid"], fields["squad"], fields["h3"]) == (None, None, geo.h3_cell(121.30, 31.0))


# --- GCJ-02 ------------------------------------------------------------------------------------

# Published test vectors of the GCJ-02 algorithm (googollee/eviltransform): WGS-84 → GCJ-02.
REFERENCE = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing, by Tiananmen
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_gcj02_reference_pairs(wgs, gcj):
    lon, lat = geo.wgs84_to_gcj02(*wgs)
    assert abs(lon - gcj[0]) < 1e-9 and abs(lat - gcj[1]) < 1e-9
    lon, lat = geo.gcj02_to_wgs84(*gcj)
    assert abs(lon - wgs[0]) < 1e-9 and abs(lat - wgs[1]) < 1e-9


def test_gcj02_round_trips_across_china():
    rng = random.Random(7)
    for _ in range(500):
        lon, lat = rng.uniform(73.5, 135), rng.uniform(18, 53.5)
        back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lon, lat))
        assert abs(back[0] - lon) < 1e-7 and abs(back[1] - lat) < 1e-7
        back = geo.wgs84_to_gcj02(*geo.gcj02_to_wgs84(lon, lat))
        assert abs(back[0] - lon) < 1e-7 and abs(back[1] - lat) < 1e-7


def test_no_offset_outside_china():
    for point in [(139.6917, 35.6895), (2.3522, 48.8566), (-74.006, 40.7128)]:
        assert geo.wgs84_to_gcj02(*point) == point
        assert geo.gcj02_to_wgs84(*point) == point


# --- agreement with a naive loop on the small demo district ------------------------------------

def test_index_agrees_with_a_naive_loop_on_the_demo_district(db):
    demo.seed_database(demo.build_plan("small", seed=3))
    grids = list(Grid.objects.order_by("code"))
    polygons = [shape(g.boundary) for g in grids]
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = shapely.total_bounds(polygons)
    lons = list(rng.uniform(minx - 0.01, maxx + 0.01, 1_700))
    lats = list(rng.uniform(miny - 0.01, maxy + 0.01, 1_700))
    # 300 points exactly on grid vertices and edge midpoints, where ties and H3 edges bite
    edge_points = []
    for poly in polygons:
        coords = list(poly.exterior.coords)
        for (x0, y0), (x1, y1) in zip(coords, coords[1:], strict=False):
            edge_points += [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2)]
    for i in rng.choice(len(edge_points), 300, replace=False):
        lons.append(edge_points[i][0])
        lats.append(edge_points[i][1])

    def naive(lon, lat):
        point = Point(lon, lat)
        return next((g.pk for g, poly in zip(grids, polygons, strict=True) if poly.covers(point)), -1)

    expected = [naive(lon, lat) for lon, lat in zip(lons, lats, strict=True)]
    grid_ids, squad_ids = geo.locate_many(lons, lats)
    assert grid_ids.tolist() == expected
    squads = {g.pk: g.squad_id for g in grids}
    assert squad_ids.tolist() == [squads.get(g, -1) for g in expected]
    for lon, lat, want in list(zip(lons, lats, expected, strict=True))[::7]:
        try:
            got = geo.locate(lon, lat).grid.pk
        except ValidationFailed:
            got = -1
        assert got == want
    # both paths were exercised: inside and outside points, interior and boundary cells
    assert 0.2 < np.mean(np.array(expected) > 0) < 0.95
    assert 0.3 < geo.grid_index().interior_share < 1
