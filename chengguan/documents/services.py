"""The documents engine (文书): render a kind's active template with a plain context into DOCX
and PDF, issue numbered documents for any subject (a case, a record…), void them with a
reason, verify their stored files, and version the templates.

An issued document is never regenerated silently: issuing the same kind again for the same
subject is refused until the earlier one is voided with a reason, and a new issue gets a new
number. Callers (the cases app) pass a context dict with the keys `kinds.KINDS` lists for the
kind; see `examples.example_context` for a complete one."""

import hashlib
import json
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from chengguan.core import audit, numbering
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.evidence import CHUNK, evidence_storage, open_verified, store_generated
from chengguan.core.models import OrgUnit

from . import rendering
from .choices import FileFormat, TemplateStatus
from .kinds import KEY_LABELS, kind_spec, number_kind
from .models import DocumentTemplate, IssuedDocument

UNNUMBERED = "（未编号）"


# --- context ----------------------------------------------------------------------------------

def _lookup(context: dict, key: str):
    value = context
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return not value
    return False


def prepare_context(kind: str, context: dict) -> dict:
    """The context as JSON (Decimal and dates as strings, as stored in the snapshot), with the
    document date defaulting to today; refuses it when a required key is missing or empty."""
    spec = kind_spec(kind)
    if not isinstance(context, dict):
        raise ValidationFailed("文书内容必须是字典（dict）。", field="context", code="invalid")
    for key in spec.required:
        if _is_missing(_lookup(context, key)):
            label = KEY_LABELS.get(key, key)
            raise ValidationFailed(
                f"生成《{spec.name}》缺少必填内容“{key}”（{label}），未生成文书。",
                field=key, code="document_context_missing",
            )
    prepared = audit.jsonable(context)
    prepared.setdefault("date", timezone.localdate().isoformat())
    return prepared


# --- templates --------------------------------------------------------------------------------

def active_template(kind: str) -> DocumentTemplate:
    spec = kind_spec(kind)
    template = DocumentTemplate.objects.filter(kind=kind, status=TemplateStatus.ACTIVE).first()
    if template is None:
        raise BusinessRuleError(f"《{spec.name}》没有启用的模板，请管理员在文书模板中启用一个版本。",
                                code="document_template_missing")
    return template


def _create(model, *, action: str, by, **fields):
    instance = model(**fields)
    instance.save(audit_action=action, actor=by)
    return instance


def _next_version(kind: str) -> int:
    return (DocumentTemplate.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0) + 1


@transaction.atomic
def create_template(kind: str, *, body: str, by, name: str = "", note: str = "",
                    activate: bool = False) -> DocumentTemplate:
    """A new version of `kind`'s template, a draft unless `activate`."""
    spec = kind_spec(kind)
    rendering.validate_body(body)
    template = _create(
        DocumentTemplate, action="document_template.create", by=by,
        kind=kind, name=(name or spec.name).strip(), version=_next_version(kind), body=body,
        note=note.strip(), created_by=by,
    )
    return activate_template(template, by=by) if activate else template


@transaction.atomic
def activate_template(template: DocumentTemplate, *, by) -> DocumentTemplate:
    """Make this version the one documents of its kind are generated from; the version active
    until now is retired (kept, as issued documents refer to it). A retired version may be
    activated again to roll back."""
    template = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
    if template.status == TemplateStatus.ACTIVE:
        return template
    rendering.validate_body(template.body)
    for current in DocumentTemplate.objects.select_for_update().filter(kind=template.kind,
                                                                       status=TemplateStatus.ACTIVE):
        current.status = TemplateStatus.RETIRED
        current.save(audit_action="document_template.retire", actor=by)
    template.status, template.activated_at = TemplateStatus.ACTIVE, timezone.now()
    template.save(audit_action="document_template.activate", actor=by)
    return template


@transaction.atomic
def retire_template(template: DocumentTemplate, *, by) -> DocumentTemplate:
    template = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
    if template.status != TemplateStatus.ACTIVE:
        raise BusinessRuleError(f"{template} 不是启用中的版本。", code="document_template_not_active")
    template.status = TemplateStatus.RETIRED
    template.save(audit_action="document_template.retire", actor=by)
    return template


@transaction.atomic
def revise_template(template: DocumentTemplate, *, body: str, by, name: str | None = None,
                    note: str = "") -> DocumentTemplate:
    """Edit a template. A draft changes in place; an active or retired version stays as it is
    and the edit becomes a new version — active at once when the edited one was active, a
    draft otherwise. Returns the version holding the edit."""
    rendering.validate_body(body)
    template = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
    name = (name if name is not None else template.name).strip() or kind_spec(template.kind).name
    if template.status == TemplateStatus.DRAFT:
        template.body, template.name, template.note = body, name, note.strip() or template.note
        template.save(audit_action="document_template.edit", actor=by)
        return template
    if body == template.body and name == template.name:
        return template
    revised = _create(
        DocumentTemplate, action="document_template.revise", by=by,
        kind=template.kind, name=name, version=_next_version(template.kind), body=body,
        note=note.strip() or f"修订自第 {template.version} 版", created_by=by,
    )
    if template.status == TemplateStatus.ACTIVE:
        revised = activate_template(revised, by=by)
    return revised


# --- rendering --------------------------------------------------------------------------------

def render_template(template: DocumentTemplate, context: dict) -> tuple[bytes, bytes]:
    """DOCX and PDF bytes of `template` with an already prepared context."""
    html = rendering.render_html(template.body, context)
    title = f"{template.name} {context.get('number', '')}".strip()
    return rendering.to_docx(rendering.parse_blocks(html), title=title), rendering.to_pdf(html, title=title)


def render(kind: str, context: dict) -> tuple[bytes, bytes]:
    """(docx_bytes, pdf_bytes) of `kind`'s active template with `context` — a preview: nothing
    is numbered or stored. A missing `number` prints as 未编号."""
    prepared = prepare_context(kind, context)
    prepared.setdefault("number", UNNUMBERED)
    return render_template(active_template(kind), prepared)


# --- issuing ----------------------------------------------------------------------------------

def _live(kind: str, subject_type, subject_id):
    return IssuedDocument.objects.filter(kind=kind, subject_type=subject_type, subject_id=subject_id,
                                         voided_at__isnull=True)


def _refuse_reissue(kind: str, existing: IssuedDocument | None) -> None:
    if existing is None:
        return
    raise BusinessRuleError(
        f"该对象已出具《{kind_spec(kind).name}》{existing.number}，不能重新生成；"
        "如需更正，请先作废原文书并写明理由，再重新出具。",
        code="document_already_issued",
    )


def _squad_of(subject):
    squad = getattr(subject, "squad", None)
    return squad if isinstance(squad, OrgUnit) else None


def issue(kind: str, *, subject, context: dict, by, squad=None) -> IssuedDocument:
    """Number, render and store one document of `kind` for `subject` (any saved model
    instance with an integer primary key), in one transaction: a failure returns the number. Everything that can be
    checked is checked before the number is taken (the kind's sequence stays locked while the
    files are generated, about a second). The files go to the evidence store under `squad`
    (default: the subject's `squad`, when it has one) so they share its data scope."""
    spec = kind_spec(kind)
    if by is None:
        raise ValidationFailed("出具文书须记录出具人。", field="by", code="required")
    if getattr(subject, "pk", None) is None:
        raise ValidationFailed("文书所属对象尚未保存。", field="subject", code="invalid_subject")
    prepared = prepare_context(kind, context)
    template = active_template(kind)
    rendering.check_pdf_engine()
    subject_type = ContentType.objects.get_for_model(subject)
    _refuse_reissue(kind, _live(kind, subject_type, subject.pk).first())
    squad = squad or _squad_of(subject)
    with transaction.atomic():
        number = numbering.next_number(number_kind(kind), actor=by)
        prepared["number"] = number
        docx, pdf = render_template(template, prepared)
        description = f"{spec.name} {number}"
        files = {
            fmt: store_generated(data, by=by, name=f"{spec.name}{number}.{fmt}", content_type=mime, squad=squad,
                                 description=description, audit_action="document.store")
            for fmt, data, mime in ((FileFormat.DOCX, docx, rendering.DOCX_MIME),
                                    (FileFormat.PDF, pdf, rendering.PDF_MIME))
        }
        try:
            with transaction.atomic():
                return _create(
                    IssuedDocument, action="document.issue", by=by, kind=kind, number=number, subject_type=subject_type, subject_id=subject.pk, template=template,
                    context_data=json.dumps(prepared, ensure_ascii=False, sort_keys=True),
                    docx=files[FileFormat.DOCX], docx_sha256=files[FileFormat.DOCX].sha256,
                    pdf=files[FileFormat.PDF], pdf_sha256=files[FileFormat.PDF].sha256,
                    issued_by=by, issued_at=timezone.now(),
                )
        except IntegrityError:
            # Another request issued the same kind for the same subject meanwhile.
            _refuse_reissue(kind, _live(kind, subject_type, subject.pk).first())
            raise


def documents_of(subject):
    """Every document issued for `subject`, newest first, voided ones included."""
    return IssuedDocument.objects.filter(subject_type=ContentType.objects.get_for_model(subject),
                                         subject_id=subject.pk)


@transaction.atomic
def void(document: IssuedDocument, *, by, reason: str) -> IssuedDocument:
    """Void an issued document with a reason; the same kind may then be issued again for its
    subject (under a new number). The voided document and its files are kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("作废文书必须写明理由。", field="reason", code="required")
    if len(reason) > IssuedDocument._meta.get_field("void_reason").max_length:
        raise ValidationFailed("作废理由不能超过 300 个字。", field="reason", code="too_long")
    document = IssuedDocument.objects.select_for_update().get(pk=document.pk)
    if document.is_void:
        raise BusinessRuleError(
            f"文书 {document.number} 已于 {timezone.localtime(document.voided_at):%Y-%m-%d %H:%M} 作废。",
            code="document_already_voided",
        )
    document.voided_at, document.voided_by, document.void_reason = timezone.now(), by, reason
    document.save(audit_action="document.void", actor=by)
    return document


# --- verification -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    docx: bool
    pdf: bool

    @property
    def ok(self) -> bool:
        return self.docx and self.pdf


def _stored_sha256(name: str) -> str | None:
    digest = hashlib.sha256()
    try:
        blob = evidence_storage().open(name, "rb")
    except FileNotFoundError:
        return None
    with blob:
        for chunk in iter(lambda: blob.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(document: IssuedDocument) -> Verification:
    """Re-hash both stored files against the hashes recorded at issue. A mismatch (file
    missing, damaged or altered) is put on the audit record."""
    results = {}
    for fmt, evidence, recorded in ((FileFormat.DOCX, document.docx, document.docx_sha256),
                                    (FileFormat.PDF, document.pdf, document.pdf_sha256)):
        actual = _stored_sha256(evidence.storage_name)
        results[fmt] = actual == recorded == evidence.sha256
        if not results[fmt]:
            audit.record("document.tamper_detected", document,
                         after={"format": fmt, "expected_sha256": recorded, "actual_sha256": actual})
    return Verification(docx=results[FileFormat.DOCX], pdf=results[FileFormat.PDF])


def open_file(document: IssuedDocument, fmt: str, *, by):
    """The verified bytes of the document's DOCX or PDF in a temp file (the caller closes it);
    refused when they no longer match their hash. The access is recorded."""
    if fmt not in FileFormat.values:
        raise ValidationFailed(f"文件格式只能是 {'、'.join(FileFormat.values)}。", field="format", code="invalid")
    return open_verified(document.docx if fmt == FileFormat.DOCX else document.pdf, by=by)
