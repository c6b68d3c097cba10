"""The ordinary procedure of 《行政处罚法》 as one declarative state machine.

`TRANSITIONS` says from which states each verb may run, where it leads and which permission
it needs; `ACTIONS` the same for steps that keep the state. Every verb goes through `_run`,
which locks the case (select_for_update), checks data scope, permission and state, applies the
verb's change (which checks the legal rules in `rules` and may refuse, changing nothing),
recomputes `next_deadline`, saves the audited case and appends a CaseStep — one transaction.

`DOCUMENTS` names the documents (文书) each step issues (kinds of chengguan.documents.kinds):
`_step` lists them in the step's data and `paperwork.issue_for_step` issues them in the same
transaction — a document that cannot be issued (a required fact missing) refuses the step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from chengguan.core.calendar import add_calendar_days, add_working_days, deadline_rule
from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.core.geo import place_fields
from chengguan.core.models import Evidence, OrgUnit, User
from chengguan.core.numbering import next_number
from chengguan.regulations.choices import PenaltyKind
from chengguan.regulations.models import BenchmarkTier, ExemptionEntry, Matter
from chengguan.regulations.services import benchmark_for, check_fine, money, propose_fine, quantity

from ..choices import (
    EXEMPTION_GROUNDS,
    DecisionOutcome,
    Ending,
    MeasureApproval,
    MeasureKind,
    MeasureOutcome,
    NoPenaltyGround,
    OfficerRole,
    RecordKind,
    ReviewPurpose,
    ReviewResult,
    ServiceMethod,
    SourceKind,
    Status,
    TransferKind,
)
from ..models import (
    Case,
    CaseOfficer,
    CaseParty,
    CaseRecord,
    CaseStep,
    CollectiveDiscussion,
    Extension,
    LegalReview,
    Measure,
)
from . import clock, disclosure, paperwork, parties, rules
from .rules import ACL, APL, refuse

S = Status


@dataclass(frozen=True)
class Transition:
    label: str
    sources: frozenset
    target: str | None  # None: decided by the verb (or, for ACTIONS, the state is kept)
    perm: str


def _t(label, sources, target, perm) -> Transition:
    return Transition(label, frozenset(sources), target, f"cases.{perm}_case")


BEFORE_DECISION = {S.INVESTIGATING, S.REPORTED, S.NOTIFIED, S.HEARING, S.DELIBERATION}
AFTER_STATEMENT = {S.NOTIFIED, S.DELIBERATION}
DECIDED_STATES = {S.DECIDED, S.EXECUTING, S.EXECUTED, S.CLOSED}

TRANSITIONS: dict[str, Transition] = {
    "file": _t("立案", {S.LEAD}, S.INVESTIGATING, "approve"),
    "report": _t("调查终结", {S.INVESTIGATING}, S.REPORTED, "handle"),
    "notify": _t("事先告知", {S.REPORTED}, S.NOTIFIED, "handle"),
    "waive_statement": _t("放弃陈述申辩和听证", {S.NOTIFIED}, S.DELIBERATION, "handle"),
    "request_hearing": _t("申请听证", {S.NOTIFIED}, S.HEARING, "handle"),
    "hold_hearing": _t("举行听证", {S.HEARING}, S.DELIBERATION, "handle"),
    "legal_review_return": _t("法制审核退回补充调查", AFTER_STATEMENT, S.INVESTIGATING, "review"),
    # From REPORTED only a no-penalty decision passes the rules (a penalty needs the notice).
    "decide": _t("作出决定", {S.REPORTED, *AFTER_STATEMENT}, S.DECIDED, "decide"),
    "serve": _t("送达", {S.DECIDED}, None, "handle"),  # → executing, or executed when nothing to pay
    "record_payment": _t("登记缴款", {S.EXECUTING}, None, "handle"),  # → executed once paid in full
    "record_enforcement": _t("登记强制执行结果", {S.EXECUTING}, None, "handle"),
    "close": _t("结案", {S.DECIDED, S.EXECUTING, S.EXECUTED}, S.CLOSED, "approve"),
    "archive": _t("归档", {S.CLOSED}, S.ARCHIVED, "archive"),
    "withdraw": _t("撤案", {S.LEAD, *BEFORE_DECISION}, S.CLOSED, "approve"),
    "transfer": _t("移送", {S.LEAD, *BEFORE_DECISION}, S.CLOSED, "approve"),
}

ACTIONS: dict[str, Transition] = {
    "add_party": _t("添加当事人", {S.LEAD, S.INVESTIGATING}, None, "handle"),
    "assign_officers": _t("调整承办人员", {S.LEAD, *BEFORE_DECISION}, None, "approve"),
    "add_record": _t("制作笔录", BEFORE_DECISION, None, "handle"),
    "add_measure": _t("采取强制措施", {S.INVESTIGATING}, None, "approve"),
    # Taken on the spot in an emergency by the handling officers, approved afterwards (ACL art. 19).
    "add_emergency_measure": _t("紧急实施强制措施", {S.INVESTIGATING}, None, "handle"),
    "approve_measure": _t("强制措施补办批准", BEFORE_DECISION | DECIDED_STATES - {S.CLOSED}, None, "approve"),
    "extend_measure": _t("延长查封扣押期限", BEFORE_DECISION, None, "approve"),
    "end_measure": _t("处理强制措施", BEFORE_DECISION | DECIDED_STATES - {S.CLOSED}, None, "handle"),
    "record_statement": _t("陈述申辩及复核", {S.NOTIFIED}, None, "handle"),
    "schedule_hearing": _t("听证通知", {S.HEARING}, None, "handle"),
    "legal_review": _t("法制审核", AFTER_STATEMENT, None, "review"),
    "transfer_review": _t("移送法制审核", {S.LEAD, *BEFORE_DECISION}, None, "review"),
    "collective_discussion": _t("集体讨论", AFTER_STATEMENT, None, "decide"),
    "extend_deadline": _t("延长办案期限", BEFORE_DECISION, None, "decide"),
    "approve_payment_plan": _t("批准暂缓/分期缴纳", {S.EXECUTING}, None, "decide"),
    "remind": _t("催告", {S.EXECUTING}, None, "handle"),
    "apply_to_court": _t("申请法院强制执行", {S.EXECUTING}, None, "handle"),
    "record_appeal": _t("登记复议/诉讼", DECIDED_STATES, None, "record_appeal"),
    "record_appeal_outcome": _t("登记复议/诉讼结果", DECIDED_STATES, None, "record_appeal"),
}

# Steps recorded by other services (simple procedure, conversion).
OTHER_STEPS = {"open": "录入线索", "simple_decide": "当场处罚决定", "simple_file_record": "当场处罚备案"}

# Which document kinds each step issues (by variant where the document depends on what was done).
DOCUMENTS: dict[str, dict[str, tuple[str, ...]] | tuple[str, ...]] = {
    "file": ("filing_approval",),  # 立案审批表
    "add_record": {RecordKind.ON_SITE: ("inspection_record",), RecordKind.INQUIRY: ("inquiry_record",),
                   RecordKind.CORRECTION_ORDER: ("rectification_order",)},
    "add_measure": {MeasureKind.PRESERVATION: ("preservation_notice",), MeasureKind.SEAL: ("seizure_decision",),
                    MeasureKind.SEIZE: ("seizure_decision",)},
    "add_emergency_measure": {MeasureKind.SEAL: ("seizure_decision",), MeasureKind.SEIZE: ("seizure_decision",)},
    "report": ("investigation_report",),  # 案件调查终结报告
    "notify": {"plain": ("penalty_notice",), "hearing": ("penalty_notice", "hearing_rights_notice")},
    "schedule_hearing": ("hearing_notice",),
    "hold_hearing": ("hearing_record", "hearing_report"),
    "legal_review": ("legal_review_opinion",),
    "legal_review_return": ("legal_review_opinion",),
    "collective_discussion": ("collective_discussion",),
    "decide": {DecisionOutcome.PENALTY: ("penalty_decision",), DecisionOutcome.NO_PENALTY: ("no_penalty_decision",)},
    "serve": ("service_receipt",),  # 送达回证
    "remind": ("payment_reminder",),  # 催告书
    "apply_to_court": ("enforcement_application",),
    "close": ("closure_approval",),  # 结案审批表
    "archive": ("file_index",),  # 卷宗目录, and the whole file bound in one PDF
    "simple_decide": ("simple_penalty_decision",),  # 当场处罚决定书
}


def documents_for(name: str, variant: str | None = None) -> list[str]:
    entry = DOCUMENTS.get(name, ())
    if isinstance(entry, dict):
        entry = entry.get(variant, ())
    return list(entry)


def rule_for(name: str) -> Transition:
    return TRANSITIONS.get(name) or ACTIONS[name]


def label(name: str) -> str:
    if name in OTHER_STEPS:
        return OTHER_STEPS[name]
    return rule_for(name).label


# Verbs reached only through another one (legal_review with passed=false).
INDIRECT = frozenset({"legal_review_return"})


def _handles(case: Case, user) -> bool:
    """Officers act on the cases they handle; the squad leader may act for them."""
    return (user.has_perm("cases.approve_case") or not case.case_officers.exists()
            or case.case_officers.filter(officer=user).exists())


def allowed_actions(case: Case, user) -> list[str]:
    """Verbs `user` may run on `case` now (screens show only these)."""
    names = [name for name, rule in (*TRANSITIONS.items(), *ACTIONS.items())
             if name not in INDIRECT and case.status in rule.sources and user.has_perm(rule.perm)]
    if any(rule_for(name).perm == "cases.handle_case" for name in names) and not _handles(case, user):
        names = [name for name in names if rule_for(name).perm != "cases.handle_case"]
    return names


# --- the one path every change takes ------------------------------------------------------------

def _lock(case: Case, by) -> Case:
    locked = (Case.objects.restrict(by, "view").select_for_update(of=("self",))
              .filter(pk=case.pk).first())
    if locked is None:
        raise PermissionDenied("案件不存在或不在您的数据范围内。")
    return locked


def check_allowed(case: Case, name: str, by) -> Transition:
    """The verb's rule, or the refusal saying why `by` may not run it on `case` now (permission,
    state, not a handling officer)."""
    rule = rule_for(name)
    if not by.has_perm(rule.perm):
        raise PermissionDenied(f"您没有“{rule.label}”的权限。")
    if case.status not in rule.sources:
        raise refuse("invalid_transition", f"案件当前状态为“{case.get_status_display()}”，不能{rule.label}",
                     "案件办理程序")
    if rule.perm == "cases.handle_case" and not _handles(case, by):
        raise PermissionDenied("您不是本案承办人员。")
    return rule


def _step(case: Case, action: str, from_status: str, *, by, note: str = "", data: dict | None = None,
          at=None) -> CaseStep:
    step = CaseStep(case=case, action=action, from_status=from_status, to_status=case.status, actor=by,
                    note=note[:500], data=data or {}, at=at or clock.now())
    paperwork.issue_for_step(case, step, by)  # the documents data["documents"] names; may refuse
    step.save(audit_action=f"case.step.{action}", actor=by)
    return step


def _run(case: Case, name: str, *, by, note: str = "", change=None, variant: str | None = None) -> Case:
    """Lock, check, apply `change(case, today, data)` — which may raise (nothing changes), may
    return the target state of a verb whose table target is None, and may add step data —
    then save the case and append the step."""
    with transaction.atomic():
        case = _lock(case, by)
        rule = check_allowed(case, name, by)
        before, today, data = case.status, clock.today(), {}
        target = change(case, today, data) if change else None
        if isinstance(target, tuple):  # (verb actually run, target)
            name, target = target
            rule = rule_for(name)
        case.status = target or rule.target or case.status
        rules.refresh_next_deadline(case, today)
        case.save(audit_action=f"case.{name}", actor=by)
        docs = documents_for(name, data.pop("variant", variant))
        if docs:
            data["documents"] = docs
        _step(case, name, before, by=by, note=note, data=data)
    return case


# --- input ----------------------------------------------------------------------------------------

def text(value, field: str, label_text: str, *, required: bool = True, max_length: int = 500) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{label_text}必须是文字。", code="invalid", field=field)
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"请填写{label_text}。", code="required", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"{label_text}不能超过 {max_length} 个字。", code="too_long", field=field)
    return value


def day(value, field: str, label_text: str, *, default: dt.date | None = None, not_after: dt.date | None = None,
        not_before: dt.date | None = None, required: bool = True) -> dt.date | None:
    """A date (or ISO text); events already happened, so not after `not_after` (usually today)."""
    if value in (None, ""):
        if default is not None or not required:
            return default
        raise ValidationFailed(f"请填写{label_text}。", code="required", field=field)
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value) if value.utcoffset() is not None else value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationFailed(f"{label_text}“{value}”不是有效日期（如 2025-01-01）。", code="invalid_date",
                                   field=field) from None
    if not_after is not None and value > not_after:
        raise ValidationFailed(f"{label_text}不能晚于 {not_after}。", code="date_in_future", field=field)
    if not_before is not None and value < not_before:
        raise ValidationFailed(f"{label_text}不能早于 {not_before}。", code="date_too_early", field=field)
    return value


def moment(value, field: str, label_text: str, *, default: dt.datetime, not_after: dt.datetime) -> dt.datetime:
    """A point in time (aware datetime or ISO text; naive means local time) not after `not_after`."""
    if value in (None, ""):
        return default
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationFailed(f"{label_text}“{value}”不是有效时间（如 2025-01-01T09:30）。", code="invalid_datetime",
                                   field=field) from None
    if value.utcoffset() is None:
        value = timezone.make_aware(value)
    if value > not_after:
        raise ValidationFailed(f"{label_text}不能晚于当前时间。", code="date_in_future", field=field)
    return value


def flag(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed("请选择是或否。", code="invalid", field=field)
    return value


def evidence_list(items, by, field: str = "evidence") -> list[Evidence]:
    items = list(items or [])
    if any(not isinstance(e, Evidence) for e in items):
        raise ValidationFailed("证据文件无效。", code="invalid", field=field)
    visible = set(Evidence.objects.restrict(by, "view").filter(pk__in=[e.pk for e in items])
                  .values_list("pk", flat=True))
    if any(e.pk not in visible for e in items):
        raise ValidationFailed("证据文件不存在或不在您的数据范围内。", code="does_not_exist", field=field)
    return items


def _officer_users(officers, case_squad, field: str = "officers") -> list[User]:
    officers = list(officers or [])
    if any(not isinstance(o, User) for o in officers) or len({o.pk for o in officers}) != len(officers):
        raise ValidationFailed("执法人员无效或重复。", code="invalid", field=field)
    for officer in officers:
        if not officer.has_role(RoleCode.OFFICER, RoleCode.SQUAD_LEADER):
            raise ValidationFailed(f"{officer.get_full_name()} 不是执法队员。", code="invalid_officer", field=field)
        if case_squad is not None and not (officer.org_unit and officer.org_unit.path.startswith(case_squad.path)):
            raise ValidationFailed(f"{officer.get_full_name()} 不属于本案责任中队。", code="officer_outside_squad",
                                   field=field)
    return officers


def _check_case_officers(case: Case, on: dt.date) -> None:
    rules.check_officers(rules.case_officers(case), on)


def _sync_sources(case: Case, by) -> None:
    """Show the case number and outcome on the work order / inspection it came from."""
    reference = case.number or f"线索{case.pk}"
    outcome = case.get_ending_display() if case.ending else case.get_status_display()
    if case.work_order_conversion_id:
        from chengguan.workorders.services.workflow import record_case_outcome

        record_case_outcome(case.work_order_conversion, case_reference=reference, outcome=outcome, by=by)
    if case.inspection_request_id:
        request = case.inspection_request
        if request.case_reference != reference:
            # inspections has no service for this one field; the write is audited all the same.
            request.case_reference = reference
            request.save(audit_action="inspection.case_reference", actor=by)


# --- leads and parties --------------------------------------------------------------------------

@transaction.atomic
def open_lead(*, by, source_kind: str, facts: str, lon=None, lat=None, squad: OrgUnit | None = None,
              address: str = "", matter: Matter | None = None, act_date=None, act_ended_on=None,
              harm_to_safety: bool = False, party_list=(), evidence=(), work_order_conversion=None,
              inspection_request=None) -> Case:
    """录入线索: a lead waiting for the filing decision, placed by coordinates or squad."""
    if not by.has_perm("cases.add_case"):
        raise PermissionDenied("您没有录入案件线索的权限。")
    if source_kind not in SourceKind.values:
        raise ValidationFailed("请选择案件来源。", code="invalid_choice", field="source_kind")
    today = clock.today()
    case = Case(procedure="ordinary", status=S.LEAD, source_kind=source_kind, created_by=by,
                facts=text(facts, "facts", "违法事实", max_length=5000),
                address=text(address, "address", "违法地点", required=False, max_length=255),
                act_date=day(act_date, "act_date", "违法行为发生日期", not_after=today, required=False),
                harm_to_safety=flag(harm_to_safety, "harm_to_safety"),
                work_order_conversion=work_order_conversion, inspection_request=inspection_request)
    case.act_ended_on = day(act_ended_on, "act_ended_on", "违法行为终了日期", not_after=today, required=False,
                            not_before=case.act_date)
    if matter is not None and not (isinstance(matter, Matter) and matter.is_active):
        raise ValidationFailed("执法事项不存在或已停用。", code="invalid_matter", field="matter")
    case.matter = matter
    if lon is not None or lat is not None:
        for field, value in place_fields(lon, lat, allow_outside=squad is not None).items():
            setattr(case, field, value)
    if squad is not None:
        if not isinstance(squad, OrgUnit) or squad.kind != "squad":
            raise ValidationFailed("请选择一个中队。", code="invalid_squad", field="squad")
        case.squad = squad
    if case.squad_id is None:
        raise ValidationFailed("请在地图上选点或选择责任中队。", code="required", field="squad")
    if not OrgUnit.objects.restrict(by, "view").filter(pk=case.squad_id).exists():
        raise PermissionDenied("责任中队不在您的数据范围内。")
    proofs = evidence_list(evidence, by)
    case.save(audit_action="case.open", actor=by)
    for index, values in enumerate(party_list):
        party = parties.find_or_create(values, by=by, prefix=f"parties[{index}].")
        CaseParty(case=case, party=party).save(audit_action="case.party.add", actor=by)
    if proofs:
        case.evidence.add(*proofs)
    rules.refresh_next_deadline(case, today)
    case.save(audit_action="case.deadline", actor=by)
    _step(case, "open", "", by=by, note=SourceKind(source_kind).label)
    _sync_sources(case, by)
    return case


def add_party(case: Case, *, by, values: dict) -> Case:
    def change(c, today, data):
        party = parties.find_or_create(values, by=by)
        if c.case_parties.filter(party=party).exists():
            raise ValidationFailed("该当事人已在本案中。", code="duplicate", field="parties")
        CaseParty(case=c, party=party).save(audit_action="case.party.add", actor=by)
        data["party"] = party.pk

    return _run(case, "add_party", by=by, change=change)


def _set_officers(case: Case, officers: list[User], by) -> None:
    for link in list(case.case_officers.all()):
        link.delete(actor=by)
    for index, officer in enumerate(officers):
        CaseOfficer(case=case, officer=officer, role=OfficerRole.LEAD if index == 0 else OfficerRole.ASSIST).save(
            audit_action="case.officer.assign", actor=by)


def assign_officers(case: Case, *, by, officers) -> Case:
    """调整承办人员: the first is 主办, the others 协办; two certified officers at least."""
    def change(c, today, data):
        chosen = _officer_users(officers, c.squad)
        rules.check_officers(chosen, today)
        _set_officers(c, chosen, by)
        data["officers"] = [o.pk for o in chosen]

    return _run(case, "assign_officers", by=by, change=change)


# --- filing and investigation ---------------------------------------------------------------------

def file(case: Case, *, by, officers, matter: Matter | None = None, act_date=None, note: str = "") -> Case:
    """立案 with the squad leader's approval: matter, party and act date known, two certified
    officers named (APL art. 42), within the limitation period (art. 36)."""
    note = text(note, "note", "立案意见", required=False)

    def change(c, today, data):
        if matter is not None:
            if not (isinstance(matter, Matter) and matter.is_active):
                raise ValidationFailed("执法事项不存在或已停用。", code="invalid_matter", field="matter")
            c.matter = matter
        if c.matter is None:
            raise ValidationFailed("立案须确定执法事项。", code="required", field="matter")
        if act_date is not None:
            c.act_date = day(act_date, "act_date", "违法行为发生日期", not_after=today)
        if c.act_date is None:
            raise ValidationFailed("立案须填写违法行为发生日期。", code="required", field="act_date")
        if not c.case_parties.exists():
            raise ValidationFailed("立案须确定当事人。", code="required", field="parties")
        chosen = _officer_users(officers, c.squad)
        rules.check_officers(chosen, today)
        rules.check_limitation(c, today)
        c.number = next_number("case", actor=by)
        c.filed_at, c.filed_by = clock.now(), by
        _set_officers(c, chosen, by)
        data.update(number=c.number, officers=[o.pk for o in chosen])

    case = _run(case, "file", by=by, note=note, change=change)
    _sync_sources(case, by)
    return case


def add_record(case: Case, *, by, kind: str, content: str, place: str = "", made_at=None, evidence=(),
               party_signed: bool = True, refusal_note: str = "", correction_due=None) -> CaseRecord:
    """笔录 (APL art. 55): made by the case's two certified officers; signed by the party, or why
    not (SH-CG art. 19). A 责令改正 notice carries its deadline (art. 28)."""
    if kind not in RecordKind.values:
        raise ValidationFailed("请选择笔录种类。", code="invalid_choice", field="kind")
    content = text(content, "content", "笔录内容", max_length=20000)
    place = text(place, "place", "地点", required=False, max_length=200)
    party_signed = flag(party_signed, "party_signed")
    refusal_note = text(refusal_note, "refusal_note", "未签名的原因", required=not party_signed, max_length=300)
    proofs = evidence_list(evidence, by)
    created = {}

    def change(c, today, data):
        _check_case_officers(c, today)
        due = None
        if kind == RecordKind.CORRECTION_ORDER:
            due = day(correction_due, "correction_due", "改正期限", not_before=today + dt.timedelta(days=1))
        record = CaseRecord(case=c, kind=kind, made_at=made_at or clock.now(), place=place, content=content,
                            party_signed=party_signed, refusal_note=refusal_note, correction_due=due,
                            recorded_by=by)
        record.save(audit_action="case.record", actor=by)
        if proofs:
            record.evidence.set(proofs)
            c.evidence.add(*proofs)
        created["record"] = record
        data.update(record=record.pk, kind=kind, variant=kind)

    _run(case, "add_record", by=by, note=RecordKind(kind).label, change=change)
    return created["record"]


def _measure_due(measure: Measure) -> dt.date:
    if measure.kind == MeasureKind.PRESERVATION:
        return deadline_rule("apl_preservation").due(measure.started_on)
    days = deadline_rule("acl_seizure").amount + measure.testing_days
    if measure.extended:
        days += deadline_rule("acl_seizure_extension").amount
    return add_calendar_days(measure.started_on, days)


def add_measure(case: Case, *, by, kind: str, items: str, started_on=None) -> Measure:
    """先行登记保存 (APL art. 56, decide within 7 working days) or 查封/扣押 (ACL art. 25, at
    most 30 days), approved by the squad leader who records it (ACL art. 18)."""
    if kind not in MeasureKind.values:
        raise ValidationFailed("请选择强制措施种类。", code="invalid_choice", field="kind")
    items = text(items, "items", "物品清单", max_length=5000)
    created = {}

    def change(c, today, data):
        _check_case_officers(c, today)
        measure = Measure(case=c, kind=kind, items=items, approved_by=by, approved_at=clock.now(),
                          started_on=day(started_on, "started_on", "开始日期", default=today, not_after=today))
        measure.due_on = _measure_due(measure)
        measure.save(audit_action="case.measure", actor=by)
        created["measure"] = measure
        data.update(measure=measure.pk, due_on=str(measure.due_on), variant=kind)

    _run(case, "add_measure", by=by, note=MeasureKind(kind).label, change=change)
    return created["measure"]


def add_emergency_measure(case: Case, *, by, kind: str, items: str, reason: str, started_at=None) -> Measure:
    """查封/扣押 taken on the spot in an emergency by the case's officers without prior approval
    (ACL art. 19): recorded — the report to the head — within 24 hours of taking it, by two
    certified officers (art. 18); pending until the squad leader approves it afterwards
    (`approve_measure`). 先行登记保存 always needs prior approval (APL art. 56)."""
    if kind not in (MeasureKind.SEAL, MeasureKind.SEIZE):
        raise ValidationFailed("紧急情况下只能当场查封、扣押；先行登记保存须事先经负责人批准。", code="invalid_choice",
                               field="kind")
    items = text(items, "items", "物品清单", max_length=5000)
    reason = text(reason, "reason", "紧急情况说明", max_length=500)
    created = {}

    def change(c, today, data):
        _check_case_officers(c, today)
        now = clock.now()
        started = moment(started_at, "started_at", "实施时间", default=now, not_after=now)
        measure = Measure(case=c, kind=kind, items=items, emergency=True, emergency_reason=reason, started_at=started,
                          started_on=timezone.localdate(started), approval=MeasureApproval.PENDING)
        if now > measure.approval_due_at:
            raise refuse("emergency_report_late", "紧急情况下当场实施行政强制措施的，应当在二十四小时内向行政机关负责人报告，"
                         f"并补办批准手续（实施于 {timezone.localtime(started):%Y-%m-%d %H:%M}）", f"{ACL}第十九条")
        measure.due_on = _measure_due(measure)
        measure.save(audit_action="case.measure.emergency", actor=by)
        created["measure"] = measure
        data.update(measure=measure.pk, due_on=str(measure.due_on), started_at=started.isoformat(),
                    approval_due_at=measure.approval_due_at.isoformat(), variant=kind)

    _run(case, "add_emergency_measure", by=by, note=reason, change=change)
    return created["measure"]


def approve_measure(measure: Measure, *, by, approved: bool, reason: str = "") -> Measure:
    """补办批准 of an emergency measure by the squad leader (ACL art. 19): approved, or not
    approved with the reason — then the measure is released at once."""
    approved = flag(approved, "approved")
    reason = text(reason, "reason", "不予批准的理由" if not approved else "审批意见", required=not approved)

    def change(c, today, data):
        m = Measure.objects.select_for_update().get(pk=measure.pk, case=c)
        if m.approval != MeasureApproval.PENDING:
            raise refuse("measure_not_pending", "该强制措施不是待补办批准的紧急措施，或已经审批", f"{ACL}第十九条")
        m.approved_by, m.approved_at, m.approval_note = by, clock.now(), reason
        m.approval = MeasureApproval.APPROVED if approved else MeasureApproval.DISAPPROVED
        if not approved and not m.ended_on:
            m.ended_on, m.outcome = today, MeasureOutcome.RELEASED
        m.save(audit_action="case.measure.approve", actor=by)
        data.update(measure=m.pk, approved=approved, released=not approved)

    note = "批准" if approved else "不予批准，立即解除"
    _run(measure.case, "approve_measure", by=by, note=f"{note}：{reason}" if reason else note, change=change)
    measure.refresh_from_db()
    return measure


def extend_measure(measure: Measure, *, by, reason: str, testing_days: int = 0) -> Measure:
    """One approved extension of a seizure by up to 30 days; testing, inspection, quarantine or
    appraisal days are not counted (ACL art. 25)."""
    reason = text(reason, "reason", "延长理由", max_length=300)
    if isinstance(testing_days, bool) or not isinstance(testing_days, int) or not 0 <= testing_days <= 365:
        raise ValidationFailed("检测、鉴定天数须为 0–365 的整数。", code="out_of_range", field="testing_days")

    def change(c, today, data):
        m = Measure.objects.select_for_update().get(pk=measure.pk, case=c)
        if m.approval == MeasureApproval.PENDING:
            raise refuse("measure_approval_pending", "紧急情况下实施的查封、扣押尚未补办批准手续", f"{ACL}第十九条")
        if m.kind == MeasureKind.PRESERVATION:
            raise refuse("measure_not_extendable", "先行登记保存应在七日内作出处理决定，不能延长", f"{APL}第五十六条")
        if m.extended:
            raise refuse("measure_extension_used", "查封、扣押期限只能延长一次，延长期限不得超过三十日",
                          "《中华人民共和国行政强制法》第二十五条")
        if m.ended_on or today > m.due_on:
            raise refuse("measure_ended", "查封、扣押已解除或期限已届满，不能延长", "《中华人民共和国行政强制法》第二十五条、第二十八条")
        m.extended, m.extension_reason, m.extension_approved_by = True, reason, by
        m.testing_days = testing_days
        m.due_on = _measure_due(m)
        m.save(audit_action="case.measure.extend", actor=by)
        data.update(measure=m.pk, due_on=str(m.due_on))

    _run(measure.case, "extend_measure", by=by, note=reason, change=change)
    measure.refresh_from_db()
    return measure


def end_measure(measure: Measure, *, by, outcome: str, ended_on=None) -> Measure:
    if outcome not in MeasureOutcome.values:
        raise ValidationFailed("请选择处理结果。", code="invalid_choice", field="outcome")

    def change(c, today, data):
        m = Measure.objects.select_for_update().get(pk=measure.pk, case=c)
        if m.ended_on:
            raise refuse("measure_ended", "该强制措施已处理", "《中华人民共和国行政强制法》第二十七条")
        m.ended_on = day(ended_on, "ended_on", "处理日期", default=today, not_after=today, not_before=m.started_on)
        m.outcome = outcome
        m.save(audit_action="case.measure.end", actor=by)
        data.update(measure=m.pk, outcome=outcome)

    _run(measure.case, "end_measure", by=by, note=MeasureOutcome(outcome).label, change=change)
    measure.refresh_from_db()
    return measure


def report(case: Case, *, by, report_text: str, penalty_kinds, tier: BenchmarkTier | None = None, fine=None,
           units=None, illegal_gains=None, base_value=None, outside_reason: str = "", mitigated: bool = False,
           complex_case: bool = False) -> Case:
    """调查终结报告 with the proposed penalty computed from the benchmark version valid on the
    act date (APL art. 37): a fine outside the tier's range needs a written reason."""
    report_text = text(report_text, "report_text", "调查终结报告", max_length=20000)
    outside_reason = text(outside_reason, "outside_reason", "超出裁量基准的理由", required=False, max_length=2000)
    kinds = list(penalty_kinds or [])
    if any(k not in PenaltyKind.values or k == PenaltyKind.DETENTION for k in kinds) or len(set(kinds)) != len(kinds):
        raise ValidationFailed("处罚种类无效。", code="invalid_choice", field="penalty_kinds")
    mitigated, complex_case = flag(mitigated, "mitigated"), flag(complex_case, "complex_case")

    def change(c, today, data):
        benchmark = benchmark_for(c.matter, c.act_date) if c.matter_id else None
        proposed, outside = None, None
        if PenaltyKind.FINE in kinds:
            if benchmark is None:
                raise refuse("benchmark_missing", f"执法事项“{c.matter}”在违法行为发生日没有已发布的裁量基准",
                             f"{APL}第三十四条")
            if not isinstance(tier, BenchmarkTier) or tier.benchmark_id != benchmark.pk:
                raise ValidationFailed(f"请选择裁量基准第 {benchmark.version} 版中的裁量阶次。", code="invalid_tier",
                                       field="tier")
            facts = {"units": units, "illegal_gains": illegal_gains, "base_value": base_value}
            proposal = propose_fine(tier, **facts)
            proposed = money(fine, field_name="fine", label="拟罚款金额") if fine not in (None, "") \
                else proposal.suggested
            outside = check_fine(tier, proposed, **facts)
            if outside and not outside_reason:
                raise refuse("fine_outside_benchmark", f"{outside.message[:-1]}：请书面说明理由", f"{APL}第三十四条")
            c.fine_units = quantity(units, field_name="units", label="违法数量", required=False)
            c.illegal_gains = money(illegal_gains, field_name="illegal_gains", label="违法所得", required=False)
            c.base_value = money(base_value, field_name="base_value", label="计罚基数", required=False)
            data["proposal"] = proposal.basis_text
        c.benchmark, c.tier = benchmark, tier if PenaltyKind.FINE in kinds else None
        c.penalty_kinds, c.proposed_fine = kinds, proposed
        c.outside_benchmark = bool(outside)
        c.outside_benchmark_reason = outside_reason if outside else ""
        c.mitigated, c.complex_case, c.report_text = mitigated, complex_case, report_text
        c.reported_at = clock.now()
        # A new report (first, or after a return from legal review) needs a new notice.
        c.notice_served_on = c.statement_due = c.hearing_request_due = c.hearing_requested_on = None
        c.hearing_notice_served_on = c.hearing_on = c.hearing_held_on = None
        c.notified_fine, c.hearing_eligible, c.statement_waived = None, False, False
        data.update(penalty_kinds=kinds, proposed_fine=str(proposed) if proposed is not None else None,
                    outside_benchmark=bool(outside))

    return _run(case, "report", by=by, change=change)


# --- notice, statement, hearing (APL arts. 44, 45, 62–65) ----------------------------------------

def notify(case: Case, *, by, served_on=None) -> Case:
    """事先告知: the intended penalty, its facts, reasons and basis, the rights to state and
    defend and — where art. 63 applies — to a hearing; the periods start at service."""
    def change(c, today, data):
        if not c.penalty_kinds:
            raise refuse("nothing_to_notify", "拟不予行政处罚的案件无需事先告知，可直接作出不予行政处罚决定",
                         f"{APL}第四十四条、第五十七条")
        _check_case_officers(c, today)
        served = day(served_on, "served_on", "告知书送达日期", default=today, not_after=today,
                     not_before=timezone.localdate(c.reported_at))
        c.notice_served_on, c.notified_fine = served, c.proposed_fine
        c.statement_due = deadline_rule("apl_statement").due(served)
        c.hearing_eligible = rules.is_hearing_eligible(c, c.proposed_fine, c.penalty_kinds)
        c.hearing_request_due = deadline_rule("apl_hearing_request").due(served) if c.hearing_eligible else None
        data.update(served_on=str(served), statement_due=str(c.statement_due), hearing=c.hearing_eligible,
                    variant="hearing" if c.hearing_eligible else "plain")

    return _run(case, "notify", by=by, change=change)


def record_statement(case: Case, *, by, statement: str, reexamination: str, revised_fine=None) -> Case:
    """陈述申辩 and the agency's re-examination (复核), which may lower but never raise the
    penalty because the party defended itself (art. 45)."""
    statement = text(statement, "statement", "陈述申辩意见", max_length=10000)
    reexamination = text(reexamination, "reexamination", "复核意见", max_length=10000)
    revised = money(revised_fine, field_name="revised_fine", label="复核后拟罚款", required=False)

    def change(c, today, data):
        if revised is not None:
            if c.notified_fine is None or revised > c.notified_fine:
                raise refuse("penalty_increased_after_defence", "不得因当事人陈述、申辩而给予更重的处罚",
                             f"{APL}第四十五条")
            c.proposed_fine = revised
        c.statement_text = "\n\n".join(t for t in (c.statement_text, statement) if t)
        c.reexamination = "\n\n".join(t for t in (c.reexamination, reexamination) if t)
        data["revised_fine"] = str(revised) if revised is not None else None

    return _run(case, "record_statement", by=by, note=statement[:200], change=change)


def waive_statement(case: Case, *, by, note: str, evidence=()) -> Case:
    """The party waives statement, defence and hearing expressly, in writing (art. 62)."""
    note = text(note, "note", "书面放弃的说明", max_length=500)
    proofs = evidence_list(evidence, by)

    def change(c, today, data):
        c.statement_waived = True
        if proofs:
            c.evidence.add(*proofs)
            data["evidence"] = [e.pk for e in proofs]

    return _run(case, "waive_statement", by=by, note=note, change=change)


def request_hearing(case: Case, *, by, requested_on=None) -> Case:
    def change(c, today, data):
        requested = day(requested_on, "requested_on", "申请听证日期", default=today, not_after=today,
                        not_before=c.notice_served_on)
        if not c.hearing_eligible:
            raise refuse("hearing_not_available", "拟作出的处罚不属于应当告知听证权利的情形", f"{APL}第六十三条")
        if requested > c.hearing_request_due:
            raise refuse("hearing_request_late", f"当事人应在被告知后五日内提出听证要求（期限至 {c.hearing_request_due}）",
                         f"{APL}第六十四条第（一）项")
        c.hearing_requested_on = requested
        data["requested_on"] = str(requested)

    return _run(case, "request_hearing", by=by, change=change)


def schedule_hearing(case: Case, *, by, hearing_on, place: str, chair: User, notice_served_on=None) -> Case:
    """听证通知: time and place told at least seven working days before; chaired by someone who
    did not investigate the case (art. 64(2), (4))."""
    place = text(place, "place", "听证地点", max_length=200)

    def change(c, today, data):
        served = day(notice_served_on, "notice_served_on", "听证通知送达日期", default=today, not_after=today)
        held = day(hearing_on, "hearing_on", "听证日期")
        if not isinstance(chair, User) or not chair.is_active:
            raise ValidationFailed("请选择听证主持人。", code="required", field="chair")
        if c.case_officers.filter(officer=chair).exists():
            raise refuse("hearing_chair_conflict", "听证由非本案调查人员主持", f"{APL}第六十四条第（四）项")
        earliest = add_working_days(served, deadline_rule("apl_hearing_notice").amount)
        if held < earliest:
            raise refuse("hearing_notice_too_short", f"应当在举行听证的七日前通知当事人（最早可于 {earliest} 举行）",
                         f"{APL}第六十四条第（二）项")
        c.hearing_notice_served_on, c.hearing_on, c.hearing_place, c.hearing_chair = served, held, place, chair
        data.update(hearing_on=str(held), chair=chair.pk)

    return _run(case, "schedule_hearing", by=by, change=change)


def hold_hearing(case: Case, *, by, report_text: str, held_on=None, party_absent: bool = False) -> Case:
    """听证 held (record and report); a party absent without good reason waived it (art. 64(8))."""
    report_text = text(report_text, "report_text", "听证报告", max_length=20000)
    party_absent = flag(party_absent, "party_absent")

    def change(c, today, data):
        if c.hearing_on is None:
            raise refuse("hearing_not_scheduled", "尚未通知当事人听证的时间、地点", f"{APL}第六十四条第（二）项")
        c.hearing_held_on = day(held_on, "held_on", "听证举行日期", default=today, not_after=today,
                                not_before=c.hearing_on)
        c.hearing_report = report_text
        data.update(held_on=str(c.hearing_held_on), party_absent=party_absent)

    return _run(case, "hold_hearing", by=by, note="当事人无正当理由缺席，视为放弃听证" if party_absent else "",
                change=change)


# --- review, discussion, extension, decision ------------------------------------------------------

def legal_review(case: Case, *, by, passed: bool, opinion: str) -> Case:
    """法制审核 by a legal reviewer holding the legal professional qualification (art. 58(3));
    returned cases go back to investigation."""
    passed = flag(passed, "passed")
    opinion = text(opinion, "opinion", "审核意见", max_length=10000)

    def change(c, today, data):
        if not by.has_legal_qualification:
            raise refuse("reviewer_unqualified", "初次从事行政处罚决定法制审核的人员，应当取得法律职业资格",
                         f"{APL}第五十八条第二款")
        rules.check_statement_closed(c, today)
        review = LegalReview(case=c, reviewer=by, purpose=ReviewPurpose.DECISION,
                             result=ReviewResult.PASSED if passed else ReviewResult.RETURNED,
                             opinion=opinion, reviewed_fine=c.proposed_fine, reviewed_at=clock.now())
        review.save(audit_action="case.legal_review", actor=by)
        data.update(review=review.pk, passed=passed)
        return None if passed else ("legal_review_return", S.INVESTIGATING)

    return _run(case, "legal_review", by=by, note=opinion[:200], change=change)


def transfer_review(case: Case, *, by, passed: bool, opinion: str) -> Case:
    """法制审核 of transferring a suspected crime to the public security or judicial organs
    (Shanghai legal-review rules art. 3(3)), before the decision; the state is kept — the squad
    leader then transfers (`transfer`) or the investigation goes on."""
    passed = flag(passed, "passed")
    opinion = text(opinion, "opinion", "审核意见", max_length=10000)

    def change(c, today, data):
        if not by.has_legal_qualification:
            raise refuse("reviewer_unqualified", "从事法制审核的人员，应当取得法律职业资格",
                         f"{APL}第五十八条第二款")
        review = LegalReview(case=c, reviewer=by, purpose=ReviewPurpose.TRANSFER,
                             result=ReviewResult.PASSED if passed else ReviewResult.RETURNED, opinion=opinion,
                             reviewed_at=clock.now())
        review.save(audit_action="case.legal_review.transfer", actor=by)
        data.update(review=review.pk, passed=passed)

    return _run(case, "transfer_review", by=by, note=("同意移送：" if passed else "不同意移送：") + opinion[:200],
                change=change)


def collective_discussion(case: Case, *, by, held_on, attendees, minutes: str, conclusion: str) -> Case:
    """集体讨论 of the agency's responsible persons for complex or major cases (art. 57(2))."""
    minutes = text(minutes, "minutes", "讨论记录", max_length=20000)
    conclusion = text(conclusion, "conclusion", "讨论结论", max_length=5000)
    people = list(attendees or [])
    if len(people) < 3 or any(not isinstance(p, User) for p in people) or len({p.pk for p in people}) != len(people):
        raise ValidationFailed("集体讨论至少应有三名参加人员。", code="too_few_attendees", field="attendees")

    def change(c, today, data):
        rules.check_statement_closed(c, today)
        discussion = CollectiveDiscussion(case=c, held_on=day(held_on, "held_on", "讨论日期", not_after=today,
                                                              not_before=timezone.localdate(c.reported_at)),
                                          minutes=minutes, conclusion=conclusion, recorded_by=by)
        discussion.save(audit_action="case.discussion", actor=by)
        discussion.attendees.set(people)
        data.update(discussion=discussion.pk, attendees=[p.pk for p in people])

    return _run(case, "collective_discussion", by=by, note=conclusion[:200], change=change)


def extend_deadline(case: Case, *, by, days: int, reason: str) -> Extension:
    """An approved extension of the decision period (art. 60 "法律、法规、规章另有规定的除外")."""
    reason = text(reason, "reason", "延长理由", max_length=300)
    limit = settings.CASE_MAX_EXTENSION_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
        raise ValidationFailed(f"延长天数须为 1–{limit} 天。", code="out_of_range", field="days")
    created = {}

    def change(c, today, data):
        due = rules.decision_due(c)
        if due is not None and today > due:
            raise refuse("decision_deadline_passed", f"办案期限已于 {due} 届满，不能再延长", f"{APL}第六十条")
        extension = Extension(case=c, days=days, reason=reason, approved_by=by, approved_at=clock.now())
        extension.save(audit_action="case.extension", actor=by)
        created["extension"] = extension
        data.update(days=days, decision_due=str(rules.decision_due(c)))

    _run(case, "extend_deadline", by=by, note=reason, change=change)
    return created["extension"]


REMEDY_ORDINARY = ("如不服本决定，可以在收到本决定书之日起六十日内向{body}申请行政复议，"
                   "或者在六个月内依法向人民法院提起行政诉讼。")  # ARL art. 20, ALL art. 46


def remedy_text() -> str:
    return REMEDY_ORDINARY.format(body="本机关的本级人民政府")  # ARL art. 24


def decide(case: Case, *, by, outcome: str, fine=None, penalty_kinds=None, no_penalty_ground: str = "",
           exemption: ExemptionEntry | None = None) -> Case:
    """作出决定 (the head of the agency). A penalty needs every prerequisite the law sets:
    notice and statement period (arts. 44, 62), no heavier penalty than notified (art. 45),
    hearing notice where due (art. 63), passed legal review where required (art. 58),
    collective discussion for major cases (art. 57), within 90 days (art. 60), one fine per
    act (art. 29), a written reason for a fine outside the benchmark. No penalty under art. 33
    needs an education record."""
    if outcome not in DecisionOutcome.values:
        raise ValidationFailed("请选择决定结果。", code="invalid_choice", field="outcome")

    def change(c, today, data):
        due = rules.decision_due(c)
        if due is not None and today > due:
            raise refuse("decision_deadline_passed",
                         f"应当自立案之日起九十日内作出处罚决定（含批准延长，期限至 {due}）", f"{APL}第六十条")
        if outcome == DecisionOutcome.NO_PENALTY:
            _decide_no_penalty(c, data)
        else:
            _decide_penalty(c, today, data)
        c.decision_outcome, c.decided_on, c.decided_by = outcome, today, by
        c.remedy_text = remedy_text()
        c.service_due = deadline_rule("apl_service").due(today)
        data.update(variant=outcome, service_due=str(c.service_due))
        disclosure.on_decided(c, by)  # a penalty decision's publication record (APL art. 48)

    def _decide_no_penalty(c, data):
        if no_penalty_ground not in NoPenaltyGround.values:
            raise ValidationFailed("请选择不予处罚的理由。", code="invalid_choice", field="no_penalty_ground")
        if no_penalty_ground in EXEMPTION_GROUNDS and not c.records.filter(kind=RecordKind.EDUCATION).exists():
            raise refuse("education_record_missing", "对依法不予行政处罚的当事人，应当对其进行教育，并记录在案",
                         f"{APL}第三十三条第三款")
        if exemption is not None and (not isinstance(exemption, ExemptionEntry) or exemption.matter_id != c.matter_id):
            raise ValidationFailed("免罚清单事项与本案执法事项不符。", code="invalid_exemption", field="exemption")
        c.no_penalty_ground, c.exemption, c.decided_fine = no_penalty_ground, exemption, None
        data["ground"] = no_penalty_ground

    def _decide_penalty(c, today, data):
        rules.check_statement_closed(c, today)
        kinds = list(penalty_kinds) if penalty_kinds is not None else list(c.penalty_kinds)
        if not kinds or any(k not in PenaltyKind.values for k in kinds):
            raise ValidationFailed("请选择处罚种类。", code="invalid_choice", field="penalty_kinds")
        amount = None
        if PenaltyKind.FINE in kinds:
            amount = money(fine, field_name="fine", label="罚款金额", allow_zero=False) if fine not in (None, "") \
                else c.proposed_fine
        if not set(kinds) <= set(c.penalty_kinds) or (amount is not None and c.notified_fine is not None
                                                      and amount > c.notified_fine):
            raise refuse("penalty_increased_after_defence",
                         "决定不得重于事先告知的处罚；拟加重处罚的应当重新告知，且不得因当事人陈述、申辩而加重",
                         f"{APL}第四十四条、第四十五条")
        if rules.is_hearing_eligible(c, amount, kinds) and not c.hearing_eligible:
            raise refuse("hearing_notice_missing", "拟作出较大数额罚款等处罚，应当告知当事人有要求听证的权利",
                         f"{APL}第六十三条、第六十四条")
        if amount is not None and c.tier_id:
            outside = check_fine(c.tier, amount, units=c.fine_units, illegal_gains=c.illegal_gains,
                                 base_value=c.base_value)
            if outside and not c.outside_benchmark_reason:
                raise refuse("fine_outside_benchmark", f"{outside.message[:-1]}", f"{APL}第三十四条")
            c.outside_benchmark = bool(outside) or c.outside_benchmark
        reasons = rules.legal_review_reasons(c)
        if reasons and not rules.legal_review_passed(c, amount):
            raise refuse("legal_review_required",
                         f"本案{'、'.join(reasons)}，未经法制审核或审核未通过的，不得作出决定", f"{APL}第五十八条")
        if rules.discussion_required(c) and not rules.discussion_held(c):
            raise refuse("collective_discussion_required", "对情节复杂或者重大违法行为给予行政处罚，行政机关负责人应当集体讨论决定",
                         f"{APL}第五十七条第二款")
        rules.check_double_penalty(c, c.matter, list(c.case_parties.values_list("party_id", flat=True)))
        c.penalty_kinds, c.decided_fine = kinds, amount
        data.update(penalty_kinds=kinds, fine=str(amount) if amount is not None else None)

    return _run(case, "decide", by=by, change=change)


# --- service and closure --------------------------------------------------------------------------

def serve(case: Case, *, by, method: str, served_on=None, consent: Evidence | None = None,
          refused_to_sign: bool = False) -> Case:
    """送达 within seven working days of the decision; electronic service only with the party's
    signed consent (art. 61); public notice deemed served after the configured period. The
    payment period (15 days, art. 67) runs from service."""
    if method not in ServiceMethod.values:
        raise ValidationFailed("请选择送达方式。", code="invalid_choice", field="method")
    refused_to_sign = flag(refused_to_sign, "refused_to_sign")
    if consent is not None:
        evidence_list([consent], by, field="consent")

    def change(c, today, data):
        served = day(served_on, "served_on", "送达日期", default=today, not_after=today, not_before=c.decided_on)
        if served > c.service_due:
            raise refuse("service_late", f"当事人不在场的，应当在七日内送达决定书（期限至 {c.service_due}）",
                         f"{APL}第六十一条")
        if method == ServiceMethod.ELECTRONIC and consent is None:
            raise refuse("electronic_service_without_consent", "当事人同意并签订确认书的，方可采用电子方式送达",
                         f"{APL}第六十一条第二款")
        if method == ServiceMethod.ANNOUNCEMENT:
            data["announced_on"] = str(served)
            served = deadline_rule("case_announcement_service").due(served)
        c.served_on, c.service_method, c.service_consent = served, method, consent
        c.party_refused_to_sign = refused_to_sign or method == ServiceMethod.LEFT
        data.update(served_on=str(served), method=method)
        if c.decided_fine:
            c.payment_due = deadline_rule("apl_payment").due(served)
            data["payment_due"] = str(c.payment_due)
            return S.EXECUTING
        c.ending = Ending.NO_PENALTY if c.decision_outcome == DecisionOutcome.NO_PENALTY else Ending.PERFORMED
        return S.EXECUTED

    return _run(case, "serve", by=by, note=ServiceMethod(method).label, change=change)


def close(case: Case, *, by, note: str = "") -> Case:
    """结案 with the squad leader's approval, once the decision was served and performed or
    enforced (APL arts. 66, 72; ACL art. 53)."""
    note = text(note, "note", "结案意见", required=False)

    def change(c, today, data):
        if c.status == S.DECIDED:
            raise refuse("decision_not_served", "处罚决定书尚未送达，不能结案", f"{APL}第六十一条")
        if c.status == S.EXECUTING:
            raise refuse("execution_not_finished", "罚款尚未缴清，也未经强制执行完毕，不能结案",
                         f"{APL}第六十六条、第七十二条")
        c.closed_at, c.closed_by = clock.now(), by

    case = _run(case, "close", by=by, note=note, change=change)
    _sync_sources(case, by)
    return case


def archive(case: Case, *, by) -> Case:
    """归档 (APL art. 47): the archive step issues the 卷宗目录 and binds the whole case file into
    one PDF in the evidence store (`paperwork.bind_case_file`, its reference in the step's data);
    the case is final then: the model refuses any later change, so the file is never rebound."""
    def change(c, today, data):
        c.archived_at, c.archived_by = clock.now(), by

    return _run(case, "archive", by=by, change=change)


def withdraw(case: Case, *, by, reason: str) -> Case:
    """撤案 with the reason, approved by the squad leader who records it."""
    reason = text(reason, "reason", "撤案理由", max_length=2000)

    def change(c, today, data):
        c.ending, c.ending_reason, c.closed_at, c.closed_by = Ending.WITHDRAWN, reason, clock.now(), by

    case = _run(case, "withdraw", by=by, note=reason[:500], change=change)
    _sync_sources(case, by)
    return case


def transfer(case: Case, *, by, kind: str, to: str, reason: str) -> Case:
    """移送: to the public security organs or judicial organs where a crime is suspected (APL
    art. 27) — after a passed legal review (`transfer_review`) — or to the competent agency."""
    if kind not in TransferKind.values:
        raise ValidationFailed("请选择移送类型。", code="invalid_choice", field="kind")
    to = text(to, "to", "移送机关", max_length=200)
    reason = text(reason, "reason", "移送理由", max_length=2000)

    def change(c, today, data):
        rules.check_transfer_review(c, kind)
        c.ending, c.ending_reason, c.transfer_kind, c.transfer_to = Ending.TRANSFERRED, reason, kind, to
        c.closed_at, c.closed_by = clock.now(), by
        data.update(kind=kind, to=to)

    case = _run(case, "transfer", by=by, note=f"{TransferKind(kind).label}：{to}", change=change)
    _sync_sources(case, by)
    return case

