import datetime as dt
import io
from collections import Counter

import numpy as np
import pytest
import shapely
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection
from shapely.geometry import shape

from chengguan.core import audit, demo
from chengguan.core.choices import OrgUnitKind, RoleCode
from chengguan.core.models import AuditEvent, Grid, OrgUnit, User

DAY = dt.date(2025, 3, 1)


@pytest.fixture
def seeded(db):
    out = io.StringIO()
    call_command("seed_demo", "--scale", "small", "--seed", "5", stdout=out)
    return out.getvalue()


def test_small_district_counts(seeded):
    assert "演示数据已生成" in seeded
    kinds = Counter(OrgUnit.objects.values_list("kind", flat=True))
    assert kinds == {OrgUnitKind.BUREAU: 1, OrgUnitKind.BRIGADE: 3, OrgUnitKind.DEPARTMENT: 6, OrgUnitKind.SQUAD: 14}
    squads = OrgUnit.objects.filter(kind=OrgUnitKind.SQUAD)
    assert {s.name for s in squads} == {f"{street}中队" for street, *_ in demo.STREETS}
    per_squad = Counter(Grid.objects.values_list("squad__code", flat=True))
    assert len(per_squad) == 14 and all(2 <= n <= 6 for n in per_squad.values())
    roles = Counter(User.objects.values_list("roles__code", flat=True))
    assert set(RoleCode.values) <= set(roles)
    assert roles[RoleCode.OFFICER] >= 28 and roles[RoleCode.SQUAD_LEADER] >= 14


def test_every_demo_login_logs_in_with_its_role_and_unit(seeded):
    for login in demo.DEMO_LOGINS:
        user = authenticate(None, username=login["username"], password=demo.DEMO_PASSWORD)
        assert user is not None, login["username"]
        assert user.role_codes == {login["role"]}
        assert user.org_unit.name == login["unit"]
    assert User.objects.get(username="admin").is_superuser
    officer = User.objects.get(username="officer")
    assert officer.can_enforce and officer.org_unit.name == "七宝镇中队"
    assert authenticate(None, username="officer", password="wrong-password") is None


def test_grid_codes_follow_the_14_digit_scheme(seeded):
    for grid in Grid.objects.select_related("squad"):
        assert len(grid.code) == 14 and grid.code.isdigit()
        assert grid.code[:9] == grid.squad.division_code[:9]  # 310112 + street/town code
        assert grid.code.startswith("310112") and grid.community and grid.name.startswith(grid.community)
    assert len(set(Grid.objects.values_list("code", flat=True))) == Grid.objects.count()


def test_grids_never_overlap_and_tile_each_jurisdiction(seeded):
    grids = list(Grid.objects.select_related("squad"))
    polygons = [shape(g.boundary) for g in grids]
    assert all(p.is_valid and p.geom_type == "Polygon" for p in polygons)
    geoms = np.array(polygons, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert pairs.sum() > 0 and overlap.max() < 1e-12  # neighbours touch, never overlap (1e-12 deg² ≈ 0.01 m²)
    for squad in OrgUnit.objects.filter(kind=OrgUnitKind.SQUAD):
        area = shape(squad.jurisdiction).area
        mine = [p for g, p in zip(grids, polygons, strict=True) if g.squad_id == squad.pk]
        assert abs(sum(p.area for p in mine) - area) / area < 0.005
        assert shapely.union_all(mine).symmetric_difference(shape(squad.jurisdiction)).area < 1e-9 * area
    bureau = OrgUnit.objects.get(kind=OrgUnitKind.BUREAU)
    assert abs(sum(p.area for p in polygons) - shape(bureau.jurisdiction).area) < 0.005 * shape(bureau.jurisdiction).area
    minx, miny, maxx, maxy = shape(bureau.jurisdiction).bounds
    assert 121.25 < minx < maxx < 121.57
    assert 30.97 < miny < maxy < 31.25


def test_every_seeded_record_is_on_the_audit_chain(seeded):
    actions = Counter(
        AuditEvent.objects.filter(source="command:seed_demo").values_list("action", flat=True)
    )
    assert actions["org.create"] == OrgUnit.objects.count()
    assert actions["grid.create"] == Grid.objects.count()
    assert actions["staff.create"] == User.objects.count()
    assert actions["staff.roles"] == User.objects.filter(roles__isnull=False).distinct().count()
    assert audit.verify().ok


def test_phones_are_encrypted_at_rest(seeded):
    user = User.objects.get(username="officer")
    assert user.phone.isdigit() and len(user.phone) == 11
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM core_user WHERE id = %s", [user.pk])
        stored = cursor.fetchone()[0]
    assert user.phone not in stored


def test_second_run_changes_nothing(seeded):
    events = AuditEvent.objects.count()
    out = io.StringIO()
    call_command("seed_demo", "--scale", "small", stdout=out)
    assert "数据库已有数据，跳过演示数据" in out.getvalue()
    assert AuditEvent.objects.count() == events


def test_print_logins_lists_every_role(db):
    out = io.StringIO()
    call_command("seed_demo", "--print-logins", stdout=out)
    text = out.getvalue()
    assert demo.DEMO_PASSWORD in text
    for login in demo.DEMO_LOGINS:
        assert login["username"] in text
    assert not OrgUnit.objects.exists()


def test_same_seed_same_district_other_seed_other_district(db):
    plan = demo.build_plan("small", seed=9, today=DAY)
    assert demo.build_plan("small", seed=9, today=DAY).digest() == plan.digest()
    assert demo.build_plan("small", seed=10, today=DAY).digest() != plan.digest()
    demo.seed_database(plan)
    assert demo.database_digest() == plan.digest()


def test_certificates_include_expired_and_expiring_ones_deterministically():
    plan = demo.build_plan("small", seed=1, today=DAY)
    certified = [s for s in plan.staff if s.certificate_number]
    assert all(s.certificate_valid_from <= DAY for s in certified)
    states = Counter(
        "expired" if s.certificate_valid_to < DAY
        else "expiring" if s.certificate_valid_to <= DAY + dt.timedelta(days=60) else "valid"
        for s in certified
    )
    assert states["valid"] > 0.8 * len(certified)
    # over several seeds both rarer states occur (about 3 % and 5 % of certificates)
    rare = Counter()
    for seed in range(2, 8):
        for s in demo.build_plan("small", seed=seed, today=DAY).staff:
            if s.certificate_number and s.certificate_valid_to < DAY:
                rare["expired"] += 1
            elif s.certificate_number and s.certificate_valid_to <= DAY + dt.timedelta(days=60):
                rare["expiring"] += 1
    assert rare["expired"] > 0 and rare["expiring"] > 0
    demo_logins = {login["username"] for login in demo.DEMO_LOGINS}
    for s in plan.staff:
        if s.username in demo_logins and s.certificate_number:
            assert s.certificate_valid_to > DAY + dt.timedelta(days=365)
