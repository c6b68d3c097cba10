"""Tiered supervision (分级分类): each regulated object's tier from its type's rule, with the
reason shown to people; the per-tier inspection frequency; the inspection schedule it
generates for each squad; and overdue inspections (issue 4, domain §9 and §9.1).

    score = type base risk + the object's risk level
            + weight × violations in the look-back window + points of its credit grade
    tier  = the first of 1, 2, 3 whose threshold the score reaches; otherwise 4

Shanghai 城管's own tier definitions were not found (domain §9.1, unverified): every number
here is configuration of the object type's `TierRule`; `DEFAULT_RULE` only serves types that
have none yet. The credit grade follows SAMR's A–D classes (domain §9); GOV-58 asks to raise
the intensity for entities with violation records, hence the violation term.

Tiers are recomputed every night (`inspections.recompute_tiers`, in bulk) and on events
(`on_violation`: an inspection found a violation, or a case was opened against the object).
"""

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from operator import itemgetter

import numpy as np
from django.db import connections, transaction
from django.db.models import BigIntegerField, Count, Exists, F, Func, OuterRef, Q, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from chengguan.core.choices import OrgUnitKind
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import OrgUnit

from ..choices import CreditGrade, InspectionOutcome, TaskSource, TaskStatus, Tier
from ..models import InspectionRecord, InspectionTask, ObjectType, RegulatedObject, TierRule

TIER_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
GRADES = [g.value for g in CreditGrade]  # "A" … "D"
THRESHOLD_TIERS = ("1", "2", "3")  # tier 4 is what reaches no threshold
FREQUENCY_TIERS = ("1", "2", "3", "4")
NON_COMPLIANT = (InspectionOutcome.ORDER_TO_CORRECT, InspectionOutcome.OPEN_CASE)

DEFAULT_RULE = {
    "violation_weight": 2,
    "violation_window_days": 365,
    "credit_points": {"A": 0, "B": 1, "C": 3, "D": 5},
    "thresholds": {"1": 9, "2": 6, "3": 3},
    "frequency_days": {"1": 30, "2": 90, "3": 180, "4": 365},
}
RULE_FIELDS = tuple(DEFAULT_RULE)

# The fields a tier assignment writes, and the inputs it reads (a row whose inputs moved
# between the bulk read and the write was re-tiered by its own service meanwhile).
TIER_FIELDS = ("tier", "tier_reason", "tier_computed_at", "next_inspection_due")
INPUT_FIELDS = ("object_type_id", "risk_level", "credit_grade", "tier", "next_inspection_due", "is_active")

READ_CHUNK = 100_000
WRITE_BATCH = 2_000
SCHEDULE_MAX_DAYS = 366


# --- violations -----------------------------------------------------------------------------------

def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def inspection_violations(object_ids, since: dt.date) -> dict[int, int]:
    """Inspections with a non-compliant outcome (责令改正 or 立案查处) on or after `since`."""
    records = InspectionRecord.objects.filter(outcome__in=NON_COMPLIANT, inspected_at__gte=_day_start(since))
    if object_ids is not None:
        records = records.filter(regulated_object_id__in=object_ids)
    return dict(records.order_by().values("regulated_object_id").annotate(n=Count("pk"))
                .values_list("regulated_object_id", "n"))


# Where violations come from: callables (object_ids, since) -> {object id: count}, where
# object_ids is a collection or a subquery (`.values("pk")`) of object ids, or None for all
# objects, and `since` the first day counted. Other modules append theirs (the cases module:
# cases opened against the object) from their AppConfig.ready(); this file needs no edit.
VIOLATION_SOURCES: list[Callable[[object, dt.date], dict[int, int]]] = [inspection_violations]


def count_violations(object_ids, since: dt.date) -> dict[int, int]:
    totals: dict[int, int] = {}
    for source in VIOLATION_SOURCES:
        for pk, n in source(object_ids, since).items():
            totals[pk] = totals.get(pk, 0) + n
    return totals


# --- rules --------------------------------------------------------------------------------------

def rule_for(object_type: ObjectType) -> TierRule:
    """The type's rule, or an unsaved one with DEFAULT_RULE (`pk` None) if it has none."""
    try:
        return object_type.tier_rule
    except TierRule.DoesNotExist:
        return TierRule(object_type=object_type, **DEFAULT_RULE)


def _int(value, field: str, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise ValidationFailed(f"{label}必须是整数。", code="invalid_number", field=field)
    if not low <= value <= high:
        raise ValidationFailed(f"{label}必须在 {low} 到 {high} 之间，收到 {value}。", code="out_of_range", field=field)
    return value


def _table(value, field: str, label: str, keys, names, low: int, high: int) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValidationFailed(f"{label}格式错误，应为对象，如 {DEFAULT_RULE[field]}。", code="invalid_json", field=field)
    given = {str(k).strip().upper(): v for k, v in value.items()}
    if set(given) != set(keys):
        raise ValidationFailed(f"{label}必须且只能包含 {'、'.join(names)}，如 {DEFAULT_RULE[field]}。",
                               code="invalid_keys", field=field)
    return {k: _int(given[k], field, f"{label}中“{n}”", low, high) for k, n in zip(keys, names, strict=True)}


def validate_rule_fields(fields: dict) -> dict:
    """Clean the editable fields of a tier rule; ValidationFailed names the first bad one."""
    unknown = sorted(set(fields) - set(RULE_FIELDS))
    if unknown:
        raise ValidationFailed(f"分级规则没有字段 {'、'.join(unknown)}。", code="unknown_field", field=unknown[0])
    clean = {}
    if "violation_weight" in fields:
        clean["violation_weight"] = _int(fields["violation_weight"], "violation_weight", "每起违法加分", 0, 100)
    if "violation_window_days" in fields:
        clean["violation_window_days"] = _int(fields["violation_window_days"], "violation_window_days",
                                              "违法记录回溯天数", 1, 3650)
    if "credit_points" in fields:
        clean["credit_points"] = _table(fields["credit_points"], "credit_points", "信用等级加分", GRADES,
                                        [f"{g}级" for g in GRADES], 0, 100)
    if "thresholds" in fields:
        t = _table(fields["thresholds"], "thresholds", "分级阈值", THRESHOLD_TIERS,
                   [TIER_NAMES[int(k)] for k in THRESHOLD_TIERS], 0, 1000)
        if not t["1"] > t["2"] > t["3"]:
            raise ValidationFailed(f"分级阈值必须一级 > 二级 > 三级（收到 {t['1']}、{t['2']}、{t['3']}）。",
                                   code="thresholds_not_decreasing", field="thresholds")
        clean["thresholds"] = t
    if "frequency_days" in fields:
        f = _table(fields["frequency_days"], "frequency_days", "检查频次（天）", FREQUENCY_TIERS,
                   [TIER_NAMES[int(k)] for k in FREQUENCY_TIERS], 1, 3650)
        if not f["1"] <= f["2"] <= f["3"] <= f["4"]:
            raise ValidationFailed("检查频次必须随等级放宽：一级间隔天数 ≤ 二级 ≤ 三级 ≤ 四级。",
                                   code="frequency_not_increasing", field="frequency_days")
        clean["frequency_days"] = f
    return clean


def set_tier_rule(object_type: ObjectType, *, by, **fields) -> TierRule:
    """Create or change the type's tier rule (fields not given keep their value, or the default
    for a new rule); the type's objects are re-tiered after commit (a background job)."""
    clean = validate_rule_fields(fields)
    with transaction.atomic():
        rule = TierRule.objects.select_for_update().filter(object_type=object_type).first()
        creating = rule is None
        if creating:
            rule = TierRule(object_type=object_type, **DEFAULT_RULE)
        for name, value in clean.items():
            setattr(rule, name, value)
        rule.save(audit_action="tierrule.create" if creating else "tierrule.update", actor=by)
        transaction.on_commit(lambda: _schedule_recompute(object_type.pk))
    return rule


def _schedule_recompute(object_type_id: int) -> None:
    from ..tasks import recompute_tiers_task

    recompute_tiers_task.delay(object_type_id=object_type_id)


# --- computation --------------------------------------------------------------------------------

def compute_tier(*, rule, base_risk: int, risk_level: int, credit_grade: str, violations: int) -> tuple[int, str]:
    """(tier, reason) for one object under `rule` (a TierRule, saved or not). Pure."""
    points = int(rule.credit_points.get(credit_grade, 0))
    weight = int(rule.violation_weight)
    score = int(base_risk) + int(risk_level) + weight * int(violations) + points
    thresholds = {int(k): int(v) for k, v in rule.thresholds.items()}
    tier = next((t for t in (1, 2, 3) if score >= thresholds[t]), 4)
    parts = (f"类型基础分 {base_risk} + 风险等级 {risk_level} + 近{rule.violation_window_days}天违法 {violations} 起×"
             f"{weight} + 信用等级{credit_grade} {points} 分")
    if tier == 1:
        verdict = f"达到一级阈值 {thresholds[1]}"
    elif tier < 4:
        verdict = f"达到{TIER_NAMES[tier]}阈值 {thresholds[tier]}，未达{TIER_NAMES[tier - 1]}阈值 {thresholds[tier - 1]}"
    else:
        verdict = f"未达三级阈值 {thresholds[3]}，定为四级"
    reason = f"得分 {score}（{parts}），{verdict}；每 {rule.frequency_days[str(tier)]} 天检查一次"
    if rule.pk is None:
        reason += "（该类型未设分级规则，按默认规则）"
    return tier, reason[:300]


def compute_tiers_array(*, base_risk, risk_level, credit_points, violations, weight, thresholds
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `compute_tier` for many objects: (scores, tiers) as int64 arrays. Every
    argument is an array over the objects (or a scalar); `credit_points` holds each object's
    points already looked up from its grade; `thresholds` is (n, 3) or (3,): tiers 1, 2, 3."""
    score = (np.asarray(base_risk, np.int64) + np.asarray(risk_level, np.int64)
             + np.asarray(weight, np.int64) * np.asarray(violations, np.int64)
             + np.asarray(credit_points, np.int64))
    limits = np.asarray(thresholds, np.int64)
    tier = np.full(score.shape, 4, np.int64)
    for t in (3, 2, 1):  # lowest tier first, so the first threshold reached wins as in compute_tier
        tier[score >= limits[..., t - 1]] = t
    return score, tier


def _base_date(obj: RegulatedObject) -> dt.date:
    if obj.last_inspected_on:
        return obj.last_inspected_on
    return timezone.localdate(obj.created_at) if obj.created_at else timezone.localdate()


def assign_tier(obj: RegulatedObject, *, by=None, save: bool = False) -> RegulatedObject:
    """Set the object's tier, reason, computation time and next due inspection (last
    inspection, or registration, + the tier's frequency). Saves only when `save`."""
    rule = rule_for(obj.object_type)
    violations = 0
    if obj.pk is not None:
        since = timezone.localdate() - dt.timedelta(days=rule.violation_window_days)
        violations = count_violations([obj.pk], since).get(obj.pk, 0)
    obj.tier, obj.tier_reason = compute_tier(rule=rule, base_risk=obj.object_type.base_risk,
                                             risk_level=obj.risk_level, credit_grade=obj.credit_grade,
                                             violations=violations)
    obj.tier_computed_at = timezone.now()
    obj.next_inspection_due = _base_date(obj) + dt.timedelta(days=int(rule.frequency_days[str(obj.tier)]))
    if save:
        obj.save(audit_action="regobj.tier", actor=by)
    return obj


def on_violation(obj: RegulatedObject, *, by) -> RegulatedObject:
    """A violation was found (inspection) or a case opened against the object: re-tier it now,
    with the caller's unsaved changes to `obj`, and bring a pending scheduled inspection
    forward if the new tier makes it due earlier."""
    with transaction.atomic():
        list(RegulatedObject.objects.select_for_update().filter(pk=obj.pk).values_list("pk"))
        previous = obj.tier
        assign_tier(obj)
        obj.save(audit_action="regobj.violation", actor=by)
        later = obj.tasks.select_for_update().filter(status=TaskStatus.PENDING, source=TaskSource.SCHEDULE,
                                                     due_date__gt=obj.next_inspection_due)
        change = f"由{TIER_NAMES.get(previous, previous)}调为{TIER_NAMES[obj.tier]}，" if previous != obj.tier else ""
        for task in later:
            task.due_date = obj.next_inspection_due
            task.note = f"因违法记录{change}提前检查"
            task.save(audit_action="inspection_task.reschedule", actor=by)
    return obj


# --- bulk recomputation -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RecomputeResult:
    checked: int
    changed: int


@dataclasses.dataclass
class _Rows:
    """The columns of the objects being re-tiered, as arrays in primary-key order."""

    pk: np.ndarray
    type_id: np.ndarray
    risk: np.ndarray
    grade: np.ndarray  # index into GRADES; len(GRADES) for an unknown grade
    tier: np.ndarray
    due: np.ndarray  # datetime64[D], NaT where unset
    base: np.ndarray  # datetime64[D]: last inspection, else registration date
    reason: np.ndarray  # key of the stored reason (see _ReasonKeys)
    reason_keys: "_ReasonKeys"


class _Hash64(Func):
    function = "hashtextextended"
    output_field = BigIntegerField()

    def get_db_converters(self, connection):
        return []  # psycopg returns ints already: a converter would be a Python call per row


class _ReasonKeys:
    """Stored reasons are compared by key, not sent whole: on PostgreSQL the key is the
    reason's 64-bit hash computed in the database (`hashtextextended`: 2,000,000 reasons
    would otherwise be a quarter of the bytes read); elsewhere a small code per distinct text."""

    def __init__(self, connection):
        self.connection = connection
        self.hashed = connection.vendor == "postgresql"
        self.codes: dict[str, int] = {}

    def expression(self):
        return _Hash64(F("tier_reason"), Value(0)) if self.hashed else F("tier_reason")

    def column(self, values, n: int) -> np.ndarray:
        if self.hashed:
            return _ints(values, n)
        return _ints((self.codes.setdefault(r, len(self.codes)) for r in values), n)

    def of(self, reasons: list[str]) -> np.ndarray:
        """The keys the given reasons have (or would have) when stored."""
        if not self.hashed:
            return np.array([self.codes.get(r, -1) for r in reasons], np.int64)
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT hashtextextended(r, 0) FROM unnest(%s::text[]) WITH ORDINALITY AS u (r, i) "
                           "ORDER BY i", [reasons])
            return np.array([row[0] for row in cursor.fetchall()], np.int64)


_GRADE_INDEX = {g: i for i, g in enumerate(GRADES)}
_GRADE_LUT = np.full(128, len(GRADES), np.int64)
_GRADE_LUT[[ord(g) for g in GRADES]] = np.arange(len(GRADES))
_EPOCH = dt.date(1970, 1, 1).toordinal()
_NO_DATE = dt.date(1, 1, 1)  # stands for NULL in the read, so that every value is a date


def _grade_code(grade: str) -> int:
    return _GRADE_INDEX.get(grade, len(GRADES))


def _ints(values, n: int) -> np.ndarray:
    return np.fromiter(values, np.int64, n)


def _grades(values, n: int) -> np.ndarray:
    values = list(values)
    joined = "".join(values)
    if len(joined) != n:  # some grade is not one character: the slow way
        return _ints(map(_grade_code, values), n)
    return _GRADE_LUT[np.minimum(np.frombuffer(joined.encode("utf-32-le"), np.uint32), 127)]


def _days(values, n: int) -> np.ndarray:
    # Via ordinals: numpy converts date objects ten times slower than this.
    days = _ints(map(dt.date.toordinal, values), n) - _EPOCH
    days[days == _NO_DATE.toordinal() - _EPOCH] = np.iinfo(np.int64).min  # NaT
    return days.view("datetime64[D]")


def _read_rows(queryset) -> _Rows:
    """Stream the needed columns in chunks (never a model instance) into arrays: a few ints
    per row in memory."""
    keys = _ReasonKeys(connections[queryset.db])
    columns = queryset.order_by("pk").values_list(
        "pk", "object_type_id", "risk_level", "credit_grade", "tier",
        Coalesce("next_inspection_due", Value(_NO_DATE)), Coalesce("last_inspected_on", TruncDate("created_at")),
        keys.expression(),
    ).iterator(chunk_size=READ_CHUNK)
    parts: list[list[np.ndarray]] = [[] for _ in range(8)]
    while chunk := list(itertools.islice(columns, READ_CHUNK)):
        n = len(chunk)
        for i, convert in enumerate((_ints, _ints, _ints, _grades, _ints, _days, _days, keys.column)):
            parts[i].append(convert(map(itemgetter(i), chunk), n))
    if not parts[0]:
        empty = np.empty(0, np.int64)
        return _Rows(empty, empty, empty, empty, empty, empty.view("datetime64[D]"), empty.view("datetime64[D]"),
                     empty, keys)
    return _Rows(*(np.concatenate(p) for p in parts), reason_keys=keys)


def _violation_counts(rows: _Rows, queryset, rules: dict[int, TierRule], types: np.ndarray,
                      whole_table: bool) -> np.ndarray:
    """Violations per row: one grouped query per violation source and distinct window."""
    counts = np.zeros(len(rows.pk), np.int64)
    today = timezone.localdate()
    windows: dict[int, list[int]] = {}
    for type_id in types.tolist():
        windows.setdefault(rules[type_id].violation_window_days, []).append(type_id)
    for window, type_ids in windows.items():
        if whole_table and len(windows) == 1:
            ids = None
        else:
            ids = queryset.filter(object_type_id__in=type_ids).values("pk")
        found = count_violations(ids, today - dt.timedelta(days=window))
        if not found:
            continue
        keys = np.fromiter(found.keys(), np.int64, len(found))
        values = np.fromiter(found.values(), np.int64, len(found))
        at = np.minimum(np.searchsorted(rows.pk, keys), len(rows.pk) - 1)
        hit = (rows.pk[at] == keys) & np.isin(rows.type_id[at], type_ids)
        counts[at[hit]] += values[hit]
    return counts


@dataclasses.dataclass
class TierEvaluation:
    """New tiers for the rows read: `changed` indexes the rows whose tier, reason or next due
    date differ from what is stored."""

    rows: _Rows
    tier: np.ndarray
    due: np.ndarray  # datetime64[D]
    reason_index: np.ndarray  # each row's reason in `reasons`
    reasons: list[str]
    changed: np.ndarray
    violations: np.ndarray

    def reason(self, i: int) -> str:
        return self.reasons[self.reason_index[i]]


def evaluate_tiers(queryset=None) -> TierEvaluation:
    """Compute (without writing) the tiers of active objects, all or those of `queryset`: the
    inputs read as arrays, violations counted with grouped queries, the formula in numpy and
    the reasons formatted once per distinct (type, risk, grade, violations), not per row."""
    whole_table = queryset is None
    queryset = (RegulatedObject.objects.all() if whole_table else queryset).filter(is_active=True)
    with transaction.atomic():  # a plain server-side cursor: outside, PostgreSQL materialises it (WITH HOLD)
        rows = _read_rows(queryset)
    if len(rows.pk) == 0:
        empty = np.empty(0, np.int64)
        return TierEvaluation(rows, empty, empty.astype("datetime64[D]"), empty, [], empty, empty)

    types = np.unique(rows.type_id)
    type_objs = ObjectType.objects.select_related("tier_rule").in_bulk(types.tolist())
    rules = {pk: rule_for(type_objs[pk]) for pk in types.tolist()}
    t = np.searchsorted(types, rows.type_id)  # each row's type as an index into `types`
    rule_list = [rules[pk] for pk in types.tolist()]
    base_risk = np.array([type_objs[pk].base_risk for pk in types.tolist()], np.int64)
    weight = np.array([r.violation_weight for r in rule_list], np.int64)
    points = np.array([[int(r.credit_points.get(g, 0)) for g in GRADES] + [0] for r in rule_list], np.int64)
    limits = np.array([[int(r.thresholds[k]) for k in THRESHOLD_TIERS] for r in rule_list], np.int64)
    frequency = np.array([[int(r.frequency_days[k]) for k in FREQUENCY_TIERS] for r in rule_list], np.int64)

    violations = _violation_counts(rows, queryset, rules, types, whole_table)
    _, tier = compute_tiers_array(base_risk=base_risk[t], risk_level=rows.risk, credit_points=points[t, rows.grade],
                                  violations=violations, weight=weight[t], thresholds=limits[t])
    due = rows.base + frequency[t, tier - 1].astype("timedelta64[D]")

    radix = [len(types), int(rows.risk.max()) + 1, len(GRADES) + 1, int(violations.max()) + 1]
    key = ((t * radix[1] + rows.risk) * radix[2] + rows.grade) * radix[3] + violations
    combos, reason_index = _distinct(key, int(np.prod(radix)))
    grade_names = [*GRADES, ""]
    reasons = []
    for combo in combos.tolist():
        combo, v = divmod(combo, radix[3])
        combo, g = divmod(combo, radix[2])
        ti, risk = divmod(combo, radix[1])
        reasons.append(compute_tier(rule=rule_list[ti], base_risk=int(base_risk[ti]), risk_level=risk,
                                    credit_grade=grade_names[g], violations=v)[1])
    keys = rows.reason_keys.of(reasons)
    changed = np.flatnonzero((tier != rows.tier) | (due != rows.due) | (keys[reason_index] != rows.reason))
    return TierEvaluation(rows, tier, due, reason_index, reasons, changed, violations)


def _distinct(key: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(key, return_inverse=True) for keys in [0, bound): by counting, not sorting."""
    if bound > 50_000_000:
        return np.unique(key, return_inverse=True)
    combos = np.flatnonzero(np.bincount(key, minlength=bound))
    lookup = np.zeros(bound, np.int64)
    lookup[combos] = np.arange(len(combos))
    return combos, lookup[key]


def recompute_tiers(queryset=None, *, by=None, batch_size: int = WRITE_BATCH) -> RecomputeResult:
    """Re-tier active objects (all, or those of `queryset`) in bulk (`evaluate_tiers`), then
    write only the rows that changed, in batches: each batch one transaction with one audit
    event per changed object (before/after tier and reason)."""
    ev = evaluate_tiers(queryset)
    written = 0
    now = timezone.now()
    for start in range(0, len(ev.changed), batch_size):
        written += _write_batch(ev, ev.changed[start:start + batch_size], now, by)
    return RecomputeResult(checked=len(ev.rows.pk), changed=written)


def _write_batch(ev: TierEvaluation, idx: np.ndarray, now, by) -> int:
    rows = ev.rows
    at = dict(zip(rows.pk[idx].tolist(), idx.tolist(), strict=True))
    with transaction.atomic():
        objs = list(RegulatedObject.objects.select_for_update().filter(pk__in=list(at)).order_by("pk")
                    .only(*TIER_FIELDS, *INPUT_FIELDS))
        fresh = []
        for obj in objs:
            i = at[obj.pk]
            read = (int(rows.type_id[i]), int(rows.risk[i]), int(rows.grade[i]), int(rows.tier[i]),
                    None if np.isnat(rows.due[i]) else rows.due[i].item())
            current = (obj.object_type_id, obj.risk_level, _grade_code(obj.credit_grade), obj.tier,
                       obj.next_inspection_due)
            if not obj.is_active or read != current:
                continue  # changed since the read: the service that changed it re-tiered it
            obj.tier = int(ev.tier[i])
            obj.tier_reason = ev.reason(i)
            obj.tier_computed_at = now
            obj.next_inspection_due = ev.due[i].item()
            fresh.append(obj)
        return RegulatedObject.objects.bulk_update_audited(fresh, TIER_FIELDS, action="regobj.tier_recompute",
                                                           actor=by)


# --- schedules ----------------------------------------------------------------------------------

def _require(user, perm: str) -> None:
    if user is not None and not user.has_perm(perm):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("您没有执行此操作的权限。")


def generate_schedule(*, by, until, squad: OrgUnit | None = None) -> int:
    """Create a scheduled inspection task (分级分类计划) for every active object in scope (of
    `by`, or all when `by` is None: the nightly job) whose next inspection is due by `until`
    and that has no pending task yet; returns how many were created. Each squad's schedule thus
    follows its objects' tiers and the per-tier frequency."""
    _require(by, "inspections.add_inspectiontask")
    if not isinstance(until, dt.date) or isinstance(until, dt.datetime):
        raise ValidationFailed("截止日期无效。", code="invalid_date", field="until")
    today = timezone.localdate()
    if until > today + dt.timedelta(days=SCHEDULE_MAX_DAYS):
        raise ValidationFailed(f"截止日期不能晚于一年后（{today + dt.timedelta(days=SCHEDULE_MAX_DAYS)}）。",
                               code="out_of_range", field="until")
    objects = RegulatedObject.objects.all() if by is None else RegulatedObject.objects.restrict(by, "view")
    squads = (OrgUnit.objects.all() if by is None else OrgUnit.objects.restrict(by)).filter(kind=OrgUnitKind.SQUAD)
    if squad is not None:
        if not squads.filter(pk=squad.pk).exists():
            raise ValidationFailed("所选中队不存在或不在您的数据范围内。", code="invalid_squad", field="squad")
        squads = squads.filter(pk=squad.pk)
        objects = objects.filter(squad=squad)
    with transaction.atomic():
        # Concurrent runs over the same squads queue on the squad rows, so the second one sees
        # the first one's tasks and never duplicates them.
        list(squads.select_for_update().order_by("pk").values_list("pk"))
        pending = InspectionTask.objects.filter(regulated_object=OuterRef("pk"), status=TaskStatus.PENDING)
        due = (objects.filter(is_active=True, squad__isnull=False)
               .filter(Q(next_inspection_due__lte=until) | Q(next_inspection_due__isnull=True))
               .filter(~Exists(pending))
               .order_by("pk").values_list("pk", "squad_id", "next_inspection_due", "tier"))
        tasks = [
            InspectionTask(regulated_object_id=pk, squad_id=squad_id, source=TaskSource.SCHEDULE,
                           due_date=due_on or today, note=f"分级分类计划：{Tier(tier).label}")
            for pk, squad_id, due_on, tier in due.iterator(chunk_size=READ_CHUNK)
        ]
        InspectionTask.objects.bulk_create(tasks, batch_size=1000, audit_action="inspection_task.schedule")
    return len(tasks)


def overdue_tasks(user):
    """Pending inspection tasks in the user's scope whose due date has passed (oldest first)."""
    return (InspectionTask.objects.restrict(user, "view")
            .filter(status=TaskStatus.PENDING, due_date__lt=timezone.localdate())
            .select_related("regulated_object", "squad").order_by("due_date", "pk"))

