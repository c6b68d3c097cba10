"""The demo district: a deterministic bureau modelled on Shanghai Minhang (seeds/000_*).

`build_plan(scale, seed)` is pure: the same scale, seed and reference day always give the
same org codes, grid codes, geometries and staff (its `digest()` proves it).
`seed_database(plan)` writes a plan into an empty database through the audited paths, so the
audit chain records every unit, grid, person and role it creates.

Geography: a hand-drawn outline of Minhang (121.26–121.56 E, 30.98–31.24 N, ~370 km²) is cut
into the 14 street/town jurisdictions by a Voronoi partition of jittered seed points placed
where the streets and towns really lie; each jurisdiction is tiled with unit grids (squares
of a district-wide lattice clipped to it, slivers merged into a neighbour). Every vertex sits
on a 1e-7° lattice, so neighbouring grids share their edges exactly; a squad's jurisdiction
is the union of its grids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from django.utils import timezone
from shapely.geometry import MultiPoint, Point, Polygon, box

from .choices import OrgUnitKind, RoleCode

DEMO_PASSWORD = "Chengguan@2024"
DISTRICT_CODE = "310112"  # 闵行区
BUREAU_CODE = "MHCG"
PRECISION = 1e-7  # coordinate lattice (~1 cm): shared edges stay exactly shared

# Fixed logins for trying every role (README "Demo logins"; `seed_demo --print-logins`).
DEMO_LOGINS = [
    {"username": "officer", "role": RoleCode.OFFICER, "unit": "七宝镇中队", "real_name": "陈志强"},
    {"username": "squad_leader", "role": RoleCode.SQUAD_LEADER, "unit": "七宝镇中队", "real_name": "王建国"},
    {"username": "legal", "role": RoleCode.LEGAL_REVIEWER, "unit": "法制科", "real_name": "李慧敏"},
    {"username": "case_review", "role": RoleCode.CASE_REVIEW, "unit": "案件审理中心", "real_name": "张丽华"},
    {"username": "dispatcher", "role": RoleCode.DISPATCHER, "unit": "指挥中心", "real_name": "刘洋"},
    {"username": "supervisor", "role": RoleCode.SUPERVISOR, "unit": "督察科", "real_name": "赵振华"},
    {"username": "leader", "role": RoleCode.LEADER, "unit": "闵行区城市管理行政执法局", "real_name": "周明"},
    {"username": "admin", "role": RoleCode.ADMIN, "unit": "信息科", "real_name": "孙磊"},
]

# (street/town, statistical code, brigade, approximate centre lon/lat)
STREETS = [
    ("华漕镇", "106", 1, (121.292, 31.212)),
    ("新虹街道", "008", 1, (121.322, 31.188)),
    ("虹桥镇", "107", 1, (121.372, 31.186)),
    ("七宝镇", "102", 1, (121.345, 31.152)),
    ("古美路街道", "006", 1, (121.398, 31.150)),
    ("莘庄镇", "101", 2, (121.372, 31.110)),
    ("莘庄工业区", "501", 2, (121.318, 31.092)),
    ("梅陇镇", "108", 2, (121.428, 31.118)),
    ("颛桥镇", "103", 2, (121.405, 31.066)),
    ("马桥镇", "112", 3, (121.338, 31.022)),
    ("江川路街道", "001", 3, (121.392, 31.004)),
    ("吴泾镇", "110", 3, (121.446, 31.038)),
    ("浦锦街道", "009", 3, (121.498, 31.086)),
    ("浦江镇", "114", 3, (121.510, 31.038)),
]

BRIGADES = [(1, "执法一大队"), (2, "执法二大队"), (3, "执法三大队")]
DEPARTMENTS = [
    ("BGS", "办公室"), ("FZK", "法制科"), ("ASZX", "案件审理中心"), ("ZHZX", "指挥中心"),
    ("DCK", "督察科"), ("XXK", "信息科"),
]

# Minhang, drawn by hand clockwise from the north-west (Huacao) — Hongqiao airport and Xuhui to
# the north-east, Pujiang across the Huangpu to the south-east, Maqiao to the south-west.
OUTLINE = [
    (121.262, 31.205), (121.275, 31.238), (121.305, 31.240), (121.335, 31.226), (121.362, 31.212),
    (121.385, 31.200), (121.400, 31.182), (121.418, 31.168), (121.435, 31.150), (121.440, 31.128),
    (121.445, 31.108), (121.452, 31.088), (121.462, 31.080), (121.478, 31.090), (121.500, 31.100),
    (121.522, 31.094), (121.545, 31.080), (121.556, 31.060), (121.545, 31.035), (121.528, 31.012),
    (121.505, 30.997), (121.478, 30.988), (121.452, 30.992), (121.430, 30.999), (121.405, 30.986),
    (121.375, 30.981), (121.348, 30.986), (121.322, 30.999), (121.305, 31.020), (121.298, 31.048),
    (121.308, 31.075), (121.300, 31.100), (121.285, 31.125), (121.275, 31.150), (121.268, 31.175),
]


@dataclass(frozen=True)
class Scale:
    cell_lat: float  # lattice step (degrees of latitude); longitude step keeps cells square in metres
    officers: tuple[int, int]  # officers per squad (min, max)
    deputy_leaders: bool  # a 副中队长 beside each 中队长
    bureau_staff: dict  # department code → number of people (besides the demo logins)
    grids_per_community: int


SCALES = {
    "small": Scale(cell_lat=0.032, officers=(2, 2), deputy_leaders=False, grids_per_community=3,
                   bureau_staff={"FZK": 1, "ASZX": 1, "ZHZX": 1, "DCK": 1, "BGS": 1, "XXK": 0, "LEAD": 1}),
    "district": Scale(cell_lat=0.0025, officers=(35, 48), deputy_leaders=True, grids_per_community=30,
                      bureau_staff={"FZK": 6, "ASZX": 5, "ZHZX": 10, "DCK": 6, "BGS": 8, "XXK": 3, "LEAD": 5}),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉萍红娟建文辉力鹏宇浩凯俊峰斌晨婷雪琳晶颖佳欣怡嘉子思"
    "轩宏志国海波林春东晓燕丹云亮龙飞成新民兵鑫毅健彬楠蕾倩慧莉瑞博天昊然泽睿诚立荣德永庆松振忠卫清"
)
COMMUNITY_HEAD = "春景古平万华东梅罗银莲虹航纪许诸北龙友新爱金九联向中兴安康乐宁和丰盛锦富民光宝田晨江永德"
COMMUNITY_TAIL = "申谷美阳源一兰陇城都花华王泾翟横柏桥谊苑汇星明春盛新和安康乐泰庭园林湾湖港"


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent: str | None
    division_code: str = ""
    sort_order: int = 0
    jurisdiction: dict | None = None


@dataclass(frozen=True)
class GridSpec:
    code: str
    name: str
    squad: str  # unit code
    community: str
    boundary: dict


@dataclass(frozen=True)
class StaffSpec:
    username: str
    real_name: str
    staff_number: str
    unit: str  # unit code
    roles: tuple[str, ...]
    phone: str
    certificate_number: str = ""
    certificate_valid_from: dt.date | None = None
    certificate_valid_to: dt.date | None = None
    has_legal_qualification: bool = False
    is_superuser: bool = False


@dataclass
class DemoPlan:
    scale: str
    seed: int
    today: dt.date
    units: list[UnitSpec] = field(default_factory=list)
    grids: list[GridSpec] = field(default_factory=list)
    staff: list[StaffSpec] = field(default_factory=list)

    def digest(self) -> str:
        return plan_digest(self.units, self.grids, self.staff)


def plan_digest(units, grids, staff) -> str:
    """SHA-256 over every unit, grid and person (sorted by code / username)."""
    payload = {
        "units": sorted((asdict(u) for u in units), key=lambda u: u["code"]),
        "grids": sorted((asdict(g) for g in grids), key=lambda g: g["code"]),
        "staff": sorted((asdict(s) for s in staff), key=lambda s: s["username"]),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- geometry ---------------------------------------------------------------------------------

def _snap(geom):
    return shapely.set_precision(geom, PRECISION)


def _geojson(geom) -> dict:
    """GeoJSON with coordinates rounded to the lattice (lists, not tuples, as stored in JSON)."""
    def ring(coords):
        return [[round(x, 7), round(y, 7)] for x, y in coords]

    def polygon(p):
        return [ring(p.exterior.coords)] + [ring(r.coords) for r in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": polygon(geom)}
    return {"type": "MultiPolygon", "coordinates": [polygon(p) for p in geom.geoms]}


def _polygons(geom) -> list[Polygon]:
    if geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon" and not g.is_empty]


def _jurisdictions(rng: random.Random) -> tuple[Polygon, list]:
    outline = _snap(Polygon(OUTLINE))
    seeds = []
    for _, _, _, (lon, lat) in STREETS:
        while True:  # jitter each centre by up to ~0.6 km, staying inside the outline
            p = Point(lon + rng.uniform(-0.006, 0.006), lat + rng.uniform(-0.006, 0.006))
            if outline.contains(p):
                seeds.append(p)
                break
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline, ordered=True)
    return outline, [shapely.intersection(c, outline, grid_size=PRECISION) for c in cells.geoms]


def _hilbert(order: int, x: int, y: int) -> int:
    """Position of (x, y) on a Hilbert curve over a 2^order square: consecutive positions are
    neighbours, so runs of it make compact communities."""
    n, d, s = 1 << order, 0, 1 << (order - 1)
    while s > 0:
        rx, ry = int(x & s > 0), int(y & s > 0)
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = n - 1 - x, n - 1 - y
            x, y = y, x
        s //= 2
    return d


def _tile(jurisdiction, lattice, min_share: float = 0.3) -> list[tuple[Polygon, int, int]]:
    """Squares of the lattice clipped to one jurisdiction; pieces smaller than `min_share` of a
    full square are merged into the neighbour they share the longest edge with (or dropped if
    they have none and are tiny)."""
    x0, y0, dx, dy = lattice
    minx, miny, maxx, maxy = jurisdiction.bounds
    cols = range(math.floor((minx - x0) / dx), math.ceil((maxx - x0) / dx))
    rows = range(math.floor((miny - y0) / dy), math.ceil((maxy - y0) / dy))
    keys = [(r, c) for r in rows for c in cols]
    squares = np.array([box(x0 + c * dx, y0 + r * dy, x0 + (c + 1) * dx, y0 + (r + 1) * dy) for r, c in keys])
    shapely.prepare(jurisdiction)
    hits = shapely.intersects(jurisdiction, squares)
    clipped = shapely.intersection(squares[hits], jurisdiction, grid_size=PRECISION)
    pieces = [
        [poly, r, c]
        for (r, c), geom in zip([k for k, h in zip(keys, hits, strict=True) if h], clipped, strict=True)
        for poly in _polygons(geom)
        if poly.area > 0
    ]
    full = dx * dy
    kept = []  # small pieces with no neighbour to join: a grid of their own
    while True:
        small = [i for i, p in enumerate(pieces) if p[0].area < min_share * full]
        if not small:
            break
        i = min(small, key=lambda k: (pieces[k][0].area, pieces[k][1], pieces[k][2]))
        sliver = pieces.pop(i)
        shared = shapely.length(shapely.intersection(sliver[0].boundary, [p[0].boundary for p in pieces]))
        if len(pieces) and shared.max() > 0:
            j = int(np.argmax(shared))
            merged = shapely.union(pieces[j][0], sliver[0], grid_size=PRECISION)
            if merged.geom_type == "Polygon":
                pieces[j][0] = merged
                continue
        if sliver[0].area >= 0.05 * full:  # smaller isolated crumbs are not worth a grid
            kept.append(sliver)
    return [(p, r, c) for p, r, c in pieces + kept]


def _community_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(COMMUNITY_HEAD) + rng.choice(COMMUNITY_TAIL)
        if name not in used and name[0] != name[1]:
            used.add(name)
            return name


# --- people -----------------------------------------------------------------------------------

def person_name(rng: random.Random) -> str:
    # Low-rank surnames are far more common: square the uniform draw to favour the front.
    surname = SURNAMES[int(rng.random() ** 2 * len(SURNAMES))]
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return surname + given


def fake_phone(rng: random.Random) -> str:
    return f"1{rng.choice('358')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"


def point_in(rng: random.Random, geom) -> tuple[float, float]:
    """A random point strictly inside a grid polygon (never on an edge shared with a
    neighbour), so the grid it was drawn in is the one `geo.locate` answers."""
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(100):
        lon, lat = round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6)
        if shapely.contains_xy(geom, lon, lat):
            return lon, lat
    point = geom.representative_point()
    return round(point.x, 6), round(point.y, 6)


# --- the plan ---------------------------------------------------------------------------------

def build_plan(scale: str = "small", seed: int = 1, today: dt.date | None = None) -> DemoPlan:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; use one of {sorted(SCALES)}")
    conf = SCALES[scale]
    today = today or timezone.localdate()
    rng = random.Random(f"chengguan-demo-{scale}-{seed}")
    plan = DemoPlan(scale=scale, seed=seed, today=today)

    outline, cells = _jurisdictions(rng)
    dy = conf.cell_lat
    dx = dy / math.cos(math.radians(outline.centroid.y))
    minx, miny, _, _ = outline.bounds
    lattice = (round(minx - rng.uniform(0, dx), 6), round(miny - rng.uniform(0, dy), 6), dx, dy)

    used_names: set[str] = set()
    squad_codes, squad_geoms, brigade_geoms = {}, {}, {b: [] for b, _ in BRIGADES}
    for (street, street_code, brigade, _), cell in zip(STREETS, cells, strict=True):
        code = f"{BUREAU_CODE}-Z{street_code}"
        squad_codes[street] = code
        pieces = _tile(cell, lattice)
        # communities: runs along a Hilbert curve through the lattice
        r0, c0 = min(p[1] for p in pieces), min(p[2] for p in pieces)
        pieces.sort(key=lambda p: _hilbert(16, p[2] - c0, p[1] - r0))
        is_town = street.endswith("镇")
        n_comm = max(1, math.ceil(len(pieces) / conf.grids_per_community))
        size = math.ceil(len(pieces) / n_comm)
        next_code = {"社区": 1, "村": 201}
        for k in range(n_comm):
            suffix = "村" if is_town and rng.random() < 0.35 else "社区"
            community = _community_name(rng, used_names) + suffix
            comm_code = f"{next_code[suffix]:03d}"
            next_code[suffix] += 1
            for serial, (poly, _, _) in enumerate(pieces[k * size:(k + 1) * size], start=1):
                plan.grids.append(GridSpec(
                    code=f"{DISTRICT_CODE}{street_code}{comm_code}{serial:02d}",
                    name=f"{community}{serial:02d}号网格",
                    squad=code,
                    community=community,
                    boundary=_geojson(poly),
                ))
        squad_geoms[code] = shapely.union_all([p for p, _, _ in pieces], grid_size=PRECISION)
        brigade_geoms[brigade].append(squad_geoms[code])

    # units, parents first
    district = shapely.union_all(list(squad_geoms.values()), grid_size=PRECISION)
    plan.units.append(UnitSpec(BUREAU_CODE, "闵行区城市管理行政执法局", OrgUnitKind.BUREAU, None,
                               division_code=DISTRICT_CODE, jurisdiction=_geojson(district)))
    for order, (dep_code, name) in enumerate(DEPARTMENTS, start=1):
        plan.units.append(UnitSpec(f"{BUREAU_CODE}-{dep_code}", name, OrgUnitKind.DEPARTMENT, BUREAU_CODE,
                                   sort_order=order))
    for b, name in BRIGADES:
        plan.units.append(UnitSpec(
            f"{BUREAU_CODE}-D{b}", name, OrgUnitKind.BRIGADE, BUREAU_CODE, sort_order=10 + b,
            jurisdiction=_geojson(shapely.union_all(brigade_geoms[b], grid_size=PRECISION)),
        ))
    for order, (street, street_code, brigade, _) in enumerate(STREETS, start=1):
        code = squad_codes[street]
        plan.units.append(UnitSpec(
            code, f"{street}中队", OrgUnitKind.SQUAD, f"{BUREAU_CODE}-D{brigade}",
            division_code=f"{DISTRICT_CODE}{street_code}000", sort_order=order,
            jurisdiction=_geojson(squad_geoms[code]),
        ))

    _plan_staff(plan, conf, rng, squad_codes)
    return plan


def _plan_staff(plan: DemoPlan, conf: Scale, rng: random.Random, squad_codes: dict) -> None:
    today = plan.today
    unit_by_name = {u.name: u.code for u in plan.units}
    counter = iter(range(1, 100_000))

    def certificate(serial: int, demo: bool) -> dict:
        start = today - dt.timedelta(days=rng.randint(60, 5 * 365))
        end = start + dt.timedelta(days=6 * 365)
        draw = rng.random()
        if demo:
            end = max(end, today + dt.timedelta(days=3 * 365))
        elif draw < 0.03:  # a few expired: they may not act as enforcement officers
            end = today - dt.timedelta(days=rng.randint(1, 180))
        elif draw < 0.08:  # a few expiring within two months: the dashboard warns
            end = today + dt.timedelta(days=rng.randint(1, 60))
        return {
            "certificate_number": f"{DISTRICT_CODE}{serial:05d}",
            "certificate_valid_from": start,
            "certificate_valid_to": end,
        }

    def add(unit: str, roles, *, username=None, real_name=None, certified=True, legal=False, superuser=False):
        serial = next(counter)
        spec = StaffSpec(
            username=username or f"mh{serial:05d}",
            real_name=real_name or person_name(rng),
            staff_number=f"MH{serial:05d}",
            unit=unit,
            roles=tuple(sorted(str(r) for r in roles)),
            phone=fake_phone(rng),
            has_legal_qualification=legal,
            is_superuser=superuser,
            **(certificate(serial, demo=username is not None) if certified else {}),
        )
        plan.staff.append(spec)

    for login in DEMO_LOGINS:
        role = login["role"]
        add(unit_by_name[login["unit"]], [role], username=login["username"], real_name=login["real_name"],
            certified=role not in (RoleCode.DISPATCHER, RoleCode.ADMIN),
            legal=role in (RoleCode.LEGAL_REVIEWER, RoleCode.CASE_REVIEW), superuser=role == RoleCode.ADMIN)

    bureau = conf.bureau_staff
    dep = f"{BUREAU_CODE}-"
    for _ in range(bureau["LEAD"]):
        add(BUREAU_CODE, [RoleCode.LEADER])
    for _ in range(bureau["FZK"]):
        add(dep + "FZK", [RoleCode.LEGAL_REVIEWER], legal=rng.random() < 0.6)
    for _ in range(bureau["ASZX"]):
        add(dep + "ASZX", [RoleCode.CASE_REVIEW], legal=rng.random() < 0.5)
    for _ in range(bureau["ZHZX"]):
        add(dep + "ZHZX", [RoleCode.DISPATCHER], certified=False)
    for _ in range(bureau["DCK"]):
        add(dep + "DCK", [RoleCode.SUPERVISOR])
    for _ in range(bureau["BGS"]):
        add(dep + "BGS", [], certified=False)  # office staff: a login, no business role
    for _ in range(bureau["XXK"]):
        add(dep + "XXK", [RoleCode.ADMIN], certified=False)
    for b, _ in BRIGADES:
        add(f"{BUREAU_CODE}-D{b}", [RoleCode.LEGAL_REVIEWER], legal=True)  # the brigade's 法制员
    for street, *_ in STREETS:
        squad = squad_codes[street]
        add(squad, [RoleCode.SQUAD_LEADER])
        if conf.deputy_leaders:
            add(squad, [RoleCode.SQUAD_LEADER])
        for _ in range(rng.randint(*conf.officers)):
            add(squad, [RoleCode.OFFICER])


# --- writing to the database ----------------------------------------------------------------

@lru_cache(maxsize=4)
def _password_hash(hasher: str) -> str:
    """Hash the demo password once per process (PBKDF2 is slow by design); `hasher` keys the
    cache so a change of PASSWORD_HASHERS is honoured."""
    from django.contrib.auth.hashers import make_password

    return make_password(DEMO_PASSWORD)


def seed_database(plan: DemoPlan, *, progress=None) -> dict:
    """Write `plan` into an empty database in one transaction. Units go through
    `create_org_unit`; grids and staff through the audited `bulk_create` (one audit event per
    record, plus one `staff.roles` event per person), for speed at district scale."""
    from django.conf import settings
    from django.db import transaction

    from . import audit, geo
    from .models import Grid, Role, User
    from .services import create_org_unit, grid_area_m2, validate_polygon

    say = progress or (lambda message: None)
    with transaction.atomic():
        units = {}
        for spec in plan.units:
            units[spec.code] = create_org_unit(
                by=None, name=spec.name, code=spec.code, kind=spec.kind, parent=units.get(spec.parent),
                jurisdiction=spec.jurisdiction, division_code=spec.division_code, sort_order=spec.sort_order,
            )
        say(f"组织机构 {len(units)} 个")

        grids = []
        for spec in plan.grids:
            validate_polygon(spec.boundary, "boundary")
            grids.append(Grid(code=spec.code, name=spec.name, squad=units[spec.squad], community=spec.community,
                              boundary=spec.boundary, area_m2=round(grid_area_m2(spec.boundary), 1)))
        Grid.objects.bulk_create(grids, batch_size=500, audit_action="grid.create")
        say(f"单元网格 {len(grids)} 个")

        password = _password_hash(settings.PASSWORD_HASHERS[0])
        people = [
            User(username=s.username, real_name=s.real_name, staff_number=s.staff_number, phone=s.phone,
                 org_unit=units[s.unit], certificate_number=s.certificate_number,
                 certificate_valid_from=s.certificate_valid_from, certificate_valid_to=s.certificate_valid_to,
                 has_legal_qualification=s.has_legal_qualification, is_superuser=s.is_superuser,
                 is_staff=s.is_superuser, password=password)
            for s in plan.staff
        ]
        User.objects.bulk_create(people, batch_size=500, audit_action="staff.create")
        for code in RoleCode.values:
            Role.objects.get_or_create(code=code)
        through = User.roles.through
        through.objects.bulk_create(
            [through(user_id=u.pk, role_id=r) for u, s in zip(people, plan.staff, strict=True) for r in s.roles],
            batch_size=1000,
        )
        audit.record_many("staff.roles", [
            (u, {"roles": []}, {"roles": sorted(s.roles)}) for u, s in zip(people, plan.staff, strict=True) if s.roles
        ])
        say(f"工作人员 {len(people)} 名")
    geo.invalidate_index()
    return {"units": len(units), "grids": len(grids), "staff": len(people)}


def database_digest() -> str:
    """The digest of what the database holds, comparable with `DemoPlan.digest()`."""
    from .models import Grid, OrgUnit, User

    units = [
        UnitSpec(u.code, u.name, u.kind, u.parent.code if u.parent_id else None, u.division_code, u.sort_order,
                 u.jurisdiction)
        for u in OrgUnit.objects.select_related("parent")
    ]
    grids = [GridSpec(g.code, g.name, g.squad.code, g.community, g.boundary) for g in Grid.objects.select_related("squad")]
    staff = [
        StaffSpec(u.username, u.real_name, u.staff_number, u.org_unit.code,
                  tuple(sorted(r.code for r in u.roles.all())), u.phone, u.certificate_number,
                  u.certificate_valid_from, u.certificate_valid_to, u.has_legal_qualification, u.is_superuser)
        for u in User.objects.select_related("org_unit").prefetch_related("roles")
    ]
    return plan_digest(units, grids, staff)
