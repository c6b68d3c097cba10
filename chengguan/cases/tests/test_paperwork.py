"""Every step issues its documents (文书) and archiving binds the case file (卷宗): a full
ordinary case from lead to archive yields each document in legal order, each a DOCX that opens
and names the case, party and amounts it must; a step whose document lacks a fact is refused
and issues nothing; the bound PDF is the index plus every document, page for page, under a
hash that verifies, and nothing changes after it; the on-the-spot decision issues its form."""

import datetime as dt
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from chengguan.cases.choices import MeasureKind, RecordKind, ServiceMethod, Status
from chengguan.cases.models import Case, CaseRecord, CourtApplication, LegalReview, Reminder
from chengguan.cases.services import execution, paperwork, simple, workflow
from chengguan.core.api_testing import row_values
from chengguan.core.calendar import add_working_days
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.evidence import evidence_storage, open_verified, store_evidence
from chengguan.core.models import AuditEvent, Evidence
from chengguan.core.tests.test_evidence import png_bytes
from chengguan.documents import services as documents
from chengguan.documents.kinds import KINDS
from chengguan.documents.models import IssuedDocument
from chengguan.documents.tests.support import docx_text

from .conftest import IN_SQUAD_A, Flow, company, person, tier

pytestmark = pytest.mark.django_db
R = RoleCode
PARTY = "上海某某餐饮有限公司"

# The full case below, in the order of its bound file.
FILE_ORDER = [
    "filing_approval",
    "inspection_record", "inquiry_record", "rectification_order", "preservation_notice", "seizure_decision",
    "investigation_report",
    "penalty_notice", "hearing_rights_notice", "hearing_notice", "hearing_record", "hearing_report",
    "legal_review_opinion", "collective_discussion",
    "penalty_decision",
    "service_receipt",
    "payment_reminder", "enforcement_application",
    "closure_approval",
]
WITH_FINE = {"investigation_report", "penalty_notice", "hearing_rights_notice", "penalty_decision",
             "payment_reminder", "enforcement_application", "closure_approval"}
WITHOUT_PARTY_NAME = {"inquiry_record"}  # names the interviewee (the legal representative) instead


def read(evidence: Evidence, user) -> bytes:
    with open_verified(evidence, by=user) as blob:
        return blob.read()


def text_of(document: IssuedDocument, user) -> str:
    return docx_text(read(document.docx, user))  # python-docx opens it


def full_case(flow: Flow, staff, clock_at) -> Case:
    """A company's unpermitted works, walked through every step that issues a document."""
    officer, squad_leader, leader = flow.officer, staff[R.SQUAD_LEADER], flow.leader
    photo = store_evidence(SimpleUploadedFile("scene.png", png_bytes(), content_type="image/png"), by=officer,
                           description="现场照片")
    case = workflow.file(flow.lead(evidence=[photo]), by=squad_leader, officers=[officer, staff["officer2"]])
    workflow.add_record(case, by=officer, kind=RecordKind.ON_SITE, place="江川路1号",
                        content="现场搭建钢结构棚约40平方米，未见建设工程规划许可证。")
    workflow.add_record(case, by=officer, kind=RecordKind.INQUIRY, place="七宝中队询问室",
                        content="问：棚是谁搭的？\n答：是我们公司搭的。\n问：有没有规划许可？\n答：没有。")
    workflow.add_record(case, by=officer, kind=RecordKind.CORRECTION_ORDER, content="自行拆除违法搭建的钢结构棚",
                        correction_due=clock_at.today + dt.timedelta(days=7))
    for kind, items in ((MeasureKind.PRESERVATION, "施工图纸，A3，3张"), (MeasureKind.SEIZE, "电焊机，2台\n钢管")):
        measure = workflow.add_measure(case, by=squad_leader, kind=kind, items=items)
        workflow.end_measure(measure, by=officer, outcome="returned")
    case = workflow.report(case, by=officer, report_text="事实清楚，证据确凿", penalty_kinds=["fine"],
                           tier=tier(flow.m["works"], "严重"), fine="60000", complex_case=True)
    case = workflow.notify(case, by=officer)
    case = workflow.request_hearing(case, by=officer)
    hearing_on = add_working_days(clock_at.today, 8)
    case = workflow.schedule_hearing(case, by=officer, hearing_on=hearing_on, place="听证室",
                                     chair=staff[R.LEGAL_REVIEWER])
    clock_at.advance((hearing_on - clock_at.today).days)
    case = workflow.hold_hearing(case, by=officer, report_text="当事人对事实无异议，请求从轻。建议维持。")
    case = workflow.legal_review(case, by=staff[R.LEGAL_REVIEWER], passed=True, opinion="事实清楚，程序合法。")
    case = workflow.collective_discussion(case, by=leader, held_on=clock_at.today, minutes="一致同意。",
                                          conclusion="罚款六万元。", attendees=[leader, staff["leader2"], staff["leader3"]])
    case = workflow.decide(case, by=leader, outcome="penalty")
    case = workflow.serve(case, by=officer, method=ServiceMethod.DIRECT)
    clock_at.advance(20)
    execution.remind(case, by=officer)
    clock_at.advance(220)  # the periods for reconsideration and litigation have run out
    application = execution.apply_to_court(case, by=officer, court="上海市闵行区人民法院")
    case = execution.record_enforcement(application, by=officer, result="enforced")
    case = workflow.close(case, by=squad_leader)
    return workflow.archive(case, by=staff[R.CASE_REVIEW])


@pytest.fixture
def archived(staff, matters, clock_at, numbering):
    flow = Flow(staff, matters, clock_at, party=company(), matter="works")
    return full_case(flow, staff, clock_at)


def test_every_kind_named_by_a_step_exists_and_has_a_builder():
    named = {kind for name in workflow.DOCUMENTS for variant in (
        workflow.DOCUMENTS[name].values() if isinstance(workflow.DOCUMENTS[name], dict) else [workflow.DOCUMENTS[name]])
        for kind in variant}
    assert named <= set(KINDS)
    assert named - {"file_index"} <= set(paperwork.BUILDERS)
    assert set(KINDS) <= named  # and every kind is issued by some step


def test_full_case_issues_every_document_in_legal_order(archived, staff):
    case, reader = archived, staff[R.CASE_REVIEW]
    bound = paperwork.case_documents(case)
    assert [d.kind for d in bound] == FILE_ORDER
    # per-record documents belong to their rows, the others to the case
    assert {d.kind: d.subject_type.model for d in bound}["inquiry_record"] == "caserecord"
    assert documents.documents_of(case.records.get(kind=RecordKind.INQUIRY)).get().kind == "inquiry_record"
    assert documents.documents_of(LegalReview.objects.get(case=case)).get().kind == "legal_review_opinion"
    assert documents.documents_of(Reminder.objects.get(case=case)).get().kind == "payment_reminder"
    assert documents.documents_of(CourtApplication.objects.get(case=case)).get().kind == "enforcement_application"
    # each step records what it issued
    issued = [item for step in case.steps.order_by("at", "pk") for item in step.data.get("issued", [])]
    assert [item["kind"] for item in issued] == [
        "filing_approval", "inspection_record", "inquiry_record", "rectification_order", "preservation_notice",
        "seizure_decision", "investigation_report", "penalty_notice", "hearing_rights_notice", "hearing_notice",
        "hearing_record", "hearing_report", "legal_review_opinion", "collective_discussion", "penalty_decision",
        "service_receipt", "payment_reminder", "enforcement_application", "closure_approval", "file_index"]
    assert {item["number"] for item in issued} == {d.number for d in bound} | {issued[-1]["number"]}
    for document in bound:
        text = text_of(document, reader)
        assert document.number in text and documents.verify(document).ok, document.kind
        if document.kind not in WITHOUT_PARTY_NAME:
            assert PARTY in text, document.kind
        if "case.number" in KINDS[document.kind].required:
            assert case.number in text, document.kind
        if document.kind in WITH_FINE:
            assert "60,000.00" in text and "陆万元整" in text, document.kind
    texts = {d.kind: text_of(d, reader) for d in bound}
    assert "李四" in texts["inquiry_record"] and "有没有规划许可？" in texts["inquiry_record"]
    filing = texts["filing_approval"]  # officers with their certificates, 主办 first
    assert filing.index(staff[R.OFFICER].get_full_name()) < filing.index("王二")
    assert staff["officer2"].certificate_number in filing
    assert "上海市闵行区人民政府" in texts["penalty_decision"] and "第六十四条" in texts["penalty_decision"]
    assert "电焊机" in texts["seizure_decision"] and "施工图纸" in texts["preservation_notice"]
    assert "现场检查笔录" in texts["penalty_decision"] and "证据材料：现场照片" in texts["penalty_decision"]
    assert "0时00分" not in texts["hearing_notice"]  # the hearing has a date, not a time
    assert "上海市闵行区人民法院" in texts["enforcement_application"]
    assert texts["service_receipt"].count(bound[FILE_ORDER.index("penalty_decision")].number) == 1


def test_archive_binds_one_pdf_of_index_and_documents(archived, staff):
    case, reader = archived, staff[R.CASE_REVIEW]
    step = case.steps.get(action="archive")
    ref = step.data["case_file"]
    pdf = paperwork.case_file(case)
    assert pdf.pk == ref["pdf"] and pdf.content_type == "application/pdf"
    data = read(pdf, reader)
    assert hashlib.sha256(data).hexdigest() == pdf.sha256 == ref["sha256"]
    with evidence_storage().open(pdf.storage_name, "rb") as blob:
        assert hashlib.sha256(blob.read()).hexdigest() == ref["sha256"]
    index = IssuedDocument.objects.get(pk=ref["index"])
    assert index.kind == "file_index" and documents.documents_of(case).filter(kind="file_index").get() == index
    parts = [index, *paperwork.case_documents(case)]
    assert [d.pk for d in parts[1:]] == ref["documents"]
    counts = [len(PdfReader(io.BytesIO(read(d.pdf, reader))).pages) for d in parts]
    assert len(PdfReader(io.BytesIO(data)).pages) == sum(counts) == ref["pages"]
    # the index gives each document its pages in the bound file, numbered after the index
    entries = index.context["file"]["entries"]
    bound, listed = entries[:len(parts) - 1], entries[len(parts) - 1:]
    assert [e["number"] for e in bound] == [d.number for d in parts[1:]]
    first, last = bound[0]["pages"], bound[-1]["pages"].split("–")[-1]
    assert first.split("–")[0] == "1" and int(last) == sum(counts[1:])
    photo = Evidence.objects.get(pk__in=ref["evidence"])  # then the evidence, kept apart in the store
    assert listed == [{"title": "证据：现场照片", "number": f"SHA-256 {photo.sha256[:16]}", "pages": "另存",
                       "date": listed[0]["date"]}]
    text = text_of(index, reader)
    assert case.number in text and PARTY in text and "行政处罚决定书" in text and "现场照片" in text


def test_nothing_changes_after_archive(archived, staff):
    case = archived
    assert case.status == Status.ARCHIVED
    with pytest.raises(BusinessRuleError) as caught:
        workflow.archive(case, by=staff[R.CASE_REVIEW])
    assert caught.value.code == "invalid_transition"
    with pytest.raises(BusinessRuleError):
        workflow.add_record(case, by=staff[R.OFFICER], kind=RecordKind.ON_SITE, content="补充。")
    case.facts = "改写"
    with pytest.raises(BusinessRuleError) as caught:
        case.save(actor=staff[R.CASE_REVIEW])
    assert caught.value.code == "case_archived"
    with pytest.raises(BusinessRuleError) as caught:  # the 卷宗 is never bound again
        documents.issue("file_index", subject=case, context={"agency": {"name": "x"}, "case": {"number": "x",
                        "cause": "x"}, "party": {"name": "x"}, "file": {"entries": [{"title": "x"}]}},
                        by=staff[R.CASE_REVIEW])
    assert caught.value.code == "document_already_issued"


def refused_issuing_nothing(call, case: Case, code: str, words: str):
    before = (row_values(case), case.steps.count(), IssuedDocument.objects.count(), Evidence.objects.count(),
              AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert caught.value.code == code and words in caught.value.message, caught.value.message
    assert (row_values(case), case.steps.count(), IssuedDocument.objects.count(), Evidence.objects.count(),
            AuditEvent.objects.count()) == before


def test_step_whose_document_lacks_a_fact_is_refused_and_issues_nothing(staff, matters, clock_at, numbering, settings):
    flow = Flow(staff, matters, clock_at, party=person(7, address=""))
    lead = flow.lead()
    refused_issuing_nothing(
        lambda: workflow.file(lead, by=staff[R.SQUAD_LEADER], officers=[flow.officer, staff["officer2"]]),
        lead, "document_context_missing", "《立案审批表》缺少必填内容“party.address”（当事人地址）")
    assert Case.objects.get(pk=lead.pk).number == ""  # no case number taken either

    reported = Flow(staff, matters, clock_at).reported()
    settings.CASE_AGENCY_PHONE = ""  # the notice must tell the party how to reach the agency
    refused_issuing_nothing(lambda: workflow.notify(reported, by=flow.officer), reported,
                            "document_context_missing", "执法机关联系电话")
    assert Case.objects.get(pk=reported.pk).status == Status.REPORTED


def test_report_again_after_legal_review_return_supersedes_the_first(staff, matters, clock_at, numbering):
    flow = Flow(staff, matters, clock_at)
    case = workflow.legal_review(flow.deliberating(complex_case=True), by=staff[R.LEGAL_REVIEWER], passed=False,
                                 opinion="证据不足，补充调查。")
    first = documents.documents_of(case).get(kind="investigation_report")
    case = workflow.report(case, by=flow.officer, report_text="补充调查后事实清楚", penalty_kinds=["fine"],
                           tier=tier(matters["street"], "一般"), fine="150")
    first.refresh_from_db()
    assert first.is_void and "调查终结" in first.void_reason
    live = [d for d in paperwork.case_documents(case) if d.kind == "investigation_report"]
    assert len(live) == 1 and live[0].pk != first.pk and "150.00" in text_of(live[0], flow.officer)
    review = documents.documents_of(LegalReview.objects.get(case=case)).get()
    assert "退回补充调查" in text_of(review, flow.officer)


def test_no_penalty_decision_states_the_ground_and_basis(staff, matters, clock_at, numbering):
    flow = Flow(staff, matters, clock_at)
    case = flow.filed()
    workflow.add_record(case, by=flow.officer, kind=RecordKind.EDUCATION, content="对当事人进行了法治教育。")
    case = workflow.report(case, by=flow.officer, report_text="首次违法，已当场改正", penalty_kinds=[])
    case = workflow.decide(case, by=flow.leader, outcome="no_penalty", no_penalty_ground="first_violation")
    decision = documents.documents_of(case).get(kind="no_penalty_decision")
    text = text_of(decision, flow.officer)
    assert "张三丰" in text and "当事人初次违法" in text and "第三十三条第一款" in text and "教育记录" in text


def test_on_the_spot_decision_issues_its_form(staff, matters, numbering):
    case = simple.decide_on_the_spot(by=staff[R.OFFICER], officers=[staff[R.OFFICER], staff["officer2"]],
                                     party=person(), matter=matters["street"], facts="占道设摊。", penalty_kind="fine",
                                     fine="80", refused_to_sign=True, **IN_SQUAD_A)
    decision = documents.documents_of(case).get()
    assert decision.kind == "simple_penalty_decision" and decision.number == case.number  # one number (art. 52)
    assert case.steps.get(action="simple_decide").data["issued"] == [
        {"kind": "simple_penalty_decision", "id": decision.pk, "number": decision.number}]
    text = text_of(decision, staff[R.OFFICER])
    assert decision.number in text and "张三丰" in text and "占道设摊" in text and "¥80.00" in text
    assert "捌拾元整" in text and "先自收到本决定书之日起六十日内向上海市闵行区人民政府申请行政复议" in text
    assert "当事人拒绝签名" in text and staff["officer2"].certificate_number in text
    assert not CaseRecord.objects.filter(case=case).exists()
