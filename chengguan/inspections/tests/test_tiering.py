"""Tiered supervision: tier and reason, the vectorised computation against the pure one, bulk
recomputation that writes (and records) only what changed, events, schedules and overdue
inspections."""

import datetime as dt

import numpy as np
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import AuditEvent
from chengguan.core.testing import make_user
from chengguan.inspections.choices import InspectionOutcome, TaskSource, TaskStatus
from chengguan.inspections.models import (
    InspectionRecord,
    InspectionTask,
    ObjectType,
    RegulatedObject,
    TierRule,
)
from chengguan.inspections.services import tiering
from chengguan.inspections.tasks import generate_schedule_task, recompute_tiers_task

from .conftest import TIER_RULE

GRADES = ["A", "B", "C", "D"]


def rule(**overrides) -> TierRule:
    return TierRule(pk=1, **{**TIER_RULE, **overrides})


def events(obj, action=None):
    found = AuditEvent.objects.filter(object_type="inspections.regulatedobject", object_id=str(obj.pk))
    return list(found.filter(action=action) if action else found)


def violation(obj, user, *, days_ago=10, outcome=InspectionOutcome.ORDER_TO_CORRECT) -> InspectionRecord:
    """A non-compliant inspection of `obj` `days_ago` days back, written directly: what counts
    here is that the record exists, not how it was submitted (test_records covers that)."""
    task = InspectionTask.objects.create(regulated_object=obj, squad=obj.squad, source=TaskSource.MANUAL,
                                         due_date=timezone.localdate(), status=TaskStatus.DONE)
    record = InspectionRecord.objects.create(
        task=task, regulated_object=obj, squad=obj.squad, inspected_at=timezone.now() - dt.timedelta(days=days_ago),
        lon=obj.lon, lat=obj.lat, distance_m=0, location_verified=True, outcome=outcome, created_by=user,
        correction_deadline=timezone.localdate() + dt.timedelta(days=5),
    )
    return record


# --- the formula and its reason ---------------------------------------------------------------------

def test_reason_shows_every_term_and_they_add_up():
    tier, reason = tiering.compute_tier(rule=rule(), base_risk=1, risk_level=1, credit_grade="C", violations=1)
    assert tier == 2
    assert reason == ("得分 7（类型基础分 1 + 风险等级 1 + 近365天违法 1 起×2 + 信用等级C 3 分），"
                      "达到二级阈值 6，未达一级阈值 9；每 90 天检查一次")


@pytest.mark.parametrize(("risk", "grade", "violations", "tier", "verdict"), [
    (0, "A", 0, 4, "未达三级阈值 3，定为四级；每 365 天检查一次"),
    (1, "B", 0, 3, "达到三级阈值 3，未达二级阈值 6；每 180 天检查一次"),
    (5, "D", 0, 1, "达到一级阈值 9；每 30 天检查一次"),
    (0, "A", 4, 1, "达到一级阈值 9；每 30 天检查一次"),  # 1 + 0 + 4×2 + 0 = 9: violations alone
])
def test_tiers_from_thresholds(risk, grade, violations, tier, verdict):
    got, reason = tiering.compute_tier(rule=rule(), base_risk=1, risk_level=risk, credit_grade=grade,
                                       violations=violations)
    assert got == tier
    assert reason.endswith(verdict)


def test_type_without_a_rule_uses_the_default_and_says_so(object_types):
    TierRule.objects.filter(object_type=object_types["street_shop"]).first().delete()
    default = tiering.rule_for(ObjectType.objects.get(pk=object_types["street_shop"].pk))
    assert default.pk is None and default.thresholds == tiering.DEFAULT_RULE["thresholds"]
    _, reason = tiering.compute_tier(rule=default, base_risk=1, risk_level=0, credit_grade="B", violations=0)
    assert reason.endswith("（该类型未设分级规则，按默认规则）")


valid_rules = st.builds(
    lambda w, window, points, t3, gap2, gap1, freq: rule(
        violation_weight=w, violation_window_days=window, credit_points=dict(zip(GRADES, points, strict=True)),
        thresholds={"1": t3 + gap2 + gap1, "2": t3 + gap2, "3": t3},
        frequency_days={str(k): f for k, f in enumerate(sorted(freq), 1)},
    ),
    st.integers(0, 10), st.integers(1, 3650), st.lists(st.integers(0, 10), min_size=4, max_size=4),
    st.integers(0, 20), st.integers(1, 10), st.integers(1, 10),
    st.lists(st.integers(1, 3650), min_size=4, max_size=4),
)
objects = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(GRADES), st.integers(0, 12),
                             st.integers(0, 2)), min_size=1, max_size=40)


@hsettings(max_examples=200, deadline=None)
@given(rules=st.lists(valid_rules, min_size=3, max_size=3), rows=objects)
def test_vectorised_and_pure_computation_agree(rules, rows):
    """Each row: (base risk, risk level, grade, violations, which of three rules)."""
    base, risk, grade, viol, which = (np.array(c) for c in zip(*rows, strict=True))
    points = np.array([rules[w].credit_points[g] for g, w in zip(grade, which, strict=True)])
    limits = np.array([[r.thresholds[k] for k in "123"] for r in rules])[which]
    weight = np.array([r.violation_weight for r in rules])[which]
    scores, tiers = tiering.compute_tiers_array(base_risk=base, risk_level=risk, credit_points=points,
                                                violations=viol, weight=weight, thresholds=limits)
    for i, (b, r, g, v, w) in enumerate(rows):
        tier, reason = tiering.compute_tier(rule=rules[w], base_risk=b, risk_level=r, credit_grade=g, violations=v)
        assert tier == tiers[i]
        assert reason.startswith(f"得分 {scores[i]}（")


# --- rules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"thresholds": {"1": 6, "2": 6, "3": 3}}, "thresholds_not_decreasing", "thresholds"),
    ({"thresholds": {"1": 9, "2": 6}}, "invalid_keys", "thresholds"),
    ({"credit_points": {"A": 0, "B": 1, "C": 3, "E": 5}}, "invalid_keys", "credit_points"),
    ({"credit_points": {"A": 0, "B": "一", "C": 3, "D": 5}}, "invalid_number", "credit_points"),
    ({"credit_points": [0, 1, 3, 5]}, "invalid_json", "credit_points"),
    ({"frequency_days": {"1": 90, "2": 30, "3": 180, "4": 365}}, "frequency_not_increasing", "frequency_days"),
    ({"frequency_days": {"1": 0, "2": 30, "3": 180, "4": 365}}, "out_of_range", "frequency_days"),
    ({"violation_window_days": 0}, "out_of_range", "violation_window_days"),
    ({"violation_weight": True}, "invalid_number", "violation_weight"),
    ({"colour": "red"}, "unknown_field", "colour"),
])
def test_bad_rules_are_refused_and_nothing_changes(object_types, users, fields, code, field):
    current = object_types["street_shop"].tier_rule
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        tiering.set_tier_rule(object_types["street_shop"], by=users["admin"], **fields)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert AuditEvent.objects.count() == before
    current.refresh_from_db()
    assert current.thresholds == TIER_RULE["thresholds"] and current.frequency_days == TIER_RULE["frequency_days"]


def test_changing_a_rule_is_audited_and_re_tiers_the_type(object_types, regobj_factory, org, users,
                                                          django_capture_on_commit_callbacks):
    shop = tiering.assign_tier(regobj_factory(org.grid_a1, credit_grade="B"), save=True)  # 1 + 0 + 1 = 2: tier 4
    site = tiering.assign_tier(regobj_factory(org.grid_a1, object_type=object_types["construction_site"]), save=True)
    assert shop.tier == 4
    with django_capture_on_commit_callbacks(execute=True):
        rule_ = tiering.set_tier_rule(object_types["street_shop"], by=users["admin"], thresholds={1: 5, 2: 2, 3: 1})
    assert rule_.thresholds == {"1": 5, "2": 2, "3": 1}
    event = AuditEvent.objects.filter(action="tierrule.update", object_id=str(rule_.pk)).get()
    assert event.before["thresholds"] == TIER_RULE["thresholds"] and event.actor == users["admin"]
    shop.refresh_from_db()
    assert shop.tier == 2 and shop.tier_reason.endswith("达到二级阈值 2，未达一级阈值 5；每 90 天检查一次")
    assert events(site, "regobj.tier_recompute") == []  # another type: untouched


def test_a_type_gets_its_first_rule_with_defaults_for_what_is_not_given(object_types, users):
    TierRule.objects.filter(object_type=object_types["street_shop"]).first().delete()
    created = tiering.set_tier_rule(object_types["street_shop"], by=users["admin"], violation_weight=3)
    assert created.violation_weight == 3 and created.frequency_days == tiering.DEFAULT_RULE["frequency_days"]
    assert AuditEvent.objects.filter(action="tierrule.create", object_id=str(created.pk)).exists()


# --- assigning and events -------------------------------------------------------------------------

def test_next_inspection_is_due_one_tier_period_after_the_last_inspection_or_registration(
        regobj_factory, org):
    obj = tiering.assign_tier(regobj_factory(org.grid_a1, credit_grade="D", risk_level=3), save=True)  # 9: tier 1
    registered = timezone.localdate(obj.created_at)
    assert (obj.tier, obj.next_inspection_due) == (1, registered + dt.timedelta(days=30))
    obj.last_inspected_on = dt.date(2024, 3, 1)
    tiering.assign_tier(obj, save=True)
    assert RegulatedObject.objects.get(pk=obj.pk).next_inspection_due == dt.date(2024, 3, 31)
    assert [e.after["next_inspection_due"] for e in events(obj, "regobj.tier")][-1] == "2024-03-31"


def test_violations_in_the_window_count_and_old_ones_do_not(regobj_factory, org, users):
    obj = regobj_factory(org.grid_a1, credit_grade="B")  # 1 + 0 + 1 = 2
    violation(obj, users["officer"], days_ago=400)
    violation(obj, users["officer"], days_ago=30, outcome=InspectionOutcome.COMPLIANT)
    assert tiering.assign_tier(obj).tier == 4
    violation(obj, users["officer"], days_ago=30)
    violation(obj, users["officer"], days_ago=2, outcome=InspectionOutcome.OPEN_CASE)
    tiering.assign_tier(obj)
    assert obj.tier == 2 and "近365天违法 2 起×2" in obj.tier_reason  # 2 + 4 = 6


def test_on_violation_re_tiers_now_and_brings_the_scheduled_inspection_forward(regobj_factory, org, users):
    obj = tiering.assign_tier(regobj_factory(org.grid_a1, credit_grade="C", risk_level=1), save=True)  # 5: tier 3
    task = InspectionTask.objects.create(regulated_object=obj, squad=obj.squad, source=TaskSource.SCHEDULE,
                                         due_date=obj.next_inspection_due)
    violation(obj, users["officer"], days_ago=0)  # 5 + 2 = 7: tier 2, every 90 days
    obj.last_inspected_on = timezone.localdate()
    tiering.on_violation(obj, by=users["officer"])
    obj.refresh_from_db()
    task.refresh_from_db()
    assert obj.tier == 2 and obj.next_inspection_due == timezone.localdate() + dt.timedelta(days=90)
    assert task.due_date == obj.next_inspection_due and "提前检查" in task.note
    (event,) = events(obj, "regobj.violation")
    assert event.before["tier"] == 3 and event.after["tier"] == 2 and event.actor == users["officer"]


def test_a_violation_source_added_by_another_module_counts(regobj_factory, org, monkeypatch):
    obj = regobj_factory(org.grid_a1, credit_grade="B")

    def cases(object_ids, since):  # what the cases module will register
        return {obj.pk: 3}

    monkeypatch.setattr(tiering, "VIOLATION_SOURCES", [*tiering.VIOLATION_SOURCES, cases])
    tiering.assign_tier(obj)
    assert obj.tier == 2 and obj.tier_reason.startswith("得分 8（类型基础分 1 + 风险等级 0 + 近365天违法 3 起×2")


# --- bulk recomputation ---------------------------------------------------------------------------

def test_recompute_writes_and_records_only_what_changed(regobj_factory, org, users, object_types):
    objs = [regobj_factory(org.grid_a1 if i % 2 else org.grid_b1, credit_grade=GRADES[i % 4], risk_level=i % 6)
            for i in range(12)]
    objs.append(regobj_factory(org.grid_a2, object_type=object_types["construction_site"], credit_grade="C"))
    inactive = regobj_factory(org.grid_a1, is_active=False)
    first = tiering.recompute_tiers()
    assert (first.checked, first.changed) == (13, 13)  # never tiered before: every one is written
    assert events(inactive) == [e for e in events(inactive) if e.action == "create"]

    # The pure path, object by object, gives what the bulk path wrote.
    for obj in objs:
        stored = RegulatedObject.objects.get(pk=obj.pk)
        expected = tiering.assign_tier(RegulatedObject.objects.get(pk=obj.pk))
        assert (stored.tier, stored.tier_reason, stored.next_inspection_due) == (
            expected.tier, expected.tier_reason, expected.next_inspection_due)

    again = tiering.recompute_tiers()
    assert (again.checked, again.changed) == (13, 0)

    raised = RegulatedObject.objects.get(pk=objs[0].pk)  # A, risk 0: 1 + 0 + 0 = 1, tier 4; as D: 6, tier 2
    raised.credit_grade = "D"
    raised.save()
    violation(objs[2], users["officer"], days_ago=1, outcome=InspectionOutcome.COMPLIANT)  # not a violation
    old = {o.pk: RegulatedObject.objects.get(pk=o.pk) for o in objs}
    mark = AuditEvent.objects.order_by("-pk").first().pk
    result = tiering.recompute_tiers(by=users["admin"])
    assert (result.checked, result.changed) == (13, 1)
    (event,) = AuditEvent.objects.filter(pk__gt=mark)  # one event, for the one object that changed
    assert (event.action, event.object_id, event.actor) == ("regobj.tier_recompute", str(raised.pk), users["admin"])
    assert event.before["tier"] == 4 and event.after["tier"] == 2
    assert event.before["tier_reason"].startswith("得分 1（") and event.after["tier_reason"].startswith("得分 6（")
    assert set(event.after) == {"tier", "tier_reason", "tier_computed_at", "next_inspection_due"}
    for obj in objs[1:]:
        assert RegulatedObject.objects.get(pk=obj.pk).tier_computed_at == old[obj.pk].tier_computed_at


def test_recompute_copes_with_a_grade_outside_a_to_d(regobj_factory, org):
    odd = regobj_factory(org.grid_a1, credit_grade="")  # e.g. loaded by hand: no credit points
    normal = regobj_factory(org.grid_a1, credit_grade="C")
    assert tiering.recompute_tiers().changed == 2
    for obj in (odd, normal):
        stored = RegulatedObject.objects.get(pk=obj.pk)
        expected = tiering.assign_tier(RegulatedObject.objects.get(pk=obj.pk))
        assert (stored.tier, stored.tier_reason) == (expected.tier, expected.tier_reason)
    assert "信用等级 0 分" in RegulatedObject.objects.get(pk=odd.pk).tier_reason


def test_recompute_rewrites_a_reason_that_went_stale(regobj_factory, org, users):
    obj = tiering.assign_tier(regobj_factory(org.grid_a1, credit_grade="A"), save=True)  # 1: tier 4
    violation(obj, users["officer"], days_ago=3)  # 3: tier 3
    violation(obj, users["officer"], days_ago=4)  # 5: still tier 3, but the reason says 2 violations now
    assert tiering.recompute_tiers().changed == 1
    obj.refresh_from_db()
    assert obj.tier == 3 and "违法 2 起" in obj.tier_reason
    assert tiering.recompute_tiers().changed == 0


def test_recompute_of_a_queryset_touches_nothing_else(regobj_factory, org):
    a = regobj_factory(org.grid_a1, credit_grade="D")
    b = regobj_factory(org.grid_b1, credit_grade="D")
    result = tiering.recompute_tiers(RegulatedObject.objects.filter(squad=org.squad_a))
    assert (result.checked, result.changed) == (1, 1)
    assert events(a, "regobj.tier_recompute") and not events(b, "regobj.tier_recompute")


def test_recompute_skips_an_object_changed_since_it_was_read(regobj_factory, org, monkeypatch):
    obj = regobj_factory(org.grid_a1, credit_grade="A")
    read_rows = tiering._read_rows

    def read_then_someone_edits(queryset):
        rows = read_rows(queryset)
        fresh = RegulatedObject.objects.get(pk=obj.pk)
        fresh.credit_grade = "D"
        tiering.assign_tier(fresh, save=True)  # what update_object does meanwhile
        return rows

    monkeypatch.setattr(tiering, "_read_rows", read_then_someone_edits)
    assert tiering.recompute_tiers().changed == 0
    obj.refresh_from_db()
    assert obj.credit_grade == "D" and obj.tier == 2  # the concurrent, newer tier stands


def test_the_nightly_job_recomputes(regobj_factory, org):
    regobj_factory(org.grid_a1)
    assert recompute_tiers_task.delay().get() == {"checked": 1, "changed": 1}
    assert settings.CELERY_BEAT_SCHEDULE["inspections-recompute-tiers"]["task"] == "inspections.recompute_tiers"
    event = AuditEvent.objects.filter(action="regobj.tier_recompute").get()
    assert event.source == "job:recompute_tiers"


# --- schedules ------------------------------------------------------------------------------------

def test_schedule_follows_each_tiers_frequency_without_duplicates(regobj_factory, org, users):
    today = timezone.localdate()
    inspected = today - dt.timedelta(days=20)
    tier1 = regobj_factory(org.grid_a1, credit_grade="D", risk_level=3, last_inspected_on=inspected)
    tier4 = regobj_factory(org.grid_a1, credit_grade="A", last_inspected_on=inspected)
    elsewhere = regobj_factory(org.grid_b1, credit_grade="D", risk_level=3, last_inspected_on=inspected)
    gone = regobj_factory(org.grid_a1, credit_grade="D", risk_level=3, last_inspected_on=inspected, is_active=False)
    tiering.recompute_tiers()
    assert RegulatedObject.objects.get(pk=tier1.pk).next_inspection_due == inspected + dt.timedelta(days=30)
    assert RegulatedObject.objects.get(pk=tier4.pk).next_inspection_due == inspected + dt.timedelta(days=365)

    leader = users["squad_leader"]  # squad A
    assert tiering.generate_schedule(by=leader, until=today + dt.timedelta(days=30)) == 1
    (task,) = InspectionTask.objects.filter(source=TaskSource.SCHEDULE)
    assert (task.regulated_object_id, task.squad, task.due_date) == (tier1.pk, org.squad_a, inspected + dt.timedelta(30))
    assert AuditEvent.objects.filter(action="inspection_task.schedule", object_id=str(task.pk)).exists()
    assert tiering.generate_schedule(by=leader, until=today + dt.timedelta(days=30)) == 0  # already pending

    # A year ahead the tier-4 object is due too; squad B's object only for bureau-wide staff.
    assert tiering.generate_schedule(by=leader, until=today + dt.timedelta(days=360)) == 1
    assert tiering.generate_schedule(by=users["admin"], until=today + dt.timedelta(days=30), squad=org.squad_b) == 1
    assert set(InspectionTask.objects.values_list("regulated_object_id", flat=True)) == {tier1.pk, tier4.pk,
                                                                                         elsewhere.pk}
    assert not InspectionTask.objects.filter(regulated_object=gone).exists()


def test_the_nightly_job_schedules_the_next_month(regobj_factory, org):
    obj = tiering.assign_tier(regobj_factory(org.grid_a1, credit_grade="D", risk_level=3), save=True)
    assert generate_schedule_task.delay().get() == 1
    assert InspectionTask.objects.get(regulated_object=obj).due_date == obj.next_inspection_due


def test_schedule_is_refused_without_permission_or_out_of_scope(regobj_factory, org, users):
    regobj_factory(org.grid_b1, credit_grade="D", risk_level=3)
    until = timezone.localdate() + dt.timedelta(days=400)
    with pytest.raises(PermissionDenied):
        tiering.generate_schedule(by=users["officer"], until=timezone.localdate())
    with pytest.raises(ValidationFailed) as exc:
        tiering.generate_schedule(by=users["squad_leader"], until=timezone.localdate(), squad=org.squad_b)
    assert exc.value.code == "invalid_squad"
    with pytest.raises(ValidationFailed) as exc:
        tiering.generate_schedule(by=users["admin"], until=until)
    assert exc.value.code == "out_of_range"
    assert not InspectionTask.objects.exists()


def test_overdue_tasks_are_pending_past_due_and_in_scope(regobj_factory, org, users):
    today = timezone.localdate()

    def task(grid, due, status=TaskStatus.PENDING):
        obj = regobj_factory(grid)
        return InspectionTask.objects.create(regulated_object=obj, squad=obj.squad, source=TaskSource.SCHEDULE,
                                             due_date=due, status=status)

    late_a = task(org.grid_a1, today - dt.timedelta(days=3))
    later_a = task(org.grid_a2, today - dt.timedelta(days=1))
    task(org.grid_a1, today)  # due today: not yet overdue
    task(org.grid_a1, today - dt.timedelta(days=9), TaskStatus.DONE)
    task(org.grid_a1, today - dt.timedelta(days=9), TaskStatus.CANCELLED)
    late_b = task(org.grid_b1, today - dt.timedelta(days=5))
    assert list(tiering.overdue_tasks(users["officer"])) == [late_a, later_a]
    assert list(tiering.overdue_tasks(users["leader"])) == [late_b, late_a, later_a]
    stranger = make_user(RoleCode.OFFICER, org.squad_b)
    assert list(tiering.overdue_tasks(stranger)) == [late_b]
