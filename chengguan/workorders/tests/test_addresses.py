import io
import random
import re

import pytest
from django.core.exceptions import PermissionDenied

from chengguan.core import geo
from chengguan.core.testing import make_user
from chengguan.workorders.models import AddressEntry
from chengguan.workorders.services import addresses
from chengguan.workorders.services.addresses import (
    MIN_SCORE,
    AddressIndex,
    import_addresses,
    match,
    match_many,
    normalize,
    similarity,
)


@pytest.mark.parametrize(("raw", "key"), [
    ("上海市闵行区莘庄镇沁春路一百二十三号", "莘庄镇沁春路123号"),
    ("莘庄镇 沁春路１２３號", "莘庄镇沁春路123号"),
    ("闵行区春申小区5幢201室", "春申小区5号楼201室"),
    ("春申小区五栋二单元", "春申小区5号楼2单元"),
    ("5#楼3单元", "5号楼3单元"),
    ("上海市浦东新区张江路100-2号", "张江路100-2号"),
    ("三号桥路二十弄", "3号桥路20弄"),
    ("沁春路一〇五号", "沁春路105号"),
    ("上海闵行区七宝镇", "七宝镇"),
    ("江苏省苏州市工业园区星湖街1号", "工业园区星湖街1号"),
    ("Block Ａ座（东）", "blocka座东"),
])
def test_normalize(raw, key):
    assert normalize(raw) == key


@pytest.mark.parametrize("raw", [
    "春申小区5号",  # a 小区 is no district
    "莘庄工业区春中路88号",
    "华联超市沁春路店",  # nor is a 超市 a city
    "农贸市场东门",
    "市光路100号",
    "七宝镇申市新村30号楼",
])
def test_normalize_keeps_places_that_only_look_like_divisions(raw):
    assert normalize(raw) == raw


def test_normalize_keeps_a_division_name_that_is_the_whole_address():
    assert normalize("上海市闵行区") == "闵行区"
    assert normalize("  ，。") == ""


def test_house_numbers_weigh_more_than_the_words_around_them():
    def score(a, b):
        return similarity(normalize(a), normalize(b))

    assert score("沁春路100号", "沁春路100号") == 1.0
    # the town, a trailing 附近, a room number or a missing 号 barely matter …
    assert score("莘庄镇沁春路100号", "沁春路100号") >= MIN_SCORE
    assert score("沁春路100号附近", "沁春路100号") >= MIN_SCORE
    assert score("沁春路100号1201室", "沁春路100号") >= MIN_SCORE
    assert score("沁春路100", "沁春路100号") >= MIN_SCORE
    # … another house, lane or road does
    assert score("莘庄镇沁春路100号", "沁春路101号") < 0.5
    assert score("沁春路100弄5号", "沁春路100弄6号") < 0.5
    assert score("沁春路611弄24号", "沁春路24号") < MIN_SCORE
    assert score("春申路100号", "沁春路100号") < MIN_SCORE
    # a road-only entry does not place a numbered house
    assert score("沁春路100号", "沁春路") < MIN_SCORE


# --- a generated district list ------------------------------------------------------------------------

NAME_CHARS = "沁春莘庄七宝古美虹桥梅陇吴泾华漕浦江颛桥马桥江川都市银都锦绣莲花平阳罗阳航华景谷龙茗申滨金雨新淮海复兴东西南北中业富康宁安乐民和红星光明建设人解放友谊团结朝文化青年学院"
TOWNS = ["莘庄镇", "七宝镇", "梅陇镇", "虹桥镇", "颛桥镇", "马桥镇", "吴泾镇", "浦江镇", "江川路街道", "古美路街道",
         "新虹街道", "华漕镇", "浦锦街道"]


def district_list(n: int, seed: int = 1) -> list[str]:
    """n distinct addresses: numbered houses, lanes and estates on ~1,500 roads, each road in one town."""
    rnd = random.Random(seed)
    roads = set()
    while len(roads) < 1500:
        roads.add(rnd.choice(NAME_CHARS) + rnd.choice(NAME_CHARS) + rnd.choice(["路", "路", "街", "大道", "公路"]))
    roads = sorted(roads)
    town_of = {road: rnd.choice(TOWNS) for road in roads}
    seen, result = set(), []
    while len(result) < n:
        road = rnd.choice(roads)
        kind = rnd.random()
        if kind < 0.6:
            address = f"{town_of[road]}{road}{rnd.randint(1, 1500)}号"
        elif kind < 0.85:
            address = f"{town_of[road]}{road}{rnd.randint(1, 800)}弄{rnd.randint(1, 60)}号"
        else:
            estate = rnd.choice(NAME_CHARS) + rnd.choice(NAME_CHARS) + rnd.choice(["小区", "花园", "苑", "新村"])
            address = f"{town_of[road]}{estate}{rnd.randint(1, 40)}号楼"
        if normalize(address) not in seen:
            seen.add(normalize(address))
            result.append(address)
    return result


@pytest.fixture(scope="module")
def generated():
    listed = district_list(30_000)
    return listed, AddressIndex((i, normalize(a)) for i, a in enumerate(listed))


def _variant(address: str, rnd: random.Random) -> str:
    """The same place as people write it: with the city and district, without the town,
    with 附近 or traditional characters and full-width digits."""
    choice = rnd.randrange(4)
    if choice == 0:
        return "上海市闵行区" + address
    if choice == 1:
        return re.sub(r"^.*?(镇|街道)", "", address)
    if choice == 2:
        return address + "附近"
    return address.replace("号", "號").translate(str.maketrans("0123456789", "０１２３４５６７８９")) + " 东侧"


def test_generated_list_variants_find_their_address(generated):
    listed, index = generated
    rnd = random.Random(7)
    picks = rnd.sample(range(len(listed)), 1000)
    found = [index.search(normalize(_variant(listed[i], rnd))) for i in picks]
    right = sum(1 for i, best in zip(picks, found, strict=True) if best and best[0][1] == i and best[0][0] >= MIN_SCORE)
    assert right / len(picks) >= 0.99


def test_generated_list_unlisted_house_numbers_match_nothing(generated):
    listed, index = generated
    keys = set(index.keys)
    rnd = random.Random(8)
    tried = wrong = 0
    for address in rnd.sample(listed, 1000):
        number = re.search(r"(\d+)号$", address)
        if number is None:  # an estate's building
            continue
        neighbour = address[:number.start(1)] + str(int(number.group(1)) + 1) + "号"
        if normalize(neighbour) in keys:
            continue
        tried += 1
        best = index.search(normalize(neighbour))
        wrong += bool(best and best[0][0] >= MIN_SCORE)
    assert tried > 500
    assert wrong / tried <= 0.01


def test_index_edge_cases():
    index = AddressIndex([])
    assert index.search("沁春路100号") == []
    index = AddressIndex([(1, "沁春路100号")])
    assert index.search("") == []
    assert index.search("完全无关") == []
    assert index.search("沁春路100号") == [(1.0, 0)]


# --- the list in the database -------------------------------------------------------------------------

@pytest.fixture
def admin(db):
    return make_user(None, None, is_superuser=True)


ROWS = [
    {"地址": "上海市闵行区莘庄镇沁春路100号", "经度": 121.385, "纬度": 31.111},
    {"地址": "莘庄镇沁春路102号", "经度": "121.386", "纬度": "31.112"},
    {"地址": "七宝镇漕宝路1500弄3号", "经度": 121.352, "纬度": 31.160},
]


def test_import_then_match_exact_fuzzy_and_nothing(admin):
    result = import_addresses(ROWS, by=admin)
    assert result.ok and (result.created, result.updated, result.unchanged) == (3, 0, 0)
    entry = AddressEntry.objects.get(normalized="莘庄镇沁春路100号")
    assert entry.address == "上海市闵行区莘庄镇沁春路100号"

    exact = match("闵行区莘庄镇沁春路一百号")
    assert exact.exact and exact.score == 1.0 and exact.entry == entry
    fuzzy = match("沁春路100号门口东侧")
    assert fuzzy and not fuzzy.exact and fuzzy.entry == entry and MIN_SCORE <= fuzzy.score < 1.0
    assert (fuzzy.entry.lon, fuzzy.entry.lat) == (121.385, 31.111)
    assert match("沁春路101号") is None  # the neighbour is not listed: a dispatcher places it
    assert match("") is None

    many = match_many(["沁春路102号", "漕宝路1500弄3号", "不知道在哪里", "莘庄镇沁春路100号"])
    assert [m and m.entry.normalized for m in many] == ["莘庄镇沁春路102号", "七宝镇漕宝路1500弄3号", None,
                                                        "莘庄镇沁春路100号"]
    assert [m and m.exact for m in many] == [False, False, None, True]


def test_reimport_updates_coordinates_and_the_index_follows_the_table(admin):
    import_addresses(ROWS[:2], by=admin)
    assert match("沁春路100号附近").entry.lon == 121.385
    result = import_addresses([
        {"地址": "莘庄镇沁春路100号", "经度": 121.3851, "纬度": 31.1112},  # same key, moved
        ROWS[1],  # unchanged
        {"地址": "梅陇镇莲花南路88号", "经度": 121.41, "纬度": 31.13},  # new
    ], by=admin)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert AddressEntry.objects.count() == 3
    moved = match("沁春路100号附近").entry
    assert (moved.lon, moved.lat) == (121.3851, 31.1112)
    assert moved.address == "莘庄镇沁春路100号"
    assert match("莲花南路88号").entry.normalized == "梅陇镇莲花南路88号"  # new entries are seen at once
    moved.delete(actor=admin)
    assert match("沁春路100号附近") is None  # so are deletions


def test_import_reports_every_error_with_its_row_and_saves_nothing(admin):
    result = import_addresses([
        ROWS[0],
        {"地址": "", "经度": 121.3, "纬度": 31.1},
        {"地址": "沁春路5号", "经度": "东经121", "纬度": 31.1},
        {"地址": "沁春路6号", "经度": 121.3, "纬度": 131.1},
        {"地址": "沁春路7号", "经度": 121.3},
        {"地址": "沁春路8号", "经度": 121.3, "纬度": 31.1, "坐标系": "百度"},
        {"地址": "闵行区莘庄镇沁春路一百号", "经度": 121.0, "纬度": 31.0},
    ], by=admin)
    assert not result.ok
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (2, "地址", "required"),
        (3, "经度", "invalid_coordinates"),
        (4, "纬度", "invalid_coordinates"),
        (5, "纬度", "required"),
        (6, "坐标系", "invalid_crs"),
        (7, "地址", "duplicate_row"),
    ]
    assert "第 1 行" in result.errors[-1].message
    assert not AddressEntry.objects.exists()


def test_import_converts_gcj02(admin):
    gcj = geo.wgs84_to_gcj02(121.385, 31.111)
    result = import_addresses([{"address": "沁春路100号", "lon": gcj[0], "lat": gcj[1], "crs": "GCJ-02"}], by=admin)
    assert result.ok
    entry = AddressEntry.objects.get()
    assert entry.lon == pytest.approx(121.385, abs=1e-7) and entry.lat == pytest.approx(31.111, abs=1e-7)


def _workbook(rows) -> io.BytesIO:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_import_xlsx_uses_excel_row_numbers(admin):
    good = _workbook([["地址", "经度", "纬度", "坐标系"], ["沁春路100号", 121.385, 31.111, "WGS-84"], [None, None],
                      ["沁春路102号", 121.386, 31.112, None]])
    assert import_addresses(good, by=admin).created == 2
    bad = _workbook([["地址", "经度", "纬度"], ["沁春路104号", 121.385, 31.111], ["沁春路106号", 121.3, None]])
    result = import_addresses(bad, by=admin)
    assert [(e.row, e.field) for e in result.errors] == [(3, "纬度")]
    assert AddressEntry.objects.count() == 2
    result = import_addresses(_workbook([["地点", "经度"]]), by=admin)
    assert result.errors[0].code == "wrong_columns" and "地址" in result.errors[0].message
    assert import_addresses(io.BytesIO(b"not a workbook"), by=admin).errors[0].code == "invalid_file"


def test_import_needs_the_permission(db):
    with pytest.raises(PermissionDenied):
        import_addresses(ROWS, by=make_user(None, None))
    assert not AddressEntry.objects.exists()


def test_a_stale_index_from_another_process_is_noticed(admin):
    import_addresses(ROWS[:1], by=admin)
    assert match("沁春路100号附近") is not None
    # Another process re-keyed the entry; this process's index still has the old key.
    entry = AddressEntry.objects.get()
    entry.normalized = "别处路1号"
    entry.save()
    addresses._stale = False  # the save signal ran in this process; pretend it ran elsewhere
    assert match("沁春路100号附近") is None
