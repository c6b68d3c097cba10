"""Execution of a served decision: payments, approved deferral or instalments (APL art. 66),
the late-payment surcharge (art. 72, computed in `rules.surcharge`), reminders (催告) and the
application to court (ACL arts. 53–54), and reconsideration/litigation outcomes."""

from __future__ import annotations

from decimal import Decimal

from chengguan.core.errors import ValidationFailed
from chengguan.regulations.services import money

from ..choices import (
    AppealKind,
    AppealOutcome,
    CourtResult,
    Ending,
    PaymentMethod,
    PlanKind,
    Status,
)
from ..models import Case, CourtApplication, Payment, PaymentPlan, Reminder, Review
from . import clock, disclosure, rules
from .rules import APL, refuse
from .workflow import _run, day, text

ACL = "《中华人民共和国行政强制法》"
S = Status


def record_payment(case: Case, *, by, amount, method: str = PaymentMethod.BANK, paid_on=None,
                   receipt_number: str = "") -> Case:
    """登记缴款 (罚缴分离: the bank's or electronic receipt). Paid in full with any surcharge due
    → executed."""
    amount = money(amount, field_name="amount", label="缴款金额", allow_zero=False)
    if method not in PaymentMethod.values or method == PaymentMethod.ENFORCED:
        raise ValidationFailed("请选择缴款方式。", code="invalid_choice", field="method")
    receipt_number = text(receipt_number, "receipt_number", "票据号", required=False, max_length=64)

    def change(c, today, data):
        paid = day(paid_on, "paid_on", "缴款日期", default=today, not_after=today, not_before=c.served_on)
        Payment(case=c, amount=amount, paid_on=paid, method=method, receipt_number=receipt_number,
                recorded_by=by).save(audit_action="case.payment", actor=by)
        c.paid_amount += amount
        owed = rules.amount_owed(c, paid)
        extra = rules.surcharge(c, paid)
        if c.paid_amount > c.decided_fine + extra:
            raise ValidationFailed(f"缴款合计超过应缴金额（罚款 {c.decided_fine} 元，加处罚款 {extra} 元）。",
                                   code="overpayment", field="amount")
        data.update(amount=str(amount), paid_on=str(paid), surcharge=str(extra), owed=str(owed))
        if owed <= 0:
            c.ending = Ending.PAID
            return S.EXECUTED
        return None

    return _run(case, "record_payment", by=by, note=f"{amount} 元", change=change)


def approve_payment_plan(case: Case, *, by, kind: str, reason: str, due_on=None, instalments=()) -> PaymentPlan:
    """暂缓或者分期缴纳 on the party's application, approved by the agency (art. 66(2))."""
    if kind not in PlanKind.values:
        raise ValidationFailed("请选择暂缓或分期。", code="invalid_choice", field="kind")
    reason = text(reason, "reason", "理由", max_length=300)
    created = {}

    def change(c, today, data):
        if hasattr(c, "payment_plan"):
            raise refuse("payment_plan_exists", "本案已批准暂缓或分期缴纳", f"{APL}第六十六条第二款")
        outstanding = c.decided_fine - c.paid_amount
        if kind == PlanKind.DEFERRAL:
            final = day(due_on, "due_on", "暂缓至", not_before=c.payment_due)
            schedule = [{"due_on": str(final), "amount": str(outstanding)}]
        else:
            rows = list(instalments or [])
            if len(rows) < 2:
                raise ValidationFailed("分期缴纳至少分两期。", code="too_few_instalments", field="instalments")
            schedule, previous, total = [], today, Decimal("0")
            for i, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise ValidationFailed("分期计划格式错误。", code="invalid", field=f"instalments[{i}]")
                when = day(row.get("due_on"), f"instalments[{i}].due_on", "缴款期限",
                           not_before=previous)
                part = money(row.get("amount"), field_name=f"instalments[{i}].amount", label="分期金额",
                             allow_zero=False)
                schedule.append({"due_on": str(when), "amount": str(part)})
                previous, total = when, total + part
            if total != outstanding:
                raise ValidationFailed(f"分期金额合计应等于未缴罚款 {outstanding} 元。", code="instalments_total",
                                       field="instalments")
            final = previous
        plan = PaymentPlan(case=c, kind=kind, reason=reason, instalments=schedule, final_due_on=final,
                           approved_by=by, approved_at=clock.now())
        plan.save(audit_action="case.payment_plan", actor=by)
        created["plan"] = plan
        data.update(kind=kind, final_due_on=str(final))

    _run(case, "approve_payment_plan", by=by, note=reason, change=change)
    return created["plan"]


def remind(case: Case, *, by, served_on=None) -> Reminder:
    """催告 after the payment period lapsed (ACL arts. 35, 54), stating the amount owed."""
    created = {}

    def change(c, today, data):
        served = day(served_on, "served_on", "催告书送达日期", default=today, not_after=today)
        if served <= rules.final_payment_due(c):
            raise refuse("reminder_too_early", f"缴款期限（{rules.final_payment_due(c)}）届满前不能催告",
                         f"{ACL}第五十四条")
        reminder = Reminder(case=c, served_on=served, amount_due=rules.amount_owed(c, served), recorded_by=by)
        reminder.save(audit_action="case.reminder", actor=by)
        created["reminder"] = reminder
        data.update(served_on=str(served), amount_due=str(reminder.amount_due))

    _run(case, "remind", by=by, change=change)
    return created["reminder"]


def apply_to_court(case: Case, *, by, court: str, applied_on=None) -> CourtApplication:
    """申请人民法院强制执行: ten working days after a served reminder (ACL art. 54), within three
    months after the periods for reconsideration and litigation expired (art. 53), and not
    while a reconsideration or lawsuit is pending."""
    court = text(court, "court", "人民法院", max_length=100)
    created = {}

    def change(c, today, data):
        applied = day(applied_on, "applied_on", "申请日期", default=today, not_after=today)
        reminder = c.reminders.order_by("-served_on").first()
        if reminder is None or applied < rules.deadline_rule("acl_court_reminder").due(reminder.served_on):
            raise refuse("court_reminder_wait", "催告书送达十日后当事人仍未履行的，方可申请人民法院强制执行",
                         f"{ACL}第五十四条")
        if c.appeals.filter(outcome=AppealOutcome.PENDING).exists():
            raise refuse("appeal_pending", "行政复议或行政诉讼审理期间不申请强制执行", f"{ACL}第五十三条")
        opens, closes = rules.court_window(c)
        if applied < opens:
            raise refuse("court_application_too_early", f"复议、诉讼期限届满（{opens} 起）后方可申请强制执行",
                         f"{ACL}第五十三条")
        if applied > closes:
            raise refuse("court_application_late", f"申请强制执行期限已于 {closes} 届满", f"{ACL}第五十三条")
        application = CourtApplication(case=c, court=court, applied_on=applied, recorded_by=by)
        application.save(audit_action="case.court_application", actor=by)
        created["application"] = application
        data.update(court=court, applied_on=str(applied))

    _run(case, "apply_to_court", by=by, note=court, change=change)
    return created["application"]


def record_enforcement(application: CourtApplication, *, by, result: str, result_on=None) -> Case:
    """The court's answer: enforced or terminated → execution ends; refused → still executing."""
    if result not in CourtResult.values or result == CourtResult.PENDING:
        raise ValidationFailed("请选择执行结果。", code="invalid_choice", field="result")

    def change(c, today, data):
        app = CourtApplication.objects.select_for_update().get(pk=application.pk, case=c)
        if app.result != CourtResult.PENDING:
            raise refuse("already_recorded", "该申请的结果已登记", f"{ACL}第五十七条")
        app.result = result
        app.result_on = day(result_on, "result_on", "结果日期", default=today, not_after=today,
                            not_before=app.applied_on)
        app.save(audit_action="case.court_result", actor=by)
        data.update(application=app.pk, result=result)
        if result == CourtResult.ENFORCED:
            c.ending = Ending.ENFORCED
            return S.EXECUTED
        if result == CourtResult.TERMINATED:
            c.ending = Ending.UNENFORCEABLE
            return S.EXECUTED
        return None

    return _run(application.case, "record_enforcement", by=by, note=CourtResult(result).label, change=change)


def record_appeal(case: Case, *, by, kind: str, body: str, started_on=None) -> Review:
    """A reconsideration or lawsuit against the decision; no surcharge accrues while it is
    pending (APL art. 73)."""
    if kind not in AppealKind.values:
        raise ValidationFailed("请选择复议或诉讼。", code="invalid_choice", field="kind")
    body = text(body, "body", "复议机关/人民法院", max_length=100)
    created = {}

    def change(c, today, data):
        started = day(started_on, "started_on", "申请/起诉日期", default=today, not_after=today,
                      not_before=c.decided_on)
        if c.appeals.filter(outcome=AppealOutcome.PENDING).exists():
            raise ValidationFailed("已有审理中的复议或诉讼，请先登记其结果。", code="appeal_pending", field="kind")
        review = Review(case=c, kind=kind, body=body, started_on=started, recorded_by=by)
        review.save(audit_action="case.appeal", actor=by)
        created["review"] = review
        data.update(kind=kind, started_on=str(started))

    _run(case, "record_appeal", by=by, note=f"{AppealKind(kind).label}：{body}", change=change)
    return created["review"]


def record_appeal_outcome(review: Review, *, by, outcome: str, ended_on=None, changed_fine=None,
                          note: str = "") -> Review:
    """维持/撤销/变更/确认违法/驳回…: a revoked (or void) decision ends execution; a changed fine
    replaces the decided one."""
    if outcome not in AppealOutcome.values or outcome == AppealOutcome.PENDING:
        raise ValidationFailed("请选择复议或诉讼结果。", code="invalid_choice", field="outcome")
    note = text(note, "note", "说明", required=False, max_length=500)
    new_fine = money(changed_fine, field_name="changed_fine", label="变更后罚款",
                     required=outcome == AppealOutcome.CHANGED)

    def change(c, today, data):
        r = Review.objects.select_for_update().get(pk=review.pk, case=c)
        if r.outcome != AppealOutcome.PENDING:
            raise ValidationFailed("该复议或诉讼的结果已登记。", code="already_recorded", field="outcome")
        r.outcome, r.note = outcome, note
        r.ended_on = day(ended_on, "ended_on", "结果日期", default=today, not_after=today, not_before=r.started_on)
        r.changed_fine = new_fine if outcome == AppealOutcome.CHANGED else None
        r.save(audit_action="case.appeal.outcome", actor=by)
        data.update(review=r.pk, outcome=outcome)
        disclosure.on_appeal_outcome(c, r, by)  # withdraw a published decision (APL art. 48)
        open_execution = c.status in (S.DECIDED, S.EXECUTING)
        if outcome in (AppealOutcome.REVOKED, AppealOutcome.VOID):
            c.ending = Ending.REVOKED
            return S.EXECUTED if open_execution else None
        if outcome == AppealOutcome.CHANGED:
            c.decided_fine = new_fine
            data["changed_fine"] = str(new_fine)
            if c.status == S.EXECUTING and rules.amount_owed(c, today) <= 0:
                c.ending = Ending.PAID
                return S.EXECUTED
        return None

    _run(review.case, "record_appeal_outcome", by=by, note=AppealOutcome(outcome).label, change=change)
    review.refresh_from_db()
    return review
