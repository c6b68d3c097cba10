"""Scenario tests walking every path of the work-order state machine, and the refusals."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.models import AuditEvent, Notification, Role, User
from chengguan.core.testing import make_user
from chengguan.workorders.choices import (
    ClassifiedBy,
    RepeatStatus,
    RequestKind,
    RequestStatus,
    Result,
    Satisfaction,
    Stage,
    Status,
)
from chengguan.workorders.models import (
    CaseConversion,
    Category,
    ClockRequest,
    RepeatCandidate,
    WorkOrder,
)
from chengguan.workorders.services import intake, workflow

IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}
IN_SQUAD_B = {"lon": 121.425, "lat": 31.105}


@pytest.fixture
def people(org, users):
    return {**users, "officer_b": make_user(RoleCode.OFFICER, org.squad_b),
            "officer_a2": make_user(RoleCode.OFFICER, org.squad_a)}


def category(code="street_occupation") -> Category:
    return Category.objects.get(code=code)


def new_order(people, where=IN_SQUAD_A, **extra) -> WorkOrder:
    fields = {"channel": "12345", "text": "小区门口有人占道摆摊卖水果，影响通行。", "category": "street_occupation",
              "reporter_phone": "13812345678", **where, **extra}
    return intake.receive(by=people[RoleCode.DISPATCHER], **fields).order


def dispatched(people, **extra) -> WorkOrder:
    order = workflow.accept(new_order(people, **extra), by=people[RoleCode.DISPATCHER])
    return workflow.dispatch(order, by=people[RoleCode.DISPATCHER], assignee=people[RoleCode.OFFICER])


def snapshot(order: WorkOrder):
    order.refresh_from_db()
    return (order.status, order.steps.count(), AuditEvent.objects.count(), order.due_at)


def test_full_path_received_to_closed(org, people):
    dispatcher, officer, supervisor = people[RoleCode.DISPATCHER], people[RoleCode.OFFICER], people[RoleCode.SUPERVISOR]
    order = new_order(people)
    assert (order.status, order.squad, order.clock_stage) == (Status.RECEIVED, org.squad_a, Stage.ACCEPT)
    assert order.number.startswith(f"GD{timezone.localdate().year}")

    order = workflow.accept(order, by=dispatcher)
    assert (order.status, order.clock_stage) == (Status.ACCEPTED, Stage.DISPATCH)
    order = workflow.dispatch(order, by=dispatcher, assignee=officer)
    assert (order.status, order.assignee, order.clock_stage) == (Status.DISPATCHED, officer, Stage.REPLY)
    assert order.due_at == order.reply_due_at
    assert Notification.objects.filter(recipient=officer, title__contains=order.number).exists()

    order = workflow.start(order, by=officer)
    order = workflow.reply(order, by=officer, findings="到场时摊贩已离开，已告知商户不得占道。",
                           result=Result.RESOLVED, reply_text="经核实，已劝离占道摊贩。")
    assert (order.status, order.result, order.clock_stage) == (Status.REPLIED, Result.RESOLVED, Stage.VERIFY)
    assert order.handlings.get().officer == officer

    order = workflow.verify(order, by=supervisor, passed=True)
    assert (order.status, order.due_at) == (Status.VERIFIED, None)
    order = workflow.close(order, by=dispatcher, note="办结")
    assert order.status == Status.CLOSED and order.closed_at is not None

    assert list(order.steps.values_list("action", flat=True)) == [
        "receive", "accept", "dispatch", "start", "reply", "verify", "close"]
    actions = set(AuditEvent.objects.filter(object_type="workorders.workorder", object_id=str(order.pk))
                  .values_list("action", flat=True))
    assert {"workorder.receive", "workorder.accept", "workorder.dispatch", "workorder.close"} <= actions


def test_return_goes_back_to_the_dispatcher_and_can_be_dispatched_again(org, people):
    order = dispatched(people)
    order = workflow.return_order(order, by=people[RoleCode.OFFICER], reason="地址不在本中队辖区")
    assert (order.status, order.return_reason, order.assignee, order.clock_stage) == (
        Status.RETURNED, "地址不在本中队辖区", None, Stage.DISPATCH)
    assert Notification.objects.filter(recipient=people[RoleCode.DISPATCHER], title__contains="退单").exists()
    order = workflow.dispatch(order, by=people[RoleCode.DISPATCHER], squad=org.squad_b,
                              assignee=people["officer_b"])
    assert (order.status, order.squad, order.return_reason) == (Status.DISPATCHED, org.squad_b, "")


def test_failed_verification_sends_the_order_back_for_rework(people):
    order = dispatched(people)
    order = workflow.reply(order, by=people[RoleCode.OFFICER], findings="已处理", result=Result.RESOLVED,
                           reply_text="已处理")
    with pytest.raises(ValidationFailed) as exc:
        workflow.verify(order, by=people[RoleCode.SUPERVISOR], passed=False)
    assert exc.value.field == "note"
    order = workflow.verify(order, by=people[RoleCode.SUPERVISOR], passed=False, note="现场仍有摊位")
    assert (order.status, order.clock_stage) == (Status.HANDLING, Stage.REPLY)
    order = workflow.reply(order, by=people[RoleCode.OFFICER], findings="再次到场清理", result=Result.RESOLVED,
                           reply_text="已清理")
    order = workflow.verify(order, by=people[RoleCode.SUPERVISOR], passed=True)
    assert order.status == Status.VERIFIED
    assert order.steps.filter(action="rework").count() == 1 and order.handlings.count() == 2


def test_out_of_remit_orders_are_returned_with_a_reason(people):
    order = new_order(people, category="out_of_remit", text="小区物业费太贵了")
    with pytest.raises(BusinessRuleError) as exc:
        workflow.dispatch(workflow.accept(order, by=people[RoleCode.DISPATCHER]), by=people[RoleCode.DISPATCHER])
    assert exc.value.code == "out_of_remit"
    order = workflow.reject(order, by=people[RoleCode.DISPATCHER], reason="物业收费属房管部门职责，已告知来电人")
    assert (order.status, order.due_at, order.out_of_remit_reason) == (
        Status.REJECTED, None, "物业收费属房管部门职责，已告知来电人")


def test_merge_a_repeat_under_its_parent_and_close_them_together(people):
    dispatcher = people[RoleCode.DISPATCHER]
    first = dispatched(people)
    second = new_order(people, text="同一个地方又有人摆摊卖水果")
    candidate = RepeatCandidate.objects.filter(order=second, original=first).first()
    assert candidate is not None, "the intake's repeat check proposes the earlier order"
    second = workflow.merge(second, by=dispatcher, parent=first)
    assert (second.status, second.parent, second.is_repeat, second.due_at) == (Status.MERGED, first, True, None)
    candidate.refresh_from_db()
    assert candidate.status == RepeatStatus.MERGED
    third = new_order(people, text="第三次反映")
    third = workflow.merge(third, by=dispatcher, parent=second)
    assert third.parent == first, "merging under a repeat goes to the top of the chain"

    first = workflow.reply(first, by=people[RoleCode.OFFICER], findings="已处理", result=Result.RESOLVED,
                           reply_text="已处理")
    first = workflow.verify(first, by=people[RoleCode.SUPERVISOR], passed=True)
    workflow.close(first, by=dispatcher)
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.closed_at is not None


def test_merge_refusals(people):
    order = new_order(people)
    with pytest.raises(BusinessRuleError) as exc:
        workflow.merge(order, by=people[RoleCode.DISPATCHER], parent=order)
    assert exc.value.code == "merge_self"
    rejected = workflow.reject(new_order(people), by=people[RoleCode.DISPATCHER], reason="非本部门")
    with pytest.raises(BusinessRuleError) as exc:
        workflow.merge(order, by=people[RoleCode.DISPATCHER], parent=rejected)
    assert exc.value.code == "invalid_parent"


def test_dismissing_the_last_candidate_clears_the_flag(people):
    first = new_order(people)
    second = new_order(people, text="门口有人摆摊卖水果")
    assert second.has_repeat_candidates
    candidate = second.repeat_candidates.get(original=first)
    workflow.dismiss_repeat(candidate, by=people[RoleCode.DISPATCHER])
    second.refresh_from_db()
    assert not second.has_repeat_candidates
    with pytest.raises(BusinessRuleError):
        workflow.dismiss_repeat(candidate, by=people[RoleCode.DISPATCHER])


def test_suspension_pauses_the_clock_and_resume_restores_the_state(people):
    order = dispatched(people)
    request = workflow.request_clock(order, by=people[RoleCode.OFFICER], kind=RequestKind.SUSPENSION,
                                     reason="当事人外出，需等待其返回")
    with pytest.raises(BusinessRuleError) as exc:
        workflow.request_clock(order, by=people[RoleCode.OFFICER], kind=RequestKind.EXTENSION, reason="再申请",
                               extra_days=2)
    assert exc.value.code == "request_pending"
    workflow.decide_clock(request, by=people[RoleCode.LEADER], approve=True)
    order.refresh_from_db()
    assert order.status == Status.SUSPENDED and order.suspended_at is not None
    due_before = order.due_at
    order = workflow.resume(order, by=people[RoleCode.LEADER], note="当事人已返回")
    assert order.status == Status.DISPATCHED and order.suspended_at is None
    assert order.due_at >= due_before - dt.timedelta(seconds=1), "no office time is lost while suspended"


def test_extension_moves_the_reply_limit_by_working_days_and_needs_another_person(people):
    order = dispatched(people)
    request = workflow.request_clock(order, by=people[RoleCode.OFFICER], kind=RequestKind.EXTENSION,
                                     reason="需协调房管部门", extra_days=5)
    with pytest.raises(ValidationFailed) as exc:
        workflow.decide_clock(request, by=people[RoleCode.LEADER], approve=False)
    assert exc.value.field == "note", "a rejection states its reason"
    with pytest.raises(PermissionDenied):
        workflow.decide_clock(request, by=people[RoleCode.OFFICER], approve=True)
    old_due = order.reply_due_at
    request = workflow.decide_clock(request, by=people[RoleCode.LEADER], approve=True, note="同意")
    order.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert order.reply_due_at == request.new_due_at > old_due and order.due_at == order.reply_due_at
    assert order.steps.filter(action="extend").exists()


def test_self_approval_is_refused(org, people):
    both = make_user(RoleCode.SQUAD_LEADER, org.squad_a)
    both.roles.add(Role.objects.get_or_create(code=RoleCode.LEADER)[0])
    both = User.objects.get(pk=both.pk)
    request = workflow.request_clock(dispatched(people), by=both, kind=RequestKind.SUSPENSION, reason="等待规划部门意见")
    with pytest.raises(BusinessRuleError) as exc:
        workflow.decide_clock(request, by=both, approve=True)
    assert exc.value.code == "self_approval"
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_extension_days_are_bounded(people, settings):
    order = dispatched(people)
    for bad in (0, settings.WORKORDER_MAX_EXTENSION_DAYS + 1, "3", None):
        with pytest.raises(ValidationFailed) as exc:
            workflow.request_clock(order, by=people[RoleCode.OFFICER], kind=RequestKind.EXTENSION, reason="x",
                                   extra_days=bad)
        assert exc.value.field == "extra_days"
    assert not ClockRequest.objects.exists()


def test_unsatisfied_rating_reopens_once(people):
    order = dispatched(people)
    order = workflow.reply(order, by=people[RoleCode.OFFICER], findings="已处理", result=Result.RESOLVED,
                           reply_text="已处理")
    order = workflow.rate(order, satisfaction=Satisfaction.UNSATISFIED)  # the reporter, on the status page
    assert (order.status, order.reopened, order.clock_stage) == (Status.HANDLING, 1, Stage.REPLY)
    order = workflow.reply(order, by=people[RoleCode.OFFICER], findings="再次处理", result=Result.RESOLVED,
                           reply_text="再次处理")
    order = workflow.rate(order, by=people[RoleCode.DISPATCHER], satisfaction=Satisfaction.UNSATISFIED)
    assert (order.status, order.reopened) == (Status.REPLIED, 1), "re-handled once only"
    with pytest.raises(BusinessRuleError) as exc:
        workflow.rate(order, satisfaction=Satisfaction.SATISFIED)
    assert exc.value.code == "already_rated"


def test_rating_before_a_reply_is_refused(people):
    with pytest.raises(BusinessRuleError):
        workflow.rate(new_order(people), satisfaction=Satisfaction.SATISFIED)


def test_escalation_flags_and_tells_the_squad_leader(people):
    order = dispatched(people)
    order = workflow.escalate(order, by=people[RoleCode.SUPERVISOR], reason="群众多次反映")
    assert order.supervised and order.supervised_reason == "群众多次反映"
    assert Notification.objects.filter(recipient=people[RoleCode.SQUAD_LEADER], title__contains="督办").exists()
    with pytest.raises(PermissionDenied):
        workflow.escalate(order, by=people[RoleCode.OFFICER], reason="x")


def test_conversion_to_case_is_recorded_and_the_outcome_shows_on_the_order(people):
    officer = people[RoleCode.OFFICER]
    order = dispatched(people)
    with pytest.raises(BusinessRuleError) as exc:
        workflow.reply(order, by=officer, findings="x", result=Result.CONVERTED, reply_text="已立案")
    assert exc.value.code == "no_case_conversion"
    conversion = workflow.convert_to_case(order, by=officer, facts="当事人在人行道上设摊经营", party_name="张某")
    assert (conversion.squad, conversion.requested_by) == (order.squad, officer)
    with pytest.raises(BusinessRuleError):
        workflow.convert_to_case(order, by=officer, facts="再次提请")
    order = workflow.reply(order, by=officer, findings="已立案查处", result=Result.CONVERTED, reply_text="已立案")
    workflow.record_case_outcome(conversion, case_reference="闵城管罚字〔2026〕第00001号", outcome="罚款200元")
    order.refresh_from_db()
    assert order.case_reference == "闵城管罚字〔2026〕第00001号"
    assert CaseConversion.objects.get(order=order).outcome == "罚款200元"


def test_classification_by_a_person_is_training_data_and_moves_the_reply_limit(people):
    order = new_order(people, category=None, text="有户人家在搞违章搭建")
    order = workflow.classify(order, by=people[RoleCode.DISPATCHER], category=category("illegal_construction"))
    assert (order.category.code, order.classified_by, order.needs_review) == (
        "illegal_construction", ClassifiedBy.PERSON, False)
    fifteen = order.reply_due_at
    order = workflow.classify(order, by=people[RoleCode.DISPATCHER], category=category("street_occupation"))
    assert order.reply_due_at < fifteen, "15 working days for 违法搭建, 1 for 占道经营"
    with pytest.raises(ValidationFailed) as exc:
        workflow.classify(order, by=people[RoleCode.DISPATCHER], category=category("street_order"))
    assert exc.value.code == "not_leaf"


def test_dispatch_refusals_change_nothing(org, people):
    dispatcher = people[RoleCode.DISPATCHER]
    order = workflow.accept(new_order(people, category=None, text="不清楚是什么问题"), by=dispatcher)
    before = snapshot(order)
    with pytest.raises(BusinessRuleError) as exc:
        workflow.dispatch(order, by=dispatcher)
    assert exc.value.code == "not_classified"
    order = workflow.classify(order, by=dispatcher, category=category())
    before = snapshot(order)
    with pytest.raises(ValidationFailed) as exc:
        workflow.dispatch(order, by=dispatcher, assignee=people["officer_b"])
    assert exc.value.code == "assignee_outside_squad"
    assert snapshot(order) == before


def test_unlocated_orders_wait_for_the_dispatcher_to_place_them(org, people):
    dispatcher = people[RoleCode.DISPATCHER]
    order = intake.receive(by=dispatcher, channel="12345", text="某处有人占道经营", category="street_occupation").order
    assert order.squad is None
    order = workflow.accept(order, by=dispatcher)
    with pytest.raises(ValidationFailed) as exc:
        workflow.dispatch(order, by=dispatcher)
    assert exc.value.field == "squad"
    order = workflow.locate(order, by=dispatcher, **IN_SQUAD_B)
    assert (order.squad, order.located_by) == (org.squad_b, "dispatcher")
    assert workflow.dispatch(order, by=dispatcher).squad == org.squad_b


def test_every_transition_is_refused_from_every_state_it_does_not_list(people):
    """The table is the law of the machine: a verb outside its source states is refused,
    whoever asks (a superuser here, so only the state can refuse)."""
    admin = make_user(None, None, is_superuser=True)
    order = new_order(people)
    refused = 0
    for status in Status.values:
        order.status = status
        for name, rule in (*workflow.TRANSITIONS.items(), *workflow.ACTIONS.items()):
            if status in rule.sources:
                continue
            with pytest.raises(BusinessRuleError) as exc:
                workflow._check(order, name, admin)
            assert exc.value.code == "invalid_transition"
            refused += 1
    assert refused > 100
    order.refresh_from_db()
    with pytest.raises(BusinessRuleError):  # and through a real verb, which then changes nothing
        workflow.close(order, by=people[RoleCode.DISPATCHER])
    assert order.steps.count() == 1


def test_scope_and_role_refusals(org, people):
    order = dispatched(people)
    with pytest.raises(PermissionDenied):
        workflow.start(order, by=people["officer_b"])  # squad B cannot see squad A's order
    with pytest.raises(PermissionDenied):
        workflow.accept(new_order(people), by=people[RoleCode.OFFICER])  # officers do not sign for orders
    with pytest.raises(BusinessRuleError) as exc:
        workflow.start(order, by=people["officer_a2"])
    assert exc.value.code == "not_assignee"
    with pytest.raises(PermissionDenied):
        workflow.close(order, by=people[RoleCode.OFFICER])


def test_allowed_actions_follow_state_and_role(people):
    order = new_order(people)
    assert "accept" in workflow.allowed_actions(order, people[RoleCode.DISPATCHER])
    assert workflow.allowed_actions(order, people[RoleCode.OFFICER]) == []
    order = dispatched(people)
    officer_actions = workflow.allowed_actions(order, people[RoleCode.OFFICER])
    assert {"start", "reply", "return", "request_extension", "convert_to_case"} <= set(officer_actions)
    assert "close" not in officer_actions
