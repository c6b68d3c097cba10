"""The documents (文书) of a case, issued by the steps that produce them, and the case file
(卷宗) bound when the case is archived.

`issue_for_step(case, step, by)` runs inside the step's transaction (`workflow._step` calls it
before the step row is saved): for every kind the step names in `step.data["documents"]`
(`workflow.DOCUMENTS`) it builds the context from the case as it now stands, issues the
document through `chengguan.documents.services.issue` and records `{kind, id, number}` in
`step.data["issued"]`. Every context is checked before anything is issued: when a required
fact is missing the documents engine's Chinese message refuses the step, and the case is left
as it was (the whole step rolls back).

Subjects: a document about one row — a 笔录 (CaseRecord), a compulsory measure, a legal review,
a collective discussion, a reminder, a court application — belongs to that row; the others to
the case. The engine keeps one live document of a kind per subject; the case-level documents
a case may need again (a new investigation report and notice after 法制审核退回, a
rescheduled hearing: `REISSUED`) void the earlier one with the reason before the new one is
issued.

Archive (归档): `file_index` is the 卷宗目录 — every live document of the case in legal order
(立案 → 调查取证 → 审核 → 决定 → 送达 → 执行 → 结案, in step order within each stage) with the
pages it occupies in the bound file, then the evidence list — and with it the whole file is
bound into one PDF (the index first, unnumbered as 卷宗 practice wants, then every document,
each page stamped with its file page number bottom right), kept in the evidence store under
its SHA-256 and referenced from the archive step (`step.data["case_file"]`). The archived case
refuses every later change (Case.save), so the file is never bound again."""

from __future__ import annotations

import io
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from chengguan.core.calendar import deadline_rule
from chengguan.core.errors import ValidationFailed
from chengguan.core.evidence import open_verified, store_generated
from chengguan.core.models import Evidence
from chengguan.documents import rendering
from chengguan.documents import services as documents
from chengguan.documents.kinds import kind_spec
from chengguan.documents.models import IssuedDocument
from chengguan.regulations.choices import PenaltyKind

from ..choices import MeasureKind, NoPenaltyGround, OfficerRole, ReviewResult, ServiceMethod
from ..models import (
    Case,
    CaseRecord,
    CaseStep,
    CollectiveDiscussion,
    CourtApplication,
    LegalReview,
    Measure,
    Reminder,
)
from . import rules
from .rules import APL

ACL = "《中华人民共和国行政强制法》"
ZERO = Decimal("0.00")

# The order of a bound case file (domain §11, 案卷评查: 立案 → 调查 → 审查 → 决定 → 送达 → 执行).
STAGES = ("立案", "调查取证", "审核", "决定", "送达", "执行", "结案")
STAGE_OF = {
    "filing_approval": "立案",
    "inspection_record": "调查取证", "inquiry_record": "调查取证", "rectification_order": "调查取证",
    "preservation_notice": "调查取证", "seizure_decision": "调查取证", "investigation_report": "调查取证",
    "penalty_notice": "审核", "hearing_rights_notice": "审核", "hearing_notice": "审核", "hearing_record": "审核",
    "hearing_report": "审核", "legal_review_opinion": "审核", "collective_discussion": "审核",
    "penalty_decision": "决定", "no_penalty_decision": "决定", "simple_penalty_decision": "决定",
    "service_receipt": "送达",
    "payment_reminder": "执行", "enforcement_application": "执行",
    "closure_approval": "结案",
}
DEFAULT_STAGE = "执行"  # a kind added later without a stage: after the decision, before closure
DECISION_KINDS = ("penalty_decision", "no_penalty_decision", "simple_penalty_decision")

# Case-level documents a case may need again: after 法制审核退回补充调查 the case is reported,
# notified and perhaps heard again; a hearing may be rescheduled.
REISSUED = frozenset({"investigation_report", "penalty_notice", "hearing_rights_notice", "hearing_notice",
                      "hearing_record", "hearing_report"})

# 《行政处罚法》第二十八条第一款: the agency orders the party to correct the violation.
ORDER_BASIS = f"{APL}第二十八条第一款"
# The law that allows a seizure is the matter's own; the catalogue does not record it yet.
SEIZURE_BASIS = f"{ACL}第二十二条、第二十三条、第二十四条"
# 《行政处罚法》第三十三条 (exemptions) and 第五十七条第一款第（二）（三）项 (no penalty).
EXEMPTION_BASES = {
    NoPenaltyGround.MINOR: f"{APL}第三十三条第一款、第五十七条第一款第（二）项",
    NoPenaltyGround.FIRST_VIOLATION: f"{APL}第三十三条第一款、第五十七条第一款第（二）项",
    NoPenaltyGround.NO_FAULT: f"{APL}第三十三条第二款",
    NoPenaltyGround.NOT_ESTABLISHED: f"{APL}第五十七条第一款第（三）项",
}
ENFORCEMENT_REASON = "被申请人在法定期限内未申请行政复议或者提起行政诉讼，又不履行行政处罚决定。"
STAMP_CSS = (f"@page {{ size: A4; margin: 20mm 20mm 14mm 20mm; @bottom-right {{ content: counter(page); "
             f"font-family: \"{rendering.PDF_FONT}\"; font-size: 12pt; }} }} div {{ break-after: page; height: 1px; }}")


# --- the facts every document takes from the case --------------------------------------------

def agency() -> dict:
    return {"name": settings.CASE_AGENCY_NAME, "address": settings.CASE_AGENCY_ADDRESS,
            "phone": settings.CASE_AGENCY_PHONE, "representative": settings.CASE_AGENCY_REPRESENTATIVE,
            "reconsideration_body": settings.CASE_RECONSIDERATION_BODY}


def _party(case: Case) -> dict:
    people = [link.party for link in case.case_parties.select_related("party").order_by("pk")]
    if not people:
        return {}
    if len(people) > 1:  # one document for jointly liable parties: every name and address
        addresses = [p.address for p in people]
        return {"name": "、".join(p.name for p in people),
                "address": "；".join(f"{p.name}：{p.address}" for p in people) if all(addresses) else ""}
    p = people[0]
    return {"kind": p.kind, "name": p.name, "address": p.address, "phone": p.phone,
            "id_type": p.get_id_type_display() if p.id_type else "", "id_number": p.id_number,
            "credit_code": p.credit_code, "legal_representative": p.legal_representative}


def _officers(case: Case) -> list[dict]:
    """The case's officers with their certificate numbers (APL art. 42), 主办 first."""
    links = sorted(case.case_officers.select_related("officer"), key=lambda link: (link.role != OfficerRole.LEAD,
                                                                                    link.pk))
    return [{"name": link.officer.get_full_name(), "certificate_number": link.officer.certificate_number}
            for link in links]


def _bases(case: Case) -> dict:
    if case.matter_id is None:
        return {}
    return {"violation": "、".join(b.citation for b in case.matter.violation_bases.all()),
            "penalty": "、".join(b.citation for b in case.matter.penalty_bases.all())}


def _place(case: Case, given: str = "") -> str:
    if given or case.address:
        return given or case.address
    if case.lon is not None and case.lat is not None:
        return f"东经{case.lon:.5f}°、北纬{case.lat:.5f}°"
    return ""


def _penalty(case: Case, fine) -> dict:
    kinds = "、".join(PenaltyKind(k).label for k in case.penalty_kinds if k in PenaltyKind.values)
    return {"description": kinds or "不予行政处罚", "fine": fine if fine is not None else ZERO}


def _evidence_items(case: Case) -> list[str]:
    """What the facts rest on: the records made and the evidence files of the case."""
    items = [f"{r.get_kind_display()}（{timezone.localtime(r.made_at):%Y年%m月%d日}）"
             for r in case.records.order_by("made_at", "pk")]
    items += [f"证据材料：{e.description or e.original_name}" for e in _case_evidence(case)]
    return items


def _case_evidence(case: Case) -> list[Evidence]:
    ids = set(case.evidence.values_list("pk", flat=True))
    ids |= set(Evidence.objects.filter(pk__in=CaseRecord.evidence.through.objects.filter(
        caserecord__case=case).values("evidence")).values_list("pk", flat=True))
    if case.service_consent_id:
        ids.add(case.service_consent_id)
    return list(Evidence.objects.filter(pk__in=ids).order_by("uploaded_at", "pk"))


def _statement(case: Case) -> str:
    if case.statement_waived:
        return "当事人书面明确放弃陈述、申辩和听证的权利。"
    parts = []
    if case.statement_text:
        parts.append(f"当事人在规定期限内提出陈述、申辩意见：{case.statement_text.strip().rstrip('。')}。")
        if case.reexamination:
            parts.append(f"经复核：{case.reexamination.strip().rstrip('。')}。")
    if case.hearing_held_on:
        parts.append(f"本机关于{case.hearing_held_on:%Y年%m月%d日}依当事人申请举行了听证。")
    return "".join(parts) or "当事人在规定期限内未提出陈述、申辩意见。"


def _live(kind: str, subject):
    return documents.documents_of(subject).filter(kind=kind, voided_at__isnull=True)


def _decision(case: Case) -> dict:
    document = documents.documents_of(case).filter(kind__in=DECISION_KINDS, voided_at__isnull=True).first()
    return {"number": document.number if document else "", "date": case.decided_on, "served_on": case.served_on,
            "title": document.get_kind_display() if document else ""}


def _base(case: Case, step: CaseStep) -> dict:
    return {
        "date": timezone.localdate(step.at),
        "agency": agency(),
        "case": {"number": case.number, "cause": case.matter.name if case.matter_id else "",
                 "source": case.get_source_kind_display(), "found_on": timezone.localdate(case.created_at),
                 "filed_on": timezone.localdate(case.filed_at) if case.filed_at else None},
        "party": _party(case),
        "officers": _officers(case),
        "facts": case.facts,
        "legal_basis": _bases(case),
    }


# --- one context builder per kind: (case, step, subject) → context ------------------------------

def _filing_approval(case, step, subject):
    c = _base(case, step)
    c["opinion"] = step.note or f"当事人涉嫌{c['case']['cause']}，符合立案条件，建议立案调查。"
    return c


def _record_times(record: CaseRecord) -> dict:
    # CaseRecord keeps one time (made_at): the record's start and end both print it.
    return {"started_at": record.made_at, "ended_at": record.made_at}


def _inspection_record(case, step, record):
    c = _base(case, step)
    c["inspection"] = {**_record_times(record), "place": _place(case, record.place), "findings": record.content}
    return c


def _qa(content: str) -> list[dict]:
    """问/答 pairs from the record's text ("问：…" and "答：…" lines); text without them is one answer."""
    pairs, current = [], None
    for line in content.splitlines():
        line = line.strip()
        if line.startswith(("问：", "问:")):
            current = {"q": line[2:].strip(), "a": ""}
            pairs.append(current)
        elif line.startswith(("答：", "答:")) and current is not None:
            current["a"] = "\n".join(t for t in (current["a"], line[2:].strip()) if t)
        elif line and current is not None:
            key = "a" if current["a"] else "q"
            current[key] = "\n".join(t for t in (current[key], line) if t)
    return pairs or [{"q": "", "a": content.strip()}]


def _inquiry_record(case, step, record):
    c = _base(case, step)
    party = c["party"]
    # CaseRecord does not name the interviewee: the (first) party, or its legal representative.
    if party.get("kind") == "organisation":
        interviewee = {"name": party.get("legal_representative", ""), "relation": "当事人法定代表人"}
    else:
        interviewee = {"name": party.get("name", ""), "relation": "当事人", "id_number": party.get("id_number", ""),
                       "phone": party.get("phone", ""), "address": party.get("address", "")}
    c["inquiry"] = {**_record_times(record), "place": _place(case, record.place), "interviewee": interviewee,
                    "qa": _qa(record.content)}
    return c


def _rectification_order(case, step, record):
    c = _base(case, step)
    c["legal_basis"]["order"] = ORDER_BASIS
    c["correction"] = {"requirement": record.content.strip().rstrip("。"), "deadline": record.correction_due}
    return c


def _items(text: str) -> list[dict]:
    """The items list, a line an item: "名称，规格，数量" (or "名称，数量", or the name alone)."""
    rows = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.replace("，", ",").replace("\t", ",").split(",") if p.strip()]
        if not parts:
            continue
        if len(parts) >= 3:
            rows.append({"name": parts[0], "spec": "，".join(parts[1:-1]), "quantity": parts[-1]})
        elif len(parts) == 2:
            rows.append({"name": parts[0], "spec": "", "quantity": parts[1]})
        else:
            rows.append({"name": parts[0], "spec": "", "quantity": ""})
    return rows


def _preservation_notice(case, step, measure):
    c = _base(case, step)
    c["items"] = _items(measure.items)
    c["preservation"] = {"place": settings.CASE_ITEMS_STORAGE_PLACE, "deadline": measure.due_on}
    return c


def _seizure_decision(case, step, measure):
    c = _base(case, step)
    c["legal_basis"]["seizure"] = SEIZURE_BASIS
    c["items"] = _items(measure.items)
    c["seizure"] = {"measure": MeasureKind(measure.kind).label, "start": measure.started_on, "end": measure.due_on,
                    "place": settings.CASE_ITEMS_STORAGE_PLACE}
    return c


def _circumstances(case: Case) -> str:
    parts = []
    if case.tier_id:
        parts.append(f"适用裁量基准第{case.benchmark.version}版“{case.tier.label}”阶次"
                     + (f"（{case.tier.conditions.strip().rstrip('。')}）" if case.tier.conditions.strip() else ""))
    if case.mitigated:
        parts.append("依法减轻处罚")
    if case.outside_benchmark_reason:
        parts.append(f"超出裁量基准的理由：{case.outside_benchmark_reason.strip().rstrip('。')}")
    if case.report_text:
        parts.append(case.report_text.strip().rstrip("。"))
    return "；".join(parts)


def _investigation_report(case, step, subject):
    c = _base(case, step)
    c["evidence"] = _evidence_items(case)
    c["penalty"] = {**_penalty(case, case.proposed_fine), "circumstances": _circumstances(case)}
    return c


def _penalty_notice(case, step, subject):
    c = _base(case, step)
    c["evidence"] = _evidence_items(case)
    c["penalty"] = _penalty(case, case.notified_fine)
    c["statement"] = {"days": deadline_rule("apl_statement").amount}
    return c


def _hearing(case: Case) -> dict:
    return {"held_at": case.hearing_held_on or case.hearing_on, "place": case.hearing_place,
            "chair": case.hearing_chair.get_full_name() if case.hearing_chair_id else "",
            # 《行政处罚法》第六十四条第（三）项: public unless secrets or privacy are concerned;
            # the case does not record a closed hearing.
            "public": True}


def _hearing_notice(case, step, subject):
    c = _base(case, step)
    c["hearing"] = _hearing(case)
    return c


def _hearing_record(case, step, subject):
    c = _base(case, step)
    # The case keeps no clerk: the person who recorded the hearing in the system.
    c["hearing"] = {**_hearing(case), "clerk": step.actor.get_full_name() if step.actor_id else "",
                    "investigators": "、".join(o["name"] for o in c["officers"]),
                    "proceedings": case.hearing_report}
    return c


def _hearing_report(case, step, subject):
    c = _base(case, step)
    hearing = _hearing(case)
    absent = bool(step.data.get("party_absent"))
    summary = (f"听证会于{hearing['held_at']:%Y年%m月%d日}在{hearing['place']}公开举行，由{hearing['chair']}主持。"
               + ("当事人无正当理由未出席，视为放弃听证权利。" if absent else "当事人到场参加听证。")
               if hearing["held_at"] else "")
    c["hearing"] = {**hearing, "summary": summary, "opinion": case.hearing_report}
    return c


def _legal_review_opinion(case, step, review):
    c = _base(case, step)
    reviewer = review.reviewer.get_full_name() + ("（具有法律职业资格）" if review.reviewer.has_legal_qualification else "")
    c["review"] = {"reviewer": reviewer, "findings": review.opinion,
                   "conclusion": "审核通过" if review.result == ReviewResult.PASSED else "退回补充调查"}
    return c


def _collective_discussion(case, step, discussion):
    c = _base(case, step)
    # The discussion keeps no place or chair: the configured meeting place, and the head who
    # recorded it (the verb needs the 决定 permission).
    c["discussion"] = {"held_at": discussion.held_on, "place": settings.CASE_MEETING_PLACE,
                       "chair": discussion.recorded_by.get_full_name(),
                       "attendees": [u.get_full_name() for u in discussion.attendees.order_by("pk")],
                       "opinions": discussion.minutes, "conclusion": discussion.conclusion}
    return c


def _penalty_decision(case, step, subject):
    c = _base(case, step)
    c["evidence"] = _evidence_items(case)
    c["penalty"] = _penalty(case, case.decided_fine)
    c["statement"] = {"summary": _statement(case)}
    c["payment"] = {"bank": settings.CASE_PAYMENT_BANK}
    return c


def _no_penalty_decision(case, step, subject):
    c = _base(case, step)
    c["evidence"] = _evidence_items(case)
    ground = NoPenaltyGround(case.no_penalty_ground) if case.no_penalty_ground else None
    label = ground.label if ground else ""
    c["no_penalty"] = {"reason": label if label.startswith(("当事人", "违法事实")) else f"当事人{label}" if label else ""}
    c["legal_basis"]["exemption"] = EXEMPTION_BASES.get(ground, "")
    return c


SERVICE_PLACES = {ServiceMethod.ELECTRONIC: "当事人确认的电子送达地址", ServiceMethod.ANNOUNCEMENT: "公告送达"}


def _service_receipt(case, step, subject):
    c = _base(case, step)
    decision = _decision(case)
    c["served_document"] = {"title": decision["title"], "number": decision["number"]}
    method = ServiceMethod(case.service_method)
    place = SERVICE_PLACES.get(method) or (_place(case) if method == ServiceMethod.ON_THE_SPOT
                                           else c["party"].get("address", ""))
    note = f"送达日期：{case.served_on:%Y年%m月%d日}" if case.served_on else ""
    if case.party_refused_to_sign:
        note += "；当事人拒绝签收，已留置送达" if note else "当事人拒绝签收，已留置送达"
    c["service"] = {"place": place, "method": method.label, "note": note}
    return c


def _payment_reminder(case, step, reminder):
    c = _base(case, step)
    c["decision"] = _decision(case)
    c["penalty"] = _penalty(case, case.decided_fine)
    # 《行政强制法》第三十五条: a period to perform; 第五十四条: ten days after service before court.
    c["reminder"] = {"surcharge": rules.surcharge(case, reminder.served_on),
                     "deadline": deadline_rule("acl_court_reminder").amount, "served_on": reminder.served_on}
    return c


def _enforcement_application(case, step, application):
    c = _base(case, step)
    c["decision"] = _decision(case)
    c["penalty"] = _penalty(case, case.decided_fine)
    reminder = case.reminders.order_by("-served_on", "-pk").first()
    notice = _live("payment_reminder", reminder).first() if reminder else None
    c["reminder"] = {"number": notice.number if notice else "", "served_on": reminder.served_on if reminder else None}
    c["court"] = {"name": application.court}
    c["enforcement"] = {"amount": rules.amount_owed(case, application.applied_on), "reason": ENFORCEMENT_REASON}
    return c


def _execution_text(case: Case) -> str:
    payments = [f"{p.paid_on:%Y年%m月%d日}{p.get_method_display()}{p.amount}元"
                + (f"（票据号{p.receipt_number}）" if p.receipt_number else "")
                for p in case.payments.order_by("paid_on", "pk")]
    done = case.court_applications.filter(result__in=("enforced", "terminated")).order_by("-pk").first()
    lines = [f"当事人缴纳罚款：{'；'.join(payments)}，合计{case.paid_amount}元。"] if payments else []
    if done:
        lines.append(f"{done.court}{done.get_result_display()}（{done.result_on:%Y年%m月%d日}）。")
    if case.ending:
        lines.append(f"执行结果：{case.get_ending_display()}。")
    return "\n".join(lines)


def _closure_approval(case, step, subject):
    c = _base(case, step)
    c["decision"] = _decision(case)
    c["penalty"] = _penalty(case, case.decided_fine)
    c["closure"] = {"execution": _execution_text(case),
                    "reason": step.note or (f"{case.get_ending_display()}，案件办理终结" if case.ending else "")}
    return c


def _simple_penalty_decision(case, step, subject):
    c = _base(case, step)
    c["occurred_at"] = case.act_date
    c["place"] = _place(case)
    c["penalty"] = _penalty(case, case.decided_fine)
    c["payment"] = {"bank": settings.CASE_PAYMENT_BANK, "collected_on_spot": case.collected_on_spot}
    c["refused_to_sign"] = case.party_refused_to_sign
    return c


BUILDERS = {
    "filing_approval": _filing_approval,
    "inspection_record": _inspection_record,
    "inquiry_record": _inquiry_record,
    "rectification_order": _rectification_order,
    "preservation_notice": _preservation_notice,
    "seizure_decision": _seizure_decision,
    "investigation_report": _investigation_report,
    "penalty_notice": _penalty_notice,
    "hearing_rights_notice": _penalty_notice,  # the same facts, penalty and basis
    "hearing_notice": _hearing_notice,
    "hearing_record": _hearing_record,
    "hearing_report": _hearing_report,
    "legal_review_opinion": _legal_review_opinion,
    "collective_discussion": _collective_discussion,
    "penalty_decision": _penalty_decision,
    "no_penalty_decision": _no_penalty_decision,
    "service_receipt": _service_receipt,
    "payment_reminder": _payment_reminder,
    "enforcement_application": _enforcement_application,
    "closure_approval": _closure_approval,
    "simple_penalty_decision": _simple_penalty_decision,
}

# The row a per-record document belongs to: its model and the step-data key naming it (None:
# the verb's step does not name it — the row it has just made, the newest of the case).
ROW_SUBJECTS = {
    "inspection_record": (CaseRecord, "record"), "inquiry_record": (CaseRecord, "record"),
    "rectification_order": (CaseRecord, "record"),
    "preservation_notice": (Measure, "measure"), "seizure_decision": (Measure, "measure"),
    "legal_review_opinion": (LegalReview, "review"),
    "collective_discussion": (CollectiveDiscussion, "discussion"),
    "payment_reminder": (Reminder, None), "enforcement_application": (CourtApplication, None),
}


def subject_for(kind: str, case: Case, step: CaseStep):
    """The case, or the row of the case the document is about (None when it is missing)."""
    if kind not in ROW_SUBJECTS:
        return case
    model, key = ROW_SUBJECTS[kind]
    rows = model.objects.filter(case=case)
    return rows.order_by("-pk").first() if key is None else rows.filter(pk=step.data.get(key)).first()


# --- issuing ------------------------------------------------------------------------------------

def context_for(kind: str, case: Case, step: CaseStep, subject=None) -> dict:
    """The context of `kind` for `step` of `case` (a preview needs no saved step)."""
    subject = subject if subject is not None else subject_for(kind, case, step)
    return BUILDERS[kind](case, step, subject)


def issue_for_step(case: Case, step: CaseStep, by) -> list[IssuedDocument]:
    """Issue the documents `step.data["documents"]` names; nothing when it names none. Called
    inside the step's transaction, before the step is saved: a refusal refuses the step."""
    kinds = list((step.data or {}).get("documents") or [])
    if not kinds:
        return []
    planned = []
    for kind in kinds:
        kind_spec(kind)
        if kind == "file_index":
            continue  # built from the documents issued so far, last
        subject = subject_for(kind, case, step)
        if subject is None:
            raise ValidationFailed(f"未找到《{kind_spec(kind).name}》所属的记录，未生成文书。",
                                   code="document_subject_missing", field="documents")
        context = context_for(kind, case, step, subject)
        documents.prepare_context(kind, context)  # every document checked before any is issued
        planned.append((kind, subject, context))
    issued = []
    for kind, subject, context in planned:
        if kind in REISSUED:
            _void_superseded(kind, subject, step, by)
        issued.append(documents.issue(kind, subject=subject, context=context, by=by, squad=case.squad))
    if "file_index" in kinds:
        index, step.data["case_file"] = bind_case_file(case, step, by)
        issued += [index] if index else []
    step.data["issued"] = [{"kind": d.kind, "id": d.pk, "number": d.number} for d in issued]
    return issued


def _void_superseded(kind: str, subject, step: CaseStep, by) -> None:
    from .workflow import label

    for old in _live(kind, subject):
        documents.void(old, by=by, reason=f"本案重新办理“{label(step.action)}”，原文书由重新出具的文书取代。")


# --- the case file (卷宗) -------------------------------------------------------------------------

def case_documents(case: Case, *, live: bool = True) -> list[IssuedDocument]:
    """Every document of the case — its own and those of its rows (records, measures, reviews…)
    — in the order of a bound file: by stage, then as issued. Without the 卷宗目录 itself."""
    condition = Q(subject_type=ContentType.objects.get_for_model(Case), subject_id=case.pk)
    # Only the row models documents belong to (ROW_SUBJECTS), each matched by a subquery.
    for model in {model for model, _ in ROW_SUBJECTS.values()}:
        condition |= Q(subject_type=ContentType.objects.get_for_model(model),
                       subject_id__in=model.objects.filter(case=case).values("pk"))
    found = IssuedDocument.objects.filter(condition).exclude(kind="file_index")
    if live:
        found = found.filter(voided_at__isnull=True)
    stage = {name: index for index, name in enumerate(STAGES)}
    return sorted(found, key=lambda d: (stage[STAGE_OF.get(d.kind, DEFAULT_STAGE)], d.pk))


def _pdf_bytes(evidence: Evidence, by) -> bytes:
    with open_verified(evidence, by=by) as blob:
        return blob.read()


def _pages(first: int, count: int) -> str:
    return str(first) if count == 1 else f"{first}–{first + count - 1}"


def _stamps(count: int) -> bytes:
    """`count` blank A4 pages numbered 1… bottom right: laid over the bound documents."""
    html = rendering.check_pdf_engine()
    return html(string=f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>{STAMP_CSS}</style></head>"
                       f"<body>{'<div></div>' * count}</body></html>",
                url_fetcher=rendering._refuse_fetch).write_pdf()


def bind_case_file(case: Case, step: CaseStep, by) -> tuple[IssuedDocument | None, dict | None]:
    """Issue the 卷宗目录 and bind the whole file into one PDF kept in the evidence store. Every
    document's PDF is read back through its hash check: a damaged file refuses the archive. A
    lead withdrawn or transferred before filing, with neither documents nor evidence, has no
    file to bind: (None, None)."""
    from pypdf import PdfReader, PdfWriter

    parts = [(document, PdfReader(io.BytesIO(_pdf_bytes(document.pdf, by)))) for document in case_documents(case)]
    evidence = _case_evidence(case)
    if not parts and not evidence:
        return None, None
    entries, page = [], 1
    for document, reader in parts:
        count = len(reader.pages)
        entries.append({"title": document.get_kind_display(), "number": document.number,
                        "date": document.context.get("date") or timezone.localdate(document.issued_at),
                        "pages": _pages(page, count)})
        page += count
    for item in evidence:  # kept in the evidence store, not bound into the PDF
        entries.append({"title": f"证据：{item.description or item.original_name}",
                        "number": f"SHA-256 {item.sha256[:16]}",
                        "date": timezone.localdate(item.captured_at or item.uploaded_at), "pages": "另存"})
    context = _base(case, step)
    context["case"]["number"] = case.number or f"线索{case.pk}"  # a lead closed before filing
    context["file"] = {"entries": entries}
    index = documents.issue("file_index", subject=case, context=context, by=by, squad=case.squad)

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(_pdf_bytes(index.pdf, by))))
    front = len(writer.pages)
    for _, reader in parts:
        writer.append(reader)
    if page > 1:
        for number, stamp in enumerate(PdfReader(io.BytesIO(_stamps(page - 1))).pages):
            writer.pages[front + number].merge_page(stamp)
    writer.add_metadata({"/Title": f"{case.number} 卷宗", "/Author": settings.CASE_AGENCY_NAME})
    out = io.BytesIO()
    writer.write(out)
    bound = store_generated(out.getvalue(), by=by, name=f"卷宗{case.number}.pdf", content_type=rendering.PDF_MIME,
                            squad=case.squad, description=f"{case.number} 卷宗（归档）", audit_action="case.case_file")
    return index, {"pdf": bound.pk, "sha256": bound.sha256, "pages": len(writer.pages), "index": index.pk,
                   "index_number": index.number, "index_pages": front,
                   "documents": [document.pk for document, _ in parts], "evidence": [e.pk for e in evidence]}


def case_file(case: Case) -> Evidence | None:
    """The bound 卷宗 PDF of an archived case."""
    step = case.steps.filter(action="archive").first()
    ref = (step.data or {}).get("case_file") if step else None
    return Evidence.objects.filter(pk=ref["pdf"]).first() if ref else None
