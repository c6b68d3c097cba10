"""The ordinary procedure: a scenario for every ending from lead to archive, then one negative
test per legal rule — each asserts the stable code, that the message names the article, and
that the refused step changed nothing (case row, steps, child records, audit chain)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.utils import timezone

from chengguan.cases.choices import (
    AppealOutcome,
    CourtResult,
    Ending,
    MeasureKind,
    RecordKind,
    ServiceMethod,
    Status,
)
from chengguan.cases.models import NO_DEADLINE, Case, CaseStep
from chengguan.cases.services import execution, rules, workflow
from chengguan.core.api_testing import row_values
from chengguan.core.calendar import add_calendar_days
from chengguan.core.choices import RoleCode
from chengguan.core.errors import AuditBypassError, BusinessRuleError, ValidationFailed
from chengguan.core.models import AuditEvent
from chengguan.core.testing import make_user
from chengguan.workorders.services import intake
from chengguan.workorders.services import workflow as orders

from .conftest import IN_SQUAD_A, company, person, tier

pytestmark = pytest.mark.django_db
R = RoleCode
APL = "《中华人民共和国行政处罚法》"


def refused(call, case: Case, code: str, article: str):
    """`call()` is refused with `code`, its message names `article`, and nothing changed."""
    before = (row_values(case), case.steps.count(), AuditEvent.objects.count())
    with pytest.raises(BusinessRuleError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    assert article in caught.value.message and article in caught.value.article
    assert (row_values(case), case.steps.count(), AuditEvent.objects.count()) == before
    return caught.value


def steps(case):
    return list(case.steps.values_list("action", flat=True))


# --- scenarios: every ending ---------------------------------------------------------------------

def test_fine_paid_from_lead_to_archive(flow, staff, clock_at):
    case = flow.lead()
    assert case.status == Status.LEAD and case.number == "" and case.next_deadline != NO_DEADLINE
    case = workflow.file(case, by=staff[R.SQUAD_LEADER], officers=[staff[R.OFFICER], staff["officer2"]])
    assert case.status == Status.INVESTIGATING and "立字" in case.number
    assert case.case_officers.get(role="lead").officer == staff[R.OFFICER] and case.case_officers.count() == 2
    assert case.next_deadline == rules.decision_due(case)
    workflow.add_record(case, by=staff["officer2"], kind=RecordKind.INQUIRY, content="询问当事人。",
                        party_signed=False, refusal_note="当事人拒绝签名，由见证人签名")
    case = workflow.report(case, by=flow.officer, report_text="事实清楚。", penalty_kinds=["fine"],
                           tier=tier(flow.m["street"], "一般"))
    assert case.proposed_fine == Decimal("200.00") and case.benchmark.version == 1
    case = workflow.notify(case, by=flow.officer)
    assert case.status == Status.NOTIFIED and not case.hearing_eligible
    assert case.next_deadline == case.statement_due
    case = workflow.record_statement(case, by=flow.officer, statement="已经改正，请从轻。", reexamination="采纳，减为150元。",
                                     revised_fine="150")
    clock_at.advance(10)  # the statement period runs out
    case = workflow.decide(case, by=flow.leader, outcome="penalty")
    assert case.status == Status.DECIDED and case.decided_fine == Decimal("150.00")
    case = workflow.serve(case, by=flow.officer, method=ServiceMethod.DIRECT)
    assert case.status == Status.EXECUTING and case.next_deadline == case.payment_due
    case = execution.record_payment(case, by=flow.officer, amount="150.00", receipt_number="NO1")
    assert case.status == Status.EXECUTED and case.ending == Ending.PAID
    case = workflow.close(case, by=staff[R.SQUAD_LEADER])
    case = workflow.archive(case, by=staff[R.CASE_REVIEW])
    assert case.status == Status.ARCHIVED and case.next_deadline == NO_DEADLINE
    assert steps(case) == ["open", "file", "add_record", "report", "notify", "record_statement", "decide", "serve",
                           "record_payment", "close", "archive"]
    decide = case.steps.get(action="decide")
    assert decide.data["documents"] == ["penalty_decision"] and decide.from_status == Status.NOTIFIED


def test_archived_case_file_is_immutable(flow, staff):
    case = workflow.archive(workflow.close(execution.record_payment(flow.executing(), by=flow.officer,
                                                                    amount="200"), by=staff[R.SQUAD_LEADER]),
                            by=staff[R.CASE_REVIEW])
    refused(lambda: workflow.withdraw(case, by=staff[R.SQUAD_LEADER], reason="误立"), case, "invalid_transition",
            "案件办理程序")
    case.facts = "篡改"
    with pytest.raises(BusinessRuleError) as caught:
        case.save()
    assert caught.value.code == "case_archived"
    with pytest.raises(AuditBypassError):
        CaseStep.objects.filter(case=case).first().delete()


def test_large_fine_with_hearing_legal_review_and_discussion(staff, matters, clock_at, numbering):
    from .conftest import Flow

    flow = Flow(staff, matters, clock_at, party=company(), matter="works")
    case = flow.notified(fine="60000", label="严重")
    assert case.hearing_eligible and case.hearing_request_due
    assert case.steps.get(action="notify").data["documents"] == ["penalty_notice", "hearing_rights_notice"]
    case = workflow.request_hearing(case, by=flow.officer)
    assert case.status == Status.HEARING
    notice_day = clock_at.today
    case = workflow.schedule_hearing(case, by=flow.officer, hearing_on=notice_day + dt.timedelta(days=14),
                                     place="局听证室", chair=staff[R.LEGAL_REVIEWER])
    clock_at.advance(14)
    case = workflow.hold_hearing(case, by=flow.officer, report_text="当事人对事实无异议。")
    assert case.status == Status.DELIBERATION
    case = workflow.legal_review(case, by=staff[R.LEGAL_REVIEWER], passed=True, opinion="事实清楚，适用依据正确。")
    case = workflow.collective_discussion(case, by=flow.leader, held_on=clock_at.today,
                                          attendees=[flow.leader, staff["leader2"], staff["leader3"]],
                                          minutes="讨论记录……", conclusion="同意罚款六万元。")
    case = workflow.decide(case, by=flow.leader, outcome="penalty")
    assert case.decided_fine == Decimal("60000.00")


def test_legal_review_return_sends_the_case_back(flow, staff, clock_at):
    case = flow.deliberating(complex_case=True)
    case = workflow.legal_review(case, by=staff[R.LEGAL_REVIEWER], passed=False, opinion="证据不足，补充调查。")
    assert case.status == Status.INVESTIGATING and steps(case)[-1] == "legal_review_return"


def test_no_penalty_with_exemption_and_education(flow, staff):
    case = flow.filed()
    workflow.add_record(case, by=flow.officer, kind=RecordKind.EDUCATION, content="对当事人进行了法治教育。")
    case = workflow.report(case, by=flow.officer, report_text="首次违法，已当场改正。", penalty_kinds=[])
    exemption = flow.m["street"].exemptions.get()
    case = workflow.decide(case, by=flow.leader, outcome="no_penalty", no_penalty_ground="first_violation",
                           exemption=exemption)
    case = workflow.serve(case, by=flow.officer, method=ServiceMethod.DIRECT)
    assert case.status == Status.EXECUTED and case.ending == Ending.NO_PENALTY
    case = workflow.archive(workflow.close(case, by=staff[R.SQUAD_LEADER]), by=staff[R.CASE_REVIEW])
    assert case.steps.get(action="decide").data["documents"] == ["no_penalty_decision"]


def test_withdrawal(flow, staff):
    case = workflow.withdraw(flow.filed(), by=staff[R.SQUAD_LEADER], reason="经核查当事人非违法行为人")
    assert case.status == Status.CLOSED and case.ending == Ending.WITHDRAWN and case.closed_by == staff[R.SQUAD_LEADER]
    assert workflow.archive(case, by=staff[R.CASE_REVIEW]).status == Status.ARCHIVED


def test_transfer_to_public_security(flow, staff):
    case = workflow.transfer_review(flow.lead(), by=staff[R.LEGAL_REVIEWER], passed=True, opinion="涉嫌犯罪，同意移送。")
    case = workflow.transfer(case, by=staff[R.SQUAD_LEADER], kind="public_security", to="闵行公安分局",
                             reason="涉嫌犯罪")
    assert (case.status, case.ending, case.transfer_to) == (Status.CLOSED, Ending.TRANSFERRED, "闵行公安分局")
    assert workflow.archive(case, by=staff[R.CASE_REVIEW]).status == Status.ARCHIVED


def test_decision_revoked_on_reconsideration(flow, staff):
    case = flow.executing()
    appeal = execution.record_appeal(case, by=staff[R.LEGAL_REVIEWER], kind="reconsideration", body="闵行区人民政府")
    execution.record_appeal_outcome(appeal, by=staff[R.LEGAL_REVIEWER], outcome=AppealOutcome.REVOKED)
    case.refresh_from_db()
    assert case.status == Status.EXECUTED and case.ending == Ending.REVOKED
    assert workflow.archive(workflow.close(case, by=staff[R.SQUAD_LEADER]), by=staff[R.CASE_REVIEW]).is_open is False


def test_decision_changed_by_court_then_paid(flow, staff):
    case = flow.executing()
    appeal = execution.record_appeal(case, by=staff[R.CASE_REVIEW], kind="litigation", body="闵行区人民法院")
    execution.record_appeal_outcome(appeal, by=staff[R.CASE_REVIEW], outcome=AppealOutcome.CHANGED, changed_fine="120")
    case.refresh_from_db()
    assert case.decided_fine == Decimal("120.00") and case.status == Status.EXECUTING
    case = execution.record_payment(case, by=flow.officer, amount="120")
    assert case.status == Status.EXECUTED


def test_court_enforcement_after_reminder(flow, staff, clock_at):
    case = flow.executing()
    clock_at.advance(20)
    reminder = execution.remind(case, by=flow.officer)
    assert reminder.amount_due > Decimal("200.00")  # surcharge accrued after the 15 days
    clock_at.advance(200)  # past the litigation period (6 months after service)
    application = execution.apply_to_court(case, by=flow.officer, court="闵行区人民法院")
    case = execution.record_enforcement(application, by=flow.officer, result=CourtResult.ENFORCED)
    assert case.status == Status.EXECUTED and case.ending == Ending.ENFORCED
    assert workflow.archive(workflow.close(case, by=staff[R.SQUAD_LEADER]), by=staff[R.CASE_REVIEW])


def test_measures_and_deadline_extension(flow, staff):
    case = flow.filed()
    measure = workflow.add_measure(case, by=staff[R.SQUAD_LEADER], kind=MeasureKind.SEIZE, items="货架2个")
    assert measure.due_on >= measure.started_on + dt.timedelta(days=30)
    measure = workflow.extend_measure(measure, by=staff[R.SQUAD_LEADER], reason="需鉴定", testing_days=5)
    assert measure.due_on >= measure.started_on + dt.timedelta(days=65)
    refused(lambda: workflow.extend_measure(measure, by=staff[R.SQUAD_LEADER], reason="再延"), case,
            "measure_extension_used", "《中华人民共和国行政强制法》第二十五条")
    workflow.end_measure(measure, by=flow.officer, outcome="returned")
    workflow.extend_deadline(case, by=flow.leader, days=30, reason="案情复杂")
    # 90 + 30 calendar days from filing, rolled past rest days (CPL art. 85)
    assert rules.decision_due(case) == add_calendar_days(timezone.localdate(case.filed_at), 120)


def test_case_page_deadlines(flow):
    case = flow.notified()
    names = [d.name for d in rules.deadlines(case, case.notice_served_on)]
    assert "陈述、申辩期" in names and any("九十" not in n for n in names)
    assert all(not d.overdue for d in rules.deadlines(case, case.notice_served_on))
    assert all(d.basis for d in rules.deadlines(case, case.notice_served_on))


# --- conversion -----------------------------------------------------------------------------------

def test_open_from_workorder_links_the_order(flow, staff, installation_data):
    order = intake.receive(by=staff[R.DISPATCHER], channel="12345", text="店家占道经营。", category="street_occupation",
                           **IN_SQUAD_A).order
    order = orders.dispatch(orders.accept(order, by=staff[R.DISPATCHER]), by=staff[R.DISPATCHER])
    conversion = orders.convert_to_case(order, by=flow.officer, facts="店家占道经营，经劝导不改。", party_name="张三")
    from chengguan.cases.services import conversion as conv

    case = conv.open_from_workorder(conversion, by=flow.officer, party_list=[person()], matter=flow.m["street"])
    order.refresh_from_db()
    assert case.work_order_conversion == conversion and case.squad == staff[R.OFFICER].org_unit.squad()
    assert order.case_reference == f"线索{case.pk}"
    case = workflow.file(case, by=staff[R.SQUAD_LEADER], officers=[flow.officer, staff["officer2"]])
    order.refresh_from_db()
    assert order.case_reference == case.number


# --- negative tests: one per legal rule -----------------------------------------------------------

def test_fewer_than_two_officers(flow, staff):
    case = flow.lead()
    refused(lambda: workflow.file(case, by=staff[R.SQUAD_LEADER], officers=[flow.officer]), case,
            "officers_required", f"{APL}第四十二条")


def test_officer_with_expired_certificate(flow, staff):
    case = flow.lead()
    refused(lambda: workflow.file(case, by=staff[R.SQUAD_LEADER], officers=[flow.officer, staff["expired"]]), case,
            "officer_certificate_invalid", f"{APL}第四十二条")


def test_filing_after_limitation_period(flow, staff, clock_at):
    case = flow.lead(act_date=clock_at.today - dt.timedelta(days=800))
    refused(lambda: workflow.file(case, by=staff[R.SQUAD_LEADER], officers=[flow.officer, staff["officer2"]]), case,
            "limitation_expired", f"{APL}第三十六条")
    # continuing act: counted from its end; harm to safety: five years
    ok = flow.lead(act_date=clock_at.today - dt.timedelta(days=800), act_ended_on=clock_at.today - dt.timedelta(days=5))
    assert workflow.file(ok, by=staff[R.SQUAD_LEADER], officers=[flow.officer, staff["officer2"]]).number
    harm = flow.lead(act_date=clock_at.today - dt.timedelta(days=800), harm_to_safety=True)
    assert workflow.file(harm, by=staff[R.SQUAD_LEADER], officers=[flow.officer, staff["officer2"]]).number


def test_fine_outside_benchmark_needs_reason(flow):
    case = flow.filed()
    refused(lambda: workflow.report(case, by=flow.officer, report_text="…", penalty_kinds=["fine"],
                                    tier=tier(flow.m["street"], "一般"), fine="400"),
            case, "fine_outside_benchmark", f"{APL}第三十四条")


def test_fine_outside_benchmark_needs_passed_legal_review(flow, staff):
    case = flow.deliberating(fine="400", outside_reason="多次违法且拒不改正")
    assert case.outside_benchmark
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty"), case, "legal_review_required",
            f"{APL}第五十八条")
    workflow.legal_review(case, by=staff[R.LEGAL_REVIEWER], passed=True, opinion="理由充分。")
    assert workflow.decide(case, by=flow.leader, outcome="penalty").decided_fine == Decimal("400.00")


def test_legal_reviewer_needs_qualification(flow, staff):
    case = flow.deliberating(complex_case=True)
    staff[R.LEGAL_REVIEWER].has_legal_qualification = False
    staff[R.LEGAL_REVIEWER].save()
    refused(lambda: workflow.legal_review(case, by=staff[R.LEGAL_REVIEWER], passed=True, opinion="同意"), case,
            "reviewer_unqualified", f"{APL}第五十八条")


def test_decision_before_statement_period_ended(flow):
    case = flow.notified()
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty"), case, "statement_period_running",
            f"{APL}第四十五条、第六十二条")


def test_penalty_without_notice(flow):
    case = flow.reported()
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty"), case, "notice_missing",
            f"{APL}第四十四条")


def test_heavier_penalty_after_defence(flow):
    case = flow.notified()
    refused(lambda: workflow.record_statement(case, by=flow.officer, statement="不服", reexamination="维持",
                                              revised_fine="250"), case, "penalty_increased_after_defence",
            f"{APL}第四十五条")
    case = workflow.waive_statement(case, by=flow.officer, note="书面放弃")
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty", fine="280"), case,
            "penalty_increased_after_defence", f"{APL}第四十四条、第四十五条")


def test_hearing_eligible_penalty_without_hearing_notice(flow):
    case = flow.deliberating(fine="200")
    assert not case.hearing_eligible
    with override_settings(CASE_HEARING_THRESHOLD_PERSON="150"):  # the province lowered the threshold
        refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty"), case, "hearing_notice_missing",
                f"{APL}第六十三条")


def test_hearing_request_late_and_notice_too_short(staff, matters, clock_at, numbering):
    from .conftest import Flow

    flow = Flow(staff, matters, clock_at, party=person(), matter="works")
    case = flow.notified(fine="8000")
    assert case.hearing_eligible
    clock_at.advance(15)
    refused(lambda: workflow.request_hearing(case, by=flow.officer), case, "hearing_request_late",
            f"{APL}第六十四条")
    case = workflow.request_hearing(case, by=flow.officer, requested_on=case.notice_served_on)
    refused(lambda: workflow.schedule_hearing(case, by=flow.officer, hearing_on=clock_at.today + dt.timedelta(days=3),
                                              place="听证室", chair=staff[R.LEGAL_REVIEWER]),
            case, "hearing_notice_too_short", f"{APL}第六十四条")
    refused(lambda: workflow.schedule_hearing(case, by=flow.officer, hearing_on=clock_at.today + dt.timedelta(days=30),
                                              place="听证室", chair=flow.officer),
            case, "hearing_chair_conflict", f"{APL}第六十四条")


def test_collective_discussion_required_for_major_case(flow, staff):
    case = flow.deliberating(complex_case=True)
    workflow.legal_review(case, by=staff[R.LEGAL_REVIEWER], passed=True, opinion="同意")
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty"), case,
            "collective_discussion_required", f"{APL}第五十七条")


def test_decision_after_ninety_days_without_extension(flow, clock_at):
    case = flow.deliberating()
    clock_at.advance(95)
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty"), case, "decision_deadline_passed",
            f"{APL}第六十条")


def test_decision_within_extension(flow, clock_at):
    case = flow.deliberating()
    workflow.extend_deadline(case, by=flow.leader, days=30, reason="需要鉴定")
    clock_at.advance(95)
    assert workflow.decide(case, by=flow.leader, outcome="penalty").status == Status.DECIDED


def test_second_penalty_for_the_same_act(flow):
    first = flow.decided()
    second = flow.deliberating()
    assert second.act_date == first.act_date
    refused(lambda: workflow.decide(second, by=flow.leader, outcome="penalty"), second, "double_penalty",
            f"{APL}第二十九条")


def test_no_penalty_under_exemption_needs_education_record(flow):
    case = flow.filed()
    workflow.add_record(case, by=flow.officer, kind=RecordKind.ON_SITE, content="现场检查。")  # the report's evidence
    case = workflow.report(case, by=flow.officer, report_text="首违", penalty_kinds=[])
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="no_penalty", no_penalty_ground="first_violation"),
            case, "education_record_missing", f"{APL}第三十三条")


def test_service_late(flow, clock_at):
    case = flow.decided()
    clock_at.advance(20)
    refused(lambda: workflow.serve(case, by=flow.officer, method=ServiceMethod.MAIL), case, "service_late",
            f"{APL}第六十一条")


def test_electronic_service_without_consent(flow):
    case = flow.decided()
    refused(lambda: workflow.serve(case, by=flow.officer, method=ServiceMethod.ELECTRONIC), case,
            "electronic_service_without_consent", f"{APL}第六十一条")


def test_closure_without_payment_or_enforcement(flow, staff):
    case = flow.executing()
    refused(lambda: workflow.close(case, by=staff[R.SQUAD_LEADER]), case, "execution_not_finished",
            f"{APL}第六十六条")


def test_court_application_rules(flow, clock_at):
    case = flow.executing()
    clock_at.advance(20)
    refused(lambda: execution.apply_to_court(case, by=flow.officer, court="法院"), case, "court_reminder_wait",
            "《中华人民共和国行政强制法》第五十四条")
    execution.remind(case, by=flow.officer)
    clock_at.advance(20)
    refused(lambda: execution.apply_to_court(case, by=flow.officer, court="法院"), case,
            "court_application_too_early", "《中华人民共和国行政强制法》第五十三条")
    clock_at.advance(400)
    refused(lambda: execution.apply_to_court(case, by=flow.officer, court="法院"), case,
            "court_application_late", "《中华人民共和国行政强制法》第五十三条")


def test_surcharge_capped_and_frozen_during_appeal(flow, clock_at):
    case = flow.executing()
    due = case.payment_due
    assert rules.surcharge(case, due) == 0
    assert rules.surcharge(case, due + dt.timedelta(days=10)) == Decimal("60.00")  # 200 × 3 % × 10
    assert rules.surcharge(case, due + dt.timedelta(days=100)) == Decimal("200.00")  # capped at the fine
    clock_at.moment += dt.timedelta(days=(due - clock_at.today).days + 5)
    appeal = execution.record_appeal(case, by=flow.s[R.LEGAL_REVIEWER], kind="reconsideration", body="区政府")
    assert rules.surcharge(case, due + dt.timedelta(days=20)) == Decimal("24.00")  # frozen from day 5
    clock_at.advance(10)
    execution.record_appeal_outcome(appeal, by=flow.s[R.LEGAL_REVIEWER], outcome=AppealOutcome.UPHELD)
    # days 5–15 under reconsideration are not counted: 4 + 2 days
    assert rules.surcharge(case, due + dt.timedelta(days=17)) == Decimal("36.00")


def test_payment_plan_moves_the_due_date(flow, clock_at):
    case = flow.executing()
    plan = execution.approve_payment_plan(case, by=flow.leader, kind="instalments", reason="经济困难",
                                          instalments=[{"due_on": case.payment_due + dt.timedelta(days=30),
                                                        "amount": "100"},
                                                       {"due_on": case.payment_due + dt.timedelta(days=60),
                                                        "amount": "100"}])
    case.refresh_from_db()
    assert rules.final_payment_due(case) == plan.final_due_on and case.next_deadline == plan.final_due_on
    refused(lambda: execution.approve_payment_plan(case, by=flow.leader, kind="deferral", reason="再缓",
                                                   due_on=plan.final_due_on), case, "payment_plan_exists",
            f"{APL}第六十六条")


def test_officers_act_only_on_their_cases(flow, staff, users, org):
    from chengguan.core.testing import make_user

    stranger = make_user(R.OFFICER, org.squad_a)
    case = flow.filed()
    with pytest.raises(PermissionDenied):
        workflow.add_record(case, by=stranger, kind=RecordKind.ON_SITE, content="…")
    with pytest.raises(PermissionDenied):  # squad B's officer does not even see it
        workflow.add_record(case, by=staff["officer_b"], kind=RecordKind.ON_SITE, content="…")


def test_execution_terminated_by_the_court_then_closed_and_archived(flow, staff, clock_at):
    case = flow.executing()
    clock_at.advance(20)
    execution.remind(case, by=flow.officer)
    clock_at.advance(200)
    application = execution.apply_to_court(case, by=flow.officer, court="闵行区人民法院")
    case = execution.record_enforcement(application, by=flow.officer, result=CourtResult.TERMINATED)
    assert case.status == Status.EXECUTED and case.ending == Ending.UNENFORCEABLE
    case = workflow.archive(workflow.close(case, by=staff[R.SQUAD_LEADER]), by=staff[R.CASE_REVIEW])
    assert case.status == Status.ARCHIVED and case.steps.get(action="archive").data["case_file"]


# --- legal review before transferring a suspected crime (Shanghai legal-review rules art. 3(3)) ----

SH_REVIEW = "《上海市城市管理综合行政执法重大执法决定法制审核办法》第三条第（三）项"
ACL = "《中华人民共和国行政强制法》"


def test_transfer_of_a_suspected_crime_needs_a_passed_transfer_review(flow, staff):
    case = flow.filed()
    squad_leader, reviewer = staff[R.SQUAD_LEADER], staff[R.LEGAL_REVIEWER]
    for kind in ("public_security", "judicial"):
        refused(lambda kind=kind: workflow.transfer(case, by=squad_leader, kind=kind, to="闵行公安分局", reason="涉嫌犯罪"),
                case, "transfer_review_required", SH_REVIEW)
    case = workflow.transfer_review(case, by=reviewer, passed=False, opinion="尚未达到刑事立案追诉标准。")
    assert case.status == Status.INVESTIGATING and steps(case)[-1] == "transfer_review"
    refused(lambda: workflow.transfer(case, by=squad_leader, kind="public_security", to="闵行公安分局", reason="涉嫌犯罪"),
            case, "transfer_review_required", SH_REVIEW)
    case = workflow.transfer_review(case, by=reviewer, passed=True, opinion="涉嫌犯罪，同意移送。")
    review = case.legal_reviews.get(result="passed")
    assert (review.purpose, case.status, case.next_deadline) == ("transfer", Status.INVESTIGATING, rules.decision_due(case))
    case = workflow.transfer(case, by=squad_leader, kind="judicial", to="闵行区人民检察院", reason="涉嫌犯罪")
    assert (case.status, case.ending, case.transfer_kind) == (Status.CLOSED, Ending.TRANSFERRED, "judicial")


def test_transfer_to_another_agency_needs_no_review(flow, staff):
    case = workflow.transfer(flow.lead(), by=staff[R.SQUAD_LEADER], kind="other_agency", to="区市场监管局",
                             reason="不属本局职权")
    assert case.ending == Ending.TRANSFERRED and not case.legal_reviews.exists()


def test_transfer_review_is_not_a_decision_review(flow, staff):
    case = flow.deliberating(fine="400", outside_reason="多次违法且拒不改正")
    workflow.transfer_review(case, by=staff[R.LEGAL_REVIEWER], passed=True, opinion="同意移送。")
    refused(lambda: workflow.decide(case, by=flow.leader, outcome="penalty"), case, "legal_review_required",
            f"{APL}第五十八条")


def test_transfer_review_only_by_a_qualified_reviewer_before_the_decision(flow, staff, org):
    case = flow.lead()
    for role in (R.OFFICER, R.SQUAD_LEADER, R.LEADER):
        with pytest.raises(PermissionDenied):
            workflow.transfer_review(case, by=staff[role], passed=True, opinion="同意")
    unqualified = make_user(R.LEGAL_REVIEWER, org.brigade)
    refused(lambda: workflow.transfer_review(case, by=unqualified, passed=True, opinion="同意"), case,
            "reviewer_unqualified", f"{APL}第五十八条")
    decided = flow.decided()
    refused(lambda: workflow.transfer_review(decided, by=staff[R.LEGAL_REVIEWER], passed=True, opinion="同意"),
            decided, "invalid_transition", "案件办理程序")
    assert not case.legal_reviews.exists()


# --- emergency compulsory measures (ACL art. 19) --------------------------------------------------

def test_emergency_seizure_is_pending_until_approved_within_24_hours(flow, staff, clock_at):
    case = flow.filed()
    started = clock_at.moment - dt.timedelta(hours=3)
    measure = workflow.add_emergency_measure(case, by=flow.officer, kind=MeasureKind.SEIZE, items="电动三轮车1辆",
                                             reason="当事人欲驾车转移涉案物品", started_at=started)
    assert (measure.approval, measure.approved_by, measure.emergency) == ("pending", None, True)
    assert measure.started_at == started and measure.approval_due_at == started + dt.timedelta(hours=24)
    due = timezone.localdate(measure.approval_due_at)
    pending = [d for d in rules.deadlines(case, clock_at.today) if "补办批准" in d.name]
    assert [(d.due, d.basis, d.overdue) for d in pending] == [(due, f"{ACL}第十九条", False)]
    case.refresh_from_db()
    assert case.next_deadline == due and "补办批准" in case.next_deadline_name
    assert case.steps.get(action="add_emergency_measure").data["documents"] == ["seizure_decision"]
    measure = workflow.approve_measure(measure, by=staff[R.SQUAD_LEADER], approved=True)
    assert (measure.approval, measure.approved_by, measure.ended_on) == ("approved", staff[R.SQUAD_LEADER], None)
    assert not [d for d in rules.deadlines(case, clock_at.today) if "补办批准" in d.name]
    refused(lambda: workflow.approve_measure(measure, by=staff[R.SQUAD_LEADER], approved=True), case,
            "measure_not_pending", f"{ACL}第十九条")


def test_disapproved_emergency_measure_is_released_at_once(flow, staff, clock_at):
    case = flow.filed()
    measure = workflow.add_emergency_measure(case, by=flow.officer, kind=MeasureKind.SEAL, items="临时棚屋1间",
                                             reason="正在施工，不及时查封将造成既成事实")
    refused(lambda: workflow.extend_measure(measure, by=staff[R.SQUAD_LEADER], reason="需鉴定"), case,
            "measure_approval_pending", f"{ACL}第十九条")
    with pytest.raises(ValidationFailed) as caught:
        workflow.approve_measure(measure, by=staff[R.SQUAD_LEADER], approved=False)
    assert caught.value.field == "reason"
    measure = workflow.approve_measure(measure, by=staff[R.SQUAD_LEADER], approved=False, reason="不属于紧急情况")
    assert (measure.approval, measure.ended_on, measure.outcome) == ("disapproved", clock_at.today, "released")
    assert steps(case)[-1] == "approve_measure"
    assert [d for d in rules.deadlines(case, clock_at.today) if "查封" in d.name] == []


def test_emergency_measure_reported_late_is_refused(flow, clock_at):
    case = flow.filed()
    late = clock_at.moment - dt.timedelta(hours=25)
    refused(lambda: workflow.add_emergency_measure(case, by=flow.officer, kind=MeasureKind.SEIZE, items="货架",
                                                   reason="当事人欲转移", started_at=late),
            case, "emergency_report_late", f"{ACL}第十九条")
    with pytest.raises(ValidationFailed) as caught:
        workflow.add_emergency_measure(case, by=flow.officer, kind=MeasureKind.SEIZE, items="货架", reason="紧急",
                                       started_at=clock_at.moment + dt.timedelta(hours=1))
    assert caught.value.code == "date_in_future"
    with pytest.raises(ValidationFailed) as caught:  # 先行登记保存 always needs prior approval (APL art. 56)
        workflow.add_emergency_measure(case, by=flow.officer, kind=MeasureKind.PRESERVATION, items="货架", reason="紧急")
    assert caught.value.code == "invalid_choice" and not case.measures.exists()


def test_who_may_take_and_approve_emergency_measures(flow, staff):
    case = flow.filed()
    with pytest.raises(PermissionDenied):  # without an emergency, prior approval as before (ACL art. 18)
        workflow.add_measure(case, by=flow.officer, kind=MeasureKind.SEIZE, items="货架")
    for outsider in (staff["expired"], staff["officer_b"], staff[R.LEGAL_REVIEWER]):  # not handling the case
        with pytest.raises(PermissionDenied):
            workflow.add_emergency_measure(case, by=outsider, kind=MeasureKind.SEIZE, items="货架", reason="紧急")
    measure = workflow.add_emergency_measure(case, by=staff["officer2"], kind=MeasureKind.SEIZE, items="货架",
                                             reason="紧急")
    for role in (R.OFFICER, R.LEGAL_REVIEWER, R.CASE_REVIEW):
        with pytest.raises(PermissionDenied):
            workflow.approve_measure(measure, by=staff[role], approved=True)
    assert workflow.approve_measure(measure, by=staff[R.LEADER], approved=True).approval == "approved"


def test_emergency_measure_needs_two_certified_officers(flow, staff, clock_at):
    case = flow.filed()
    staff["officer2"].certificate_valid_to = clock_at.today - dt.timedelta(days=1)
    staff["officer2"].save()
    refused(lambda: workflow.add_emergency_measure(case, by=flow.officer, kind=MeasureKind.SEIZE, items="货架",
                                                   reason="紧急"),
            case, "officer_certificate_invalid", f"{APL}第四十二条")
