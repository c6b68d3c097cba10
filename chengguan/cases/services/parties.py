"""Parties (当事人): validation, identity digest, find-or-create, masking, and the history a
party has across cases (prior cases, repeat offender, first offence) — computed, never typed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

from chengguan.core.errors import ValidationFailed
from chengguan.core.fields import mask_id_number, mask_name, mask_phone
from chengguan.core.validators import validate_credit_code, validate_id_number

from ..choices import DecisionOutcome, IdType, PartyKind
from ..models import Case, Party
from . import clock

OTHER_ID_RE = re.compile(r"^[A-Z0-9()\-]{5,30}$")
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,20}$")


def identity_digest(kind: str, key: str) -> str:
    """Keyed HMAC of the identity: equal identities give equal digests; nothing is revealed
    without the key."""
    if not key:
        return ""
    secret = (settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY).encode()
    return hmac.new(secret, f"{kind}:{key}".encode(), hashlib.sha256).hexdigest()


def _text(values: dict, name: str, label: str, *, max_length: int, required: bool = False) -> str:
    value = values.get(name)
    text = " ".join(("" if value is None else str(value)).split())
    if required and not text:
        raise ValidationFailed(f"请填写{label}。", code="required", field=name)
    if len(text) > max_length:
        raise ValidationFailed(f"{label}不能超过 {max_length} 个字。", code="too_long", field=name)
    return text


def clean_party(values, *, prefix: str = "") -> dict:
    """The checked fields of a party: malformed ID numbers and credit codes are refused with
    the field named (`prefix` names where the party sits in a request, e.g. "parties[0].")."""
    if not isinstance(values, dict):
        raise ValidationFailed("当事人信息格式错误。", code="invalid", field=prefix.rstrip(".") or "parties")
    try:
        kind = values.get("kind")
        if kind not in PartyKind.values:
            raise ValidationFailed("请选择当事人类型（自然人或法人/其他组织）。", code="invalid_choice", field="kind")
        cleaned = {"kind": kind,
                   "name": _text(values, "name", "当事人姓名或名称", max_length=200, required=True),
                   "address": _text(values, "address", "住所/地址", max_length=255),
                   "phone": _text(values, "phone", "联系电话", max_length=32),
                   "id_type": "", "id_number": "", "credit_code": "", "legal_representative": ""}
        if cleaned["phone"] and not PHONE_RE.fullmatch(cleaned["phone"]):
            raise ValidationFailed("联系电话格式不正确。", code="invalid_phone", field="phone")
        if kind == PartyKind.PERSON:
            id_type = values.get("id_type") or IdType.RESIDENT_ID
            if id_type not in IdType.values:
                raise ValidationFailed("证件类型无效。", code="invalid_choice", field="id_type")
            number = _text(values, "id_number", "证件号码", max_length=40, required=True).upper()
            if id_type == IdType.RESIDENT_ID:
                number = validate_id_number(number, field="id_number")
            elif not OTHER_ID_RE.fullmatch(number):
                raise ValidationFailed("证件号码应为 5–30 位字母或数字。", code="invalid_id_number", field="id_number")
            cleaned.update(id_type=id_type, id_number=number,
                           identity_digest=identity_digest(f"person:{id_type}", number))
        else:
            code = validate_credit_code(values.get("credit_code") or "", field="credit_code")
            cleaned.update(credit_code=code, identity_digest=identity_digest("organisation", code),
                           legal_representative=_text(values, "legal_representative", "法定代表人/负责人",
                                                      max_length=50, required=True))
    except ValidationFailed as exc:
        if prefix and exc.field:
            exc.field = f"{prefix}{exc.field}"
            exc.errors = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        raise
    return cleaned


def find_or_create(values: dict, *, by, prefix: str = "") -> Party:
    """The party with this identity, its contact details brought up to date, or a new one."""
    cleaned = clean_party(values, prefix=prefix)
    party = Party.objects.select_for_update().filter(identity_digest=cleaned["identity_digest"]).first()
    if party is None:
        party = Party(**cleaned)
        party.save(audit_action="case.party.create", actor=by)
        return party
    changed = False
    for field in ("name", "address", "phone", "legal_representative"):
        if cleaned[field] and getattr(party, field) != cleaned[field]:
            setattr(party, field, cleaned[field])
            changed = True
    if changed:
        party.save(audit_action="case.party.update", actor=by)
    return party


def may_see_identity(user) -> bool:
    return bool(user and user.has_perm("cases.view_case_party"))


def shown(party: Party, user) -> dict:
    """The party as `user` may see it: ID numbers and phones masked unless the role needs them
    (DESIGN principle 8); organisations' names and credit codes are public registry data."""
    whole = may_see_identity(user)
    person = party.kind == PartyKind.PERSON
    return {
        "id": party.pk, "kind": party.kind, "kind_display": party.get_kind_display(),
        "name": party.name if whole or not person else mask_name(party.name),
        "id_type": party.id_type, "id_number": party.id_number if whole else mask_id_number(party.id_number),
        "credit_code": party.credit_code, "legal_representative": party.legal_representative,
        "phone": party.phone if whole else mask_phone(party.phone),
        "address": party.address if whole or not person else "",
    }


@dataclass(frozen=True)
class History:
    prior_cases: int  # cases before this one, any matter
    prior_penalties: int  # of which decided with a penalty
    same_matter_penalties: int  # penalties for the same matter within the first-offence window
    repeat_offender: bool
    first_offence: bool  # no penalty for this matter within the window (首违)


def history(party: Party, *, matter=None, before: dt.date | None = None, exclude_case: Case | None = None) -> History:
    """What the records say about the party, as of `before` (default: every case)."""
    cases = Case.objects.filter(case_parties__party=party)
    if exclude_case is not None:
        cases = cases.exclude(pk=exclude_case.pk)
    if before is not None:
        cases = cases.filter(created_at__date__lt=before + dt.timedelta(days=1))
    penalties = cases.filter(decision_outcome=DecisionOutcome.PENALTY)
    window_start = (before or clock.today()) - dt.timedelta(days=settings.CASE_FIRST_OFFENCE_WINDOW_DAYS)
    same = penalties.filter(matter=matter, decided_on__gte=window_start).count() if matter is not None else 0
    total = penalties.count()
    return History(prior_cases=cases.count(), prior_penalties=total, same_matter_penalties=same,
                   repeat_offender=total > 0, first_offence=same == 0)
