"""Repeat detection (重复件): is a new order about something already reported?

`find_repeats(drafts)` compares each unsaved draft with earlier orders that are still open or
were received within `WORKORDER_REPEAT_WINDOW_DAYS`, and with the batch's earlier drafts.
Candidates are

(a) orders within `WORKORDER_REPEAT_RADIUS_M` (the draft's H3 cell and a disk of neighbours
    wide enough for the radius, one `h3__in` lookup on the (h3, received_at) index, then the
    exact distance),
(b) orders with the same text fingerprint (a word-for-word repeat, wherever it was reported),
(c) for a draft without a location: the most recent `FALLBACK_CANDIDATES` orders of the same
    category and squad (each when the draft has one).

Rejected orders are skipped; an order that is a repeat (merged or not) stands for its parent, with
its own text and place as the evidence. "Earlier" allows `LATE_DELIVERY` for hotline platforms
that deliver late.
The score is the text similarity (character bigrams of the normalised title + text, or the
title alone at `TITLE_WEIGHT`; 1.0 for the same fingerprint), raised by closeness and a shared
category, lowered by a different category. Matches scoring `WORKORDER_REPEAT_MIN_SCORE` are
kept, best first, at most `MAX_MATCHES` per draft, each with its reason in Chinese.

Queries per batch, whatever its size (each only when needed): the fallback's candidate ids (one
UNION ALL of per-group LIMIT subqueries), the candidate rows without their text, the texts of
the candidates that pass place, time and category, the parents of candidates that are repeats.
`hotspot_counts(drafts)` is one more.

Measured on the real messages of the TipDM board (tests/test_repeats.py; earlier message saved
and closed, later one as the draft, no place or category, so text alone decides): every later
message with an identical body (111) or title (109) within the window found its earlier one;
0.08 % of random same-days pairs of unrelated messages score as repeats; 10.5 % of messages
without an identical twin get a candidate, nearly all of them reworded complaints about the same
estate or project. On PostgreSQL with 1,000,000 orders (~3,400 per km² per year) a batch of 100
drafts took about 1 s, 80 located ones about 0.6 s (time varies with the text fetched).

Texts are compared as sets of character bigrams (sorted numpy codes); a draft against its
candidates is one sparse matrix product (scipy, which scikit-learn already requires).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import threading
import unicodedata
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

import h3
import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Q

from chengguan.core.geo import haversine_m

from ..choices import OPEN_STATUSES, Status
from ..models import WorkOrder

MAX_MATCHES = 5
FALLBACK_CANDIDATES = 500  # per draft group without a location
# Drafts without a location whose received times lie this close share one fallback lookup.
FALLBACK_CLUSTER = dt.timedelta(hours=1)
# Hotline platforms deliver late: an order received up to this long after the draft still counts
# as earlier.
LATE_DELIVERY = dt.timedelta(days=1)
# Bodies shorter than this (如题, 同上) identify nothing on their own: the title joins them.
FINGERPRINT_MIN_BODY = 30
# Two titles this alike count as this share of a text match (titles of 8+ characters only): the
# same title over a reworded body is a repeat (measured on the TipDM board, see the tests).
TITLE_WEIGHT = 0.8
MIN_TITLE = 8
# Score adjustments: closeness and a shared category close part of the gap to 1.0; a different
# category costs a fixed amount.
NEAR_WEIGHT = 0.3
SAME_CATEGORY_WEIGHT = 0.15
OTHER_CATEGORY_PENALTY = 0.2
HOTSPOT_RESOLUTION = 9
# Bigram sets of saved orders kept per process (an order's title and text never change after
# intake; the key adds fingerprint and received time, so a reused id never finds another
# order's text). Repeated complaints cluster in place and time, so the same candidates come back
# batch after batch: a hit skips both reading the text and computing its bigrams. About 0.6 KB
# an entry.
TEXT_CACHE_SIZE = 50_000

SKIPPED = (Status.MERGED, Status.REJECTED)  # as originals; a merged repeat leads to its parent
# Candidates are read as plain rows (no model instances, no text) and only the originals
# reported become WorkOrder instances; texts are read for the candidates that survive place,
# time and category.
COLUMNS = ("id", "number", "fingerprint", "lon", "lat", "h3", "category_id", "squad_id", "received_at", "status",
           "parent_id")


class _Row:
    """A saved candidate as read: the columns above, and its text once needed."""

    __slots__ = (*COLUMNS, "title", "text", "_order")

    def __init__(self, values):
        (self.id, self.number, self.fingerprint, self.lon, self.lat, self.h3, self.category_id, self.squad_id,
         self.received_at, self.status, self.parent_id) = values
        self.title = self.text = self._order = None

    @property
    def pk(self):
        return self.id

    def as_order(self) -> WorkOrder:
        """A WorkOrder holding the columns read (others load on access, like `.only()`)."""
        if self._order is None:
            known = {name: getattr(self, name) for name in COLUMNS}
            if self.text is not None:
                known.update(title=self.title, text=self.text)
            # from_db takes the values in the model's field order
            names = [f.attname for f in WorkOrder._meta.concrete_fields if f.attname in known]
            self._order = WorkOrder.from_db(connection.alias, names, [known[n] for n in names])
        return self._order

_NOT_WORD = re.compile(r"[\W_]+")


def normalize_text(text) -> str:
    """NFKC, lower case, no whitespace or punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", "" if text is None else str(text)).lower())


def fingerprint(title, text) -> str:
    """16 hex digits of SHA-256 over the normalised body; a short body (如题) with the title.
    Empty for an order with neither."""
    body = normalize_text(text)
    basis = body if len(body) >= FINGERPRINT_MIN_BODY else normalize_text(title) + "\x1f" + body
    if basis == "\x1f":
        return ""
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


_EMPTY = np.zeros(0, dtype=np.uint64)


def _bigrams(text: str) -> np.ndarray:
    """The set of character bigrams as sorted unique codes (first code point << 21 | second):
    numpy builds it in microseconds whatever the length. A one-character text is its own gram."""
    if not text:
        return _EMPTY
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(points) == 1:
        return (points << np.uint64(21)) | np.uint64(0x1FFFFF)  # above every code point: no bigram
    return np.unique((points[:-1] << np.uint64(21)) | points[1:])


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    if not len(a) or not len(b):
        return 0.0
    return 2 * len(np.intersect1d(a, b, assume_unique=True)) / (len(a) + len(b))


@dataclass(frozen=True)
class _Text:
    grams: np.ndarray  # bigrams of title + text
    title: np.ndarray  # bigrams of the title; empty for a short title


def _text_of(order) -> _Text:
    title = normalize_text(order.title)
    return _Text(_bigrams(title + normalize_text(order.text)), _bigrams(title) if len(title) >= MIN_TITLE else _EMPTY)


class _TextCache:
    """A bounded, thread-safe LRU of saved orders' `_Text` (see TEXT_CACHE_SIZE)."""

    def __init__(self, size: int):
        self.size, self.entries, self.lock = size, OrderedDict(), threading.Lock()

    @staticmethod
    def key(row) -> tuple:
        return row.pk, row.fingerprint, row.received_at

    def get(self, row) -> _Text | None:
        key = self.key(row)
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, row, text: _Text) -> None:
        with self.lock:
            self.entries[self.key(row)] = text
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_saved_texts = _TextCache(TEXT_CACHE_SIZE)


def text_similarity(a: _Text, b: _Text) -> float:
    return max(_dice(a.grams, b.grams), TITLE_WEIGHT * _dice(a.title, b.title))


def similarity(title_a, text_a, title_b, text_b) -> float:
    """Text similarity 0..1 of two orders as repeat detection sees it (no place, no category)."""
    return text_similarity(_text_of(_Plain(title_a, text_a)), _text_of(_Plain(title_b, text_b)))


@dataclass(frozen=True)
class _Plain:
    title: str
    text: str


@dataclass
class Match:
    original: WorkOrder  # a saved order, or an earlier draft of the same batch
    score: float
    distance_m: float | None
    reason: str


# --- candidates ---------------------------------------------------------------------------------------

def _window() -> dt.timedelta:
    return dt.timedelta(days=settings.WORKORDER_REPEAT_WINDOW_DAYS)


def _in_time(draft, other, window: dt.timedelta) -> bool:
    """`other` is earlier (allowing late delivery) and open or within the window."""
    if other.received_at is None or other.received_at > draft.received_at + LATE_DELIVERY:
        return False
    return other.status in OPEN_STATUSES or other.received_at >= draft.received_at - window


def _located(order) -> bool:
    return order.lon is not None and order.lat is not None and bool(order.h3)


def _disk(cell: str, lon: float, lat: float) -> list[str]:
    """Every cell that can hold a point within the radius of (lon, lat), which lies in `cell`.
    Such a cell's centre is within radius + one edge (a hexagon's circumradius) of the point; a
    cell k rings away has its centre at least 1.5·k·edge from the centre of ours, so the disk of
    that many rings holds them all, and about half its cells are kept."""
    edges = [h3.edge_length(e, unit="m") for e in h3.origin_to_directed_edges(cell)]
    radius = settings.WORKORDER_REPEAT_RADIUS_M
    k = max(1, math.floor((radius / (0.95 * min(edges)) + 2) / 1.5))
    reach = radius + 1.1 * max(edges)  # neighbours differ in size by far less than 10 %
    kept = []
    for c in h3.grid_disk(cell, k):
        c_lat, c_lon = h3.cell_to_latlng(c)
        if haversine_m(lon, lat, c_lon, c_lat) <= reach:
            kept.append(c)
    return kept


def _eligible(start, end) -> Q:
    """Not rejected, not merged into nothing, and open or received in [start, end]."""
    return (~Q(status=Status.REJECTED) & ~Q(status=Status.MERGED, parent__isnull=True) & Q(received_at__lte=end)
            & (Q(status__in=OPEN_STATUSES) | Q(received_at__gte=start)))


def _fallback_groups(drafts) -> tuple[list[tuple[dict, dt.datetime, dt.datetime]], dict[int, int]]:
    """(filter, earliest, latest) per category / squad / close-in-time cluster of the drafts
    without a location, and each such draft's group number (by position in `drafts`)."""
    by_key = defaultdict(list)
    for n, d in enumerate(drafts):
        if not _located(d):
            by_key[(d.category_id, d.squad_id)].append(n)
    groups, group_of = [], {}
    for (category_id, squad_id), members in by_key.items():
        lookup = {}
        if category_id is not None:
            lookup["category_id"] = category_id
        if squad_id is not None:
            lookup["squad_id"] = squad_id
        members.sort(key=lambda n: drafts[n].received_at)
        first = None
        for n in members:
            t = drafts[n].received_at
            if first is None or t - first > FALLBACK_CLUSTER:
                first = t
                groups.append([lookup, t, t])
            groups[-1][2] = t
            group_of[n] = len(groups) - 1
    return [tuple(g) for g in groups], group_of


def _fallback_ids(groups) -> dict[int, list[int]]:
    """Ids of the most recent orders of each fallback group, by group number: one UNION ALL
    statement of LIMIT subqueries (SQLite allows LIMIT only in a wrapped subquery of a compound
    select, and at most 500 of them)."""
    parts = []
    for i, (lookup, first, last) in enumerate(groups):
        qs = (WorkOrder.objects.filter(_eligible(first - _window(), last + LATE_DELIVERY), **lookup)
              .order_by("-received_at", "-pk").values_list("pk", flat=True)[:FALLBACK_CANDIDATES])
        sql, params = qs.query.sql_with_params()
        parts.append((f"SELECT g{i}.*, {i} FROM ({sql}) AS g{i}", params))
    ids: dict[int, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        for start in range(0, len(parts), 200):
            chunk = parts[start:start + 200]
            cursor.execute(" UNION ALL ".join(sql for sql, _ in chunk), [p for _, params in chunk for p in params])
            for pk, group in cursor.fetchall():
                ids[group].append(pk)
    return ids


@dataclass
class _Pool:
    """The saved candidates of a batch and, per draft, which of them to compare."""

    orders: dict[int, _Row]
    by_cell: dict[str, list[_Row]]
    by_print: dict[str, list[_Row]]
    fallback: dict[int, list[_Row]]  # draft position → its group's orders
    disks: dict[int, list[str]]  # draft position → its cells

    def for_draft(self, n: int, draft) -> list[_Row]:
        found = {}
        for cell in self.disks.get(n, ()):
            found.update((o.pk, o) for o in self.by_cell.get(cell, ()))
        found.update((o.pk, o) for o in self.fallback.get(n, ()))
        if draft.fingerprint:
            found.update((o.pk, o) for o in self.by_print.get(draft.fingerprint, ()))
        return list(found.values())


def _base():
    """Orders that can be an original: not rejected, not merged into nothing."""
    return WorkOrder.objects.exclude(status=Status.REJECTED).exclude(status=Status.MERGED, parent__isnull=True).order_by()


def _nearby_rows(cells: list[str], start: dt.datetime, end: dt.datetime) -> list[tuple]:
    """COLUMNS of the eligible saved orders in `cells` received in [start, end], or earlier and
    still open. On PostgreSQL each cell is one probe of the (h3, received_at) index, a LATERAL
    join over the cell array: through the ORM a batch's ~1,000 cells in one IN list are planned
    as a scan of the whole window, and one arm per draft costs more to compile than to run (a
    batch of 50 over 1,000,000 orders: 85 ms → 28 ms)."""
    if connection.vendor != "postgresql":
        recent = _base().filter(h3__in=cells, received_at__gte=start, received_at__lte=end)
        old_open = _base().filter(h3__in=cells, status__in=OPEN_STATUSES, received_at__lt=start)
        return list(recent.values_list(*COLUMNS).union(old_open.values_list(*COLUMNS), all=True))
    table = connection.ops.quote_name(WorkOrder._meta.db_table)
    columns = ", ".join(f"w.{connection.ops.quote_name(c)}" for c in COLUMNS)
    eligible = "w.status <> %s AND NOT (w.status = %s AND w.parent_id IS NULL)"
    sql = (f"SELECT {columns} FROM unnest(%s::text[]) AS c(cell) CROSS JOIN LATERAL "
           f"(SELECT * FROM {table} w0 WHERE w0.h3 = c.cell AND w0.received_at >= %s AND w0.received_at <= %s) w "
           f"WHERE {eligible} UNION ALL SELECT {columns} FROM {table} w WHERE w.h3 = ANY(%s) "
           f"AND w.status = ANY(%s) AND w.received_at < %s AND {eligible}")
    skip = [Status.REJECTED.value, Status.MERGED.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, [cells, start, end, *skip, cells, [str(s) for s in OPEN_STATUSES], start, *skip])
        return cursor.fetchall()


def _texts_of(pks: list[int]) -> list[tuple]:
    """(id, title, text) of the orders `pks`. On PostgreSQL one array parameter: an IN list of
    a thousand ids costs more to build and parse than the rows cost to read."""
    if connection.vendor != "postgresql":
        return list(WorkOrder.objects.filter(pk__in=pks).values_list("pk", "title", "text").order_by())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, title, text FROM {connection.ops.quote_name(WorkOrder._meta.db_table)} "
                       "WHERE id = ANY(%s)", [pks])
        return cursor.fetchall()


def _candidates(drafts) -> _Pool:
    """Every saved order that may be repeated by a draft of the batch (without its text): the
    fallback's ids, then the rows."""
    disks = {n: _disk(d.h3, d.lon, d.lat) for n, d in enumerate(drafts) if _located(d)}
    cells = {c for disk in disks.values() for c in disk}
    prints = {d.fingerprint for d in drafts if d.fingerprint}
    groups, group_of = _fallback_groups(drafts)
    group_ids = _fallback_ids(groups) if groups else {}
    ids = {pk for pks in group_ids.values() for pk in pks}
    start = min(d.received_at for d in drafts) - _window()
    end = max(d.received_at for d in drafts) + LATE_DELIVERY
    orders = {row.pk: row for row in map(_Row, _nearby_rows(sorted(cells), start, end))} if cells else {}
    if prints or ids:
        # One SELECT per arm, glued with UNION ALL, so that each uses its own index (the
        # fingerprint index, the primary key) where one WHERE with ORs makes the planner scan.
        recent = Q(received_at__gte=start, received_at__lte=end)
        old_open = Q(status__in=OPEN_STATUSES, received_at__lt=start)
        base = _base()
        arms = []
        if prints:
            arms += [base.filter(recent, fingerprint__in=sorted(prints)),
                     base.filter(old_open, fingerprint__in=sorted(prints))]
        if ids:
            arms.append(base.filter(pk__in=sorted(ids)))
        arms = [arm.values_list(*COLUMNS) for arm in arms]
        qs = arms[0].union(*arms[1:], all=True) if len(arms) > 1 else arms[0]
        orders.update((row.pk, row) for row in map(_Row, qs) if row.pk not in orders)
    by_cell, by_print = defaultdict(list), defaultdict(list)
    for o in orders.values():
        if o.h3:
            by_cell[o.h3].append(o)
        if o.fingerprint:
            by_print[o.fingerprint].append(o)
    fallback = {n: [orders[pk] for pk in group_ids.get(g, ()) if pk in orders] for n, g in group_of.items()}
    return _Pool(orders, by_cell, by_print, fallback, disks)


# --- scoring ----------------------------------------------------------------------------------------

def _elapsed(a: dt.datetime, b: dt.datetime) -> str:
    seconds = abs((a - b).total_seconds())
    if seconds < 86_400:
        return f"{max(1, math.ceil(seconds / 3600))} 小时内"
    return f"{math.ceil(seconds / 86_400)} 天内"


def _distance(draft, other) -> float | None:
    if draft.lon is None or draft.lat is None or other.lon is None or other.lat is None:
        return None
    return haversine_m(draft.lon, draft.lat, other.lon, other.lat)


def _could_repeat(draft, other, distance: float | None, window: dt.timedelta, radius: float) -> bool:
    """Whether `other` (saved or an earlier draft) is a candidate for `draft` at all."""
    if not _in_time(draft, other, window):
        return False
    if draft.fingerprint and draft.fingerprint == other.fingerprint:
        return True
    if _located(draft):
        return distance is not None and distance <= radius
    return ((draft.category_id is None or draft.category_id == other.category_id)
            and (draft.squad_id is None or draft.squad_id == other.squad_id))


def _compare(draft, other, similar: float, same_print: bool, distance: float | None, limits) -> Match | None:
    radius, min_score = limits
    near = max(0.0, 1 - distance / radius) if distance is not None else 0.0
    same_category = draft.category_id is not None and draft.category_id == other.category_id
    other_category = draft.category_id is not None and other.category_id is not None and not same_category
    score = similar + (1 - similar) * (NEAR_WEIGHT * near + SAME_CATEGORY_WEIGHT * same_category)
    score = max(0.0, min(1.0, score - OTHER_CATEGORY_PENALTY * other_category))
    if score < min_score:
        return None
    parts = []
    if distance is not None:
        parts.append(f"相距 {round(distance)} 米")
    parts.append(_elapsed(draft.received_at, other.received_at))
    if same_category:
        parts.append(f"同为“{draft.category.name}”")
    elif other_category:
        parts.append("分类不同")
    parts.append("文本相同" if same_print else f"文本相似度 {similar:.2f}")
    return Match(original=other, score=round(score, 3), distance_m=None if distance is None else round(distance, 1),
                 reason="，".join(parts))


class _Similarities:
    """`text_similarity` of each draft with many others at once: the bigram sets as rows of a
    sparse 0/1 matrix, so one draft against 500 candidates is one sparse product, not 500 set
    intersections in Python."""

    def __init__(self, drafts_texts: list[_Text], others: list[_Text]):
        parts = [t.grams for t in drafts_texts] + [t.title for t in drafts_texts]
        parts += [t.grams for t in others] + [t.title for t in others]
        vocab, ids = np.unique(np.concatenate(parts) if parts else _EMPTY, return_inverse=True)
        self.size = len(vocab)
        bounds = np.cumsum([0] + [len(p) for p in parts])
        pieces = [ids[bounds[i]:bounds[i + 1]] for i in range(len(parts))]
        d, o = len(drafts_texts), len(others)
        self.drafts = list(zip(pieces[:d], pieces[d:2 * d], strict=True))
        self.grams, self.gram_sizes = self._matrix(pieces[2 * d:2 * d + o], bounds[2 * d:2 * d + o + 1])
        self.titles, self.title_sizes = self._matrix(pieces[2 * d + o:], bounds[2 * d + o:])

    def _matrix(self, rows, bounds):
        from scipy.sparse import csr_matrix

        indptr = (bounds - bounds[0]).astype(np.int64)
        indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        matrix = csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), self.size))
        return matrix, np.diff(indptr).astype(np.float64)

    def _dice(self, matrix, sizes, draft_ids, rows) -> np.ndarray:
        if not len(draft_ids):
            return np.zeros(len(rows))
        vector = np.zeros(self.size, dtype=np.float32)
        vector[draft_ids] = 1
        common = matrix[rows] @ vector
        total = sizes[rows] + len(draft_ids)
        return np.divide(2 * common, total, out=np.zeros(len(rows)), where=total > 0)

    def of(self, n: int, rows: list[int]) -> np.ndarray:
        grams, title = self.drafts[n]
        return np.maximum(self._dice(self.grams, self.gram_sizes, grams, rows),
                          TITLE_WEIGHT * self._dice(self.titles, self.title_sizes, title, rows))


def find_repeats(drafts: list[WorkOrder]) -> list[list[Match]]:
    """Likely repeats of each draft, best first (see the module docstring)."""
    drafts = list(drafts)
    if not drafts:
        return []
    limits = (settings.WORKORDER_REPEAT_RADIUS_M, settings.WORKORDER_REPEAT_MIN_SCORE)
    window = _window()
    pool = _candidates(drafts)
    # Pass 1: the pairs that pass place, time and category, before any text is read.
    pairs = []
    for n, draft in enumerate(drafts):
        for other in [*pool.for_draft(n, draft), *drafts[:n]]:
            distance = _distance(draft, other)
            if _could_repeat(draft, other, distance, window, limits[0]):
                pairs.append((n, other, distance, bool(draft.fingerprint) and draft.fingerprint == other.fingerprint))
    # Texts only where they decide (a word-for-word repeat needs none) and not already known:
    # one query.
    texts: dict[int, _Text] = {}
    for _, other, _, same in pairs:
        if other.pk is not None and not same and other.pk not in texts:
            known = _saved_texts.get(other)
            if known is not None:
                texts[other.pk] = known
    wanted = sorted({o.pk for _, o, _, same in pairs if o.pk is not None and not same} - set(texts))
    for start in range(0, len(wanted), 5000):
        for pk, title, text in _texts_of(wanted[start:start + 5000]):
            row = pool.orders[pk]
            row.title, row.text = title, text
            texts[pk] = _text_of(row)
            _saved_texts.put(row, texts[pk])
    parent_ids = {o.parent_id for _, o, _, _ in pairs if o.pk is not None and o.parent_id} - set(pool.orders)
    parents = {}
    if parent_ids:
        parents = {row.pk: row for row in map(_Row, WorkOrder.objects.filter(pk__in=parent_ids)
                                             .exclude(status__in=SKIPPED).values_list(*COLUMNS).order_by())}
    # Pass 2: text similarity for every pair that needs it, draft by draft, then the scores.
    position: dict[object, int] = {}
    others: list[_Text] = []
    for _, other, _, same in pairs:
        key = ("row", other.pk) if other.pk is not None else ("draft", id(other))
        if not same and key not in position:
            position[key] = len(others)
            others.append(texts[other.pk] if other.pk is not None else _text_of(other))
    similar = _Similarities([_text_of(d) for d in drafts], others)
    by_draft = defaultdict(list)
    for pair in pairs:
        by_draft[pair[0]].append(pair)
    results = []
    for n, draft in enumerate(drafts):
        todo = by_draft.get(n, [])
        rows = [position[("row", o.pk) if o.pk is not None else ("draft", id(o))] for _, o, _, same in todo if not same]
        sims = iter(similar.of(n, rows).tolist()) if rows else iter(())
        best: dict[object, Match] = {}
        for _, other, distance, same in todo:
            match = _compare(draft, other, 1.0 if same else next(sims), same, distance, limits)
            if match is None:
                continue
            if isinstance(other, _Row):
                original = other
                if other.parent_id:
                    # A repeat stands for its parent: report the parent, the repeat as the reason.
                    original = pool.orders.get(other.parent_id) or parents.get(other.parent_id)
                    if original is None or original.status in SKIPPED:
                        continue
                    match.reason = f"{match.reason}（与其重复件 {other.number} 相似）"
                match.original = original.as_order()
                key = original.pk
            else:
                key = ("draft", id(other))
            if key not in best or best[key].score < match.score:
                best[key] = match
        results.append(sorted(best.values(), key=lambda m: -m.score)[:MAX_MATCHES])
    return results


def hotspot_counts(drafts: list[WorkOrder]) -> list[int]:
    """For each draft with a location: how many orders in the window (the draft itself, the
    batch's earlier drafts and saved orders other than rejected ones) lie in the same H3 cell
    of resolution 9 (~0.1 km²); 0 for a draft without a location. One query."""
    drafts = list(drafts)
    parents = [h3.cell_to_parent(d.h3, HOTSPOT_RESOLUTION) if _located(d) else None for d in drafts]
    cells = sorted({c for d, p in zip(drafts, parents, strict=True) if p
                    for c in h3.cell_to_children(p, h3.get_resolution(d.h3))})
    saved = defaultdict(list)
    if cells:
        start = min(d.received_at for d, p in zip(drafts, parents, strict=True) if p) - _window()
        end = max(d.received_at for d, p in zip(drafts, parents, strict=True) if p) + LATE_DELIVERY
        rows = (WorkOrder.objects.filter(h3__in=cells, received_at__gte=start, received_at__lte=end)
                .exclude(status=Status.REJECTED).values_list("h3", "received_at").order_by())
        for cell, received_at in rows:
            saved[h3.cell_to_parent(cell, HOTSPOT_RESOLUTION)].append(received_at)
    counts = []
    for n, (draft, parent) in enumerate(zip(drafts, parents, strict=True)):
        if parent is None:
            counts.append(0)
            continue
        low, high = draft.received_at - _window(), draft.received_at + LATE_DELIVERY
        earlier = sum(1 for d, p in zip(drafts[:n], parents[:n], strict=True) if p == parent
                      and low <= d.received_at <= high)
        counts.append(1 + earlier + sum(1 for t in saved[parent] if low <= t <= high))
    return counts
