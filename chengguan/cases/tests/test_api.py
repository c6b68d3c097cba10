"""Cases REST API: the role × endpoint matrix for every endpoint (refused calls — wrong role,
out of scope, anonymous — change nothing), then masking of parties, malformed identities
named by field, refused steps answered 409 with the rule's code and article, and the list
filters."""

import datetime as dt
from functools import cached_property

import pytest

from chengguan.cases.choices import ServiceMethod, Status
from chengguan.cases.models import Case
from chengguan.cases.services import execution, workflow
from chengguan.core.api_testing import (
    ALL_ROLES,
    SQUAD_ROLES,
    Endpoint,
    EndpointMatrix,
    MatrixData,
    api_client,
    assert_error_body,
    changed,
    ids,
    send,
)
from chengguan.core.choices import RoleCode

from .conftest import IN_SQUAD_A, Flow, id_number, person, tier

pytestmark = pytest.mark.django_db

API = "/api/v1/cases"
R = RoleCode
HANDLERS = {R.OFFICER, R.SQUAD_LEADER}
APPROVERS = {R.SQUAD_LEADER, R.LEADER}
LEADER = {R.LEADER}
REVIEWERS = {R.LEGAL_REVIEWER}
ARCHIVERS = {R.CASE_REVIEW, R.SQUAD_LEADER}
APPEALS = {R.LEGAL_REVIEWER, R.CASE_REVIEW}


class Cases:
    """Cases of squad A in each state (squad B where named), made on first use."""

    def __init__(self, flow: Flow, staff):
        self.flow, self.s = flow, staff

    @cached_property
    def lead(self):
        return self.flow.lead()

    @cached_property
    def lead_b(self):
        return workflow.open_lead(by=self.s["officer_b"], source_kind="patrol", facts="古美路占道。",
                                  lon=121.425, lat=31.105, party_list=[person(9)], matter=self.flow.m["street"],
                                  act_date=self.flow.clock.today)

    @cached_property
    def filed(self):
        return self.flow.filed()

    @cached_property
    def investigated(self):  # a record to list as the report's evidence
        case = self.flow.filed()
        workflow.add_record(case, by=self.flow.officer, kind="on_site", content="现场检查。")
        return case

    @cached_property
    def measure(self):
        return workflow.add_measure(self.filed, by=self.s[R.SQUAD_LEADER], kind="seize", items="货架")

    @cached_property
    def emergency_measure(self):
        return workflow.add_emergency_measure(self.filed, by=self.flow.officer, kind="seize", items="货架",
                                              reason="当事人欲转移")

    @cached_property
    def reported(self):
        return self.flow.reported()

    @cached_property
    def notified(self):
        return self.flow.notified()

    @cached_property
    def hearing_notified(self):
        return Flow(self.s, self.flow.m, self.flow.clock, matter="works").notified(fine="8000")

    @cached_property
    def hearing(self):
        return workflow.request_hearing(self.hearing_notified, by=self.flow.officer)

    @cached_property
    def deliberating(self):
        return self.flow.deliberating()

    @cached_property
    def decided(self):
        return self.flow.decided()

    @cached_property
    def executing(self):
        return self.flow.executing()

    @cached_property
    def overdue(self):
        case = self.flow.executing()
        self.flow.clock.advance(20)
        return case

    @cached_property
    def court_ready(self):
        case = self.overdue
        execution.remind(case, by=self.flow.officer)
        self.flow.clock.advance(220)
        return case

    @cached_property
    def application(self):
        return execution.apply_to_court(self.court_ready, by=self.flow.officer, court="闵行区人民法院")

    @cached_property
    def appeal(self):
        return execution.record_appeal(self.executing, by=self.s[R.CASE_REVIEW], kind="reconsideration", body="区政府")

    @cached_property
    def executed(self):
        return execution.record_payment(self.flow.executing(), by=self.flow.officer, amount="200")

    @cached_property
    def closed(self):
        return workflow.close(self.executed, by=self.s[R.SQUAD_LEADER])


def url(attr: str, verb: str = ""):
    return lambda d: f"{API}/{getattr(d.cases, attr).pk}/" + (f"{verb}/" if verb else "")


def status_is(attr: str, status: str):
    return changed(lambda d: getattr(d.cases, attr), status=status)


def command(verb: str, attr: str, allowed, payload=None, then=None):
    return Endpoint(verb, "post", url(attr, verb), allowed=allowed, payload=payload, ok_status=200,
                    target=lambda d: getattr(d.cases, attr), model=Case, check=then)


def lists_only_squad_a(d, response):
    rows = response.json()["results"]
    assert rows
    if d.actor.has_role(R.OFFICER, R.SQUAD_LEADER):
        assert {r["squad"] for r in rows} == {d.org.squad_a.pk}


def _simple_payload(d):
    return {"officers": [(d.actor or d.s[R.OFFICER]).pk, d.s["officer2"].pk], "party": person(5), "matter": d.flow.m["street"].pk,
            "facts": "占道设摊。", "penalty_kind": "fine", "fine": "50", **IN_SQUAD_A}


class TestCaseEndpoints(EndpointMatrix):
    endpoints = [
        Endpoint("list", "get", lambda d: (d.cases.lead, d.cases.lead_b) and f"{API}/", allowed=ALL_ROLES,
                 check=lists_only_squad_a),
        Endpoint("detail", "get", url("lead"), allowed=ALL_ROLES,
                 check=lambda d, r: r.json()["status"] == Status.LEAD and r.json()["deadlines"]),
        Endpoint("detail-squad-b", "get", url("lead_b"), allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("create", "post", lambda d: f"{API}/", allowed=HANDLERS, model=Case,
                 payload=lambda d: {"source_kind": "patrol", "facts": "巡查发现跨门营业。", "parties": [person(3)],
                                    **IN_SQUAD_A}),
        Endpoint("simple", "post", lambda d: f"{API}/simple/", allowed=HANDLERS, model=Case, payload=_simple_payload,
                 check=lambda d, r: r.json()["procedure"] == "simple" and r.json()["status"] == Status.EXECUTING),
        command("file", "lead", APPROVERS,
                payload=lambda d: {"officers": [d.s[R.OFFICER].pk, d.s["officer2"].pk]},
                then=status_is("lead", Status.INVESTIGATING)),
        Endpoint("file-squad-b", "post", url("lead_b", "file"), allowed={R.LEADER},
                 refused_status={R.SQUAD_LEADER: 404}, ok_status=200, target=lambda d: d.cases.lead_b,
                 payload=lambda d: {"officers": [d.s["officer_b"].pk, d.s["officer_b2"].pk]}),
        command("add-party", "lead", HANDLERS, payload=lambda d: person(4)),
        command("assign-officers", "filed", APPROVERS,
                payload=lambda d: {"officers": [d.s["officer2"].pk, d.s[R.OFFICER].pk]}),
        command("add-record", "filed", HANDLERS, payload=lambda d: {"kind": "on_site", "content": "现场检查。"}),
        command("add-measure", "filed", APPROVERS,
                payload=lambda d: {"kind": "preservation", "items": "货架"}),
        command("add-emergency-measure", "filed", HANDLERS,
                payload=lambda d: {"kind": "seize", "items": "货架", "reason": "当事人欲转移"}),
        command("approve-measure", "filed", APPROVERS,
                payload=lambda d: {"measure": d.cases.emergency_measure.pk, "approved": False, "reason": "不属紧急情况"},
                then=changed(lambda d: d.cases.emergency_measure, approval="disapproved", outcome="released")),
        command("extend-measure", "filed", APPROVERS,
                payload=lambda d: {"measure": d.cases.measure.pk, "reason": "需鉴定"}),
        command("end-measure", "filed", HANDLERS,
                payload=lambda d: {"measure": d.cases.measure.pk, "outcome": "returned"}),
        command("report", "investigated", HANDLERS,
                payload=lambda d: {"report_text": "事实清楚。", "penalty_kinds": ["fine"],
                                   "tier": tier(d.flow.m["street"], "一般").pk, "fine": "150"},
                then=status_is("investigated", Status.REPORTED)),
        command("notify", "reported", HANDLERS, then=status_is("reported", Status.NOTIFIED)),
        command("record-statement", "notified", HANDLERS,
                payload=lambda d: {"statement": "已改正。", "reexamination": "采纳。", "revised_fine": "150"}),
        command("waive-statement", "notified", HANDLERS, payload=lambda d: {"note": "书面放弃"},
                then=status_is("notified", Status.DELIBERATION)),
        command("request-hearing", "hearing_notified", HANDLERS, then=status_is("hearing_notified", Status.HEARING)),
        command("schedule-hearing", "hearing", HANDLERS,
                payload=lambda d: {"hearing_on": str(d.flow.clock.today + dt.timedelta(days=20)), "place": "听证室",
                                   "chair": d.s[R.LEGAL_REVIEWER].pk}),
        command("legal-review", "deliberating", REVIEWERS, payload=lambda d: {"passed": True, "opinion": "同意。"}),
        command("transfer-review", "lead", REVIEWERS, payload=lambda d: {"passed": True, "opinion": "同意移送。"},
                then=status_is("lead", Status.LEAD)),
        command("collective-discussion", "deliberating", LEADER,
                payload=lambda d: {"held_on": str(d.flow.clock.today), "minutes": "讨论。", "conclusion": "同意。",
                                   "attendees": [d.s[R.LEADER].pk, d.s["leader2"].pk, d.s["leader3"].pk]}),
        command("extend-deadline", "filed", LEADER, payload=lambda d: {"days": 30, "reason": "案情复杂"}),
        command("decide", "deliberating", LEADER, payload=lambda d: {"outcome": "penalty"},
                then=status_is("deliberating", Status.DECIDED)),
        command("serve", "decided", HANDLERS, payload=lambda d: {"method": ServiceMethod.DIRECT},
                then=status_is("decided", Status.EXECUTING)),
        command("record-payment", "executing", HANDLERS, payload=lambda d: {"amount": "200.00"},
                then=status_is("executing", Status.EXECUTED)),
        command("approve-payment-plan", "executing", LEADER,
                payload=lambda d: {"kind": "deferral", "reason": "经济困难",
                                   "due_on": str(d.cases.executing.payment_due + dt.timedelta(days=30))}),
        command("remind", "overdue", HANDLERS),
        command("apply-to-court", "court_ready", HANDLERS, payload=lambda d: {"court": "闵行区人民法院"}),
        command("record-enforcement", "court_ready", HANDLERS,
                payload=lambda d: {"application": d.cases.application.pk, "result": "enforced"}),
        command("record-appeal", "executing", APPEALS, payload=lambda d: {"kind": "litigation", "body": "区法院"}),
        command("record-appeal-outcome", "executing", APPEALS,
                payload=lambda d: {"appeal": d.cases.appeal.pk, "outcome": "upheld"}),
        command("close", "executed", APPROVERS, then=status_is("executed", Status.CLOSED)),
        command("archive", "closed", ARCHIVERS, then=status_is("closed", Status.ARCHIVED)),
        command("withdraw", "filed", APPROVERS, payload=lambda d: {"reason": "误立"},
                then=status_is("filed", Status.CLOSED)),
        command("transfer", "lead", APPROVERS, payload=lambda d: {"kind": "other_agency", "to": "区市场监管局",
                                                                  "reason": "不属本局职权"}),
    ]

    @pytest.fixture
    def matrix_data(self, org, staff, flow):
        return MatrixData(org=org, users=staff, s=staff, flow=flow, cases=Cases(flow, staff))


# --- beyond the matrix ----------------------------------------------------------------------------

def test_party_identity_masked_without_the_permission(flow, staff):
    case = flow.lead()
    full = api_client(staff[R.OFFICER]).get(f"{API}/{case.pk}/").json()["parties"][0]
    masked = api_client(staff[R.DISPATCHER]).get(f"{API}/{case.pk}/").json()["parties"][0]
    assert full["id_number"] == id_number(1) and full["phone"] == "13812345678"
    assert masked["id_number"] == id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert masked["phone"] == "138****5678" and masked["name"] == "张*丰" and masked["address"] == ""


@pytest.mark.parametrize(("party", "field", "code"), [
    ({"id_number": "310112198501010010"}, "parties[0].id_number", "invalid_id_number"),
    ({"id_number": "31011219851301001X"}, "parties[0].id_number", "invalid_id_number"),
    ({"kind": "organisation", "credit_code": "91310112000000001A", "legal_representative": "李四"},
     "parties[0].credit_code", "invalid_credit_code"),
])
def test_malformed_identity_refused_with_the_field(flow, staff, party, field, code):
    before = Case.objects.count()
    response = send(api_client(staff[R.OFFICER]), "post", f"{API}/",
                    {"source_kind": "patrol", "facts": "…", "parties": [person(2, **party)], **IN_SQUAD_A})
    body = assert_error_body(response, 400)
    assert body["code"] == code and body["errors"][0]["field"] == field
    assert Case.objects.count() == before


def test_transfer_to_police_without_review_answers_409(flow, staff):
    case = flow.lead()
    response = send(api_client(staff[R.SQUAD_LEADER]), "post", f"{API}/{case.pk}/transfer/",
                    {"kind": "public_security", "to": "闵行公安分局", "reason": "涉嫌犯罪"})
    body = assert_error_body(response, 409)
    assert body["code"] == "transfer_review_required" and "第三条第（三）项" in body["article"]
    case.refresh_from_db()
    assert case.status == Status.LEAD


def test_emergency_measure_reported_late_answers_409(flow, staff, clock_at):
    case = flow.filed()
    late = (clock_at.moment - dt.timedelta(hours=25)).isoformat()
    response = send(api_client(staff[R.OFFICER]), "post", f"{API}/{case.pk}/add-emergency-measure/",
                    {"kind": "seal", "items": "棚屋", "reason": "正在搭建", "started_at": late})
    body = assert_error_body(response, 409)
    assert body["code"] == "emergency_report_late" and "《中华人民共和国行政强制法》第十九条" in body["message"]
    assert not case.measures.exists()
    response = send(api_client(staff[R.OFFICER]), "post", f"{API}/{case.pk}/add-measure/",
                    {"kind": "seal", "items": "棚屋"})  # without an emergency, prior approval (ACL art. 18)
    assert response.status_code == 403 and not case.measures.exists()


def test_refused_step_answers_409_with_article(flow, staff):
    case = flow.notified()
    response = send(api_client(staff[R.LEADER]), "post", f"{API}/{case.pk}/decide/", {"outcome": "penalty"})
    body = assert_error_body(response, 409)
    assert body["code"] == "statement_period_running" and "第六十二条" in body["article"]
    assert "第六十二条" in body["message"]


def test_float_amount_refused(flow, staff):
    case = flow.executing()
    response = send(api_client(staff[R.OFFICER]), "post", f"{API}/{case.pk}/record-payment/", {"amount": 200.0})
    assert assert_error_body(response, 400)["code"] == "float_not_allowed"


def test_list_filters(flow, staff):
    lead, notified = flow.lead(), flow.notified()
    client = api_client(staff[R.LEADER])
    assert ids(client.get(f"{API}/?status=notified")) == {notified.pk}
    assert ids(client.get(f"{API}/?squad={lead.squad_id}&status=lead")) == {lead.pk}
    assert notified.pk in ids(client.get(f"{API}/?deadline_before={notified.statement_due}"))
    assert ids(client.get(f"{API}/?overdue=true")) == set()
    rows = client.get(f"{API}/").json()["results"]
    assert [r["next_deadline"] for r in rows] == sorted(r["next_deadline"] for r in rows)
