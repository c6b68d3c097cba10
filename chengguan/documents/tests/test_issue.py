"""Issuing: numbered, stored in the evidence store with hashes, verifiable, never regenerated
silently (re-issue refused until the earlier one is voided with a reason)."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.utils import timezone

from chengguan.core.errors import AuditBypassError, BusinessRuleError, ValidationFailed
from chengguan.core.evidence import evidence_storage
from chengguan.core.models import AuditEvent, Evidence, NumberSequence
from chengguan.documents import services
from chengguan.documents.examples import example_context
from chengguan.documents.kinds import number_kind
from chengguan.documents.models import IssuedDocument

from .support import compact, docx_text, ocr_pdf

PARTY = "上海闵申餐饮管理有限公司"


@pytest.fixture
def subject(org):
    """Any saved model instance; a grid has a squad, under which the files are stored."""
    return org.grid_a1


@pytest.fixture
def issued(document_defaults, evidence_root, subject, officer):
    return services.issue("penalty_decision", subject=subject, context=example_context("penalty_decision"),
                          by=officer)


def read(evidence) -> bytes:
    with evidence_storage().open(evidence.storage_name, "rb") as blob:
        return blob.read()


def year() -> int:
    return timezone.localdate().year


def test_issue_numbers_renders_and_stores_both_files(issued, subject, officer, org):
    assert issued.number == f"闵城管罚决字〔{year()}〕第00001号"
    assert (issued.subject, issued.issued_by, issued.template.version) == (subject, officer, 1)

    docx = read(issued.docx)
    text = docx_text(docx)
    assert issued.number in text and PARTY in text
    assert "¥1,234.00" in text and "壹仟贰佰叁拾肆元整" in text

    pdf = read(issued.pdf)
    seen = compact(ocr_pdf(pdf))
    assert "行政处罚决定书" in seen and PARTY in seen

    for evidence, recorded in ((issued.docx, issued.docx_sha256), (issued.pdf, issued.pdf_sha256)):
        assert evidence.sha256 == recorded and evidence.squad == org.squad_a and evidence.uploaded_by == officer
    assert issued.docx.content_type.endswith("wordprocessingml.document")
    assert issued.pdf.content_type == "application/pdf"
    assert AuditEvent.objects.filter(action="document.issue", object_id=str(issued.pk), actor=officer).exists()


def test_the_context_snapshot_is_json_with_decimals_as_strings_and_encrypted_at_rest(issued):
    snapshot = IssuedDocument.objects.get(pk=issued.pk).context
    assert snapshot["penalty"]["fine"] == "1234.00"
    assert snapshot["decision"]["date"] == "2026-11-25"
    assert snapshot["number"] == issued.number and snapshot["date"] == timezone.localdate().isoformat()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT context_data FROM {IssuedDocument._meta.db_table} WHERE id = %s", [issued.pk])
        raw = cursor.fetchone()[0]
    assert PARTY not in raw and "13800001234" not in raw
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_verify_rehashes_the_stored_files(issued, evidence_root):
    assert services.verify(issued).ok
    # Someone alters the stored PDF behind the system's back.
    (evidence_root / issued.pdf.storage_name).write_bytes(b"%PDF-1.7 forged")
    result = services.verify(issued)
    assert (result.docx, result.pdf, result.ok) == (True, False, False)
    assert AuditEvent.objects.filter(action="document.tamper_detected", object_id=str(issued.pk)).exists()
    with pytest.raises(BusinessRuleError) as refused:
        services.open_file(issued, "pdf", by=issued.issued_by)
    assert refused.value.code == "evidence_tampered"
    (evidence_root / issued.docx.storage_name).unlink()
    assert not services.verify(issued).docx


def test_open_file_gives_the_verified_bytes_and_records_the_access(issued, officer):
    with services.open_file(issued, "docx", by=officer) as stored:
        assert issued.number in docx_text(stored.read())
    assert AuditEvent.objects.filter(action="evidence.download", object_id=str(issued.docx.pk)).exists()
    with pytest.raises(ValidationFailed):
        services.open_file(issued, "exe", by=officer)


def test_reissue_is_refused_until_the_earlier_one_is_voided(issued, subject, officer):
    context = example_context("penalty_decision")
    evidence_before = Evidence.objects.count()
    with pytest.raises(BusinessRuleError) as refused:
        services.issue("penalty_decision", subject=subject, context=context, by=officer)
    assert refused.value.code == "document_already_issued"
    assert issued.number in refused.value.message and "作废" in refused.value.message
    assert IssuedDocument.objects.count() == 1 and Evidence.objects.count() == evidence_before

    with pytest.raises(ValidationFailed) as refused:
        services.void(issued, by=officer, reason="  ")
    assert refused.value.field == "reason"
    assert IssuedDocument.objects.get(pk=issued.pk).voided_at is None

    voided = services.void(issued, by=officer, reason="当事人名称有误")
    assert (voided.voided_by, voided.void_reason) == (officer, "当事人名称有误")
    with pytest.raises(BusinessRuleError) as refused:
        services.void(voided, by=officer, reason="再次作废")
    assert refused.value.code == "document_already_voided"

    context["party"]["name"] = "上海闵申餐饮管理有限责任公司"
    second = services.issue("penalty_decision", subject=subject, context=context, by=officer)
    # The refused attempt took no number: numbers stay gap-free.
    assert second.number == f"闵城管罚决字〔{year()}〕第00002号"
    assert "有限责任公司" in docx_text(read(second.docx))
    assert list(services.documents_of(subject)) == [second, voided]
    assert AuditEvent.objects.filter(action="document.void", object_id=str(issued.pk)).exists()


def test_other_kinds_and_other_subjects_are_independent(issued, org, officer):
    notice = services.issue("penalty_notice", subject=org.grid_a1, context=example_context("penalty_notice"),
                            by=officer)
    other = services.issue("penalty_decision", subject=org.grid_a2, context=example_context("penalty_decision"),
                           by=officer)
    assert notice.number == f"闵城管罚告字〔{year()}〕第00001号"
    assert other.number == f"闵城管罚决字〔{year()}〕第00002号"


def test_an_issued_document_is_never_changed_or_deleted(issued, officer):
    issued.number = "闵城管罚决字〔2026〕第99999号"
    with pytest.raises(BusinessRuleError) as refused:
        issued.save()
    assert refused.value.code == "document_frozen"
    fresh = IssuedDocument.objects.get(pk=issued.pk)
    with pytest.raises(BusinessRuleError):
        fresh.delete()
    with pytest.raises(AuditBypassError):
        IssuedDocument.objects.filter(pk=issued.pk).update(context_data="{}")
    voided = services.void(fresh, by=officer, reason="重新出具")
    voided.void_reason = "改写理由"
    with pytest.raises(BusinessRuleError):
        voided.save()


def test_a_refused_issue_changes_nothing(document_defaults, evidence_root, subject, officer):
    context = example_context("penalty_decision")
    del context["legal_basis"]["penalty"]
    with pytest.raises(ValidationFailed) as refused:
        services.issue("penalty_decision", subject=subject, context=context, by=officer)
    assert refused.value.field == "legal_basis.penalty"
    assert not IssuedDocument.objects.exists() and not Evidence.objects.exists()
    assert not NumberSequence.objects.filter(kind=number_kind("penalty_decision"), last_value__gt=0).exists()
    assert not [p for p in evidence_root.rglob("*") if p.is_file()]


def test_issue_needs_a_saved_subject_and_an_issuer(document_defaults, evidence_root, org, officer):
    from chengguan.core.models import Grid

    context = example_context("penalty_decision")
    with pytest.raises(ValidationFailed) as refused:
        services.issue("penalty_decision", subject=Grid(code="X", name="未保存", squad=org.squad_a),
                       context=context, by=officer)
    assert refused.value.code == "invalid_subject"
    with pytest.raises(ValidationFailed):
        services.issue("penalty_decision", subject=org.grid_a1, context=context, by=None)


def test_the_document_date_may_be_given(document_defaults, evidence_root, subject, officer):
    context = example_context("penalty_notice") | {"date": dt.date(2026, 11, 23)}
    document = services.issue("penalty_notice", subject=subject, context=context, by=officer)
    assert "二〇二六年十一月二十三日" in docx_text(read(document.docx))


def test_a_concurrent_issue_is_caught_by_the_database(issued, subject, officer, monkeypatch):
    """Another request issued the same kind for the subject between the check and the insert:
    the one-live-document constraint refuses it, and the number taken is given back."""
    real_live, calls = services._live, []

    def live_after_the_check(*args):
        calls.append(args)
        return IssuedDocument.objects.none() if len(calls) == 1 else real_live(*args)

    monkeypatch.setattr(services, "_live", live_after_the_check)
    with pytest.raises(BusinessRuleError) as refused:
        services.issue("penalty_decision", subject=subject, context=example_context("penalty_decision"), by=officer)
    assert refused.value.code == "document_already_issued" and len(calls) == 2
    assert NumberSequence.objects.get(kind=number_kind("penalty_decision"), year=year()).last_value == 1
    assert IssuedDocument.objects.count() == 1


def test_issued_documents_are_read_only_in_the_admin(issued, admin_user, client):
    client.force_login(admin_user)
    assert issued.number in client.get("/admin/documents/issueddocument/").content.decode()
    page = client.get(f"/admin/documents/issueddocument/{issued.pk}/change/")
    assert page.status_code == 200 and PARTY not in page.content.decode()  # no personal data shown
    assert client.post(f"/admin/documents/issueddocument/{issued.pk}/delete/", {"post": "yes"}).status_code == 403
    assert IssuedDocument.objects.filter(pk=issued.pk).exists()
