"""The district's address list (标准地址库) and fuzzy matching of Chinese addresses.

An order that arrives without coordinates is located from its address: `match(text)` finds the
list entry it names, and the caller routes it with `core.geo.place_fields(entry.lon, entry.lat)`
(grid and squad lookup stay in core.geo). No match scoring at least `MIN_SCORE` → None, and the
order waits for a dispatcher.

Matching:

* `normalize()` turns an address into its key: NFKC, no spaces or punctuation, traditional
  variants unified, Chinese numerals before an address unit as digits (一百二十三号 → 123号), and
  leading province / city / district names dropped (the list is one district's). A looked-up
  address also loses trailing where-about words (门口, 东侧, 附近: `query_key`).
* An exact key is one indexed query (`AddressEntry.normalized` is unique).
* Otherwise an in-process inverted index proposes candidates: its terms are the character
  bigrams of the key with every digit run folded to "#" (the "skeleton": 沁春路#号) plus each
  house number on its own; a query's terms are weighted by rarity (idf), postings summed with one
  numpy `bincount`, and only the best `CANDIDATES` entries are scored exactly.
* The exact score is skeleton similarity (mean of Dice and the overlap coefficient, so a query
  that adds or omits the town, or says 附近, still scores high) times a house-number factor: a
  different number with the same unit (100号 vs 101号) cuts the score to well below the
  threshold, a number the entry lacks (a road-only entry for a query with a house number)
  lowers it too, extra room numbers barely matter.

The index is built lazily (about 1 s per 100,000 addresses) and rebuilt when the table changes:
local saves and deletes (signals) and imports mark it stale at once; other processes' inserts
are seen by comparing the table's highest id at most every `CHECK_SECONDS`; an entry that was
deleted or rewritten elsewhere is noticed when fetched (its key no longer agrees), which
rebuilds the index and retries once.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save

from chengguan.core import geo
from chengguan.core.errors import ValidationFailed
from chengguan.core.imports import ImportResult, RowError

from ..models import AddressEntry

# Below this score an address is not trusted to place an order (a dispatcher does). Chosen on
# generated lists: the same address written differently scores ≥ 0.8, a neighbouring house
# number on the same road ≤ 0.45, a road-only entry for a numbered address ≈ 0.66.
MIN_SCORE = 0.75
CANDIDATES = 30  # entries scored exactly per fuzzy query
CHECK_SECONDS = 5.0  # how often another process's inserts are looked for
MAX_IMPORT_ROWS = 200_000
MAX_ADDRESS = 255

# --- normalisation --------------------------------------------------------------------------------

# Traditional / variant forms common in addresses (NFKC already folds full-width forms).
_VARIANTS = str.maketrans({
    "號": "号", "區": "区", "縣": "县", "鎮": "镇", "鄉": "乡", "東": "东", "門": "门", "樓": "楼",
    "層": "层", "園": "园", "廣": "广", "場": "场", "莊": "庄", "橋": "桥", "灣": "湾", "華": "华",
    "國": "国", "興": "兴", "龍": "龙", "陽": "阳", "豐": "丰", "產": "产", "廠": "厂", "單": "单",
    "館": "馆", "寧": "宁", "蘇": "苏", "閔": "闵", "匯": "汇", "長": "长", "寶": "宝", "靜": "静",
    "黃": "黄", "陳": "陈", "衖": "弄", "弍": "二", "貳": "二", "壹": "一", "叁": "三",
    "參": "三", "肆": "四", "伍": "五", "陸": "六", "柒": "七", "捌": "八", "玖": "九", "拾": "十",
    "佰": "百", "仟": "千", "○": "〇", "—": "-", "–": "-", "‐": "-", "−": "-", "~": "-", "～": "-",
})
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# Units after which a number is part of the address (house, lane, building, room, …).
_UNIT = r"(?:号楼|支弄|单元|号|弄|栋|幢|楼|层|室|组|巷|座)"
_CN_NUMBER_RE = re.compile(rf"[零〇一二两三四五六七八九十百千]+(?={_UNIT})")
_BUILDING_RE = re.compile(r"(\d+)(?:栋|幢)")
_HASH_RE = re.compile(r"(\d+)#")
_DASH_RE = re.compile(r"(?<=\d)-(?=\d)")

# A division's name never holds these characters, so a prefix never swallows a town or road.
_NAME = r"(?:(?![省市区县镇乡村路街道号弄巷])[\u4e00-\u9fff])"
_PROVINCE_RE = re.compile(rf"(?:{_NAME}{{2,3}}省|{_NAME}{{2,8}}?自治区|(?:北京|上海|天津|重庆)市)")
_CITY_RE = re.compile(rf"{_NAME}{{2,4}}?市(?![场路街道弄巷])")
_DISTRICT_RE = re.compile(rf"{_NAME}{{2,4}}?(?:新区|区|县)")
# Words ending in 市 / 区 that name a place inside a district, never the district itself.
_NOT_CITY = ("菜市", "超市", "夜市", "集市", "门市", "街市", "贸市", "城市")
_NOT_DISTRICT = tuple(c + "区" for c in "小社园景校厂街营矿港业发税验片辖活舍务宅能范作聚城老军市郊山库林牧站馆院场楼苑")


def _cn_to_int(text: str) -> int | None:
    """一百二十三 → 123, 十五 → 15, 一〇五 → 105 (digit by digit); None when not a number."""
    if not any(c in _CN_UNITS for c in text):
        return int("".join(str(_CN_DIGITS[c]) for c in text)) if all(c in _CN_DIGITS for c in text) else None
    total, digit, last_unit = 0, None, 10_000
    for c in text:
        if c in _CN_DIGITS:
            if digit is not None and _CN_DIGITS[c] != 0:
                return None  # 二三十: two digits in a row before a unit
            digit = _CN_DIGITS[c] or None
        else:
            unit = _CN_UNITS[c]
            if unit >= last_unit:
                return None  # 十百: units must fall
            total += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    return total + (digit or 0)


def _cn_numbers(match: re.Match) -> str:
    value = _cn_to_int(match.group())
    return match.group() if value is None else str(value)


def _clean(text) -> str:
    text = unicodedata.normalize("NFKC", "" if text is None else str(text)).translate(_VARIANTS).lower()
    text = _CN_NUMBER_RE.sub(_cn_numbers, text)
    text = _HASH_RE.sub(r"\1号", text)  # 5#楼 → 5号楼
    text = _DASH_RE.sub("\x00", text)  # keep 100-2 apart from 1002 through the punctuation strip
    text = "".join(c for c in text if c == "\x00" or unicodedata.category(c)[0] in "LN")
    text = _BUILDING_RE.sub(r"\1号楼", text.replace("\x00", "-"))  # 3栋 / 3幢 / 3号楼 are one thing
    return text


def _strip_admin(text: str) -> str:
    for pattern, refused in ((_PROVINCE_RE, ()), (_CITY_RE, _NOT_CITY), (_DISTRICT_RE, _NOT_DISTRICT)):
        found = pattern.match(text)
        if found and found.end() < len(text) and not found.group().endswith(refused):
            text = text[found.end():]
    return text


def normalize(text) -> str:
    """The matching key of an address (see the module docstring)."""
    return _strip_admin(_clean(text))


# Where-about words people add after an address (门口, 东侧, 附近); queries only, never the list.
_LOCATOR_RE = re.compile(
    r"(?:(?:附近|旁边|边上|对面|周边|周围|门口|门前|大门口?|[东西南北]侧|[东西南北]面|[东西南北]边|路口|交叉口|路段|一带|"
    r"那里|这里|前面|后面|楼下|隔壁)+|(?<=[\d号弄室楼层座])[旁处内外前后])+$"
)


def query_key(text) -> str:
    """`normalize` for an address being looked up: trailing where-about words go too."""
    key = normalize(text)
    stripped = _LOCATOR_RE.sub("", key)
    return stripped or key


# --- scoring --------------------------------------------------------------------------------------

_NUMBER_RE = re.compile(rf"(\d+(?:-\d+)*)({_UNIT}?)")
_DIGITS_RE = re.compile(r"\d+(?:-\d+)*")
# Units that place a building on the map; the others (room, floor, …) sit inside one.
_HOUSE_UNITS = frozenset({"号", "弄", "支弄", "号楼", "巷", "组", ""})
# Factors on the text score (the numbers weigh more than any character of the road name):
_CONFLICT = {True: 0.4, False: 0.75}  # same unit, another number: house-level / inside a house
_QUERY_EXTRA = {True: 0.8, False: 0.97}  # the query has a number the entry lacks
_ENTRY_EXTRA = {True: 0.85, False: 0.9}  # the entry is more precise than the query
# A lane (弄) on one side only: 沁春路611弄24号 and 沁春路24号 are different houses.
_LANE_UNITS = frozenset({"弄", "支弄"})
_LANE_MISSING = 0.5


def _skeleton(key: str) -> str:
    return _DIGITS_RE.sub("#", key)


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i:i + 2] for i in range(len(text) - 1)) if len(text) > 1 else frozenset([text])


def _numbers(key: str) -> list[tuple[str, str]]:
    return _NUMBER_RE.findall(key)


@dataclass(frozen=True)
class _Parsed:
    grams: frozenset[str]
    numbers: tuple[tuple[str, str], ...]


def _parse(key: str) -> _Parsed:
    return _Parsed(_bigrams(_skeleton(key)), tuple(_numbers(key)))


def _number_factor(query: tuple, entry: tuple) -> float:
    factor = 1.0
    used = set()
    for value, unit in query:
        house = unit in _HOUSE_UNITS
        same = next((i for i, (v, u) in enumerate(entry) if i not in used and v == value
                     and (u == unit or not u or not unit)), None)
        if same is not None:
            used.add(same)
            continue
        rival = next((i for i, (v, u) in enumerate(entry) if i not in used and u == unit), None)
        if rival is not None:
            used.add(rival)
            factor *= _CONFLICT[house]
        else:
            factor *= _LANE_MISSING if unit in _LANE_UNITS else _QUERY_EXTRA[house]
    for i, (_, unit) in enumerate(entry):
        if i not in used:
            factor *= _LANE_MISSING if unit in _LANE_UNITS else _ENTRY_EXTRA[unit in _HOUSE_UNITS]
    return factor


def _uniform(_term: str) -> float:
    return 1.0


def similarity(a: str, b: str) -> float:
    """Score in 0..1 of two normalised addresses, every bigram weighing the same (the index
    weighs them by rarity); 1.0 only when equal."""
    if a == b:
        return 1.0
    return _score(_parse(a), _parse(b), _uniform)


def _score(query: _Parsed, entry: _Parsed, weight) -> float:
    common = query.grams & entry.grams
    if not common:
        return 0.0
    shared = sum(weight(t) for t in common)
    wq, we = sum(weight(t) for t in query.grams), sum(weight(t) for t in entry.grams)
    dice = 2 * shared / (wq + we)
    overlap = shared / min(wq, we)
    # never 1.0: that means an exact key
    return min(0.999, (dice + overlap) / 2 * _number_factor(query.numbers, entry.numbers))


# --- the in-process index ---------------------------------------------------------------------------

def _terms(key: str) -> set[str]:
    return set(_bigrams(_skeleton(key))) | {"\x01" + value for value, _ in _numbers(key)}


class AddressIndex:
    """Inverted index over (pk, key) pairs: term → positions (numpy), with idf weights."""

    def __init__(self, entries, version=None):
        self.version = version
        self.pks: list[int] = []
        self.keys: list[str] = []
        postings: dict[str, list[int]] = {}
        for pos, (pk, key) in enumerate(entries):
            self.pks.append(pk)
            self.keys.append(key)
            for term in _terms(key):
                postings.setdefault(term, []).append(pos)
        self.by_key = {key: pos for pos, key in enumerate(self.keys)}
        n = max(len(self.keys), 1)
        self.postings = {t: np.fromiter(p, dtype=np.int32, count=len(p)) for t, p in postings.items()}
        self.idf = {t: math.log(1 + n / len(p)) for t, p in postings.items()}
        # A query's words that no entry has (附近, 东侧, a typo) weigh as a fairly rare term.
        self.unknown_idf = math.log(1 + min(n, 100))
        # Terms on more entries than this propose too many candidates to be worth summing (路#, #号).
        self.max_posting = max(2_000, n // 20)

    def __len__(self) -> int:
        return len(self.keys)

    def search(self, key: str, limit: int = 1) -> list[tuple[float, int]]:
        """Best (score, position) pairs for a normalised query, best first."""
        if not key or not self.keys:
            return []
        if key in self.by_key:
            return [(1.0, self.by_key[key])]
        terms = sorted((t for t in _terms(key) if t in self.postings), key=lambda t: len(self.postings[t]))
        if not terms:
            return []
        # The rarest terms always take part; common ones only while they stay cheap.
        chosen = terms[:3] + [t for t in terms[3:] if len(self.postings[t]) <= self.max_posting]
        positions = np.concatenate([self.postings[t] for t in chosen])
        weights = np.concatenate([np.full(len(self.postings[t]), self.idf[t]) for t in chosen])
        votes = np.bincount(positions, weights=weights, minlength=len(self.keys))
        k = min(CANDIDATES, int(np.count_nonzero(votes)))
        top = np.argpartition(-votes, k - 1)[:k] if k < len(votes) else np.arange(len(votes))
        query = _parse(key)
        idf, unknown = self.idf, self.unknown_idf

        def weight(term):
            return idf.get(term, unknown)

        scored = sorted(((_score(query, _parse(self.keys[p]), weight), int(p)) for p in top.tolist()), reverse=True)
        return scored[:limit]


_lock = threading.Lock()
_index: AddressIndex | None = None
_checked_at = -math.inf
_stale = True


def invalidate_index(**_signal_kwargs) -> None:
    """Rebuild the index before the next fuzzy match (a local write changed the list)."""
    global _stale
    _stale = True


# Cache invalidation only: the list's own writes in this process are seen at once.
post_save.connect(invalidate_index, sender=AddressEntry, dispatch_uid="address-index-save")
post_delete.connect(invalidate_index, sender=AddressEntry, dispatch_uid="address-index-delete")


def _table_version():
    return AddressEntry.objects.aggregate(top=Max("pk"))["top"]


def address_index(*, force: bool = False) -> AddressIndex:
    """The current index; rebuilt when stale, forced, or when another process added entries."""
    global _index, _checked_at, _stale
    now = time.monotonic()
    if not (force or _stale) and _index is not None and now - _checked_at < CHECK_SECONDS:
        return _index
    with _lock:
        version = _table_version()
        if force or _stale or _index is None or _index.version != version:
            _stale = False  # before loading: a write while loading marks it stale again
            rows = AddressEntry.objects.order_by("pk").values_list("pk", "normalized").iterator(chunk_size=5000)
            _index = AddressIndex(rows, version=version)
        _checked_at = now
        return _index


# --- matching ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AddressMatch:
    entry: AddressEntry
    score: float  # 0..1; 1.0 for an exact key
    exact: bool


def match(text) -> AddressMatch | None:
    """The list entry an address names, or None (no entry scores `MIN_SCORE`)."""
    return match_many([text])[0]


def match_many(texts) -> list[AddressMatch | None]:
    """`match` for many addresses: one query for the exact keys, one for the fuzzy winners."""
    keys = [query_key(t) for t in texts]
    results: list[AddressMatch | None] = [None] * len(keys)
    wanted = sorted({k for k in keys if k})
    exact = {}
    for start in range(0, len(wanted), 900):
        exact.update((e.normalized, e) for e in AddressEntry.objects.filter(normalized__in=wanted[start:start + 900]))
    fuzzy = []
    for i, key in enumerate(keys):
        if key in exact:
            results[i] = AddressMatch(entry=exact[key], score=1.0, exact=True)
        elif key:
            fuzzy.append(i)
    if fuzzy:
        _fuzzy(keys, fuzzy, results)
    return results


def _fuzzy(keys: list[str], todo: list[int], results: list) -> None:
    for attempt in range(2):
        index = address_index(force=attempt > 0)
        found = {}
        for i in todo:
            best = index.search(keys[i])
            if best and best[0][0] >= MIN_SCORE:
                found[i] = (best[0][0], index.pks[best[0][1]], index.keys[best[0][1]])
        entries = AddressEntry.objects.in_bulk({pk for _, pk, _ in found.values()})
        # An entry deleted or rewritten by another process: the index is stale, rebuild once.
        if attempt == 0 and any(pk not in entries or entries[pk].normalized != key for _, pk, key in found.values()):
            continue
        for i, (score, pk, key) in found.items():
            entry = entries.get(pk)
            if entry is not None and entry.normalized == key:
                results[i] = AddressMatch(entry=entry, score=round(score, 3), exact=False)
        return


# --- import -----------------------------------------------------------------------------------------

# (field, header, required)
COLUMNS = [("address", "地址", True), ("lon", "经度", True), ("lat", "纬度", True), ("crs", "坐标系", False)]
HEADER = {f: h for f, h, _ in COLUMNS}
_KEYS = {h: f for f, h, _ in COLUMNS} | {f: f for f, _, _ in COLUMNS}
CRS_NAMES = {"WGS84": "wgs84", "GCJ02": "gcj02"}
SAME_POINT = 1e-7  # degrees (~1 cm): a re-import with these coordinates changes nothing


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _header_key(value) -> str:
    return "".join(unicodedata.normalize("NFKC", _cell(value)).split()).rstrip("*").lower()


def _read_xlsx(fileobj, result: ImportResult) -> list[tuple[int, dict]] | None:
    from openpyxl import load_workbook

    try:
        book = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        result.errors.append(RowError(0, "", "无法读取文件，请上传 Excel（.xlsx）格式的文件。", "invalid_file"))
        return None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_header_key(h) for h in (next(rows, None) or [])]
        positions = {}
        for i, title in enumerate(header):
            if title in _KEYS and _KEYS[title] not in positions:
                positions[_KEYS[title]] = i
        missing = [h for f, h, required in COLUMNS if required and f not in positions]
        if missing:
            result.errors.append(RowError(1, "", f"表头缺少列：{'、'.join(missing)}。请使用“地址、经度、纬度、坐标系”列。",
                                          "wrong_columns"))
            return None
        data = []
        for number, values in enumerate(rows, start=2):
            if not any(_cell(v) for v in values):
                continue
            data.append((number, {f: values[i] if i < len(values) else None for f, i in positions.items()}))
            if len(data) > MAX_IMPORT_ROWS:
                result.errors.append(RowError(0, "", f"一次最多导入 {MAX_IMPORT_ROWS} 行，请分批导入。", "too_many_rows"))
                return None
    finally:
        book.close()
    return data


def _from_rows(rows, result: ImportResult) -> list[tuple[int, dict]] | None:
    data = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, dict):
            values = {_KEYS[k]: v for k, v in ((_header_key(k), v) for k, v in row.items()) if k in _KEYS}
        else:
            values = dict(zip([f for f, _, _ in COLUMNS], row, strict=False))
        data.append((number, values))
        if len(data) > MAX_IMPORT_ROWS:
            result.errors.append(RowError(0, "", f"一次最多导入 {MAX_IMPORT_ROWS} 行，请分批导入。", "too_many_rows"))
            return None
    return data


def _clean_crs(value) -> str:
    name = "".join(unicodedata.normalize("NFKC", _cell(value)).split()).upper().replace("-", "").replace("_", "")
    if not name:
        return "wgs84"
    if name not in CRS_NAMES:
        raise ValidationFailed(f"坐标系只能是 WGS-84 或 GCJ-02，实际为“{_cell(value)}”。", code="invalid_crs", field="crs")
    return CRS_NAMES[name]


def _clean_row(number: int, values: dict) -> tuple[dict | None, list[RowError]]:
    errors = []

    def fail(name, message, code):
        errors.append(RowError(number, HEADER[name], message, code))

    address = _cell(values.get("address"))
    key = normalize(address)
    if not address:
        fail("address", "地址不能为空。", "required")
    elif len(address) > MAX_ADDRESS:
        fail("address", f"地址不能超过 {MAX_ADDRESS} 个字。", "too_long")
    elif not key:
        fail("address", f"地址“{address}”没有可用于匹配的文字。", "invalid_address")
    point = None
    lon, lat = _cell(values.get("lon")), _cell(values.get("lat"))
    if not lon or not lat:
        fail("lon" if not lon else "lat", "请填写经度和纬度。", "required")
    else:
        try:
            crs = _clean_crs(values.get("crs"))
            point = geo.validate_coordinates(lon, lat)
            if crs == "gcj02":
                point = geo.gcj02_to_wgs84(*point)
        except ValidationFailed as exc:
            fail(exc.field if exc.field in HEADER else "lon", exc.message, exc.code)
    if errors:
        return None, errors
    return {"address": address, "normalized": key, "lon": point[0], "lat": point[1]}, []


def _require_perm(by) -> None:
    if by is not None and not by.has_perm("workorders.add_addressentry"):
        raise PermissionDenied("您没有导入标准地址的权限。")


def import_addresses(source, *, by) -> ImportResult:
    """Add to or update the address list from an .xlsx file (a path or file object with the
    columns 地址、经度、纬度 and optionally 坐标系: WGS-84 by default, or GCJ-02) or from rows
    (dicts keyed by those headers or by address/lon/lat/crs, or sequences in that order).
    Rows of a file are numbered as in Excel (the header is row 1), rows given as a list from 1.
    An address whose key is already listed gets the new coordinates. Every row is checked
    first; if any has an error, nothing is saved and every error is reported."""
    _require_perm(by)
    result = ImportResult()
    is_file = isinstance(source, (str, bytes)) or hasattr(source, "read")
    if isinstance(source, bytes):
        import io

        source = io.BytesIO(source)
    data = _read_xlsx(source, result) if is_file else _from_rows(source, result)
    if data is None:
        return result
    if not data:
        result.errors.append(RowError(0, "", "文件中没有数据行。", "empty_file"))
        return result
    cleaned: dict[str, tuple[int, dict]] = {}
    for number, values in data:
        row, errors = _clean_row(number, values)
        result.errors.extend(errors)
        if row is None:
            continue
        first = cleaned.get(row["normalized"])
        if first is None:
            cleaned[row["normalized"]] = (number, row)
        elif abs(first[1]["lon"] - row["lon"]) > SAME_POINT or abs(first[1]["lat"] - row["lat"]) > SAME_POINT:
            result.errors.append(RowError(number, HEADER["address"],
                                          f"与第 {first[0]} 行是同一地址，但坐标不同，请保留一行。", "duplicate_row"))
    if result.errors:
        return result
    with transaction.atomic():
        _save(cleaned, by, result)
    invalidate_index()
    return result


def _save(cleaned: dict[str, tuple[int, dict]], by, result: ImportResult) -> None:
    keys = sorted(cleaned)
    existing = {}
    for start in range(0, len(keys), 900):
        existing.update((e.normalized, e) for e in
                        AddressEntry.objects.select_for_update().filter(normalized__in=keys[start:start + 900]))
    new, changed = [], []
    for key in keys:
        row = cleaned[key][1]
        entry = existing.get(key)
        if entry is None:
            new.append(AddressEntry(**row))
        elif (abs(entry.lon - row["lon"]) > SAME_POINT or abs(entry.lat - row["lat"]) > SAME_POINT
              or entry.address != row["address"]):
            entry.address, entry.lon, entry.lat = row["address"], row["lon"], row["lat"]
            changed.append(entry)
        else:
            result.unchanged += 1
    AddressEntry.objects.bulk_create(new, batch_size=1000, audit_action="address.import", actor=by)
    if changed:
        AddressEntry.objects.bulk_update_audited(changed, ["address", "lon", "lat"], action="address.import",
                                                 actor=by, batch_size=1000)
    result.created, result.updated = len(new), len(changed)
