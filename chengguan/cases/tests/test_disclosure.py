"""Publication (公示) of penalty decisions: created by the decision (pending with its due date,
or excluded: simple procedure, warning only), published only once served and only by the
squad leader or the case-review centre, with a masked snapshot that never changes; withdrawn
when an appeal revokes or changes the decision; published, warned about and expired by the
daily job; the staff API's role × endpoint matrix."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from chengguan.cases.choices import AppealOutcome, RecordKind, ServiceMethod
from chengguan.cases.models import Disclosure, DisclosureStatus
from chengguan.cases.services import disclosure, execution, simple, workflow
from chengguan.cases.tasks import run_disclosures_task
from chengguan.core.api_testing import (
    ALL_ROLES,
    Endpoint,
    EndpointMatrix,
    MatrixData,
    api_client,
    assert_error_body,
    changed,
    ids,
    send,
)
from chengguan.core.calendar import add_months, add_working_days, deadline_rule
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.models import AuditEvent, Notification
from chengguan.core.testing import make_user
from chengguan.documents.services import documents_of
from chengguan.regulations import services as catalogue

from .conftest import IN_SQUAD_A, Flow, company, id_number, person

pytestmark = pytest.mark.django_db

R = RoleCode
D = DisclosureStatus
API = "/api/v1/cases/disclosures"
PUBLISHERS = {R.SQUAD_LEADER, R.CASE_REVIEW}
NAME, PHONE = "张三丰", "13812345678"


def served(flow: Flow, **extra):
    return workflow.serve(flow.decided(**extra), by=flow.officer, method=ServiceMethod.DIRECT)


def record(case) -> Disclosure:
    return Disclosure.objects.get(case=case)


def refused(call, code: str, target: Disclosure):
    before = (Disclosure.objects.filter(pk=target.pk).values().first(), AuditEvent.objects.count())
    with pytest.raises(BusinessRuleError) as caught:
        call()
    assert caught.value.code == code
    assert (Disclosure.objects.filter(pk=target.pk).values().first(), AuditEvent.objects.count()) == before
    return caught.value


def warning_only(flow: Flow):
    """An ordinary-procedure case decided with a warning alone."""
    case = flow.filed()
    workflow.add_record(case, by=flow.officer, kind=RecordKind.ON_SITE, content="现场检查。", place="江川路1号")
    case = workflow.report(case, by=flow.officer, report_text="情节轻微。", penalty_kinds=["warning"])
    case = workflow.waive_statement(workflow.notify(case, by=flow.officer), by=flow.officer, note="书面放弃")
    return workflow.decide(case, by=flow.leader, outcome="penalty", penalty_kinds=["warning"])


# --- creation, due date, exclusions --------------------------------------------------------------

def test_due_date_is_seven_working_days_after_the_decision():
    # Over the 2024 National Day week: Sunday 09-29 and Saturday 10-12 are make-up working days.
    assert disclosure.due_date(dt.date(2024, 9, 27)) == dt.date(2024, 10, 12)
    assert disclosure.due_date(dt.date(2025, 1, 24)) == dt.date(2025, 2, 10)  # across the Spring Festival


def test_due_date_follows_the_configured_period(settings):
    settings.DEADLINE_OVERRIDES = {"case_decision_publication": 20}
    assert disclosure.due_date(dt.date(2024, 9, 27)) == add_working_days(dt.date(2024, 9, 27), 20)


def test_penalty_decision_creates_a_pending_record(flow):
    case = flow.decided()
    d = record(case)
    assert d.status == D.PENDING and d.exclusion_reason == ""
    assert d.decided_on == case.decided_on and d.fine == Decimal("200.00")
    assert d.squad_id == case.squad_id and d.matter_id == case.matter_id
    assert d.due_on == deadline_rule("case_decision_publication").due(case.decided_on)
    assert d.public_text == "" and d.published_at is None
    assert AuditEvent.objects.filter(action="case.disclosure.create", object_id=str(d.pk)).exists()


def test_no_penalty_decision_is_not_a_penalty_to_publish(flow):
    case = workflow.decide(flow.reported(), by=flow.leader, outcome="no_penalty", no_penalty_ground="not_established")
    assert not Disclosure.objects.filter(case=case).exists()


def test_warning_only_is_excluded(flow):
    d = record(warning_only(flow))
    assert d.status == D.EXCLUDED and d.due_on is None
    assert "警告" in d.exclusion_reason and "第六十七条" in d.exclusion_reason


def test_warning_only_published_where_the_bureau_says_so(flow, settings):
    settings.DISCLOSURE_EXCLUDE_WARNING_ONLY = False
    assert record(warning_only(flow)).status == D.PENDING


def test_simple_procedure_is_excluded(staff, matters, numbering):
    case = simple.decide_on_the_spot(by=staff[R.OFFICER], officers=[staff[R.OFFICER], staff["officer2"]],
                                     party=person(), matter=matters["street"], facts="占道设摊。",
                                     penalty_kind="fine", fine="80", **IN_SQUAD_A)
    d = disclosure.on_decided(case, staff[R.OFFICER])
    assert d.status == D.EXCLUDED and "简易程序" in d.exclusion_reason


# --- publication -----------------------------------------------------------------------------------

def test_not_published_before_the_decision_is_served(flow, staff):
    case = flow.decided()
    d = record(case)
    refused(lambda: disclosure.publish(d, by=staff[R.SQUAD_LEADER]), "decision_not_served", d)
    workflow.serve(case, by=flow.officer, method=ServiceMethod.DIRECT)
    assert disclosure.publish(d, by=staff[R.SQUAD_LEADER]).status == D.PUBLISHED


def test_published_text_is_masked(flow, staff, clock_at):
    case = workflow.decide(
        workflow.waive_statement(workflow.notify(flow.reported(), by=flow.officer), by=flow.officer, note="放弃"),
        by=flow.leader, outcome="penalty")
    # Facts typed with the party's name, ID number, phone and address in them.
    case.facts = f"当事人{NAME}（身份证 {id_number(1)}，电话 {PHONE}，住上海市闵行区江川路街道红旗新村5号）在江川路1号门口摆摊。"
    case.save(actor=flow.officer)
    workflow.serve(case, by=flow.officer, method=ServiceMethod.DIRECT)
    d = disclosure.publish(record(case), by=staff[R.CASE_REVIEW])
    everything = d.public_text + str(d.public_data) + d.title + d.area
    for secret in (NAME, "三丰", id_number(1), PHONE, "红旗新村5号", "江川路1号"):
        assert secret not in everything, secret
    data = d.public_data
    assert d.title == "张**跨门营业案" and data["parties"] == [{"kind": "自然人", "name": "张**"}]
    assert "上海市闵行区江川路街道" in data["facts"] and "（已隐去）" in data["facts"]
    assert data["place"] == f"{case.squad.name}辖区"  # the case address names no district
    assert data["penalty"] == "罚款（罚款 200.00 元）" and data["fine"] == "200.00"
    assert data["violation_bases"] == ["《上海市市容环境卫生管理条例》第二十五条第（五）项"]
    decision = documents_of(case).filter(kind="penalty_decision").first()  # issued by the decide step
    assert d.decision_number == (decision.number if decision else case.number)
    assert data["authority"] == staff[R.LEADER].org_unit.name
    assert d.published_by == staff[R.CASE_REVIEW] and d.published_at == clock_at.moment
    assert d.ends_on == add_months(clock_at.today, 36)


def test_organisation_shown_by_name_and_credit_code(staff, matters, clock_at, numbering):
    flow = Flow(staff, matters, clock_at, party=company())
    d = disclosure.publish(record(served(flow)), by=staff[R.SQUAD_LEADER])
    party = d.public_data["parties"][0]
    assert party["name"] == "上海某某餐饮有限公司" and party["credit_code"] == company()["credit_code"]
    assert d.public_data["place"] == "江川路1号"  # an organisation's place of business is not private
    assert "统一社会信用代码" in d.public_text


@pytest.mark.parametrize(("address", "area"), [
    ("上海市闵行区江川路街道红旗新村12号", "上海市闵行区江川路街道"),
    ("上海市闵行区江川路1号", "上海市闵行区"),
    ("闵行区七宝镇农南路88弄3号601室", "闵行区七宝镇"),
    ("浙江省嘉兴市南湖区新兴街道", "浙江省嘉兴市南湖区新兴街道"),
    ("闵行区莘庄镇莘东路", "闵行区莘庄镇"),
    ("红旗小区5号楼", ""),
    ("江川路农贸市场门口", ""),
    ("", ""),
])
def test_public_area_stops_at_the_street(address, area):
    assert disclosure.public_area(address) == area


def test_snapshot_never_rewritten(flow, staff):
    d = disclosure.publish(record(served(flow)), by=staff[R.SQUAD_LEADER])
    text, data = d.public_text, d.public_data
    catalogue.update_matter(flow.m["street"], by=None, name="改名后的事项")
    d.refresh_from_db()
    assert (d.public_text, d.public_data) == (text, data) and "跨门营业" in d.public_text
    d.public_text = "改写"
    with pytest.raises(BusinessRuleError) as caught:
        d.save(actor=staff[R.SQUAD_LEADER])
    assert caught.value.code == "disclosure_frozen"


def test_published_once(flow, staff):
    d = disclosure.publish(record(served(flow)), by=staff[R.SQUAD_LEADER])
    refused(lambda: disclosure.publish(d, by=staff[R.CASE_REVIEW]), "disclosure_not_pending", d)


def test_who_may_publish(flow, staff, org):
    d = record(served(flow))
    for role in set(R) - PUBLISHERS:
        with pytest.raises(PermissionDenied):
            disclosure.publish(d, by=staff[role])
    leader_b = make_user(R.SQUAD_LEADER, org.squad_b)
    with pytest.raises(PermissionDenied, match="数据范围"):
        disclosure.publish(d, by=leader_b)
    d.refresh_from_db()
    assert d.status == D.PENDING and d.published_at is None


def test_exclude_needs_a_reason_and_the_permission(flow, staff):
    d = record(served(flow))
    with pytest.raises(ValidationFailed) as caught:
        disclosure.exclude(d, by=staff[R.SQUAD_LEADER], reason="  ")
    assert caught.value.code == "required" and caught.value.field == "reason"
    with pytest.raises(PermissionDenied):
        disclosure.exclude(d, by=staff[R.OFFICER], reason="不想公开")
    d.refresh_from_db()
    assert d.status == D.PENDING
    d = disclosure.exclude(d, by=staff[R.SQUAD_LEADER], reason="涉及商业秘密")
    assert d.status == D.EXCLUDED and d.exclusion_reason == "涉及商业秘密"
    refused(lambda: disclosure.publish(d, by=staff[R.SQUAD_LEADER]), "disclosure_not_pending", d)


# --- withdrawal ------------------------------------------------------------------------------------

def test_revoked_decision_withdrawn_with_the_reason(flow, staff):
    case = served(flow)
    d = disclosure.publish(record(case), by=staff[R.SQUAD_LEADER])
    appeal = execution.record_appeal(case, by=staff[R.LEGAL_REVIEWER], kind="reconsideration", body="闵行区人民政府")
    review = execution.record_appeal_outcome(appeal, by=staff[R.LEGAL_REVIEWER], outcome=AppealOutcome.REVOKED)
    d.refresh_from_db()
    assert d.status == D.WITHDRAWN and d.withdrawn_by == staff[R.LEGAL_REVIEWER] and d.appeal == review
    assert "闵行区人民政府行政复议" in d.withdrawal_reason and "被撤销" in d.withdrawal_reason
    assert d.withdrawal_due == deadline_rule("apl_withdraw_publication").due(review.ended_on)
    assert d.withdrawn_at.date() <= d.withdrawal_due
    assert d.public_text  # the published text is kept on record, only no longer shown


@pytest.mark.parametrize("outcome", [AppealOutcome.CHANGED, AppealOutcome.CONFIRMED_ILLEGAL, AppealOutcome.VOID])
def test_changed_illegal_or_void_decision_withdrawn(flow, staff, outcome):
    case = served(flow)
    disclosure.publish(record(case), by=staff[R.SQUAD_LEADER])
    appeal = execution.record_appeal(case, by=staff[R.CASE_REVIEW], kind="litigation", body="闵行区人民法院")
    execution.record_appeal_outcome(appeal, by=staff[R.CASE_REVIEW], outcome=outcome,
                                    changed_fine="120" if outcome == AppealOutcome.CHANGED else None)
    d = record(case)
    assert d.status == D.WITHDRAWN and f"被{AppealOutcome(outcome).label}" in d.withdrawal_reason


@pytest.mark.parametrize("outcome", [AppealOutcome.UPHELD, AppealOutcome.DISMISSED, AppealOutcome.WITHDRAWN])
def test_upheld_decision_stays_published(flow, staff, outcome):
    case = served(flow)
    disclosure.publish(record(case), by=staff[R.SQUAD_LEADER])
    appeal = execution.record_appeal(case, by=staff[R.CASE_REVIEW], kind="litigation", body="闵行区人民法院")
    execution.record_appeal_outcome(appeal, by=staff[R.CASE_REVIEW], outcome=outcome)
    assert record(case).status == D.PUBLISHED


def test_revoked_before_publication_is_never_published(flow, staff):
    case = served(flow)
    appeal = execution.record_appeal(case, by=staff[R.CASE_REVIEW], kind="reconsideration", body="区政府")
    execution.record_appeal_outcome(appeal, by=staff[R.CASE_REVIEW], outcome=AppealOutcome.REVOKED)
    d = record(case)
    assert d.status == D.EXCLUDED and "被撤销" in d.exclusion_reason and "不再公示" in d.exclusion_reason
    assert disclosure.run_daily(d.due_on)["published"] == 0


# --- the daily job ---------------------------------------------------------------------------------

def test_job_publishes_on_the_due_date(flow, staff, clock_at):
    case = served(flow)
    d = record(case)
    assert disclosure.run_daily()["published"] == 0  # not due yet: staff publish first
    clock_at.moment += dt.timedelta(days=(d.due_on - clock_at.today).days)
    counts = run_disclosures_task.delay().get()
    d.refresh_from_db()
    assert counts["published"] == 1 and d.status == D.PUBLISHED and d.published_by is None
    event = AuditEvent.objects.filter(action="case.disclosure.publish", object_id=str(d.pk)).get()
    assert event.actor is None


def test_job_warns_the_squad_leader_of_an_unserved_decision(flow, staff, clock_at, org):
    d = record(flow.decided())
    leader_b = make_user(R.SQUAD_LEADER, org.squad_b)
    clock_at.moment += dt.timedelta(days=(d.due_on - clock_at.today).days - 1)
    assert disclosure.run_daily()["warned"] == 1
    inbox = Notification.objects.filter(recipient=staff[R.SQUAD_LEADER])
    assert inbox.count() == 1 and "尚未送达" in inbox.get().body and inbox.get().level == Notification.Level.WARNING
    assert not Notification.objects.filter(recipient__in=[leader_b, staff[R.OFFICER]]).exists()
    assert disclosure.run_daily()["warned"] == 0  # told once
    clock_at.advance(3)
    assert disclosure.run_daily() == {"published": 0, "warned": 1, "expired": 0}  # late: not served, so not published
    assert inbox.filter(level=Notification.Level.DANGER, title__contains="逾期").exists()


def test_publication_expires_after_three_years(flow, staff, clock_at):
    d = disclosure.publish(record(served(flow)), by=staff[R.SQUAD_LEADER])
    assert disclosure.public_disclosures().filter(pk=d.pk).exists()
    clock_at.moment += dt.timedelta(days=(d.ends_on - clock_at.today).days)
    assert disclosure.run_daily()["expired"] == 0 and disclosure.public_disclosures().filter(pk=d.pk).exists()
    clock_at.advance(1)
    assert not disclosure.public_disclosures().filter(pk=d.pk).exists()  # gone even before the job runs
    assert disclosure.run_daily()["expired"] == 1
    d.refresh_from_db()
    assert d.status == D.EXPIRED and d.expired_at == clock_at.moment


def test_publication_period_is_a_setting(flow, staff, clock_at, settings):
    settings.DISCLOSURE_PERIOD_MONTHS = 60
    d = disclosure.publish(record(served(flow)), by=staff[R.SQUAD_LEADER])
    assert d.ends_on == add_months(clock_at.today, 60)


def test_beat_runs_the_job_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["cases-disclosures"]
    assert entry["task"] == run_disclosures_task.name == "cases.run_disclosures"
    assert entry["schedule"] == dt.timedelta(days=1)


# --- staff API -------------------------------------------------------------------------------------

class Records:
    def __init__(self, flow: Flow):
        self.flow = flow
        self._served = None

    @property
    def served(self) -> Disclosure:
        if self._served is None:
            self._served = record(served(self.flow))
        return self._served


class TestDisclosureEndpoints(EndpointMatrix):
    endpoints = [
        Endpoint("list", "get", lambda d: d.records.served and f"{API}/", allowed=ALL_ROLES,
                 check=lambda d, r: ids(r) == {d.records.served.pk}),
        Endpoint("detail", "get", lambda d: f"{API}/{d.records.served.pk}/", allowed=ALL_ROLES,
                 check=lambda d, r: r.json()["status"] == D.PENDING and "张**" in r.json()["preview"]["title"]),
        Endpoint("publish", "post", lambda d: f"{API}/{d.records.served.pk}/publish/", allowed=PUBLISHERS,
                 ok_status=200, target=lambda d: d.records.served,
                 check=changed(lambda d: d.records.served, status=D.PUBLISHED)),
        Endpoint("exclude", "post", lambda d: f"{API}/{d.records.served.pk}/exclude/", allowed=PUBLISHERS,
                 ok_status=200, target=lambda d: d.records.served, payload=lambda d: {"reason": "涉及商业秘密"},
                 check=changed(lambda d: d.records.served, status=D.EXCLUDED, exclusion_reason="涉及商业秘密")),
    ]

    @pytest.fixture
    def matrix_data(self, org, staff, flow):
        return MatrixData(org=org, users=staff, s=staff, flow=flow, records=Records(flow))


def test_api_out_of_scope_is_404_and_unchanged(flow, staff, org):
    d = record(served(flow))
    client = api_client(make_user(R.SQUAD_LEADER, org.squad_b))
    assert ids(client.get(f"{API}/")) == set()
    assert assert_error_body(send(client, "post", f"{API}/{d.pk}/publish/"), 404)
    d.refresh_from_db()
    assert d.status == D.PENDING


def test_api_refusals_carry_the_rule(flow, staff):
    d = record(flow.decided())
    client = api_client(staff[R.SQUAD_LEADER])
    assert assert_error_body(send(client, "post", f"{API}/{d.pk}/publish/"), 409)["code"] == "decision_not_served"
    body = assert_error_body(send(client, "post", f"{API}/{d.pk}/exclude/", {"reason": ""}), 400)
    assert body["errors"][0]["field"] == "reason"
    assert ids(client.get(f"{API}/?status=pending")) == {d.pk}
    assert ids(client.get(f"{API}/?status=published")) == set()
