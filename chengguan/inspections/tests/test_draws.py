"""双随机 plans: freezing, the verifiable draw, re-draws, verification and the public view.

`reference_draw` below re-implements the draw from ADR 0004's text alone, in plain Python (no
numpy): the tests hold the service's results to it, which is what a third party would do."""

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.core.calendar import add_working_days
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.evidence import evidence_storage
from chengguan.core.models import AuditEvent, Evidence
from chengguan.core.testing import make_user
from chengguan.inspections.choices import PlanStatus, TaskSource, TaskStatus
from chengguan.inspections.models import DrawPlan, DrawSelection, InspectionTask, InspectorConflict
from chengguan.inspections.services import draws

# --- the reference implementation (ADR 0004, section "The algorithm") --------------------------

M32, M64, M128 = (1 << 32) - 1, (1 << 64) - 1, (1 << 128) - 1
PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341


def pcg64_stream(seed_int: int):
    """numpy's SeedSequence(seed_int) → PCG64 → random_raw(), written out."""
    words = []
    while seed_int:
        words.append(seed_int & M32)
        seed_int >>= 32
    words = words or [0]
    hash_const = 0x43B0D7E5

    def hashmix(value):
        nonlocal hash_const
        value ^= hash_const
        hash_const = (hash_const * 0x931E8875) & M32
        value = (value * hash_const) & M32
        return value ^ (value >> 16)

    def mix(x, y):
        result = (0xCA01F9DD * x - 0x4973F715 * y) & M32
        return result ^ (result >> 16)

    pool = [hashmix(words[i] if i < len(words) else 0) for i in range(4)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(4, len(words)):
        for dst in range(4):
            pool[dst] = mix(pool[dst], hashmix(words[src]))
    hash_const, state32 = 0x8B51F9DD, []
    for i in range(8):
        value = pool[i % 4] ^ hash_const
        hash_const = (hash_const * 0x58F38DED) & M32
        value = (value * hash_const) & M32
        state32.append(value ^ (value >> 16))
    s = [state32[2 * i] | (state32[2 * i + 1] << 32) for i in range(4)]
    init_state, init_seq = (s[0] << 64) | s[1], (s[2] << 64) | s[3]
    inc = ((init_seq << 1) | 1) & M128
    state = (inc * 1) & M128  # state 0 stepped once: 0 × mult + inc
    state = (state + init_state) & M128
    state = (state * PCG_MULT + inc) & M128
    while True:
        state = (state * PCG_MULT + inc) & M128
        x, rot = ((state >> 64) ^ state) & M64, state >> 122
        yield ((x >> rot) | (x << ((64 - rot) & 63))) & M64


def reference_draw(population_file: bytes, pool_file: bytes, seed: str, ratios: dict, per_object: int,
                   exclude_own_squad: bool) -> list[tuple[int, str, list[int]]]:
    def rows(data):
        return [line.split(",") for line in data.decode("utf-8").split("\n")[1:-1]]

    objects = [(int(a), b, int(c) if c else 0) for a, b, c in rows(population_file)]
    pool = [(int(a), int(b) if b else 0, {int(x) for x in c.split(";") if x}) for a, b, c in rows(pool_file)]
    key = hashlib.sha256((seed + hashlib.sha256(population_file).hexdigest()
                          + hashlib.sha256(pool_file).hexdigest()).encode("ascii")).digest()
    stream = pcg64_stream(int.from_bytes(key, "big"))
    keys = [next(stream) for _ in objects]

    def order(i):
        return keys[i], objects[i][0]

    selected = []
    for cls in sorted({o[1] for o in objects}):
        members = [i for i, o in enumerate(objects) if o[1] == cls]
        quota = Fraction(Decimal(str(ratios[cls]))) * len(members)
        selected += sorted(members, key=order)[: -(-quota.numerator // quota.denominator)]
    ranked = sorted(selected, key=order)

    def eligible(i, j):
        (oid, _, squad), (_, inspector_squad, conflicts) = objects[i], pool[j]
        return oid not in conflicts and not (exclude_own_squad and squad and inspector_squad == squad)

    chosen = []
    for i in ranked:
        taken = []
        for j in [next(stream) % len(pool) for _ in range(2 * per_object)]:
            if len(taken) < per_object and j not in taken and eligible(i, j):
                taken.append(j)
        chosen.append(taken)
    for i, taken in zip(ranked, chosen, strict=True):
        while len(taken) < per_object:
            j = next(stream) % len(pool)
            if j not in taken and eligible(i, j):
                taken.append(j)
    return [(objects[i][0], objects[i][1], [pool[j][0] for j in taken]) for i, taken in zip(ranked, chosen, strict=True)]


def as_rows(result: draws.DrawResult) -> list[tuple[int, str, list[int]]]:
    return list(zip(result.object_ids.tolist(), result.credit_classes, result.inspector_ids.tolist(), strict=True))


# --- the pure algorithm --------------------------------------------------------------------------

SEED = "5e" * 32


def test_reference_stream_is_numpys_pcg64():
    for seed_int in (0, 1, 2**32 + 5, int.from_bytes(hashlib.sha256(b"draw").digest(), "big")):
        stream = pcg64_stream(seed_int)
        assert [next(stream) for _ in range(300)] == np.random.PCG64(seed_int).random_raw(300).tolist()


def test_quota_is_exact_decimal_arithmetic():
    # In floating point 0.07 × 100 = 7.000000000000001, whose ceiling would be 8.
    assert draws.class_quota(0.07, 100) == 7
    assert draws.class_quota("0.05", 2_000_000) == 100_000
    assert draws.class_quota(0.05, 21) == 2
    assert draws.class_quota(1, 3) == 3
    with pytest.raises(ValidationFailed) as refused:
        draws.class_quota(0, 10)
    assert refused.value.code == "invalid_ratio"


def small_files(n_objects=40, n_pool=6, conflicts=()):
    population = draws.population_csv(
        (i * 10, "ABCD"[i % 4], 100 + i % 3) for i in range(1, n_objects + 1))
    pool = draws.pool_csv(
        (1000 + j, 100 + j % 3, [oid for inspector, oid in conflicts if inspector == j]) for j in range(n_pool))
    return population, pool


def test_csv_format_is_the_documented_one():
    population, pool = small_files(3, 2, conflicts=[(0, 30), (0, 10)])
    assert population == b"object_id,credit_class,squad_id\n10,B,101\n20,C,102\n30,D,100\n"
    assert pool == b"inspector_id,squad_id,conflict_object_ids\n1000,100,10;30\n1001,101,\n"


@pytest.mark.parametrize("body", [
    b"1,A\n",          # two columns
    b"1,A,2,3\n",      # four
    b"1,a,2\n",        # class not an upper-case letter
    b"1,AB,2\n",
    b"2,A,\n1,B,\n",  # not in id order
    b"1,A,\n1,B,\n",  # an id twice
    b"1,A,x\n",        # squad not a number
    b"1,A,2",          # no final newline
])
def test_malformed_population_file_is_refused(body):
    with pytest.raises(draws.DrawError) as refused:
        draws.parse_population(draws.POPULATION_HEADER.encode() + b"\n" + body)
    assert refused.value.code == "frozen_file_malformed"


def test_parsed_files_round_trip():
    population_file, pool_file = small_files(n_objects=5, n_pool=3, conflicts=[(1, 20), (1, 10), (2, 50)])
    population, pool = draws.parse_population(population_file), draws.parse_pool(pool_file)
    assert population.object_ids.tolist() == [10, 20, 30, 40, 50]
    assert [population.classes[i] for i in population.class_index] == list("BCDAB")
    assert population.squad_ids.tolist() == [101, 102, 100, 101, 102]
    assert pool.inspector_ids.tolist() == [1000, 1001, 1002] and pool.squad_ids.tolist() == [100, 101, 102]
    assert list(zip(pool.conflict_inspectors.tolist(), pool.conflict_objects.tolist(), strict=True)) == [
        (1, 10), (1, 20), (2, 50)]
    assert population.sha256 == hashlib.sha256(population_file).hexdigest()


def test_draw_is_a_function_of_files_and_seed():
    population_file, pool_file = small_files(conflicts=[(0, 10), (1, 10), (2, 20)])
    ratios = {"A": 0.5, "B": 0.25, "C": 0.1, "D": 1}
    first = draws.draw(draws.parse_population(population_file), draws.parse_pool(pool_file), SEED, ratios, 2, False)
    again = draws.draw(draws.parse_population(population_file), draws.parse_pool(pool_file), SEED, ratios, 2, False)
    assert as_rows(first) == as_rows(again)
    assert as_rows(first) == reference_draw(population_file, pool_file, SEED, ratios, 2, False)
    other_seed = draws.draw(draws.parse_population(population_file), draws.parse_pool(pool_file), "6f" * 32,
                            ratios, 2, False)
    assert as_rows(other_seed) != as_rows(first)
    # a one-byte change in a frozen file changes the key, hence the draw
    edited = population_file.replace(b"\n40,A,", b"\n41,A,")
    changed = draws.draw(draws.parse_population(edited), draws.parse_pool(pool_file), SEED, ratios, 2, False)
    assert changed.key != first.key


def test_impossible_object_is_named():
    population_file, pool_file = small_files(n_objects=8, n_pool=3, conflicts=[(0, 30), (1, 30)])
    with pytest.raises(draws.DrawError) as refused:
        draws.draw(draws.parse_population(population_file), draws.parse_pool(pool_file), SEED,
                   dict.fromkeys("ABCD", 1), 2, False)
    assert refused.value.code == "draw_impossible"
    assert refused.value.object_id == 30
    assert "对象 30" in refused.value.message


@st.composite
def draw_inputs(draw_):
    n_objects = draw_(st.integers(1, 120))
    n_pool = draw_(st.integers(2, 12))
    n_squads = draw_(st.integers(1, 4))
    ids = sorted(draw_(st.sets(st.integers(1, 10_000), min_size=n_objects, max_size=n_objects)))
    classes = draw_(st.lists(st.sampled_from("ABCD"), min_size=n_objects, max_size=n_objects))
    squads = draw_(st.lists(st.integers(0, n_squads), min_size=n_objects, max_size=n_objects))
    pool_squads = draw_(st.lists(st.integers(0, n_squads), min_size=n_pool, max_size=n_pool))
    conflicts = draw_(st.lists(st.tuples(st.integers(0, n_pool - 1), st.sampled_from(ids + [99_999])),
                               max_size=3 * n_pool))
    ratios = {c: draw_(st.sampled_from(["0.01", "0.05", "0.1", "0.333", "0.5", "0.75", "1"])) for c in "ABCD"}
    population_file = draws.population_csv(zip(ids, classes, squads, strict=True))
    pool_file = draws.pool_csv(
        (5000 + j, pool_squads[j], [oid for inspector, oid in conflicts if inspector == j]) for j in range(n_pool))
    per_object = draw_(st.integers(2, min(3, n_pool)))
    return population_file, pool_file, ratios, per_object, draw_(st.booleans()), draw_(st.binary(min_size=32,
                                                                                              max_size=32)).hex()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draw_inputs())
def test_draw_invariants_and_specification(inputs):
    population_file, pool_file, ratios, per_object, exclude, seed = inputs
    population, pool = draws.parse_population(population_file), draws.parse_pool(pool_file)
    objects = {oid: (cls, squad) for oid, cls, squad in zip(population.object_ids.tolist(),
                                                             [population.classes[i] for i in population.class_index],
                                                             population.squad_ids.tolist(), strict=True)}
    inspectors = dict(zip(pool.inspector_ids.tolist(), pool.squad_ids.tolist(), strict=True))
    conflicts = {(int(pool.inspector_ids[j]), oid)
                 for j, oid in zip(pool.conflict_inspectors.tolist(), pool.conflict_objects.tolist(), strict=True)}

    def eligible(oid, iid):
        squad = objects[oid][1]
        return (iid, oid) not in conflicts and not (exclude and squad and inspectors[iid] == squad)

    try:
        result = draws.draw(population, pool, seed, ratios, per_object, exclude)
    except draws.DrawError as refused:
        # refused only when some object really lacks enough eligible inspectors
        assert refused.code == "draw_impossible"
        assert sum(eligible(refused.object_id, iid) for iid in inspectors) < per_object
        return
    rows = as_rows(result)
    drawn = [oid for oid, _, _ in rows]
    assert len(drawn) == len(set(drawn))  # no object twice
    for cls in {c for c, _ in objects.values()}:
        n = sum(1 for c, _ in objects.values() if c == cls)
        assert sum(1 for _, c, _ in rows if c == cls) == draws.class_quota(ratios[cls], n)
    for oid, cls, chosen in rows:
        assert objects[oid][0] == cls
        assert len(chosen) == per_object == len(set(chosen))
        assert all(eligible(oid, iid) for iid in chosen)
    assert rows == reference_draw(population_file, pool_file, seed, ratios, per_object, exclude)


# --- the service --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    """A private evidence store per test, never var/evidence."""
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


@pytest.fixture
def planner(users):
    return users[RoleCode.LEADER]


@pytest.fixture
def officers(org, users):
    """Three officers in squad A (one of them the `users` officer) and three in squad B."""
    a = [users[RoleCode.OFFICER]] + [make_user(RoleCode.OFFICER, org.squad_a) for _ in range(2)]
    b = [make_user(RoleCode.OFFICER, org.squad_b) for _ in range(3)]
    return a + b


@pytest.fixture
def shops(org, regobj_factory):
    """24 street shops: grades A×8, B×8, C×4, D×4, spread over both squads."""
    grades = "A" * 8 + "B" * 8 + "C" * 4 + "D" * 4
    grids = [org.grid_a1, org.grid_a2, org.grid_b1, org.grid_b2]
    return [regobj_factory(grids[i % 4], credit_grade=grade) for i, grade in enumerate(grades)]


RATIOS = {"A": 0.25, "B": 0.5, "C": 0.5, "D": 1}


def make_plan(planner, org, types, **kw):
    today = timezone.localdate()
    fields = {
        "name": "2025年沿街商户双随机抽查", "org_unit": org.bureau, "period_start": today,
        "period_end": today + dt.timedelta(days=30), "object_types": [types["street_shop"]],
        "ratios": RATIOS, **kw,
    }
    return draws.create_plan(by=planner, **fields)


def stored(evidence) -> bytes:
    with evidence_storage().open(evidence.storage_name, "rb") as blob:
        return blob.read()


def selection_rows(plan):
    return [(s.regulated_object_id, s.credit_class, s.inspector_ids) for s in plan.selections.order_by("rank")]


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("before", "after")), ensure_ascii=False)


def test_commit_freezes_lists_and_publishes_only_the_seed_commitment(planner, org, object_types, shops, officers):
    plan = make_plan(planner, org, object_types)
    assert plan.status == PlanStatus.DRAFT
    plan = draws.commit_plan(plan, by=planner)

    assert plan.status == PlanStatus.COMMITTED and plan.committed_at
    population_file = stored(plan.population_file)
    expected_rows = "".join(f"{s.pk},{s.credit_grade},{s.squad_id}\n" for s in sorted(shops, key=lambda s: s.pk))
    assert population_file.decode() == draws.POPULATION_HEADER + "\n" + expected_rows
    assert plan.population_file.sha256 == hashlib.sha256(population_file).hexdigest()
    assert plan.population_file.content_type == "text/csv" and "冻结对象名录" in plan.population_file.description
    assert (plan.population_count, plan.pool_count) == (24, 6)
    assert plan.seed_commitment == hashlib.sha256(plan.seed.encode()).hexdigest()
    assert len(plan.seed) == 64

    view = draws.public_view(plan)
    assert view["seed"] is None and view["selections"] == []
    assert view["population_sha256"] == plan.population_file.sha256
    assert view["seed_commitment"] == plan.seed_commitment
    # before the draw the seed is nowhere in clear: not in the public view, not in the audit log
    assert plan.seed not in json.dumps(view, ensure_ascii=False)
    assert plan.seed not in audit_text()
    assert AuditEvent.objects.filter(action="drawplan.commit", object_id=str(plan.pk)).exists()


def test_draw_matches_the_independent_reimplementation_and_verifies(planner, org, object_types, shops, officers):
    plan = draws.commit_plan(make_plan(planner, org, object_types), by=planner)
    plan = draws.run_draw(plan, by=planner)

    assert plan.status == PlanStatus.DRAWN and plan.drawn_at
    assert plan.publish_due == add_working_days(timezone.localdate(plan.drawn_at), 20)
    expected = reference_draw(stored(plan.population_file), stored(plan.pool_file), plan.seed, plan.ratios, 2, False)
    assert selection_rows(plan) == expected
    # ceil(0.25×8) + ceil(0.5×8) + ceil(0.5×4) + ceil(1×4)
    assert len(expected) == 2 + 4 + 2 + 4

    tasks = InspectionTask.objects.filter(plan=plan)
    assert tasks.count() == len(expected)
    for oid, _, inspector_ids in expected:
        task = tasks.get(regulated_object_id=oid)
        assert task.source == TaskSource.DRAW and task.status == TaskStatus.PENDING
        assert task.due_date == plan.period_end
        assert sorted(task.inspectors.values_list("pk", flat=True)) == sorted(inspector_ids)
        assert task.squad_id == task.regulated_object.squad_id

    result = draws.verify_plan(plan)
    assert result.ok and result.checked == len(expected), result.message
    out = io.StringIO()
    call_command("verify_draw", str(plan.pk), stdout=out)
    assert "核验通过" in out.getvalue() and plan.seed in out.getvalue()

    view = draws.public_view(plan)
    assert view["seed"] == plan.seed
    assert [s["object"]["id"] for s in view["selections"]] == [oid for oid, _, _ in expected]
    names = {o.pk: o.real_name for o in officers}
    assert view["selections"][0]["inspectors"][0]["name"] == names[expected[0][2][0]]
    text = json.dumps(view, ensure_ascii=False)
    drawn_shops = [s for s in shops if s.pk in {oid for oid, _, _ in expected}]
    assert all(s.contact_name not in text and s.contact_phone not in text for s in drawn_shops)


def test_ratio_per_class_and_filters(planner, org, object_types, shops, officers):
    plan = make_plan(planner, org, object_types, ratios={"A": 0.5, "B": 0.125},
                     population_filters={"credit_grades": ["A", "B"], "squads": [org.squad_a.pk]})
    plan = draws.run_draw(draws.commit_plan(plan, by=planner), by=planner)
    in_a = [s for s in shops if s.squad_id == org.squad_a.pk]
    counts = {g: sum(1 for s in in_a if s.credit_grade == g) for g in "AB"}
    assert counts == {"A": 4, "B": 4}
    drawn = list(plan.selections.values_list("credit_class", flat=True))
    assert drawn.count("A") == 2 and drawn.count("B") == 1  # ceil(0.5×4), ceil(0.125×4)
    assert set(plan.selections.values_list("regulated_object__squad_id", flat=True)) == {org.squad_a.pk}


def test_no_inspector_is_drawn_against_a_declared_conflict(planner, org, object_types, shops, officers):
    # Only three inspectors; the first declares conflicts with every D-grade shop, all of
    # which are drawn: each of them must get the other two.
    pool = officers[:3]
    d_shops = [s for s in shops if s.credit_grade == "D"]
    for shop in d_shops:
        InspectorConflict.objects.create(inspector=pool[0], regulated_object=shop, reason="近亲属经营")
    plan = make_plan(planner, org, object_types, inspector_units=[org.squad_a])
    plan = draws.run_draw(draws.commit_plan(plan, by=planner), by=planner)

    pool_file = stored(plan.pool_file).decode()
    assert f"{pool[0].pk},{org.squad_a.pk},{';'.join(str(s.pk) for s in sorted(d_shops, key=lambda s: s.pk))}\n" \
        in pool_file
    for selection in plan.selections.all():
        if selection.regulated_object_id in {s.pk for s in d_shops}:
            assert sorted(selection.inspector_ids) == sorted([pool[1].pk, pool[2].pk])
        assert len(set(selection.inspector_ids)) == 2
    assert plan.selections.filter(regulated_object__in=d_shops).count() == 4


def test_exclude_own_squad(planner, org, object_types, shops, officers):
    plan = make_plan(planner, org, object_types, exclude_own_squad=True)
    plan = draws.run_draw(draws.commit_plan(plan, by=planner), by=planner)
    squad_of = {o.pk: o.org_unit_id for o in officers}
    for selection in plan.selections.select_related("regulated_object"):
        assert all(squad_of[i] != selection.regulated_object.squad_id for i in selection.inspector_ids)
    assert draws.verify_plan(plan).ok


def test_conflicts_that_leave_an_object_unstaffable_refuse_the_draw(planner, org, object_types, shops, officers):
    # Inspectors from squad A only, excluded from squad A's own shops: nobody can inspect those.
    plan = make_plan(planner, org, object_types, exclude_own_squad=True, inspector_units=[org.squad_a])
    plan = draws.commit_plan(plan, by=planner)
    with pytest.raises(BusinessRuleError) as refused:
        draws.run_draw(plan, by=planner)
    assert refused.value.code == "draw_impossible"
    assert "测试商户" in refused.value.message and "本中队" in refused.value.message
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMMITTED and not plan.selections.exists()
    assert not InspectionTask.objects.filter(plan=plan).exists()


def test_population_is_frozen_at_commit(planner, org, object_types, shops, officers, regobj_factory):
    plan = draws.commit_plan(make_plan(planner, org, object_types), by=planner)
    frozen = stored(plan.population_file)
    # after the commit: a grade changes, a shop closes, a new shop opens
    shops[0].credit_grade = "D"
    shops[0].save()
    shops[1].is_active = False
    shops[1].save()
    newcomer = regobj_factory(org.grid_a1, credit_grade="D")

    plan = draws.run_draw(plan, by=planner)
    assert selection_rows(plan) == reference_draw(frozen, stored(plan.pool_file), plan.seed, RATIOS, 2, False)
    assert not plan.selections.filter(regulated_object=newcomer).exists()
    assert plan.selections.filter(credit_class="D").count() == 4  # the frozen D-grade count
    selection = plan.selections.filter(regulated_object=shops[0]).first()
    if selection:
        assert selection.credit_class == "A"
    assert draws.verify_plan(plan).ok


def test_a_draw_never_runs_twice(planner, org, object_types, shops, officers):
    plan = draws.run_draw(draws.commit_plan(make_plan(planner, org, object_types), by=planner), by=planner)
    before = selection_rows(plan)
    events = AuditEvent.objects.count()
    with pytest.raises(BusinessRuleError) as refused:
        draws.run_draw(plan, by=planner)
    assert refused.value.code == "already_drawn"
    assert selection_rows(plan) == before and AuditEvent.objects.count() == events


def test_draw_needs_a_committed_plan(planner, org, object_types, shops, officers):
    plan = make_plan(planner, org, object_types)
    with pytest.raises(BusinessRuleError) as refused:
        draws.run_draw(plan, by=planner)
    assert refused.value.code == "not_committed"
    assert draws.verify_plan(plan).ok is False


def test_tampered_frozen_file_refuses_the_draw(planner, org, object_types, shops, officers, evidence_root):
    plan = draws.commit_plan(make_plan(planner, org, object_types), by=planner)
    blob = evidence_root / plan.population_file.storage_name
    blob.write_bytes(blob.read_bytes().replace(b",D,", b",A,", 1))
    with pytest.raises(BusinessRuleError) as refused:
        draws.run_draw(plan, by=planner)
    assert refused.value.code == "frozen_file_tampered"
    assert plan.population_file.sha256 in refused.value.message
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMMITTED and not plan.selections.exists()
    assert AuditEvent.objects.filter(action="evidence.tamper_detected").exists()


def test_verification_detects_tampering(planner, org, object_types, shops, officers, evidence_root):
    plan = draws.run_draw(draws.commit_plan(make_plan(planner, org, object_types), by=planner), by=planner)
    assert draws.verify_plan(plan).ok

    # a stored selection edited afterwards
    selection = plan.selections.get(rank=2)
    original = list(selection.inspector_ids)
    selection.inspector_ids = list(reversed(original))
    selection.save()
    result = draws.verify_plan(plan)
    assert not result.ok and "第 2 位" in result.message
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_draw", str(plan.pk), stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_code.value.code == 1
    selection.inspector_ids = original
    selection.save()

    # a swapped seed no longer matches the commitment published before the draw
    seed = plan.seed
    plan.seed = "0" * 64
    plan.save()
    result = draws.verify_plan(plan)
    assert not result.ok and "承诺值" in result.message
    plan.seed = seed
    plan.save()
    assert draws.verify_plan(plan).ok

    # a frozen file changed in the store
    blob = evidence_root / plan.pool_file.storage_name
    blob.write_bytes(blob.read_bytes() + b"99999,,\n")
    result = draws.verify_plan(plan)
    assert not result.ok and "冻结检查人员名录文件校验失败" in result.message


def test_verify_draw_command_unknown_plan(db):
    with pytest.raises(CommandError, match="不存在"):
        call_command("verify_draw", "987654")


def test_redraw_is_a_new_audited_plan_with_a_reason(planner, org, object_types, shops, officers):
    plan = draws.run_draw(draws.commit_plan(make_plan(planner, org, object_types), by=planner), by=planner)
    selections = selection_rows(plan)
    with pytest.raises(ValidationFailed) as refused:
        draws.redraw(plan, by=planner, reason="  ")
    assert refused.value.code == "reason_required"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAWN

    done = InspectionTask.objects.filter(plan=plan).first()
    done.status = TaskStatus.DONE
    done.save()
    new = draws.redraw(plan, by=planner, reason="对象名录漏录一个街道，重新抽取")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUPERSEDED
    assert new.status == PlanStatus.DRAFT and new.replaces == plan and new.redraw_reason.startswith("对象名录")
    assert (new.ratios, new.org_unit, new.period_end) == (plan.ratios, plan.org_unit, plan.period_end)
    assert list(new.object_types.all()) == [object_types["street_shop"]]
    assert selection_rows(plan) == selections  # the old draw stays as drawn
    assert draws.verify_plan(plan).ok
    tasks = InspectionTask.objects.filter(plan=plan)
    assert set(tasks.exclude(pk=done.pk).values_list("status", flat=True)) == {TaskStatus.CANCELLED}
    assert tasks.get(pk=done.pk).status == TaskStatus.DONE
    actions = set(AuditEvent.objects.filter(object_type="inspections.drawplan").values_list("action", flat=True))
    assert {"drawplan.redraw", "drawplan.supersede"} <= actions
    assert draws.public_view(new)["replaces"] == plan.pk

    with pytest.raises(BusinessRuleError) as again:
        draws.redraw(plan, by=planner, reason="再抽一次")
    assert again.value.code == "already_superseded"
    # the new plan is drawn with its own seed
    new = draws.run_draw(draws.commit_plan(new, by=planner), by=planner)
    assert new.seed != plan.seed and draws.verify_plan(new).ok


def test_redraw_of_an_undrawn_plan_reveals_its_seed(planner, org, object_types, shops, officers):
    plan = draws.commit_plan(make_plan(planner, org, object_types), by=planner)
    draws.redraw(plan, by=planner, reason="抽查比例设定有误")
    plan.refresh_from_db()
    assert draws.public_view(plan)["seed"] == plan.seed
    assert not draws.verify_plan(plan).ok  # nothing was drawn, nothing to verify


def test_too_few_qualified_inspectors(planner, org, object_types, shops):
    today = timezone.localdate()
    make_user(RoleCode.OFFICER, org.squad_b)  # the only qualified one
    make_user(RoleCode.OFFICER, org.squad_b, certificate_valid_to=today - dt.timedelta(days=1))  # expired
    make_user(RoleCode.OFFICER, org.squad_b, certified=False)
    make_user(RoleCode.OFFICER, org.squad_b, is_active=False)
    make_user(RoleCode.SQUAD_LEADER, org.squad_b)  # not an officer
    plan = make_plan(planner, org, object_types, inspector_units=[org.squad_b])
    evidence = Evidence.objects.count()
    with pytest.raises(BusinessRuleError) as refused:
        draws.commit_plan(plan, by=planner)
    assert refused.value.code == "too_few_inspectors"
    assert "合格的检查人员只有 1 人" in refused.value.message and "少于每户所需的 2 人" in refused.value.message
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and not plan.seed and Evidence.objects.count() == evidence


def test_commit_refusals(planner, org, object_types, shops, officers):
    nothing = make_plan(planner, org, object_types, object_types=[object_types["construction_site"]])
    with pytest.raises(BusinessRuleError) as refused:
        draws.commit_plan(nothing, by=planner)
    assert refused.value.code == "empty_population"

    partial = make_plan(planner, org, object_types, ratios={"A": 0.1, "B": 0.1})
    with pytest.raises(BusinessRuleError) as refused:
        draws.commit_plan(partial, by=planner)
    assert refused.value.code == "ratio_missing" and "C、D" in refused.value.message


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"ratios": {"A": 0}}, "invalid_ratio", "ratios"),
    ({"ratios": {"A": 1.5}}, "invalid_ratio", "ratios"),
    ({"ratios": {"A": "五成"}}, "invalid_ratio", "ratios"),
    ({"ratios": {"E": 0.1}}, "invalid_choice", "ratios"),
    ({"ratios": {}}, "required", "ratios"),
    ({"inspectors_per_object": 1}, "invalid_number", "inspectors_per_object"),
    ({"name": " "}, "required", "name"),
    ({"object_types": []}, "required", "object_types"),
    ({"population_filters": {"grids": [1]}}, "invalid_filters", "population_filters"),
    ({"period_end": dt.date(2000, 1, 1)}, "invalid_period", "period_end"),
])
def test_create_plan_bad_input(planner, org, object_types, changes, code, field):
    with pytest.raises(ValidationFailed) as refused:
        make_plan(planner, org, object_types, **changes)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not DrawPlan.objects.exists()


def test_plan_outside_the_planners_scope_is_refused(users, org, object_types):
    squad_leader = users[RoleCode.SQUAD_LEADER]  # squad A
    with pytest.raises(ValidationFailed) as refused:
        make_plan(squad_leader, org, object_types, org_unit=org.squad_b)
    assert refused.value.code == "invalid_org_unit"


def test_only_drafts_can_be_edited(planner, org, object_types, shops, officers):
    plan = make_plan(planner, org, object_types)
    plan = draws.update_plan(plan, by=planner, ratios={"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4})
    assert plan.ratios == {"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4}
    with pytest.raises(ValidationFailed) as refused:
        draws.update_plan(plan, by=planner, seed="0" * 64)
    assert refused.value.code == "not_editable"
    draws.commit_plan(plan, by=planner)
    with pytest.raises(BusinessRuleError) as refused:
        draws.update_plan(plan, by=planner, ratios={"A": 1, "B": 1, "C": 1, "D": 1})
    assert refused.value.code == "not_draft"


def test_publish(planner, org, object_types, shops, officers):
    plan = draws.commit_plan(make_plan(planner, org, object_types), by=planner)
    with pytest.raises(BusinessRuleError) as refused:
        draws.publish_plan(plan, by=planner)
    assert refused.value.code == "not_drawn"
    draws.run_draw(plan, by=planner)
    plan = draws.publish_plan(plan, by=planner)
    assert plan.status == PlanStatus.PUBLISHED and plan.published_at
    assert draws.public_view(plan)["published_at"]
    with pytest.raises(BusinessRuleError) as refused:
        draws.publish_plan(plan, by=planner)
    assert refused.value.code == "already_published"
    assert DrawSelection.objects.filter(plan=plan).count() == 12


def test_public_view_masks_natural_persons(planner, org, object_types, shops, officers, regobj_factory):
    person = regobj_factory(org.grid_b1, name="张小三", credit_code="", id_number="310112199001011234",
                            credit_grade="D")
    plan = draws.run_draw(draws.commit_plan(make_plan(planner, org, object_types), by=planner), by=planner)
    view = draws.public_view(plan)
    row = next(s for s in view["selections"] if s["object"]["id"] == person.pk)  # D grade: all drawn
    assert row["object"]["name"] == "张*三"
    text = json.dumps(view, ensure_ascii=False)
    assert "张小三" not in text and "310112199001011234" not in text


def test_adr_worked_example():
    """The figures printed in docs/adr/0004-verifiable-draws.md, section "Worked example"."""
    population_file = draws.population_csv(
        [(11, "A", 7), (12, "B", 7), (13, "B", 7), (14, "C", 8), (15, "A", 8), (16, "B", 7)])
    pool_file = draws.pool_csv([(101, 7, [13]), (102, 8, []), (103, 8, []), (104, None, [12])])
    seed = "00" * 31 + "2a"
    population, pool = draws.parse_population(population_file), draws.parse_pool(pool_file)
    assert population.sha256.startswith("6884d6d6") and pool.sha256.startswith("a4aa3122")
    assert draws.seed_commitment(seed).startswith("9cf49eea")
    result = draws.draw(population, pool, seed, {"A": 0.5, "B": 0.5, "C": 1}, 2, True)
    assert result.key.startswith("f844ac67") and result.key.endswith("cd3ef183")
    raw = np.random.PCG64(int(result.key, 16)).random_raw(6).tolist()
    assert raw == [17732195681416523804, 1580529325318077048, 6480713638777787985, 1142271629017732625,
                   14669015918796575213, 16230921529227406401]
    assert as_rows(result) == [(14, "C", [104, 101]), (12, "B", [102, 103]), (13, "B", [103, 104]),
                               (15, "A", [101, 104])]
