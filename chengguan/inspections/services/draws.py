"""双随机 plans with verifiable draws (docs/adr/0004-verifiable-draws.md).

Lifecycle: draft → committed → drawn → published, or superseded by a re-draw.
- Commit freezes the object population and the inspector pool as CSV files in the evidence
  store (content-addressed: their SHA-256 is what is published), generates a secret seed and
  publishes only its SHA-256 (the commitment).
- The draw is `draw()`: a documented, deterministic function of the two frozen files and the
  seed. `run_draw` computes it once, stores the selections and tasks, and reveals the seed, so
  anyone holding the published data can recompute every object and inspector
  (`verify_plan`, `manage.py verify_draw PLAN_ID`).
- A draw is never re-run: a re-draw is a new plan that names the one it replaces and why.

The first half of this module is the pure algorithm (numpy only, no database); the second
half the service verbs."""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chengguan.core import audit
from chengguan.core.calendar import add_working_days
from chengguan.core.choices import OrgUnitKind, RoleCode
from chengguan.core.errors import BusinessRuleError, ChengguanError, ValidationFailed
from chengguan.core.evidence import open_verified, store_generated
from chengguan.core.fields import mask_name
from chengguan.core.models import Evidence, OrgUnit, User
from chengguan.core.models.org import PATH_STEP
from chengguan.core.scope import scope_units_for

from ..choices import CreditGrade, PlanStatus, TaskSource, Tier
from ..models import (
    DrawPlan,
    DrawSelection,
    InspectionTask,
    InspectorConflict,
    ObjectType,
    RegulatedObject,
)
from . import records

# =============================================================================================
# The pure algorithm (ADR 0004 is its specification; keep the two in step)
# =============================================================================================

POPULATION_HEADER = "object_id,credit_class,squad_id"
POOL_HEADER = "inspector_id,squad_id,conflict_object_ids"
# Each selected object first gets a block of CANDIDATE_FACTOR × per_object stream values; the
# few objects not fully staffed from their block continue on the values after all blocks.
CANDIDATE_FACTOR = 2
# Overflow values one object may use before the draw gives up (unreachable in practice: the
# draw first checks that every object has enough eligible inspectors).
MAX_ATTEMPTS_FACTOR = 64


class DrawError(BusinessRuleError):
    """The draw cannot be made from these inputs; `object_id` names the object concerned."""

    def __init__(self, message: str, *, code: str, object_id: int | None = None, eligible: int | None = None):
        super().__init__(message, code=code)
        self.object_id = object_id
        self.eligible = eligible


@dataclass(frozen=True, eq=False)
class Population:
    """A frozen population file, parsed: one entry per object, in file (object id) order."""

    object_ids: np.ndarray   # int64, strictly ascending
    class_index: np.ndarray  # int64 index into `classes`
    classes: tuple[str, ...]
    squad_ids: np.ndarray    # int64, 0 = no squad
    sha256: str

    def __len__(self) -> int:
        return len(self.object_ids)


@dataclass(frozen=True, eq=False)
class Pool:
    """A frozen inspector-pool file, parsed. Conflicts are (pool position, object id) pairs."""

    inspector_ids: np.ndarray  # int64, strictly ascending
    squad_ids: np.ndarray      # int64, 0 = no squad
    conflict_inspectors: np.ndarray
    conflict_objects: np.ndarray
    sha256: str

    def __len__(self) -> int:
        return len(self.inspector_ids)


@dataclass(frozen=True, eq=False)
class DrawResult:
    object_ids: np.ndarray     # selected objects in rank order (rank 1 first)
    credit_classes: list[str]  # their class as frozen
    inspector_ids: np.ndarray  # (selected, per_object), in the order drawn
    quotas: dict[str, tuple[int, int]]  # class → (objects in the population, objects drawn)
    key: str                   # hex of the derived key K


def population_csv(rows) -> bytes:
    """rows: (object_id, credit_class, squad_id or None). The canonical frozen file."""
    rows = sorted(rows, key=lambda row: row[0])
    lines = [f"{oid},{cls},{squad or ''}\n" for oid, cls, squad in rows]
    return (POPULATION_HEADER + "\n" + "".join(lines)).encode("utf-8")


def pool_csv(rows) -> bytes:
    """rows: (inspector_id, squad_id or None, conflict object ids). The canonical frozen file."""
    rows = sorted(rows, key=lambda row: row[0])
    lines = [
        f"{iid},{squad or ''},{';'.join(str(c) for c in sorted(set(conflicts)))}\n"
        for iid, squad, conflicts in rows
    ]
    return (POOL_HEADER + "\n" + "".join(lines)).encode("utf-8")


def _fields(data: bytes, header: str, label: str) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """A frozen file's bytes after the header, and the (start, end) offsets of its three
    columns, after checking its shape: the header line, then lines of exactly three fields,
    each line ending in a newline. Vectorised: 2,000,000 lines take well under a second."""
    head = (header + "\n").encode()
    if not data.startswith(head) or not data.endswith(b"\n"):
        raise DrawError(f"{label}格式不符：首行应为“{header}”，且以换行结尾。", code="frozen_file_malformed")
    body = np.frombuffer(data, dtype=np.uint8)[len(head):]
    newlines, commas = np.flatnonzero(body == ord("\n")), np.flatnonzero(body == ord(","))
    lines = np.searchsorted(newlines, commas)  # the line each comma is on
    if len(commas) != 2 * len(newlines) or np.any(lines != np.repeat(np.arange(len(newlines)), 2)):
        bad = int(np.flatnonzero(np.bincount(lines, minlength=len(newlines)) != 2)[0]) if len(newlines) else 0
        raise DrawError(f"{label}第 {bad + 2} 行应有 3 列。", code="frozen_file_malformed")
    line_starts = np.concatenate([[0], newlines[:-1] + 1]).astype(np.int64)[: len(newlines)]
    first, second = commas[0::2], commas[1::2]
    return body, [(line_starts, first), (first + 1, second), (second + 1, newlines)]


def _integers(body: np.ndarray, span: tuple[np.ndarray, np.ndarray], label: str) -> np.ndarray:
    """Decimal digits between the offsets → int64 (an empty field is 0)."""
    starts, ends = span
    lengths = ends - starts
    if len(lengths) and lengths.max() > 18:
        raise DrawError(f"{label}中有过长的编号。", code="frozen_file_malformed")
    values = np.zeros(len(starts), dtype=np.int64)
    for k in range(int(lengths.max()) if len(lengths) else 0):
        present = k < lengths
        digits = body[np.minimum(starts + k, len(body) - 1)].astype(np.int64) - ord("0")
        if np.any(present & ((digits < 0) | (digits > 9))):
            raise DrawError(f"{label}中有不是整数的编号。", code="frozen_file_malformed")
        values = np.where(present, values * 10 + digits, values)
    return values


def _ascending_ids(body, span, label: str) -> np.ndarray:
    ids = _integers(body, span, label)
    if len(ids) and (ids[0] <= 0 or np.any(np.diff(ids) <= 0)):
        raise DrawError(f"{label}的编号须为正整数且严格递增。", code="frozen_file_malformed")
    return ids


def parse_population(data: bytes) -> Population:
    label = "冻结对象名录"
    body, (ids, classes, squads) = _fields(data, POPULATION_HEADER, label)
    letters = body[classes[0]] if len(classes[0]) else np.zeros(0, dtype=np.uint8)
    if np.any(classes[1] - classes[0] != 1) or np.any((letters < ord("A")) | (letters > ord("Z"))):
        raise DrawError(f"{label}中的信用等级须为一个大写字母。", code="frozen_file_malformed")
    codes = np.flatnonzero(np.bincount(letters, minlength=256))  # the classes present, sorted
    index_of = np.zeros(256, dtype=np.int64)
    index_of[codes] = np.arange(len(codes))
    return Population(
        object_ids=_ascending_ids(body, ids, label),
        class_index=index_of[letters],
        classes=tuple(chr(c) for c in codes.tolist()),
        squad_ids=_integers(body, squads, label),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def parse_pool(data: bytes) -> Pool:
    label = "冻结检查人员名录"
    body, (ids, squads, conflicts) = _fields(data, POOL_HEADER, label)
    raw = body.tobytes()
    inspectors, objects = [], []
    for position, (start, end) in enumerate(zip(conflicts[0].tolist(), conflicts[1].tolist(), strict=True)):
        for oid in raw[start:end].split(b";") if end > start else ():
            if not oid.isdigit():
                raise DrawError(f"{label}第 {position + 2} 行的回避对象编号无效。", code="frozen_file_malformed")
            inspectors.append(position)
            objects.append(int(oid))
    return Pool(
        inspector_ids=_ascending_ids(body, ids, label),
        squad_ids=_integers(body, squads, label),
        conflict_inspectors=np.array(inspectors, dtype=np.int64),
        conflict_objects=np.array(objects, dtype=np.int64),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def seed_commitment(seed: str) -> str:
    """The published commitment: SHA-256 of the seed's 64 hex characters (ASCII)."""
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def derive_key(seed: str, population_sha256: str, pool_sha256: str) -> bytes:
    """K = SHA-256(seed ‖ population SHA-256 ‖ pool SHA-256), all lowercase hex, ASCII."""
    return hashlib.sha256((seed + population_sha256 + pool_sha256).encode("ascii")).digest()


def parse_ratio(value, label: str = "") -> Decimal:
    """A ratio as the decimal number written in the plan, 0 < r ≤ 1, at most 6 decimals."""
    try:
        ratio = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        ratio = None
    if isinstance(value, bool) or ratio is None or not ratio.is_finite() or not 0 < ratio <= 1 \
            or ratio.as_tuple().exponent < -6:
        raise ValidationFailed(
            f"{label}抽取比例“{value}”无效：须为大于 0、不超过 1 的小数（最多 6 位小数，如 0.05 表示 5%）。",
            code="invalid_ratio", field="ratios",
        )
    return ratio


def class_quota(ratio, count: int) -> int:
    """ceil(ratio × count), computed exactly (0.05 × 100 is 5, not 5.000000000000001)."""
    fraction = Fraction(parse_ratio(ratio)) * count
    return -(-fraction.numerator // fraction.denominator)


def _smallest(keys: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k smallest keys, ties broken by position, in O(n)."""
    if k >= len(keys):
        return np.arange(len(keys))
    threshold = np.partition(keys, k - 1)[k - 1]
    below = np.flatnonzero(keys < threshold)
    ties = np.flatnonzero(keys == threshold)[: k - len(below)]
    return np.concatenate([below, ties])


class _Stream:
    """The raw stream after the candidate blocks, read in chunks (order is all that counts)."""

    def __init__(self, bitgen):
        self.bitgen, self.buffer, self.next = bitgen, [], 0

    def take(self) -> int:
        if self.next == len(self.buffer):
            self.buffer, self.next = self.bitgen.random_raw(256).tolist(), 0
        self.next += 1
        return self.buffer[self.next - 1]


def draw(population: Population, pool: Pool, seed: str, ratios: dict, per_object: int,
         exclude_own_squad: bool) -> DrawResult:
    """The draw, as specified in ADR 0004. Raises DrawError when it cannot be made."""
    n_objects, n_pool = len(population), len(pool)
    if n_objects == 0:
        raise DrawError("对象名录为空，无法抽取。", code="empty_population")
    if n_pool < per_object:
        raise DrawError(f"检查人员名录只有 {n_pool} 人，少于每户所需的 {per_object} 人。", code="too_few_inspectors")
    missing = [c for c in population.classes if c not in ratios]
    if missing:
        raise DrawError(f"信用等级 {'、'.join(missing)} 没有设定抽取比例。", code="ratio_missing")

    key = derive_key(seed, population.sha256, pool.sha256)
    bitgen = np.random.PCG64(int.from_bytes(key, "big"))

    # 1. Objects: the first N raw values are the objects' keys, in file order; each class
    #    keeps its ceil(ratio × n) smallest keys; rank is ascending (key, object id).
    object_keys = bitgen.random_raw(n_objects)
    quotas, chosen = {}, []
    for index, label in enumerate(population.classes):
        members = np.flatnonzero(population.class_index == index)
        k = class_quota(ratios[label], len(members))
        quotas[label] = (len(members), k)
        chosen.append(members[_smallest(object_keys[members], k)])
    selected = np.concatenate(chosen)
    ranked = selected[np.lexsort((selected, object_keys[selected]))]

    # 2. Inspectors, from the values that follow.
    inspectors = _assign(ranked, population, pool, bitgen, per_object, exclude_own_squad)
    return DrawResult(
        object_ids=population.object_ids[ranked],
        credit_classes=[population.classes[i] for i in population.class_index[ranked].tolist()],
        inspector_ids=pool.inspector_ids[inspectors],
        quotas=quotas,
        key=key.hex(),
    )


def _conflict_pairs(population: Population, pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    """Declared conflicts as unique (object position, pool position) pairs; conflicts with
    objects outside the population have no effect."""
    positions = np.searchsorted(population.object_ids, pool.conflict_objects)
    positions = np.minimum(positions, len(population) - 1)
    known = population.object_ids[positions] == pool.conflict_objects
    codes = np.unique(positions[known] * len(pool) + pool.conflict_inspectors[known])
    return codes // len(pool), codes % len(pool)


def _assign(ranked, population, pool, bitgen, per_object, exclude_own_squad) -> np.ndarray:
    """Pool positions of each ranked object's inspectors, shape (len(ranked), per_object)."""
    n_pool, count = len(pool), len(ranked)
    conflict_objects, conflict_inspectors = _conflict_pairs(population, pool)
    object_squads = population.squad_ids[ranked]

    def own_squad(squads, candidates):
        return exclude_own_squad & (squads != 0) & (pool.squad_ids[candidates] == squads)

    # Every object must have per_object eligible inspectors, or the draw cannot be made.
    if exclude_own_squad:
        # a conflicted inspector of the object's own squad is excluded once, not twice
        keep = ~own_squad(population.squad_ids[conflict_objects], conflict_inspectors)
        conflict_objects_once = conflict_objects[keep]
    else:
        conflict_objects_once = conflict_objects
    eligible = n_pool - np.bincount(conflict_objects_once, minlength=len(population))[ranked]
    if exclude_own_squad:
        squads, sizes = np.unique(pool.squad_ids[pool.squad_ids != 0], return_counts=True)
        at = np.minimum(np.searchsorted(squads, object_squads), max(len(squads) - 1, 0))
        if len(squads):
            eligible -= np.where((object_squads != 0) & (squads[at] == object_squads), sizes[at], 0)
    short = np.flatnonzero(eligible < per_object)
    if len(short):
        rank = int(short[0])
        object_id = int(population.object_ids[ranked[rank]])
        raise DrawError(
            f"对象 {object_id} 可选的检查人员只有 {int(eligible[rank])} 人"
            f"（已排除回避申报{'及本中队人员' if exclude_own_squad else ''}），少于每户所需的 {per_object} 人，无法抽取。",
            code="draw_impossible", object_id=object_id, eligible=int(eligible[rank]),
        )

    conflict_codes = conflict_objects * n_pool + conflict_inspectors  # sorted, unique

    # Phase 1 (vectorised): a block of CANDIDATE_FACTOR × per_object values per object, in
    # rank order; accept eligible candidates not already accepted, up to per_object.
    width = CANDIDATE_FACTOR * per_object
    candidates = (bitgen.random_raw(count * width) % np.uint64(n_pool)).astype(np.int64).reshape(count, width)
    eligible_mask = ~np.isin(ranked[:, None] * n_pool + candidates, conflict_codes)
    eligible_mask &= ~own_squad(object_squads[:, None], candidates)
    first = eligible_mask.copy()
    for j in range(1, width):
        # an equal earlier candidate has the same eligibility: it was accepted (or the quota
        # was already full), so this one is a repeat either way
        first[:, j] &= ~np.any(candidates[:, :j] == candidates[:, j:j + 1], axis=1)
    accepted = first & (np.cumsum(first, axis=1) <= per_object)
    full = accepted.sum(axis=1) == per_object
    out = np.empty((count, per_object), dtype=np.int64)
    out[full] = candidates[full][accepted[full]].reshape(-1, per_object)

    # Phase 2 (sequential, rare): the others, in rank order, from the values after all blocks.
    conflicts = set(conflict_codes.tolist())
    stream = _Stream(bitgen)
    for row in np.flatnonzero(~full).tolist():
        taken = candidates[row][accepted[row]].tolist()
        position, squad = int(ranked[row]), int(object_squads[row])
        attempts = 0
        while len(taken) < per_object:
            if attempts == MAX_ATTEMPTS_FACTOR * n_pool:
                object_id = int(population.object_ids[position])
                raise DrawError(f"对象 {object_id} 在 {attempts} 次尝试内未能抽满检查人员，无法抽取。",
                                code="draw_impossible", object_id=object_id)
            attempts += 1
            index = stream.take() % n_pool
            if index in taken or position * n_pool + index in conflicts:
                continue
            if exclude_own_squad and squad and int(pool.squad_ids[index]) == squad:
                continue
            taken.append(index)
        out[row] = taken
    return out


# =============================================================================================
# Service verbs
# =============================================================================================

EDITABLE = ("name", "org_unit", "period_start", "period_end", "object_types", "ratios", "population_filters",
            "inspectors_per_object", "exclude_own_squad", "inspector_units")
FILTER_KEYS = {"squads", "tiers", "credit_grades"}
MIN_INSPECTORS, MAX_INSPECTORS = 2, 10
PUBLISH_WORKING_DAYS = 20  # domain §9: results published within 20 working days
IN_BATCH = 5000  # bound IN-lists and INSERTs


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    message: str
    checked: int = 0


def _unit_in_scope(by, unit) -> bool:
    units = scope_units_for(by)
    return units is None or unit.pk in units


def _as_date(value, field: str, label: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationFailed(f"{label}不是有效日期。", code="invalid_date", field=field)
    return value


def _instances(model, values, field: str, label: str) -> list:
    """Model instances (or their pks) → active instances, refusing unknown ones."""
    pks = [v.pk if isinstance(v, model) else v for v in (values or ())]
    try:
        pks = [int(pk) for pk in pks]
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{label}无效。", code="invalid_choice", field=field) from exc
    found = {obj.pk: obj for obj in model.objects.filter(pk__in=pks, is_active=True)}
    unknown = [str(pk) for pk in pks if pk not in found]
    if unknown:
        raise ValidationFailed(f"{label}不存在或已停用：{'、'.join(unknown)}。", code="invalid_choice", field=field)
    return list(found.values())


def _clean_ratios(ratios) -> dict:
    if not isinstance(ratios, dict) or not ratios:
        raise ValidationFailed("请为每个信用等级设定抽取比例，如 {\"A\": 0.02, \"B\": 0.05}。",
                               code="required", field="ratios")
    unknown = sorted(set(ratios) - set(CreditGrade.values))
    if unknown:
        raise ValidationFailed(f"未知的信用等级：{'、'.join(map(str, unknown))}（只能是 A、B、C、D）。",
                               code="invalid_choice", field="ratios")
    return {grade: float(parse_ratio(value, f"{grade} 级")) for grade, value in sorted(ratios.items())}


def _clean_filters(filters, org_unit) -> dict:
    filters = filters or {}
    if not isinstance(filters, dict) or set(filters) - FILTER_KEYS:
        raise ValidationFailed("对象范围条件只能包含 squads（中队）、tiers（监管等级）、credit_grades（信用等级）。",
                               code="invalid_filters", field="population_filters")
    clean = {}
    if filters.get("squads"):
        squads = _instances(OrgUnit, filters["squads"], "population_filters", "对象范围中的中队")
        outside = [s.name for s in squads if s.kind != OrgUnitKind.SQUAD or not s.path.startswith(org_unit.path)]
        if outside:
            raise ValidationFailed(f"{'、'.join(outside)} 不是“{org_unit.name}”下属的中队。",
                                   code="invalid_filters", field="population_filters")
        clean["squads"] = sorted(s.pk for s in squads)
    if filters.get("tiers"):
        if not all(t in Tier.values for t in filters["tiers"]):
            raise ValidationFailed("监管等级只能是 1–4。", code="invalid_filters", field="population_filters")
        clean["tiers"] = sorted(set(filters["tiers"]))
    if filters.get("credit_grades"):
        if not all(g in CreditGrade.values for g in filters["credit_grades"]):
            raise ValidationFailed("信用等级只能是 A、B、C、D。", code="invalid_filters", field="population_filters")
        clean["credit_grades"] = sorted(set(filters["credit_grades"]))
    return clean


def _clean(by, values: dict) -> dict:
    """Validate a plan's whole settings; returns them cleaned (M2M as instance lists)."""
    name = str(values.get("name") or "").strip()
    if not name:
        raise ValidationFailed("计划名称不能为空。", code="required", field="name")
    if len(name) > 120:
        raise ValidationFailed("计划名称不能超过 120 个字。", code="too_long", field="name")
    org_unit = values.get("org_unit")
    if not isinstance(org_unit, OrgUnit) or not _unit_in_scope(by, org_unit):
        raise ValidationFailed("组织单位不存在或不在您的数据范围内。", code="invalid_org_unit", field="org_unit")
    start = _as_date(values.get("period_start"), "period_start", "检查期间起")
    end = _as_date(values.get("period_end"), "period_end", "检查期间止")
    if end < start:
        raise ValidationFailed("检查期间止不能早于检查期间起。", code="invalid_period", field="period_end")
    object_types = _instances(ObjectType, values.get("object_types"), "object_types", "抽查对象类型")
    if not object_types:
        raise ValidationFailed("请至少选择一种抽查对象类型。", code="required", field="object_types")
    per_object = values.get("inspectors_per_object")
    if isinstance(per_object, bool) or not isinstance(per_object, int) \
            or not MIN_INSPECTORS <= per_object <= MAX_INSPECTORS:
        raise ValidationFailed(
            f"每户检查人员数须为 {MIN_INSPECTORS}–{MAX_INSPECTORS} 人（《行政处罚法》第四十二条：执法人员不得少于两人）。",
            code="invalid_number", field="inspectors_per_object",
        )
    return {
        "name": name,
        "org_unit": org_unit,
        "period_start": start,
        "period_end": end,
        "object_types": object_types,
        "ratios": _clean_ratios(values.get("ratios")),
        "population_filters": _clean_filters(values.get("population_filters"), org_unit),
        "inspectors_per_object": per_object,
        "exclude_own_squad": bool(values.get("exclude_own_squad")),
        "inspector_units": _instances(OrgUnit, values.get("inspector_units"), "inspector_units", "检查人员来源单位"),
    }


def _apply(plan: DrawPlan, clean: dict, *, by, action: str) -> DrawPlan:
    for field in EDITABLE:
        if field not in {"object_types", "inspector_units"}:
            setattr(plan, field, clean[field])
    plan.save(audit_action=action, actor=by)
    plan.object_types.set(clean["object_types"])
    plan.inspector_units.set(clean["inspector_units"])
    # M2M sets are not part of the row snapshot: put them on the record explicitly.
    audit.record(f"{action}_scope", plan, after={
        "object_types": sorted(t.pk for t in clean["object_types"]),
        "inspector_units": sorted(u.pk for u in clean["inspector_units"]),
    }, actor=by)
    return plan


@transaction.atomic
def create_plan(*, by, name, org_unit, period_start, period_end, object_types, ratios, population_filters=None,
                inspectors_per_object=2, exclude_own_squad=False, inspector_units=()) -> DrawPlan:
    clean = _clean(by, {
        "name": name, "org_unit": org_unit, "period_start": period_start, "period_end": period_end,
        "object_types": object_types, "ratios": ratios, "population_filters": population_filters,
        "inspectors_per_object": inspectors_per_object, "exclude_own_squad": exclude_own_squad,
        "inspector_units": inspector_units,
    })
    return _apply(DrawPlan(created_by=by), clean, by=by, action="drawplan.create")


def _locked(plan: DrawPlan) -> DrawPlan:
    return DrawPlan.objects.select_for_update().get(pk=plan.pk)


@transaction.atomic
def update_plan(plan: DrawPlan, *, by, **changes) -> DrawPlan:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    plan = _locked(plan)
    if plan.status != PlanStatus.DRAFT:
        raise BusinessRuleError("计划已冻结，不能修改；如需调整，请发起重抽（生成新计划并说明理由）。", code="not_draft")
    current = {field: getattr(plan, field) for field in EDITABLE if field not in {"object_types", "inspector_units"}}
    current["object_types"] = list(plan.object_types.all())
    current["inspector_units"] = list(plan.inspector_units.all())
    return _apply(plan, _clean(by, {**current, **changes}), by=by, action="drawplan.update")


# --- freezing ---------------------------------------------------------------------------------

def population_queryset(plan: DrawPlan):
    """The objects a plan draws from: in service, of its types, in its unit's area, filtered."""
    qs = RegulatedObject.objects.filter(
        is_active=True, merged_into__isnull=True, object_type__in=plan.object_types.all(),
        squad__path__startswith=plan.org_unit.path,
    )
    filters = plan.population_filters or {}
    if filters.get("squads"):
        qs = qs.filter(squad_id__in=filters["squads"])
    if filters.get("tiers"):
        qs = qs.filter(tier__in=filters["tiers"])
    if filters.get("credit_grades"):
        qs = qs.filter(credit_grade__in=filters["credit_grades"])
    return qs


def qualified_inspectors(plan: DrawPlan):
    """Inspectors a plan may draw: in post, officer role, enforcement certificate valid on the
    first day of the period, in the plan's inspector units (their subtrees) or else its unit's."""
    units = list(plan.inspector_units.all()) or [plan.org_unit]
    where = Q()
    for unit in units:
        where |= Q(org_unit__path__startswith=unit.path)
    day = plan.period_start
    return (User.objects.filter(where, is_active=True, roles__code=RoleCode.OFFICER,
                                certificate_valid_from__lte=day, certificate_valid_to__gte=day)
            .exclude(certificate_number="").distinct().order_by("pk"))


def _squad_of_paths(paths) -> dict[str, int | None]:
    """Org-unit path → id of the squad at or above it (None above squad level)."""
    squads = dict(OrgUnit.objects.filter(kind=OrgUnitKind.SQUAD).values_list("path", "pk"))
    result = {}
    for path in set(paths):
        prefixes = (path[:i] for i in range(len(path), 0, -PATH_STEP))
        result[path] = next((squads[p] for p in prefixes if p in squads), None)
    return result


def _pool_rows(plan: DrawPlan, population) -> list[tuple]:
    inspectors = list(qualified_inspectors(plan).values_list("pk", "org_unit__path"))
    squad_of = _squad_of_paths(path for _, path in inspectors if path)
    conflicts: dict[int, list[int]] = {pk: [] for pk, _ in inspectors}
    pairs = InspectorConflict.objects.filter(
        inspector_id__in=list(conflicts), regulated_object__in=population.values("pk")
    ).values_list("inspector_id", "regulated_object_id")
    for inspector_id, object_id in pairs:
        conflicts[inspector_id].append(object_id)
    return [(pk, squad_of.get(path), conflicts[pk]) for pk, path in inspectors]


def _store_frozen(data: bytes, *, plan: DrawPlan, by, name: str, description: str) -> Evidence:
    return store_generated(data, by=by, name=name, content_type="text/csv", squad=plan.org_unit,
                           description=description, audit_action="drawplan.freeze_file")


@transaction.atomic
def commit_plan(plan: DrawPlan, *, by) -> DrawPlan:
    """Freeze the population and the inspector pool, generate the seed, publish its hash."""
    plan = _locked(plan)
    if plan.status != PlanStatus.DRAFT:
        raise BusinessRuleError("只有草稿状态的计划可以冻结。", code="not_draft")
    population = population_queryset(plan)
    rows = list(population.order_by("pk").values_list("pk", "credit_grade", "squad_id").iterator(chunk_size=IN_BATCH))
    if not rows:
        raise BusinessRuleError("按计划的对象类型和范围条件找不到任何在管对象，无法冻结。", code="empty_population")
    missing = sorted({cls for _, cls, _ in rows} - set(plan.ratios))
    if missing:
        raise BusinessRuleError(
            f"对象范围中有信用等级为 {'、'.join(missing)} 的对象，但计划没有设定这些等级的抽取比例。",
            code="ratio_missing",
        )
    pool = _pool_rows(plan, population)
    if len(pool) < plan.inspectors_per_object:
        raise BusinessRuleError(
            f"合格的检查人员只有 {len(pool)} 人（在岗、具有执法队员角色、执法证在 {plan.period_start:%Y-%m-%d} "
            f"有效），少于每户所需的 {plan.inspectors_per_object} 人，无法冻结计划。请增加检查人员来源单位或调整每户人数。",
            code="too_few_inspectors", field="inspector_units", article="《行政处罚法》第四十二条",
        )
    plan.population_file = _store_frozen(
        population_csv(rows), plan=plan, by=by, name=f"draw-plan-{plan.pk}-population.csv",
        description=f"双随机抽查计划“{plan.name}”冻结对象名录（{len(rows)} 户）",
    )
    plan.pool_file = _store_frozen(
        pool_csv(pool), plan=plan, by=by, name=f"draw-plan-{plan.pk}-inspectors.csv",
        description=f"双随机抽查计划“{plan.name}”冻结检查人员名录（{len(pool)} 人）",
    )
    plan.population_count, plan.pool_count = len(rows), len(pool)
    plan.seed = secrets.token_hex(32)
    plan.seed_commitment = seed_commitment(plan.seed)
    plan.status, plan.committed_at = PlanStatus.COMMITTED, timezone.now()
    plan.save(audit_action="drawplan.commit", actor=by)
    return plan


# --- drawing ----------------------------------------------------------------------------------

def _load_frozen(plan: DrawPlan, *, by) -> tuple[Population, Pool]:
    """The frozen files, read back and checked against their SHA-256 and the plan's counts."""
    parsed = []
    for evidence, parse, label, expected in (
        (plan.population_file, parse_population, "冻结对象名录", plan.population_count),
        (plan.pool_file, parse_pool, "冻结检查人员名录", plan.pool_count),
    ):
        try:
            with open_verified(evidence, by=by) as blob:
                data = blob.read()
        except BusinessRuleError as exc:
            raise BusinessRuleError(
                f"{label}文件校验失败：存储内容与冻结时公布的 SHA-256（{evidence.sha256}）不一致，"
                "文件缺失、损坏或被篡改，不能据此抽取或核验。请联系系统管理员。",
                code="frozen_file_tampered",
            ) from exc
        value = parse(data)
        if len(value) != expected:
            raise BusinessRuleError(f"{label}的条数（{len(value)}）与计划记录（{expected}）不符。",
                                    code="frozen_file_tampered")
        parsed.append(value)
    return parsed[0], parsed[1]


def _compute(plan: DrawPlan, population: Population, pool: Pool) -> DrawResult:
    try:
        return draw(population, pool, plan.seed, plan.ratios, plan.inspectors_per_object, plan.exclude_own_squad)
    except DrawError as exc:
        if exc.object_id is None:
            raise
        obj = RegulatedObject.objects.filter(pk=exc.object_id).only("name").first()
        label = f"“{obj.name}”（编号 {exc.object_id}）" if obj else f"编号 {exc.object_id}"
        eligible = f"只有 {exc.eligible} 人" if exc.eligible is not None else "不足"
        raise BusinessRuleError(
            f"抽中的对象{label}可选的检查人员{eligible}（已排除回避申报"
            f"{'及本中队人员' if plan.exclude_own_squad else ''}），少于每户所需的 {plan.inspectors_per_object} 人，"
            "无法完成抽取。请重抽并扩大检查人员来源单位。",
            code="draw_impossible",
        ) from exc


def _refuse_unless_committed(plan: DrawPlan) -> None:
    if plan.status == PlanStatus.DRAFT:
        raise BusinessRuleError("计划尚未冻结（对象名录、检查人员名录和随机种子承诺值未公布），不能抽取。",
                                code="not_committed")
    if plan.status != PlanStatus.COMMITTED:
        raise BusinessRuleError("该计划已经抽取过（或已被重抽替代），抽取不能重复进行；如确需重抽，请发起重抽并说明理由。",
                                code="already_drawn")


def _current_squads(object_ids: list[int]) -> dict[int, int | None]:
    squads = {}
    for start in range(0, len(object_ids), IN_BATCH):
        chunk = object_ids[start:start + IN_BATCH]
        squads.update(RegulatedObject.objects.filter(pk__in=chunk).values_list("pk", "squad_id"))
    return squads


def run_draw(plan: DrawPlan, *, by) -> DrawPlan:
    """Draw once: selections, one inspection task per drawn object, the seed revealed."""
    plan = DrawPlan.objects.get(pk=plan.pk)
    _refuse_unless_committed(plan)
    # Read and check the files before our transaction: a detected tampering is recorded by
    # the evidence store and must stay on the record when the draw is refused.
    population, pool = _load_frozen(plan, by=by)
    with transaction.atomic():
        plan = _locked(plan)
        _refuse_unless_committed(plan)
        result = _compute(plan, population, pool)
        object_ids = result.object_ids.tolist()
        inspector_rows = result.inspector_ids.tolist()
        DrawSelection.objects.bulk_create([
            DrawSelection(plan=plan, rank=rank, regulated_object_id=oid, credit_class=cls, inspector_ids=inspectors)
            for rank, (oid, cls, inspectors) in enumerate(zip(object_ids, result.credit_classes, inspector_rows,
                                                              strict=True), 1)
        ], batch_size=IN_BATCH, audit_action="drawplan.select")
        squads = _current_squads(object_ids)
        tasks = InspectionTask.objects.bulk_create([
            InspectionTask(regulated_object_id=oid, squad_id=squads.get(oid), source=TaskSource.DRAW, plan=plan,
                           due_date=plan.period_end, note=f"双随机抽查：{plan.name}"[:200])
            for oid in object_ids
        ], batch_size=IN_BATCH, audit_action="inspection_task.create_from_draw")
        field = InspectionTask.inspectors.field
        through = InspectionTask.inspectors.through
        through.objects.bulk_create([
            through(**{f"{field.m2m_field_name()}_id": task.pk, f"{field.m2m_reverse_field_name()}_id": inspector})
            for task, inspectors in zip(tasks, inspector_rows, strict=True) for inspector in inspectors
        ], batch_size=IN_BATCH)
        now = timezone.now()
        plan.status, plan.drawn_at = PlanStatus.DRAWN, now
        plan.publish_due = add_working_days(timezone.localdate(now), PUBLISH_WORKING_DAYS)
        plan.save(audit_action="drawplan.draw", actor=by)
        audit.record("drawplan.reveal_seed", plan, after={
            "seed": plan.seed, "seed_commitment": plan.seed_commitment, "key": result.key,
            "selections": len(object_ids),
            "quotas": {cls: {"population": n, "drawn": k} for cls, (n, k) in result.quotas.items()},
        }, actor=by)
    return plan


@transaction.atomic
def publish_plan(plan: DrawPlan, *, by) -> DrawPlan:
    plan = _locked(plan)
    if plan.status == PlanStatus.PUBLISHED:
        raise BusinessRuleError("该计划的抽取结果已经公示。", code="already_published")
    if plan.status != PlanStatus.DRAWN:
        raise BusinessRuleError("只有已抽取的计划可以公示。", code="not_drawn")
    plan.status, plan.published_at = PlanStatus.PUBLISHED, timezone.now()
    plan.save(audit_action="drawplan.publish", actor=by)
    return plan


@transaction.atomic
def redraw(plan: DrawPlan, *, by, reason: str) -> DrawPlan:
    """Supersede a committed, drawn or published plan by a new draft with the same settings.
    The old plan's selections stay as drawn; its pending tasks are cancelled; its seed becomes
    public, so anyone can see what the superseded draw would have chosen."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("重抽必须说明理由。", code="reason_required", field="reason")
    if len(reason) > 300:
        raise ValidationFailed("重抽理由不能超过 300 个字。", code="too_long", field="reason")
    old = _locked(plan)
    if old.status == PlanStatus.DRAFT:
        raise BusinessRuleError("草稿计划尚未冻结，直接修改即可，无需重抽。", code="not_committed")
    if old.status == PlanStatus.SUPERSEDED:
        raise BusinessRuleError("该计划已被重抽替代，请对替代它的新计划操作。", code="already_superseded")
    new = DrawPlan(
        name=old.name, org_unit=old.org_unit, period_start=old.period_start, period_end=old.period_end,
        population_filters=old.population_filters, ratios=old.ratios,
        inspectors_per_object=old.inspectors_per_object, exclude_own_squad=old.exclude_own_squad,
        replaces=old, redraw_reason=reason, created_by=by,
    )
    _apply(new, _clean(by, {
        **{f: getattr(old, f) for f in EDITABLE if f not in {"object_types", "inspector_units"}},
        "object_types": list(old.object_types.all()), "inspector_units": list(old.inspector_units.all()),
    }), by=by, action="drawplan.redraw")
    records.cancel_pending_tasks(InspectionTask.objects.filter(plan=old), by=by, note=f"计划已重抽作废：{reason}")
    old.status = PlanStatus.SUPERSEDED
    old.save(audit_action="drawplan.supersede", actor=by)
    audit.record("drawplan.reveal_seed", old, after={
        "seed": old.seed, "seed_commitment": old.seed_commitment, "superseded_by": new.pk, "reason": reason,
    }, actor=by)
    return new


# --- verification and the public view ---------------------------------------------------------

def verify_plan(plan: DrawPlan, *, by=None) -> VerifyResult:
    """Recompute the draw from the frozen files and the revealed seed and compare it, object by
    object, rank by rank, inspector by inspector, with what was stored."""
    plan = DrawPlan.objects.get(pk=plan.pk)
    if plan.drawn_at is None:
        return VerifyResult(False, f"计划“{plan.name}”尚未抽取（状态：{plan.get_status_display()}），没有可核验的抽取结果。")
    if seed_commitment(plan.seed) != plan.seed_commitment:
        return VerifyResult(False, "随机种子与抽取前公布的承诺值（SHA-256）不符：种子被更换。")
    try:
        population, pool = _load_frozen(plan, by=by)
        result = draw(population, pool, plan.seed, plan.ratios, plan.inspectors_per_object, plan.exclude_own_squad)
    except ChengguanError as exc:
        return VerifyResult(False, exc.message)
    stored = list(plan.selections.order_by("rank").values_list("rank", "regulated_object_id", "credit_class",
                                                                  "inspector_ids"))
    expected = list(zip(range(1, len(result.object_ids) + 1), result.object_ids.tolist(), result.credit_classes,
                        result.inspector_ids.tolist(), strict=True))
    for have, want in zip(stored, expected, strict=False):
        rank = want[0]
        if have[0] != rank:
            return VerifyResult(False, f"第 {rank} 位的记录缺失（记录的是第 {have[0]} 位）。", rank - 1)
        if have[1] != want[1]:
            return VerifyResult(False, f"第 {rank} 位：记录为对象 {have[1]}，重新计算为对象 {want[1]}。", rank - 1)
        if have[2] != want[2]:
            return VerifyResult(False, f"第 {rank} 位：记录的信用等级为 {have[2]}，冻结名录为 {want[2]}。", rank - 1)
        if list(have[3]) != want[3]:
            return VerifyResult(False, f"第 {rank} 位（对象 {want[1]}）：记录的检查人员为 {have[3]}，重新计算为 {want[3]}。",
                                rank - 1)
    if len(stored) != len(expected):
        return VerifyResult(False, f"记录的抽中对象有 {len(stored)} 个，重新计算为 {len(expected)} 个。",
                            min(len(stored), len(expected)))
    return VerifyResult(True, f"核验通过：按冻结名录和公布的随机种子重新计算，{len(expected)} 个抽中对象及其检查人员与记录完全一致。",
                        len(expected))


def _object_label(obj) -> dict:
    # Names and addresses of regulated businesses are public; contacts, ID numbers and phone
    # numbers never leave the bureau, and a natural person (registered by ID number, without a
    # credit code) is named only masked, as on the public portal.
    name = obj.name if obj.credit_code else mask_name(obj.name)
    return {"id": obj.pk, "name": name, "address": obj.address, "object_type": str(obj.object_type)}


def public_view(plan: DrawPlan) -> dict:
    """What the public portal shows of a plan: settings, the hashes of the frozen files, the
    seed commitment, and — only once revealed — the seed and the results."""
    view = {
        "id": plan.pk,
        "name": plan.name,
        "org_unit": plan.org_unit.name,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "object_types": [t.name for t in plan.object_types.order_by("code")],
        "population_filters": plan.population_filters,
        "ratios": {grade: str(parse_ratio(value)) for grade, value in sorted(plan.ratios.items())},
        "inspectors_per_object": plan.inspectors_per_object,
        "exclude_own_squad": plan.exclude_own_squad,
        "status": plan.status,
        "status_display": plan.get_status_display(),
        "population_sha256": plan.population_file.sha256 if plan.population_file_id else "",
        "population_count": plan.population_count,
        "pool_sha256": plan.pool_file.sha256 if plan.pool_file_id else "",
        "pool_count": plan.pool_count,
        "seed_commitment": plan.seed_commitment,
        "committed_at": plan.committed_at.isoformat() if plan.committed_at else None,
        "seed": plan.seed if plan.seed_revealed and plan.seed_commitment else None,
        "drawn_at": plan.drawn_at.isoformat() if plan.drawn_at else None,
        "publish_due": plan.publish_due.isoformat() if plan.publish_due else None,
        "published_at": plan.published_at.isoformat() if plan.published_at else None,
        "replaces": plan.replaces_id,
        "redraw_reason": plan.redraw_reason,
        "selections": [],
    }
    if plan.drawn_at is None:
        return view
    selections = list(plan.selections.select_related("regulated_object__object_type").order_by("rank"))
    names = dict(User.objects.filter(pk__in={i for s in selections for i in s.inspector_ids})
                 .values_list("pk", "real_name"))
    view["selections"] = [
        {"rank": s.rank, "credit_class": s.credit_class, "object": _object_label(s.regulated_object),
         "inspectors": [{"id": i, "name": names.get(i, "")} for i in s.inspector_ids]}
        for s in selections
    ]
    return view

