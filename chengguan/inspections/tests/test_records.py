"""Inspection tasks and records: each submission rule refused with its code and nothing
changed; re-inspection tasks, case conversion requests, publication deadlines, scope."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.evidence import store_evidence
from chengguan.core.geo import haversine_m
from chengguan.core.models import AuditEvent
from chengguan.core.testing import make_user
from chengguan.core.tests.test_evidence import pdf_bytes, png_bytes
from chengguan.inspections.choices import InspectionOutcome, TaskSource, TaskStatus
from chengguan.inspections.models import (
    CaseConversionRequest,
    ChecklistItem,
    InspectionRecord,
    InspectionTask,
    RegulatedObject,
)
from chengguan.inspections.services import records, tiering

TODAY = timezone.localdate


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
def officer(users):
    return users[RoleCode.OFFICER]  # squad A


@pytest.fixture
def partner(users):
    return users[RoleCode.SQUAD_LEADER]  # squad A, valid certificate


@pytest.fixture
def shop(regobj_factory, org):
    return tiering.assign_tier(regobj_factory(org.grid_a1, credit_grade="B"), save=True)  # 1 + 0 + 1: tier 4


@pytest.fixture
def task(shop, officer, partner):
    task = InspectionTask.objects.create(regulated_object=shop, squad=shop.squad, source=TaskSource.SCHEDULE,
                                         due_date=TODAY())
    task.inspectors.set([officer, partner])
    return task


def photo(user, name="现场.png"):
    return store_evidence(SimpleUploadedFile(name, png_bytes()), by=user)


def all_pass(obj, result="pass"):
    return [{"item": item.pk, "result": result, "note": ""}
            for item in ChecklistItem.objects.filter(object_type=obj.object_type_id, is_active=True)]


def submit(task, by, **kw):
    obj = task.regulated_object
    fields = {"inspectors": [by, *kw.pop("others", [])], "lon": obj.lon, "lat": obj.lat + 0.0005,
              "checklist": all_pass(obj), "outcome": InspectionOutcome.COMPLIANT}
    fields.update(kw)
    return records.submit_inspection(task, by=by, **fields)


def state():
    """Everything a refused submission must leave as it was."""
    return (AuditEvent.objects.count(), InspectionRecord.objects.count(), CaseConversionRequest.objects.count(),
            sorted(InspectionTask.objects.values_list("pk", "status", "due_date")),
            sorted(RegulatedObject.objects.values_list("pk", "tier", "last_inspected_on", "next_inspection_due")))


# --- a compliant inspection -------------------------------------------------------------------------

def test_a_compliant_inspection_is_recorded_and_moves_the_schedule(task, shop, officer, partner):
    pictures = [photo(officer), photo(officer, "门头.png")]
    signature = photo(officer, "签名.png")
    checklist = list(reversed(all_pass(shop)))
    checklist[0]["result"], checklist[0]["note"] = "na", "  本店无店招  "
    record = submit(task, officer, others=[partner], checklist=checklist, photos=pictures, signature=signature,
                    findings="门责制落实到位")

    assert record.location_verified and 50 < record.distance_m < 60  # 0.0005° of latitude ≈ 56 m
    assert [e["text"] for e in record.checklist] == ["门责制落实", "跨门营业", "占道经营", "店招店牌设置"]
    assert record.checklist[-1] == {"item": checklist[0]["item"], "text": "店招店牌设置", "result": "na",
                                    "note": "本店无店招"}
    assert set(record.inspectors.all()) == {officer, partner} and set(record.photos.all()) == set(pictures)
    assert record.signature == signature and record.created_by == officer and record.squad == shop.squad
    day = timezone.localdate(record.inspected_at)
    assert record.publish_due == records.add_working_days(day, 20) and record.published_at is None
    assert record.reinspection_task is None and not CaseConversionRequest.objects.exists()

    task.refresh_from_db()
    shop.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert (shop.last_inspected_on, shop.tier, shop.next_inspection_due) == (day, 4, day + dt.timedelta(days=365))
    actions = set(AuditEvent.objects.filter(actor=officer).values_list("action", flat=True))
    assert {"inspection.submit", "inspection_task.done", "regobj.inspected"} <= actions


def test_publication_is_due_20_working_days_later_honouring_national_day(task, shop, org):
    # Certificates valid in 2024, whenever this test runs.
    a, b = (make_user(RoleCode.OFFICER, org.squad_a, certificate_valid_from=dt.date(2020, 1, 1),
                      certificate_valid_to=dt.date(2030, 1, 1)) for _ in range(2))
    task.inspectors.set([a, b])
    inspected = timezone.make_aware(dt.datetime(2024, 9, 20, 10, 0))
    record = submit(task, a, others=[b], inspected_at=inspected)
    # 20 weekdays would end on 18 Oct; National Day (1–7 Oct) is off, Sun 29 Sep and Sat 12 Oct are
    # make-up workdays: 23–27 Sep, 29–30 Sep, 8–12 Oct, 14–18 Oct, 21–23 Oct.
    assert record.publish_due == dt.date(2024, 10, 23)


# --- refusals: each with its code, nothing changed ----------------------------------------------------

def refused(exc_type, code, call):
    before = state()
    with pytest.raises(exc_type) as exc:
        call()
    assert exc.value.code == code, exc.value.message
    assert state() == before
    return exc.value


def test_too_far_from_the_object_is_refused_with_the_distance(task, shop, officer, partner):
    err = refused(BusinessRuleError, "too_far",
                  lambda: submit(task, officer, others=[partner], lat=shop.lat + 0.01))  # ≈ 1.1 km north
    assert "1,11" in err.message and "300 米" in err.message


def test_the_allowed_distance_is_a_setting(task, shop, officer, partner, settings):
    settings.INSPECTION_MAX_DISTANCE_M = 40
    refused(BusinessRuleError, "too_far", lambda: submit(task, officer, others=[partner]))  # 56 m
    settings.INSPECTION_MAX_DISTANCE_M = 60
    assert submit(task, officer, others=[partner]).distance_m < 60


def test_one_officer_is_not_enough(task, officer):
    refused(BusinessRuleError, "too_few_officers", lambda: submit(task, officer))


def test_an_expired_certificate_is_refused(task, officer, org):
    expired = make_user(RoleCode.OFFICER, org.squad_a, certificate_valid_to=TODAY() - dt.timedelta(days=1))
    err = refused(BusinessRuleError, "certificate_invalid", lambda: submit(task, officer, others=[expired]))
    assert expired.real_name in err.message


def test_the_submitter_must_be_one_of_the_inspectors(task, officer, partner, org):
    third = make_user(RoleCode.OFFICER, org.squad_a)
    refused(BusinessRuleError, "submitter_not_inspector",
            lambda: records.submit_inspection(task, by=officer, inspectors=[partner, third], lon=task.regulated_object.lon,
                                              lat=task.regulated_object.lat, checklist=all_pass(task.regulated_object),
                                              outcome=InspectionOutcome.COMPLIANT))


def test_an_incomplete_checklist_names_what_is_missing(task, shop, officer, partner):
    err = refused(ValidationFailed, "checklist_incomplete",
                  lambda: submit(task, officer, others=[partner], checklist=all_pass(shop)[:2]))
    assert "占道经营、店招店牌设置" in err.message


def test_items_of_another_type_or_twice_are_refused(task, shop, officer, partner, object_types):
    other = ChecklistItem.objects.filter(object_type=object_types["construction_site"]).first()
    refused(ValidationFailed, "unknown_checklist_item",
            lambda: submit(task, officer, others=[partner], checklist=[*all_pass(shop), {"item": other.pk,
                                                                                        "result": "pass"}]))
    refused(ValidationFailed, "duplicate_checklist_item",
            lambda: submit(task, officer, others=[partner], checklist=[*all_pass(shop), all_pass(shop)[0]]))
    bad = all_pass(shop)
    bad[1]["result"] = "ok"
    refused(ValidationFailed, "invalid_choice", lambda: submit(task, officer, others=[partner], checklist=bad))


def test_order_to_correct_needs_a_future_deadline(task, shop, officer, partner):
    failing = all_pass(shop)
    failing[1]["result"] = "fail"
    order = {"others": [partner], "checklist": failing, "outcome": InspectionOutcome.ORDER_TO_CORRECT}
    refused(ValidationFailed, "deadline_required", lambda: submit(task, officer, **order))
    refused(ValidationFailed, "deadline_not_future", lambda: submit(task, officer, correction_deadline=TODAY(), **order))


def test_opening_a_case_needs_the_facts(task, shop, officer, partner):
    failing = all_pass(shop, "fail")
    refused(ValidationFailed, "case_facts_required",
            lambda: submit(task, officer, others=[partner], checklist=failing, outcome=InspectionOutcome.OPEN_CASE,
                           case_facts="   "))


def test_outcome_must_fit_the_checklist(task, shop, officer, partner):
    refused(BusinessRuleError, "outcome_contradicts_checklist",
            lambda: submit(task, officer, others=[partner], checklist=all_pass(shop, "fail")))
    refused(ValidationFailed, "findings_required",
            lambda: submit(task, officer, others=[partner], outcome=InspectionOutcome.ORDER_TO_CORRECT,
                           correction_deadline=TODAY() + dt.timedelta(days=7)))


def test_evidence_must_be_an_image_in_the_users_scope(task, officer, partner, org):
    outsider = make_user(RoleCode.OFFICER, org.squad_b)
    foreign = photo(outsider)
    refused(ValidationFailed, "evidence_not_found", lambda: submit(task, officer, others=[partner], photos=[foreign]))
    refused(ValidationFailed, "evidence_not_found", lambda: submit(task, officer, others=[partner], signature=foreign))
    document = store_evidence(SimpleUploadedFile("a.pdf", pdf_bytes()), by=officer)
    refused(ValidationFailed, "not_an_image", lambda: submit(task, officer, others=[partner], photos=[document]))
    signature = photo(officer)
    refused(ValidationFailed, "signature_conflict",
            lambda: submit(task, officer, others=[partner], signature=signature, party_refused_to_sign=True))


def test_a_task_is_submitted_once_and_a_cancelled_one_never(task, officer, partner, shop, users):
    submit(task, officer, others=[partner])
    refused(BusinessRuleError, "task_already_submitted", lambda: submit(task, officer, others=[partner]))
    refused(BusinessRuleError, "task_already_submitted",
            lambda: records.cancel_task(task, by=users["squad_leader"], reason="已检查"))
    second = records.create_manual_task(by=users["squad_leader"], regulated_object=shop, due_date=TODAY(),
                                        inspectors=[officer, partner])
    records.cancel_task(second, by=users["squad_leader"], reason="商户已停业")
    refused(BusinessRuleError, "task_cancelled", lambda: submit(second, officer, others=[partner]))


def test_a_future_inspection_time_is_refused(task, officer, partner):
    refused(ValidationFailed, "future_time",
            lambda: submit(task, officer, others=[partner], inspected_at=timezone.now() + dt.timedelta(hours=1)))


# --- results --------------------------------------------------------------------------------------

def test_order_to_correct_creates_the_reinspection_and_re_tiers(task, shop, officer, partner):
    failing = all_pass(shop)
    failing[2]["result"] = "fail"
    deadline = TODAY() + dt.timedelta(days=7)
    record = submit(task, officer, others=[partner], checklist=failing, outcome=InspectionOutcome.ORDER_TO_CORRECT,
                    correction_deadline=deadline, findings="占道堆放货物")
    again = record.reinspection_task
    assert (again.source, again.due_date, again.status, again.squad) == (
        TaskSource.REINSPECTION, deadline, TaskStatus.PENDING, shop.squad)
    assert set(again.inspectors.all()) == {officer, partner}
    shop.refresh_from_db()
    assert shop.tier == 3 and "近365天违法 1 起×2" in shop.tier_reason  # 2 + 2 = 4
    assert AuditEvent.objects.filter(action="regobj.violation", object_id=str(shop.pk)).exists()


def test_open_case_records_a_conversion_request(task, shop, officer, partner):
    record = submit(task, officer, others=[partner], checklist=all_pass(shop, "fail"),
                    outcome=InspectionOutcome.OPEN_CASE, case_facts="擅自占用道路堆放物料，经责令仍未改正")
    request = CaseConversionRequest.objects.get(record=record)
    assert (request.facts, request.requested_by, request.case_reference) == (
        "擅自占用道路堆放物料，经责令仍未改正", officer, "")
    assert record.reinspection_task is None
    assert AuditEvent.objects.filter(action="inspection.case_request", object_id=str(request.pk)).exists()


def test_publishing_a_result(task, officer, partner, users):
    record = submit(task, officer, others=[partner])
    with pytest.raises(PermissionDenied):
        records.publish_record(record, by=officer)  # officers do not publish
    records.publish_record(record, by=users["squad_leader"])
    record.refresh_from_db()
    assert record.published_at is not None
    assert AuditEvent.objects.filter(action="inspection.publish", object_id=str(record.pk)).get().actor == \
        users["squad_leader"]
    refused(BusinessRuleError, "already_published", lambda: records.publish_record(record, by=users["leader"]))


# --- scope ------------------------------------------------------------------------------------------

def test_an_officer_of_another_squad_cannot_submit_unless_assigned(task, shop, officer, org):
    b1, b2 = make_user(RoleCode.OFFICER, org.squad_b), make_user(RoleCode.OFFICER, org.squad_b)
    with pytest.raises(PermissionDenied):
        submit(task, b1, others=[b2])
    assert InspectionTask.objects.get(pk=task.pk).status == TaskStatus.PENDING
    task.inspectors.set([b1, b2])  # drawn from another squad (回避 of the own squad)
    assert submit(task, b1, others=[b2]).squad == org.squad_a


def test_managing_tasks_is_scoped(shop, regobj_factory, org, users, officer, partner):
    leader = users["squad_leader"]
    other_squad = regobj_factory(org.grid_b1)
    with pytest.raises(PermissionDenied):
        records.create_manual_task(by=leader, regulated_object=other_squad, due_date=TODAY())
    with pytest.raises(PermissionDenied):
        records.create_manual_task(by=officer, regulated_object=shop, due_date=TODAY())
    far = records.create_manual_task(by=users["admin"], regulated_object=other_squad, due_date=TODAY())
    with pytest.raises(PermissionDenied):
        records.cancel_task(far, by=leader, reason="不需要")
    assert InspectionTask.objects.get(pk=far.pk).status == TaskStatus.PENDING


# --- tasks ----------------------------------------------------------------------------------------

def test_manual_task(shop, officer, partner, users, org):
    leader = users["squad_leader"]
    task = records.create_manual_task(by=leader, regulated_object=shop, due_date=TODAY() + dt.timedelta(days=3),
                                      inspectors=[officer, partner], note=" 节前专项检查 ")
    assert (task.source, task.squad, task.note, task.status) == (TaskSource.MANUAL, shop.squad, "节前专项检查",
                                                                  TaskStatus.PENDING)
    assert set(task.inspectors.all()) == {officer, partner}
    assert AuditEvent.objects.filter(action="inspection_task.create", object_id=str(task.pk)).get().actor == leader
    expired = make_user(RoleCode.OFFICER, org.squad_a, certificate_valid_to=TODAY())
    for kwargs, error, code in [
        ({"due_date": TODAY() - dt.timedelta(days=1)}, ValidationFailed, "date_in_past"),
        ({"due_date": TODAY() + dt.timedelta(days=1), "inspectors": [officer]}, BusinessRuleError, "too_few_officers"),
        ({"due_date": TODAY() + dt.timedelta(days=1), "inspectors": [officer, expired]}, BusinessRuleError,
         "certificate_invalid"),
    ]:
        refused(error, code, lambda kwargs=kwargs: records.create_manual_task(by=leader, regulated_object=shop,
                                                                              **kwargs))


def test_cancelling_needs_a_reason_and_a_pending_task(task, officer, partner, users):
    leader = users["squad_leader"]
    refused(ValidationFailed, "required", lambda: records.cancel_task(task, by=leader, reason="  "))
    records.cancel_task(task, by=leader, reason="对象已搬离")
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.note == "取消原因：对象已搬离"
    refused(BusinessRuleError, "task_cancelled", lambda: records.cancel_task(task, by=leader, reason="再取消"))


def test_haversine():
    # One degree of latitude is about 111.2 km; Shanghai to Beijing about 1,067 km.
    assert haversine_m(121.4, 31.1, 121.4, 32.1) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(121.47, 31.23, 116.40, 39.90) == pytest.approx(1_067_000, rel=0.01)

