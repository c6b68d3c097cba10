"""Publication (公示) of penalty decisions.

The law: decisions with a social impact are made public (《行政处罚法》第四十八条); the 住建
rule and the State Council's three-systems guidance set 7 (working) days from the decision —
the configurable deadline rule `case_decision_publication`; a published decision that is
changed, revoked, confirmed illegal or void is withdrawn within 3 working days with the reason
(art. 48, rule `apl_withdraw_publication`). Shanghai publishes penalty information for 3 years
(《上海市优化营商环境条例》第六十五条) and not at all for simple-procedure penalties and for a
warning or public criticism alone (第六十七条): settings DISCLOSURE_PERIOD_MONTHS,
DISCLOSURE_EXCLUDE_SIMPLE and DISCLOSURE_EXCLUDE_WARNING_ONLY. Personal privacy is kept
(art. 50): natural persons appear as 张**, without ID number, phone or address below the
street; organisations by name and credit code.

The life of a `Disclosure`:
- `on_decided` (the decide step, for a penalty) creates it pending with its due date, or
  excluded with the reason;
- `publish` (squad leader or case-review centre) takes the masked snapshot the portal shows
  and never re-derives afterwards. A bureau does not let the public read a decision before the
  party has it: publication is refused until the decision is served (the 7-working-day service
  period, art. 61, ends no later than the publication period, so this costs no time);
- `run_daily` publishes what falls due today and is served, warns the squad leaders of what
  is about to be late (or is), and expires what has reached the end of its period;
- `on_appeal_outcome` (the appeal-outcome step) withdraws a published decision when it is
  revoked, changed, confirmed illegal or void — at once, so within the 3 working days — and
  stops a pending one from being published.
A decision of no penalty is not a penalty decision and gets no record. A decision remade by
the bureau after a revocation is a new case; its own decision is published in turn."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengguan.core import notifications
from chengguan.core.calendar import add_months, add_working_days, deadline_rule
from chengguan.core.choices import OrgUnitKind, RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.fields import mask_in_text
from chengguan.core.models import Notification, OrgUnit, User
from chengguan.documents.services import documents_of
from chengguan.regulations.choices import PartyKind, PenaltyKind
from chengguan.regulations.services import fmt_yuan

from ..choices import AppealKind, AppealOutcome, DecisionOutcome, Procedure
from ..models import Case, Disclosure, DisclosureStatus, Party, Review
from . import clock
from .rules import APL, refuse

D = DisclosureStatus
SH_BER = "《上海市优化营商环境条例》"
PUBLISH_PERM = "cases.publish_disclosure"
# Outcomes of a reconsideration or lawsuit that take a published decision down (art. 48).
WITHDRAWING_OUTCOMES = frozenset({AppealOutcome.REVOKED, AppealOutcome.CHANGED, AppealOutcome.CONFIRMED_ILLEGAL,
                                  AppealOutcome.VOID})
LIGHT_KINDS = frozenset({PenaltyKind.WARNING, PenaltyKind.CRITICISM})
DECISION_DOCUMENTS = ("penalty_decision", "simple_penalty_decision")
REMOVED = "（已隐去）"
HIDDEN_PLACE = "（具体地址不公开）"


# --- creation and exclusion -------------------------------------------------------------------

def due_date(decided_on: dt.date) -> dt.date:
    return deadline_rule("case_decision_publication").due(decided_on)


def exclusion_reason(case: Case) -> str:
    """Why a penalty decision is not published, or "" when it is."""
    if settings.DISCLOSURE_EXCLUDE_SIMPLE and case.procedure == Procedure.SIMPLE:
        return f"适用简易程序当场作出的行政处罚决定，不予公示（{SH_BER}第六十七条）"
    kinds = set(case.penalty_kinds or ())
    if settings.DISCLOSURE_EXCLUDE_WARNING_ONLY and kinds and kinds <= LIGHT_KINDS:
        return f"仅给予警告或者通报批评的行政处罚决定，不予公示（{SH_BER}第六十七条）"
    return ""


def on_decided(case: Case, by) -> Disclosure | None:
    """The decide step's hook (in its transaction): a penalty decision gets its publication
    record, pending with the due date or excluded with the reason."""
    if case.decision_outcome != DecisionOutcome.PENALTY or case.decided_on is None:
        return None
    existing = Disclosure.objects.filter(case=case).first()
    if existing is not None:
        return existing
    disclosure = Disclosure(case=case, matter_id=case.matter_id, squad_id=case.squad_id, decided_on=case.decided_on,
                            fine=case.decided_fine)
    reason = exclusion_reason(case)
    if reason:
        disclosure.status, disclosure.exclusion_reason = D.EXCLUDED, reason
    else:
        disclosure.due_on = due_date(case.decided_on)
    disclosure.save(audit_action="case.disclosure.create", actor=by)
    return disclosure


def _lock(disclosure: Disclosure, by) -> Disclosure:
    """The record locked, if `by` may publish it (permission and data scope), else refused."""
    if not by.has_perm(PUBLISH_PERM):
        raise PermissionDenied("您没有公示处罚决定的权限。")
    locked = (Disclosure.objects.restrict(by, "publish").select_for_update(of=("self",))
              .filter(pk=disclosure.pk).first())
    if locked is None:
        raise PermissionDenied("公示记录不存在或不在您的数据范围内。")
    return locked


def _check_pending(disclosure: Disclosure) -> None:
    if disclosure.status != D.PENDING:
        raise refuse("disclosure_not_pending", f"该处罚决定的公示状态为“{disclosure.get_status_display()}”，不能再办理",
                     f"{APL}第四十八条")


def exclude(disclosure: Disclosure, *, by, reason: str) -> Disclosure:
    """Not published, with the written reason (e.g. it would disclose a state or business
    secret or a person's privacy, art. 50). Only while pending; audited with who decided."""
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed("不予公示理由必须是文字。", code="invalid", field="reason")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed("请填写不予公示的理由。", code="required", field="reason")
    if len(reason) > 300:
        raise ValidationFailed("不予公示理由不能超过 300 个字。", code="too_long", field="reason")
    with transaction.atomic():
        d = _lock(disclosure, by)
        _check_pending(d)
        d.status, d.exclusion_reason = D.EXCLUDED, reason
        d.save(audit_action="case.disclosure.exclude", actor=by)
    return d


# --- the public text (masked once, when published) --------------------------------------------

# Administrative divisions down to the street or town: what is left of a natural person's
# address (each part's name may not contain digits, so no house number slips through).
# (市场 is a market, 小区/社区/园区/景区 are below the street.)
_AREA = re.compile(
    r"^(?:[^\d０-９市区县]{2,8}?(?:省|自治区))?"
    r"(?:[^\d０-９区县]{2,8}?市(?!场))?"
    r"(?:[^\d０-９市]{1,8}?(?:(?<![小社园景])区|县|市(?!场)))?"
    r"(?:[^\d０-９区县市]{1,10}?(?:街道|镇|乡))?"
)
_HOUSE_NUMBER = re.compile(r"[0-9０-９]+(号|弄|室|栋|幢|单元|楼|层)")


def public_area(address: str) -> str:
    """'上海市闵行区江川路街道红旗新村12号' → '上海市闵行区江川路街道'; '' when no division is named."""
    match = _AREA.match("".join((address or "").split()))
    return match.group() if match else ""


def person_name(name: str) -> str:
    """A natural person in a published decision: the surname only (张三丰 → 张**)."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _party_entry(party: Party) -> dict:
    if party.kind == PartyKind.PERSON:
        return {"kind": PartyKind.PERSON.label, "name": person_name(party.name)}
    return {"kind": PartyKind.ORGANISATION.label, "name": party.name, "credit_code": party.credit_code}


def _masked(text: str, persons: list[Party], organisations: list[Party], places: list[tuple[str, str]]) -> str:
    """Free text of the case with the parties' personal data taken out: names masked, ID
    numbers and phones removed, addresses cut to the street; then any other phone or ID number,
    and, where a natural person is concerned, house numbers."""
    text = " ".join((text or "").split())
    pairs = list(places)
    for p in persons:
        pairs += [(p.id_number, REMOVED), (p.phone, REMOVED), (p.name, person_name(p.name))]
        if p.address:
            pairs.append((p.address, public_area(p.address) or HIDDEN_PLACE))
    for o in organisations:
        pairs += [(o.phone, REMOVED), (o.legal_representative, person_name(o.legal_representative))]
    for old, new in sorted(((o, n) for o, n in pairs if o), key=lambda pair: -len(pair[0])):
        text = text.replace(old, new)
    text = mask_in_text(text, removed=REMOVED)
    if persons:
        text = _HOUSE_NUMBER.sub(lambda m: "*" + m.group(1), text)
    return text


def _authority(case: Case) -> str:
    squad = case.squad
    bureau = squad.ancestor_of_kind(OrgUnitKind.BUREAU) if squad else None
    if bureau is None:
        bureau = (OrgUnit.objects.filter(kind=OrgUnitKind.BUREAU, parent__isnull=True, is_active=True)
                  .order_by("sort_order", "pk").first())
    return bureau.name if bureau else "城市管理行政执法局"


def _decision_number(case: Case) -> str:
    document = (documents_of(case).filter(kind__in=DECISION_DOCUMENTS, voided_at__isnull=True)
                .order_by("-issued_at").first())
    return document.number if document else case.number


def _ymd(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def snapshot(case: Case, published_on: dt.date) -> dict:
    """The text the public will read, from the case as it stands now: the decision number,
    title, area (district and street, for search), the fields shown and the full text."""
    parties = [link.party for link in case.case_parties.select_related("party")]
    persons = [p for p in parties if p.kind == PartyKind.PERSON]
    organisations = [p for p in parties if p.kind != PartyKind.PERSON]
    area = public_area(case.address) or (f"{case.squad.name}辖区" if case.squad_id else "")
    if persons:
        place = area or HIDDEN_PLACE
        places = [(case.address, place)] if case.address else []
    else:
        place, places = case.address or area, []
    matter = case.matter
    kinds = [PenaltyKind(k).label for k in case.penalty_kinds if k in PenaltyKind.values]
    penalty = "、".join(kinds)
    if case.decided_fine:
        penalty += f"（罚款 {fmt_yuan(case.decided_fine)}）"
    entries = [_party_entry(p) for p in parties]
    party_names = "、".join(e["name"] for e in entries)
    title = f"{party_names}{matter.name if matter else ''}案"[:300]
    data = {
        "decision_number": _decision_number(case),
        "title": title,
        "parties": entries,
        "matter": matter.name if matter else "",
        "place": place,
        "facts": _masked(case.facts, persons, organisations, places),
        "violation_bases": [b.citation for b in matter.violation_bases.all()] if matter else [],
        "penalty_bases": [b.citation for b in matter.penalty_bases.all()] if matter else [],
        "penalty_kinds": kinds,
        "fine": str(case.decided_fine) if case.decided_fine is not None else None,
        "penalty": penalty,
        "authority": _authority(case),
        "decided_on": str(case.decided_on),
        "published_on": str(published_on),
    }
    party_lines = [f"{e['name']}（{e['kind']}" + (f"，统一社会信用代码 {e['credit_code']}" if e.get("credit_code") else "")
                   + "）" for e in entries]
    lines = [
        ("决定书文号", data["decision_number"]), ("案件名称", title), ("当事人", "；".join(party_lines)),
        ("违法行为", data["matter"]), ("违法地点", place), ("主要违法事实", data["facts"]),
        ("违法依据", "；".join(data["violation_bases"])), ("处罚依据", "；".join(data["penalty_bases"])),
        ("处罚内容", penalty), ("作出处罚决定的机关", data["authority"]), ("作出处罚决定的日期", _ymd(case.decided_on)),
    ]
    text = "\n".join(f"{label}：{value}" for label, value in lines if value)
    return {"decision_number": data["decision_number"], "title": title, "area": area[:100], "public_data": data,
            "public_text": text}


def preview(disclosure: Disclosure) -> dict:
    """What publishing now would show (for the staff who publish)."""
    case = Case.objects.select_related("matter", "squad").get(pk=disclosure.case_id)
    return snapshot(case, clock.today())


# --- publication ------------------------------------------------------------------------------

def _publish(d: Disclosure, by) -> Disclosure:
    """Publish a locked pending record (`by` None: the daily job)."""
    _check_pending(d)
    case = Case.objects.select_related("matter", "squad").get(pk=d.case_id)
    if case.served_on is None:
        raise BusinessRuleError("处罚决定书尚未送达当事人，送达后方可公示。", code="decision_not_served")
    today = clock.today()
    for field, value in snapshot(case, today).items():
        setattr(d, field, value)
    d.status, d.published_at, d.published_by = D.PUBLISHED, clock.now(), by
    # SH-BER art. 65: penalty information stays published for three years.
    d.ends_on = add_months(today, settings.DISCLOSURE_PERIOD_MONTHS)
    d.save(audit_action="case.disclosure.publish", actor=by)
    return d


def publish(disclosure: Disclosure, *, by) -> Disclosure:
    """公示 by the squad leader (own squad's decisions) or the case-review centre."""
    with transaction.atomic():
        return _publish(_lock(disclosure, by), by)


def public_disclosures(today: dt.date | None = None):
    """Everything the portal may show today."""
    return Disclosure.objects.public(today or clock.today())


# --- withdrawal (art. 48) -----------------------------------------------------------------------

def on_appeal_outcome(case: Case, review: Review, by) -> Disclosure | None:
    """The appeal-outcome step's hook (in its transaction): a revoked, changed, illegal or void
    decision is withdrawn from publication with the reason, or, not yet published, never
    will be."""
    if review.outcome not in WITHDRAWING_OUTCOMES:
        return None
    d = Disclosure.objects.select_for_update().filter(case=case).first()
    if d is None or d.status not in (D.PENDING, D.PUBLISHED):
        return d
    how = "行政复议" if review.kind == AppealKind.RECONSIDERATION else "行政诉讼"
    reason = mask_in_text(f"该行政处罚决定经{review.body}{how}，于{_ymd(review.ended_on)}被"
                          f"{AppealOutcome(review.outcome).label}", removed=REMOVED)
    if d.status == D.PENDING:
        d.status, d.exclusion_reason = D.EXCLUDED, f"{reason}，不再公示（{APL}第四十八条）"[:300]
        d.save(audit_action="case.disclosure.exclude", actor=by)
        return d
    d.status, d.withdrawn_at, d.withdrawn_by, d.appeal = D.WITHDRAWN, clock.now(), by, review
    d.withdrawal_reason = f"{reason}，依法撤回公示。"[:500]
    d.withdrawal_due = deadline_rule("apl_withdraw_publication").due(review.ended_on or clock.today())
    d.save(audit_action="case.disclosure.withdraw", actor=by)
    return d


# --- the daily job ------------------------------------------------------------------------------

def _squad_leaders(squad: OrgUnit | None) -> list[User]:
    if squad is None:
        return []
    return list(User.objects.filter(is_active=True, roles__code=RoleCode.SQUAD_LEADER,
                                    org_unit__path__startswith=squad.path).distinct())


def _warn(d: Disclosure, today: dt.date) -> bool:
    late = d.due_on < today
    number = d.case.number or f"#{d.case_id}"
    if d.case.served_on is None:
        body = "处罚决定书尚未送达当事人，送达后方可公示；请尽快送达并公示。"
    else:
        body = "请核对公示内容后公示；期限当日仍未公示的，系统将自动公示。"
    created = notifications.notify_many(
        _squad_leaders(d.squad),
        f"处罚决定 {number} {'公示已逾期' if late else '即将到公示期限'}（{d.due_on}）",
        body=f"{body}（{APL}第四十八条）", link=f"/cases/{d.case_id}/",
        level=Notification.Level.DANGER if late else Notification.Level.WARNING,
        dedupe_key=f"case:{d.case_id}:disclosure:{d.due_on:%Y%m%d}:{'late' if late else 'soon'}")
    return bool(created)


def run_daily(today: dt.date | None = None) -> dict:
    """Publish what is due and served, warn about what is about to be late, expire what has
    run its period. Each record in its own transaction: one failure stops nothing else."""
    today = today or clock.today()
    counts = {"published": 0, "warned": 0, "expired": 0}
    due = (Disclosure.objects.filter(status=D.PENDING, due_on__lte=today, case__served_on__isnull=False)
           .values_list("pk", flat=True))
    for pk in list(due):
        with transaction.atomic():
            d = Disclosure.objects.select_for_update().filter(pk=pk, status=D.PENDING).first()
            if d is not None:
                _publish(d, None)
                counts["published"] += 1
    days = settings.DISCLOSURE_WARN_DAYS
    horizon = add_working_days(today, days) if days > 0 else today
    for d in (Disclosure.objects.filter(status=D.PENDING, due_on__lte=horizon)
              .select_related("case", "squad").order_by("due_on", "pk")):
        with transaction.atomic():
            counts["warned"] += _warn(d, today)
    with transaction.atomic():
        ended = list(Disclosure.objects.filter(status__in=(D.PUBLISHED, D.WITHDRAWN), ends_on__lt=today)
                     .select_for_update())
        now = clock.now()
        for d in ended:
            d.status, d.expired_at = D.EXPIRED, now
        counts["expired"] = Disclosure.objects.bulk_update_audited(ended, ["status", "expired_at"],
                                                                   action="case.disclosure.expire")
    return counts
