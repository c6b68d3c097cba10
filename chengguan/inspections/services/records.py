"""Inspection tasks and records: what officers find on site, the location check that shows
they were there, the result (合格 / 责令改正 with a re-inspection / 立案查处 request) and its
publication (双随机一公开: results public within 20 working days, domain §9).

Legal hooks: at least two officers with valid enforcement certificates (《行政处罚法》第四十二
条); a record of the inspection with the party's signature or a note of refusal (第五十五条);
results published by whoever inspected, within 20 working days of the result (“谁检查、谁录入、
谁公开”, 国发〔2019〕5号 — domain §9, likely)."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from chengguan.core.calendar import add_working_days
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.geo import haversine_m, validate_coordinates
from chengguan.core.models import Evidence, User
from chengguan.core.services import require_enforcement_officers

from ..choices import CheckResult, InspectionOutcome, TaskSource, TaskStatus
from ..models import (
    CaseConversionRequest,
    ChecklistItem,
    InspectionRecord,
    InspectionTask,
    RegulatedObject,
)
from . import tiering

PUBLISH_WORKING_DAYS = 20
CLOCK_SKEW = dt.timedelta(minutes=5)  # a phone's clock may run a little fast


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied("您没有执行此操作的权限。")


def _object_in_scope(obj: RegulatedObject, by) -> None:
    if not RegulatedObject.objects.restrict(by, "view").filter(pk=obj.pk).exists():
        raise PermissionDenied("监管对象不存在或不在您的数据范围内。")


def _lock_task(task: InspectionTask) -> InspectionTask:
    task = InspectionTask.objects.select_for_update().select_related("regulated_object").get(pk=task.pk)
    if task.status == TaskStatus.CANCELLED:
        raise BusinessRuleError("该检查任务已取消，不能再提交或取消。", code="task_cancelled")
    if task.status == TaskStatus.DONE:
        raise BusinessRuleError("该检查任务已提交检查记录，不能重复提交或取消。", code="task_already_submitted")
    return task


def _clean_inspectors(inspectors, field: str = "inspectors") -> list[User]:
    people = list(inspectors)
    if any(not isinstance(u, User) for u in people):
        raise ValidationFailed("检查人员无效。", code="invalid", field=field)
    return list({u.pk: u for u in people}.values())


# --- tasks ----------------------------------------------------------------------------------------

def create_manual_task(*, by, regulated_object: RegulatedObject, due_date: dt.date, inspectors=(),
                       note: str = "") -> InspectionTask:
    """A special inspection (专项检查) of one object. Inspectors may be named later; if named,
    they must be at least two with valid certificates."""
    _require(by, "inspections.add_inspectiontask")
    _object_in_scope(regulated_object, by)
    if not regulated_object.is_active:
        raise BusinessRuleError("该监管对象已不在管（已注销或已合并），不能安排检查。", code="object_inactive")
    if not isinstance(due_date, dt.date) or isinstance(due_date, dt.datetime):
        raise ValidationFailed("应检日期无效。", code="invalid_date", field="due_date")
    if due_date < timezone.localdate():
        raise ValidationFailed("应检日期不能早于今天。", code="date_in_past", field="due_date")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("说明不能超过 200 个字。", code="too_long", field="note")
    people = _clean_inspectors(inspectors)
    if people:
        require_enforcement_officers(people, on=due_date)
    with transaction.atomic():
        task = InspectionTask(regulated_object=regulated_object, squad_id=regulated_object.squad_id,
                              source=TaskSource.MANUAL, due_date=due_date, note=note)
        task.save(audit_action="inspection_task.create", actor=by)
        task.inspectors.set(people)
    return task


def cancel_task(task: InspectionTask, *, by, reason: str) -> InspectionTask:
    if not InspectionTask.objects.restrict(by, "change").filter(pk=task.pk).exists():
        raise PermissionDenied("检查任务不存在或不在您的数据范围内。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写取消原因。", code="required", field="reason")
    if len(reason) > 190:
        raise ValidationFailed("取消原因不能超过 190 个字。", code="too_long", field="reason")
    with transaction.atomic():
        task = _lock_task(task)
        task.status = TaskStatus.CANCELLED
        task.note = f"取消原因：{reason}"
        task.save(audit_action="inspection_task.cancel", actor=by)
    return task


def cancel_pending_tasks(tasks, *, by, note: str) -> int:
    """Cancel every pending task of `tasks` (a queryset) in the caller's transaction, e.g. when
    their plan is re-drawn or their object leaves supervision. One audit event per task."""
    pending = list(tasks.select_for_update().filter(status=TaskStatus.PENDING))
    for task in pending:
        task.status, task.note = TaskStatus.CANCELLED, note[:200]
    InspectionTask.objects.bulk_update_audited(pending, ["status", "note"], action="inspection_task.cancel",
                                               actor=by, batch_size=2000)
    return len(pending)


# --- submission checks ----------------------------------------------------------------------------

def _inspected_at(value) -> dt.datetime:
    if value is None:
        return timezone.now()
    if not isinstance(value, dt.datetime):
        raise ValidationFailed("检查时间无效。", code="invalid_datetime", field="inspected_at")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationFailed("检查时间不能晚于当前时间。", code="future_time", field="inspected_at")
    return value


def _check_location(obj: RegulatedObject, lon, lat) -> tuple[float, float, float]:
    lon, lat = validate_coordinates(lon, lat)
    if obj.lon is None or obj.lat is None:
        raise BusinessRuleError("监管对象未登记位置，无法核验检查人员是否到场，请先补充对象坐标。",
                                code="object_not_located", field="regulated_object")
    distance = haversine_m(lon, lat, obj.lon, obj.lat)
    limit = settings.INSPECTION_MAX_DISTANCE_M
    if distance > limit:
        raise BusinessRuleError(
            f"提交位置距监管对象“{obj.name}”约 {distance:,.0f} 米，超过允许的 {limit:,.0f} 米，无法确认检查人员到场。"
            "请在检查现场提交。",
            code="too_far", field="lon",
        )
    return lon, lat, distance


def _check_checklist(obj: RegulatedObject, checklist) -> list[dict]:
    """One entry per active checklist item of the type, in the type's order."""
    items = list(ChecklistItem.objects.filter(object_type_id=obj.object_type_id, is_active=True))
    if not isinstance(checklist, (list, tuple)) or any(not isinstance(e, dict) for e in checklist):
        raise ValidationFailed("检查项结果格式错误：应为每个检查项一条记录。", code="invalid", field="checklist")
    by_id = {item.pk: item for item in items}
    given: dict[int, dict] = {}
    results = set(CheckResult.values)
    for i, entry in enumerate(checklist):
        field = f"checklist[{i}]"
        item_id = entry.get("item")
        if isinstance(item_id, str) and item_id.isdigit():
            item_id = int(item_id)
        if item_id not in by_id:
            raise ValidationFailed(f"第 {i + 1} 条检查项不属于“{obj.object_type}”的检查清单。",
                                   code="unknown_checklist_item", field=f"{field}.item")
        if item_id in given:
            raise ValidationFailed(f"检查项“{by_id[item_id].text}”重复填写。", code="duplicate_checklist_item",
                                   field=f"{field}.item")
        if entry.get("result") not in results:
            raise ValidationFailed(f"检查项“{by_id[item_id].text}”的结果必须是符合、不符合或不适用。",
                                   code="invalid_choice", field=f"{field}.result")
        note = str(entry.get("note") or "").strip()
        if len(note) > 500:
            raise ValidationFailed(f"检查项“{by_id[item_id].text}”的说明不能超过 500 个字。", code="too_long",
                                   field=f"{field}.note")
        given[item_id] = {"item": item_id, "text": by_id[item_id].text, "result": entry["result"], "note": note}
    missing = [item.text for item in items if item.pk not in given]
    if missing:
        raise ValidationFailed(f"检查项未填写完整，缺少：{'、'.join(missing)}。", code="checklist_incomplete",
                               field="checklist")
    return [given[item.pk] for item in items]


def _evidence(values, by, field: str, label: str) -> list[Evidence]:
    """Uploaded evidence (instances or ids) that the user may see, images only."""
    ids = [v.pk if isinstance(v, Evidence) else v for v in values]
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValidationFailed(f"{label}无效。", code="invalid", field=field)
    found = Evidence.objects.restrict(by, "view").in_bulk(ids)
    for pk in ids:
        if pk not in found:
            raise ValidationFailed(f"{label}（编号 {pk}）不存在或不在您的数据范围内。", code="evidence_not_found",
                                   field=field)
        if not found[pk].content_type.startswith("image/"):
            raise ValidationFailed(f"{label}“{found[pk].original_name}”不是图片。", code="not_an_image", field=field)
    return [found[pk] for pk in dict.fromkeys(ids)]


def _check_outcome(outcome, checklist: list[dict], findings: str, correction_deadline, case_facts: str,
                   day: dt.date) -> None:
    if outcome not in InspectionOutcome.values:
        raise ValidationFailed("检查结果必须是未发现问题、责令改正或立案查处。", code="invalid_choice", field="outcome")
    failed = [e["text"] for e in checklist if e["result"] == CheckResult.FAIL]
    if outcome == InspectionOutcome.COMPLIANT and failed:
        raise BusinessRuleError(f"检查项“{'、'.join(failed)}”不符合，检查结果不能为“未发现问题”。",
                                code="outcome_contradicts_checklist", field="outcome")
    if outcome != InspectionOutcome.COMPLIANT and not failed and not findings:
        raise ValidationFailed("检查项均符合时，责令改正或立案查处须在“检查情况”中写明发现的问题。",
                               code="findings_required", field="findings")
    if outcome == InspectionOutcome.ORDER_TO_CORRECT:
        if correction_deadline is None:
            raise ValidationFailed("责令改正须指定整改期限。", code="deadline_required", field="correction_deadline")
        if not isinstance(correction_deadline, dt.date) or isinstance(correction_deadline, dt.datetime):
            raise ValidationFailed("整改期限无效。", code="invalid_date", field="correction_deadline")
        if correction_deadline <= day:
            raise ValidationFailed("整改期限必须晚于检查日期。", code="deadline_not_future",
                                   field="correction_deadline")
    elif correction_deadline is not None:
        raise ValidationFailed("只有责令改正才需要整改期限。", code="deadline_not_applicable",
                               field="correction_deadline")
    if outcome == InspectionOutcome.OPEN_CASE and not case_facts:
        raise ValidationFailed("立案查处须写明涉嫌违法的事实。", code="case_facts_required", field="case_facts")
    if outcome != InspectionOutcome.OPEN_CASE and case_facts:
        raise ValidationFailed("只有立案查处才需要填写违法事实。", code="case_facts_not_applicable", field="case_facts")


# --- submission -----------------------------------------------------------------------------------

def submit_inspection(task: InspectionTask, *, by, inspectors, lon, lat, checklist, findings: str = "",
                      photos=(), signature=None, party_refused_to_sign: bool = False, outcome,
                      correction_deadline: dt.date | None = None, case_facts: str = "",
                      inspected_at: dt.datetime | None = None) -> InspectionRecord:
    """Record an inspection of `task`'s object. Every check runs before anything is written:
    a refusal changes nothing. On success the task is done, the object's last inspection and
    next due date move, a violation re-tiers it, 责令改正 creates a re-inspection task due on
    the deadline and 立案查处 a case conversion request; the result is due for publication
    within 20 working days."""
    _require(by, "inspections.add_inspectionrecord")
    findings, case_facts = (findings or "").strip(), (case_facts or "").strip()
    people = _clean_inspectors(inspectors)
    when = _inspected_at(inspected_at)
    day = timezone.localdate(when)
    # Drawn inspectors may come from other squads: being assigned to the task is enough.
    if not (task.inspectors.filter(pk=by.pk).exists()
            or InspectionTask.objects.restrict(by, "view").filter(pk=task.pk).exists()):
        raise PermissionDenied("检查任务不存在或不在您的数据范围内。")
    with transaction.atomic():
        task = _lock_task(task)
        obj = RegulatedObject.objects.select_for_update().select_related("object_type").get(pk=task.regulated_object_id)
        if by.pk not in {u.pk for u in people}:
            raise BusinessRuleError("提交人必须是本次检查的执法人员之一。", code="submitter_not_inspector",
                                    field="inspectors")
        require_enforcement_officers(people, on=day)
        lon, lat, distance = _check_location(obj, lon, lat)
        clean_checklist = _check_checklist(obj, checklist)
        _check_outcome(outcome, clean_checklist, findings, correction_deadline, case_facts, day)
        photo_list = _evidence(photos, by, "photos", "现场照片")
        signature_ev = _evidence([signature], by, "signature", "当事人签名")[0] if signature is not None else None
        if signature_ev and party_refused_to_sign:
            raise ValidationFailed("已上传当事人签名，不能同时勾选“当事人拒绝签名”。", code="signature_conflict",
                                   field="party_refused_to_sign")

        record = InspectionRecord(
            task=task, regulated_object=obj, squad_id=task.squad_id or obj.squad_id, inspected_at=when,
            lon=lon, lat=lat, distance_m=round(distance, 1), location_verified=True, checklist=clean_checklist,
            findings=findings, signature=signature_ev, party_refused_to_sign=bool(party_refused_to_sign),
            outcome=outcome, correction_deadline=correction_deadline,
            publish_due=add_working_days(day, PUBLISH_WORKING_DAYS), created_by=by,
        )
        if outcome == InspectionOutcome.ORDER_TO_CORRECT:
            reinspection = InspectionTask(regulated_object=obj, squad_id=record.squad_id,
                                          source=TaskSource.REINSPECTION, due_date=correction_deadline,
                                          note=f"整改复查：{day:%Y-%m-%d} 检查责令改正，期限 {correction_deadline:%Y-%m-%d}")
            reinspection.save(audit_action="inspection_task.reinspection", actor=by)
            reinspection.inspectors.set(people)
            record.reinspection_task = reinspection
        record.save(audit_action="inspection.submit", actor=by)
        record.inspectors.set(people)
        record.photos.set(photo_list)
        if outcome == InspectionOutcome.OPEN_CASE:
            CaseConversionRequest(record=record, facts=case_facts, requested_by=by).save(
                audit_action="inspection.case_request", actor=by)

        task.status = TaskStatus.DONE
        task.save(audit_action="inspection_task.done", actor=by)
        if obj.last_inspected_on is None or day > obj.last_inspected_on:
            obj.last_inspected_on = day
        if outcome == InspectionOutcome.COMPLIANT:
            tiering.assign_tier(obj)
            obj.save(audit_action="regobj.inspected", actor=by)
        else:
            tiering.on_violation(obj, by=by)
    return record


def publish_record(record: InspectionRecord, *, by) -> InspectionRecord:
    """Publish an inspection result (公示), by whoever inspected (谁检查、谁公开)."""
    if not InspectionRecord.objects.restrict(by, "publish").filter(pk=record.pk).exists():
        raise PermissionDenied("您没有公示该检查记录的权限，或记录不在您的数据范围内。")
    with transaction.atomic():
        record = InspectionRecord.objects.select_for_update().get(pk=record.pk)
        if record.published_at is not None:
            raise BusinessRuleError(f"该检查记录已于 {timezone.localtime(record.published_at):%Y-%m-%d %H:%M} 公示。",
                                    code="already_published")
        record.published_at = timezone.now()
        record.save(audit_action="inspection.publish", actor=by)
    return record
