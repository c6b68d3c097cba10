"""The legal rules the case workflow enforces (DESIGN principle 1: the law is the state
machine), and the dates the law computes. Each refusal is a BusinessRuleError with a stable
code, a Chinese message naming the rule and its article, and the article itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from chengguan.core.calendar import add_calendar_days, deadline_rule
from chengguan.core.errors import BusinessRuleError
from chengguan.regulations.choices import PartyKind, PenaltyKind
from chengguan.regulations.services import money

from ..choices import (
    AppealOutcome,
    DecisionOutcome,
    MeasureApproval,
    MeasureKind,
    RecordKind,
    ReviewPurpose,
    ReviewResult,
    Status,
    TransferKind,
)
from ..models import NO_DEADLINE, Case

APL = "《中华人民共和国行政处罚法》"
ACL = "《中华人民共和国行政强制法》"
SH_LEGAL_REVIEW = "《上海市城市管理综合行政执法重大执法决定法制审核办法》"
# Transfers of a suspected crime (移送公安机关、司法机关) need a passed legal review.
CRIME_TRANSFERS = frozenset({TransferKind.PUBLIC_SECURITY, TransferKind.JUDICIAL})
CENT = Decimal("0.01")
# 《行政处罚法》第七十二条第一款第（一）项: 3 % of the fine a day, never more than the fine.
SURCHARGE_RATE = Decimal("0.03")
# Penalties other than a large fine that carry the right to a hearing (art. 63(1)).
HEARING_KINDS = frozenset({PenaltyKind.DOWNGRADE, PenaltyKind.REVOKE_PERMIT, PenaltyKind.SUSPEND_BUSINESS,
                           PenaltyKind.CLOSE, PenaltyKind.BAR_OCCUPATION, PenaltyKind.RESTRICT_BUSINESS})


def refuse(code: str, message: str, article: str) -> BusinessRuleError:
    """The refusal of one legal rule: `message` names the rule; the article is appended."""
    return BusinessRuleError(f"{message}（{article}）", code=code, article=article)


# --- officers (APL art. 42, ACL art. 18) -------------------------------------------------------

def check_officers(officers, on: dt.date) -> None:
    officers = list(officers)
    article = f"{APL}第四十二条"
    if len(officers) < 2:
        raise refuse("officers_required", "执法人员不得少于两人", article)
    expired = [o.get_full_name() for o in officers if not (o.is_active and o.certificate_valid_on(on))]
    if expired:
        raise refuse("officer_certificate_invalid",
                     f"执法人员 {'、'.join(expired)} 无有效行政执法证件，不得从事执法活动", article)


def case_officers(case: Case):
    return [link.officer for link in case.case_officers.select_related("officer")]


# --- limitation (APL art. 36) -------------------------------------------------------------------

def limitation_end(case: Case) -> dt.date | None:
    act_end = case.act_ended_on or case.act_date
    if act_end is None:
        return None
    return deadline_rule("apl_limitation_harm" if case.harm_to_safety else "apl_limitation").due(act_end)


def check_limitation(case: Case, on: dt.date) -> None:
    end = limitation_end(case)
    if end is not None and on > end:
        years = 5 if case.harm_to_safety else 2
        raise refuse("limitation_expired",
                     f"违法行为自{'终了' if case.act_ended_on else '发生'}之日起 {years} 年内未被发现（时效至 {end}），"
                     "不再给予行政处罚", f"{APL}第三十六条")


# --- one act, one fine (APL art. 29) ------------------------------------------------------------

def same_act_cases(case: Case, matter, party_ids) -> list[Case]:
    """Other cases in which a penalty was decided (and stands) for the same party, matter, act
    date and place."""
    if matter is None or case.act_date is None or not party_ids:
        return []
    others = (Case.objects.filter(matter=matter, act_date=case.act_date, decision_outcome=DecisionOutcome.PENALTY,
                                  case_parties__party_id__in=party_ids)
              .exclude(pk=case.pk).exclude(appeals__outcome__in=[AppealOutcome.REVOKED, AppealOutcome.VOID])
              .distinct())
    same_place = []
    for other in others:
        if (case.h3 and other.h3 == case.h3) or (case.address and other.address == case.address):
            same_place.append(other)
    return same_place


def check_double_penalty(case: Case, matter, party_ids) -> None:
    others = same_act_cases(case, matter, party_ids)
    if others:
        raise refuse("double_penalty",
                     f"同一违法行为已在案件 {others[0].number} 中给予罚款处罚，不得再次处罚（一事不再罚）",
                     f"{APL}第二十九条")


# --- hearing (APL arts. 63–64) ---------------------------------------------------------------

def party_kinds(case: Case) -> set[str]:
    return set(case.case_parties.values_list("party__kind", flat=True))


def hearing_threshold(kinds: set[str]) -> Decimal:
    """The "large fine" of art. 63 for the case's parties: the person's (lower) threshold when
    any party is a natural person, so no person loses the right to a hearing."""
    name = "CASE_HEARING_THRESHOLD_PERSON" if PartyKind.PERSON in kinds or not kinds else "CASE_HEARING_THRESHOLD_ORG"
    return money(str(getattr(settings, name)), field_name="settings", label="听证罚款数额标准")


def is_hearing_eligible(case: Case, fine: Decimal | None, kinds) -> bool:
    if set(kinds) & HEARING_KINDS:
        return True
    return fine is not None and fine >= hearing_threshold(party_kinds(case))


# --- statement period (APL arts. 44, 45, 62, 64) --------------------------------------------------

def statement_closed(case: Case, today: dt.date) -> bool:
    """The party's statement and hearing rights are spent: waived in writing, the hearing held,
    or every period run out with no hearing requested."""
    if case.statement_waived or case.hearing_held_on:
        return True
    if case.notice_served_on is None or case.hearing_requested_on:
        return False
    periods = [case.statement_due] + ([case.hearing_request_due] if case.hearing_eligible else [])
    return all(day is not None and today > day for day in periods)


def check_statement_closed(case: Case, today: dt.date) -> None:
    if case.notice_served_on is None:
        raise refuse("notice_missing", "未经事先告知当事人拟作出的行政处罚内容及事实、理由、依据，不得作出行政处罚决定",
                     f"{APL}第四十四条、第六十二条")
    if not statement_closed(case, today):
        if case.hearing_requested_on:
            raise refuse("hearing_pending", "当事人已申请听证，听证结束前不得作出决定", f"{APL}第六十四条、第六十五条")
        due = max(d for d in (case.statement_due, case.hearing_request_due if case.hearing_eligible else None) if d)
        raise refuse("statement_period_running",
                     f"陈述、申辩（听证申请）期限至 {due} 届满，当事人未书面放弃前不得作出决定",
                     f"{APL}第四十五条、第六十二条")


# --- legal review and collective discussion (APL arts. 57, 58; domain §5.3) ------------------------

def legal_review_reasons(case: Case) -> list[str]:
    reasons = []
    if case.hearing_eligible:
        reasons.append("涉及重大权益且经听证程序（含放弃听证）")
    if case.outside_benchmark:
        reasons.append("罚款超出裁量基准")
    if case.mitigated:
        reasons.append("减轻处罚")
    if case.complex_case:
        reasons.append("案情疑难复杂")
    if settings.CASE_LEGAL_REVIEW_ALL and not reasons:
        reasons.append("本局规定普通程序案件一律法制审核")
    return reasons


def legal_review_passed(case: Case, fine: Decimal | None) -> bool:
    review = case.legal_reviews.filter(purpose=ReviewPurpose.DECISION).order_by("-reviewed_at", "-pk").first()
    if review is None or review.result != ReviewResult.PASSED:
        return False
    if case.reported_at and review.reviewed_at < case.reported_at:
        return False  # reviewed an earlier report
    return fine is None or review.reviewed_fine is None or fine <= review.reviewed_fine


def transfer_review_passed(case: Case) -> bool:
    review = case.legal_reviews.filter(purpose=ReviewPurpose.TRANSFER).order_by("-reviewed_at", "-pk").first()
    return review is not None and review.result == ReviewResult.PASSED


def check_transfer_review(case: Case, kind: str) -> None:
    """Transferring a suspected crime involves several legal relationships: legal review first
    (Shanghai legal-review rules art. 3(3), domain §5.3)."""
    if kind in CRIME_TRANSFERS and not transfer_review_passed(case):
        raise refuse("transfer_review_required", "移送涉嫌犯罪案件，未经法制审核或者审核未通过的，不得移送",
                     f"{SH_LEGAL_REVIEW}第三条第（三）项")


def discussion_required(case: Case) -> bool:
    return case.complex_case or case.hearing_eligible


def discussion_held(case: Case) -> bool:
    since = case.reported_at.date() if case.reported_at else None
    discussions = case.discussions.all()
    return (discussions.filter(held_on__gte=since) if since else discussions).exists()


# --- decision period (APL art. 60) --------------------------------------------------------------

def decision_due(case: Case) -> dt.date | None:
    if case.filed_at is None:
        return None
    extra = sum(case.extensions.values_list("days", flat=True))
    filed_on = _local_date(case.filed_at)
    return add_calendar_days(filed_on, deadline_rule("apl_decision").amount + extra)


def _local_date(moment) -> dt.date:
    return timezone.localdate(moment)


# --- execution (APL arts. 66–73, ACL arts. 53–54) ------------------------------------------------

def final_payment_due(case: Case) -> dt.date | None:
    plan = getattr(case, "payment_plan", None) if case.pk else None
    return plan.final_due_on if plan is not None else case.payment_due


def _appeal_days(case: Case, start: dt.date, end: dt.date) -> int:
    """Days in (start, end] while a reconsideration or lawsuit was pending (art. 73)."""
    days = set()
    for appeal in case.appeals.all():
        lo = max(appeal.started_on, start + dt.timedelta(days=1))
        hi = min(appeal.ended_on or end, end)
        days.update(lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1) if hi >= lo)
    return len(days)


def principal_paid_on(case: Case) -> dt.date | None:
    total = Decimal("0")
    for paid_on, amount in case.payments.order_by("paid_on", "pk").values_list("paid_on", "amount"):
        total += amount
        if case.decided_fine is not None and total >= case.decided_fine:
            return paid_on
    return None


def surcharge(case: Case, on: dt.date) -> Decimal:
    """加处罚款 (art. 72): 3 % of the fine for each day after the payment period, not counting
    days under reconsideration or litigation (art. 73), never more than the fine."""
    fine, due = case.decided_fine, final_payment_due(case)
    if not fine or due is None:
        return Decimal("0.00")
    end = min(on, principal_paid_on(case) or on)
    if end <= due:
        return Decimal("0.00")
    days = (end - due).days - _appeal_days(case, due, end)
    return min(fine, (fine * SURCHARGE_RATE * max(days, 0)).quantize(CENT, rounding=ROUND_HALF_UP))


def amount_owed(case: Case, on: dt.date) -> Decimal:
    """Fine plus surcharge still unpaid on `on`."""
    if not case.decided_fine:
        return Decimal("0.00")
    return max(Decimal("0.00"), case.decided_fine + surcharge(case, on) - case.paid_amount)


def court_window(case: Case) -> tuple[dt.date, dt.date] | None:
    """ACL art. 53: within 3 months after the periods for reconsideration and litigation
    expire (6 months from service, ALL art. 46); with an approved deferral or instalments, from
    its end (APL art. 72(2))."""
    if case.served_on is None:
        return None
    base = deadline_rule("all_litigation").due(case.served_on)
    final = final_payment_due(case)
    if final and final > base:
        base = final
    return base + dt.timedelta(days=1), deadline_rule("acl_court_application").due(base)


# --- deadlines ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deadline:
    name: str
    basis: str
    due: dt.date
    overdue: bool


def _rule(code: str) -> tuple[str, str]:
    rule = deadline_rule(code)
    return rule.name, rule.basis


def deadlines(case: Case, today: dt.date) -> list[Deadline]:
    """Every open step's deadline (name, due date, legal basis, overdue flag), soonest first."""
    found: list[tuple[str, dt.date]] = []
    status = case.status
    if status == Status.LEAD:
        found.append(("case_prefiling_check", deadline_rule("case_prefiling_check").due(_local_date(case.created_at))))
        end = limitation_end(case)
        if end:
            found.append(("apl_limitation_harm" if case.harm_to_safety else "apl_limitation", end))
    if case.filed_at and status in (Status.INVESTIGATING, Status.REPORTED, Status.NOTIFIED, Status.HEARING,
                                    Status.DELIBERATION):
        found.append(("apl_decision", decision_due(case)))
    if status == Status.NOTIFIED:
        found.append(("apl_statement", case.statement_due))
        if case.hearing_eligible:
            found.append(("apl_hearing_request", case.hearing_request_due))
    if status == Status.DECIDED and case.service_due:
        found.append(("apl_service", case.service_due))
    if status == Status.EXECUTING:
        found.append(("apl_payment", final_payment_due(case)))
        window = court_window(case)
        if window and today >= window[0]:
            found.append(("acl_court_application", window[1]))
    items = [Deadline(*_rule(code), due=due, overdue=today > due) for code, due in found if due]
    if case.is_open:
        for measure in case.measures.filter(ended_on__isnull=True):
            code = "apl_preservation" if measure.kind == MeasureKind.PRESERVATION else "acl_seizure"
            items.append(Deadline(f"{measure.get_kind_display()}处理期限", _rule(code)[1], measure.due_on,
                                  today > measure.due_on))
        for measure in case.measures.filter(approval=MeasureApproval.PENDING):
            due_at = timezone.localtime(measure.approval_due_at)
            items.append(Deadline(f"紧急{measure.get_kind_display()}补办批准（{due_at:%m-%d %H:%M}前）",
                                  f"{ACL}第十九条", due_at.date(), today > due_at.date()))
        if status in (Status.INVESTIGATING, Status.REPORTED, Status.NOTIFIED, Status.HEARING, Status.DELIBERATION):
            for record in case.records.filter(kind=RecordKind.CORRECTION_ORDER, correction_due__isnull=False):
                items.append(Deadline("责令改正期限", f"{APL}第二十八条", record.correction_due,
                                      today > record.correction_due))
    if status == Status.HEARING and case.hearing_on and not case.hearing_held_on:
        items.append(Deadline("听证举行日期", f"{APL}第六十四条", case.hearing_on, today > case.hearing_on))
    return sorted(items, key=lambda d: d.due)


def refresh_next_deadline(case: Case, today: dt.date) -> None:
    items = deadlines(case, today) if case.is_open else []
    case.next_deadline = items[0].due if items else NO_DEADLINE
    case.next_deadline_name = items[0].name[:60] if items else ""

