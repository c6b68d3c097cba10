"""Work-orders REST API: the role × endpoint matrix for every endpoint (refused calls change
nothing, out-of-scope orders answer 404), then what the matrix does not show: intake by API
key with its idempotency, bad input answered with a Chinese message and a stable code (and
nothing saved), masking of the reporter's contact, the refused transitions (409), the
category and time-limit administration and the 诉转案 statistics."""

import datetime as dt
from functools import cached_property
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from chengguan.core.api.errors import is_chinese
from chengguan.core.api_testing import (
    ALL_ROLES,
    SQUAD_ROLES,
    Endpoint,
    EndpointMatrix,
    MatrixData,
    api_client,
    assert_error_body,
    changed,
    created,
    ids,
    send,
)
from chengguan.core.choices import RoleCode
from chengguan.core.evidence import store_evidence
from chengguan.core.models import AuditEvent
from chengguan.core.tests.test_evidence import png_bytes
from chengguan.workorders.choices import RepeatStatus, RequestKind, RequestStatus, Result, Status
from chengguan.workorders.models import (
    CaseConversion,
    Category,
    ClockRequest,
    IntakeClient,
    RepeatCandidate,
    TimeLimitRule,
    WorkOrder,
)
from chengguan.workorders.services import clients, intake, workflow

pytestmark = pytest.mark.django_db

API = "/api/v1/workorders"
R = RoleCode
IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}
IN_SQUAD_B = {"lon": 121.425, "lat": 31.105}
PHONE = "13812345678"

# Who holds each workflow permission (workorders/permissions.py).
DISPATCHERS = {R.DISPATCHER, R.SQUAD_LEADER, R.ADMIN}
HANDLERS = {R.OFFICER, R.SQUAD_LEADER}
VERIFIERS = {R.DISPATCHER, R.SUPERVISOR}
APPROVERS = {R.DISPATCHER, R.LEADER}
SUPERVISORS = {R.SUPERVISOR, R.LEADER}
ADDERS = {R.OFFICER, R.SQUAD_LEADER, R.DISPATCHER, R.ADMIN}
INTAKE = {R.DISPATCHER, R.ADMIN}
STATS = {R.DISPATCHER, R.SQUAD_LEADER, R.SUPERVISOR, R.LEADER, R.ADMIN}
ADMIN = {R.ADMIN}


def receive(users, where=IN_SQUAD_A, **extra) -> WorkOrder:
    fields = {"channel": "12345", "text": "小区门口有人占道摆摊卖水果，影响通行。", "category": "street_occupation",
              "reporter_name": "张三", "reporter_phone": PHONE, **where, **extra}
    return intake.receive(by=users[R.DISPATCHER], **fields).order


class Orders:
    """Orders of squad A in each state (squad B where named), made on first use."""

    def __init__(self, users):
        self.users = users
        self.dispatcher, self.officer = users[R.DISPATCHER], users[R.OFFICER]

    @cached_property
    def received(self):
        return receive(self.users)

    @cached_property
    def other_received(self):
        return receive(self.users, text="菜市场门口有人乱堆杂物。", category="road_stacking")

    @cached_property
    def received_b(self):
        return receive(self.users, IN_SQUAD_B)

    @cached_property
    def accepted(self):
        return workflow.accept(receive(self.users), by=self.dispatcher)

    @cached_property
    def dispatched(self):
        return workflow.dispatch(workflow.accept(receive(self.users), by=self.dispatcher), by=self.dispatcher)

    @cached_property
    def replied(self):
        order = workflow.start(self.dispatched_fresh(), by=self.officer)
        return workflow.reply(order, by=self.officer, findings="到场劝离摊贩。", result=Result.RESOLVED,
                              reply_text="已劝离。")

    @cached_property
    def verified(self):
        return workflow.verify(self.replied, by=self.users[R.SUPERVISOR], passed=True)

    @cached_property
    def suspended(self):
        request = workflow.request_clock(self.dispatched_fresh(), by=self.officer, kind=RequestKind.SUSPENSION,
                                         reason="当事人外出，待其返回后处理。")
        workflow.decide_clock(request, by=self.dispatcher, approve=True)
        return WorkOrder.objects.get(pk=request.order_id)

    @cached_property
    def clock_request(self):
        return workflow.request_clock(self.dispatched_fresh(), by=self.officer, kind=RequestKind.EXTENSION,
                                      reason="需协调多个部门。", extra_days=3)

    @cached_property
    def candidate(self):
        original = receive(self.users)
        order = receive(self.users)
        found = RepeatCandidate.objects.filter(order=order, original=original).first()
        if found is None:  # the repeat finder's thresholds are not this test's business
            found = RepeatCandidate(order=order, original=original, score=0.9, reason="同一地点相同内容")
            found.save()
        return found

    def dispatched_fresh(self):
        return workflow.dispatch(workflow.accept(receive(self.users), by=self.dispatcher), by=self.dispatcher)


def order_url(attr: str, verb: str = ""):
    return lambda d: f"{API}/{getattr(d.orders, attr).pk}/" + (f"{verb}/" if verb else "")


def order_target(attr: str):
    return lambda d: getattr(d.orders, attr)


def status_is(attr: str, status: str):
    return changed(lambda d: getattr(d.orders, attr), status=status)


def lists_only_squad_a(d, response):
    rows = response.json()["results"]
    assert rows, "the list shows the orders in the caller's scope"
    if d.actor.has_role(R.OFFICER, R.SQUAD_LEADER):
        assert {r["squad"] for r in rows} == {d.org.squad_a.pk}


def command(name, attr, verb, allowed, payload=None, then=None):
    return Endpoint(name, "post", order_url(attr, verb), allowed=allowed, payload=payload, ok_status=200,
                    target=order_target(attr), check=then)


class TestWorkOrderEndpoints(EndpointMatrix):
    endpoints = [
        # (the url builder makes the orders, before the "before" snapshot)
        Endpoint("list", "get", lambda d: (d.orders.received, d.orders.received_b) and f"{API}/", allowed=ALL_ROLES,
                 check=lists_only_squad_a),
        Endpoint("detail", "get", order_url("received"), allowed=ALL_ROLES,
                 check=lambda d, r: r.json()["number"] == d.orders.received.number),
        Endpoint("detail-squad-b", "get", order_url("received_b"), allowed=ALL_ROLES - SQUAD_ROLES,
                 refused_status=404),
        Endpoint("create", "post", lambda d: f"{API}/", allowed=ADDERS, model=WorkOrder,
                 payload=lambda d: {"text": "巡查发现沿街商铺跨门经营。", "category": "cross_door", **IN_SQUAD_A},
                 check=created(WorkOrder, channel="patrol")),
        Endpoint("intake-by-staff", "post", lambda d: f"{API}/intake/", allowed=INTAKE, model=WorkOrder,
                 payload=lambda d: {"channel": "12345", "external_ticket": "HL-MATRIX", "text": "夜间施工噪声扰民。"},
                 check=created(WorkOrder, external_ticket="HL-MATRIX")),
        command("accept", "received", "accept", DISPATCHERS, then=status_is("received", Status.ACCEPTED)),
        Endpoint("accept-squad-b", "post", order_url("received_b", "accept"), allowed=INTAKE,
                 refused_status={R.SQUAD_LEADER: 404}, target=order_target("received_b"), ok_status=200),
        command("dispatch", "accepted", "dispatch", DISPATCHERS,
                payload=lambda d: {"assignee": d.users[R.OFFICER].pk, "note": "请尽快处理"},
                then=changed(lambda d: d.orders.accepted, status=Status.DISPATCHED)),
        command("reassign", "dispatched", "reassign", DISPATCHERS,
                payload=lambda d: {"assignee": d.users[R.OFFICER].pk, "note": "改由熟悉该片区的队员处置"}),
        command("assign", "dispatched", "assign", DISPATCHERS, payload=lambda d: {"assignee": d.users[R.OFFICER].pk},
                then=lambda d, r: r.json()["assignee"] == d.users[R.OFFICER].pk),
        command("start", "dispatched", "start", HANDLERS, then=status_is("dispatched", Status.HANDLING)),
        command("reply", "dispatched", "reply", HANDLERS,
                payload=lambda d: {"findings": "到场时摊贩已离开。", "result": "resolved", "reply_text": "已处理。"},
                then=status_is("dispatched", Status.REPLIED)),
        command("return", "dispatched", "return", HANDLERS, payload=lambda d: {"reason": "点位不在本中队辖区"},
                then=status_is("dispatched", Status.RETURNED)),
        command("verify", "replied", "verify", VERIFIERS, payload=lambda d: {"passed": True},
                then=status_is("replied", Status.VERIFIED)),
        command("close", "verified", "close", VERIFIERS, then=status_is("verified", Status.CLOSED)),
        command("reject", "received", "reject", DISPATCHERS, payload=lambda d: {"reason": "属物业管理范围"},
                then=status_is("received", Status.REJECTED)),
        command("merge", "received", "merge", DISPATCHERS, payload=lambda d: {"parent": d.orders.other_received.pk},
                then=status_is("received", Status.MERGED)),
        command("escalate", "received", "escalate", SUPERVISORS, payload=lambda d: {"reason": "市民多次反映"},
                then=changed(lambda d: d.orders.received, supervised=True)),
        command("classify", "received", "classify", DISPATCHERS,
                payload=lambda d: {"category": Category.objects.get(code="noise").pk},
                then=lambda d, r: r.json()["category"] == Category.objects.get(code="noise").pk),
        command("locate", "received", "locate", DISPATCHERS, payload=lambda d: {"lon": 121.415, "lat": 31.105},
                then=lambda d, r: r.json()["grid"] == d.org.grid_a2.pk),
        command("request-extension", "dispatched", "request-extension", HANDLERS,
                payload=lambda d: {"reason": "需协调多个部门", "extra_days": 3},
                then=lambda d, r: r.json()["clock_requests"][0]["status"] == "pending"),
        command("request-suspension", "dispatched", "request-suspension", HANDLERS,
                payload=lambda d: {"reason": "当事人外出"}),
        command("resume", "suspended", "resume", APPROVERS, then=status_is("suspended", Status.DISPATCHED)),
        command("rate", "replied", "rate", DISPATCHERS, payload=lambda d: {"satisfaction": "satisfied"},
                then=changed(lambda d: d.orders.replied, satisfaction="satisfied")),
        command("convert-to-case", "dispatched", "convert-to-case", HANDLERS,
                payload=lambda d: {"facts": "当事人在人行道上设摊经营。", "party_name": "王五"},
                then=lambda d, r: r.json()["case_conversion"]["facts"] == "当事人在人行道上设摊经营。"),
        Endpoint("clock-request-decide", "post", lambda d: f"{API}/clock-requests/{d.orders.clock_request.pk}/decide/",
                 allowed=APPROVERS, payload=lambda d: {"approve": True}, ok_status=200,
                 target=lambda d: d.orders.clock_request,
                 check=changed(lambda d: d.orders.clock_request, status=RequestStatus.APPROVED)),
        Endpoint("repeat-dismiss", "post", lambda d: f"{API}/repeat-candidates/{d.orders.candidate.pk}/dismiss/",
                 allowed=DISPATCHERS, ok_status=200, target=lambda d: d.orders.candidate,
                 check=changed(lambda d: d.orders.candidate, status=RepeatStatus.DISMISSED)),
        Endpoint("categories", "get", lambda d: f"{API}/categories/", allowed=ALL_ROLES,
                 check=lambda d, r: "street_occupation" in {c["code"] for row in r.json() for c in row["children"]}),
        Endpoint("category-create", "post", lambda d: f"{API}/categories/", allowed=ADMIN, model=Category,
                 payload=lambda d: {"code": "night_market", "name": "夜市管理", "limit_amount": "2",
                                    "parent": Category.objects.get(code="street_order").pk},
                 check=created(Category, code="night_market")),
        Endpoint("category-update", "patch", lambda d: f"{API}/categories/{Category.objects.get(code='noise').pk}/",
                 allowed=ADMIN, payload=lambda d: {"keywords": "噪声 扰民 夜间施工"},
                 target=lambda d: Category.objects.get(code="noise"),
                 check=changed(lambda d: Category.objects.get(code="noise"), keywords="噪声 扰民 夜间施工")),
        Endpoint("time-limits", "get", lambda d: f"{API}/time-limits/", allowed=ALL_ROLES),
        Endpoint("time-limit-create", "post", lambda d: f"{API}/time-limits/", allowed=ADMIN, model=TimeLimitRule,
                 payload=lambda d: {"stage": "reply", "channel": "media", "kind": "working_days", "amount": "2",
                                    "basis": "媒体曝光件从快办理"},
                 check=created(TimeLimitRule, channel="media")),
        Endpoint("time-limit-update", "patch",
                 lambda d: f"{API}/time-limits/{TimeLimitRule.objects.get(stage='accept', channel='').pk}/",
                 allowed=ADMIN, payload=lambda d: {"amount": "1.5"},
                 target=lambda d: TimeLimitRule.objects.get(stage="accept", channel="")),
        Endpoint("conversion-rate", "get", lambda d: f"{API}/stats/conversion-rate/", allowed=STATS),
        Endpoint("indicators", "get", lambda d: f"{API}/stats/indicators/", allowed=STATS),
    ]

    @pytest.fixture
    def matrix_data(self, org, users):
        return MatrixData(org=org, users=users, orders=Orders(users))


# --- intake by API key ------------------------------------------------------------------------


@pytest.fixture
def hotline(org, users):
    client, key = clients.create_client(by=users[R.ADMIN], name="市12345平台", channel="12345")
    return client, key


def key_client(key, header="authorization") -> APIClient:
    client = APIClient()
    if header == "authorization":
        client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    else:
        client.credentials(HTTP_X_API_KEY=key)
    return client


def post(client, url, payload):
    return send(client, "post", url, payload)


TICKET = {"external_ticket": "HL-2024-0001", "text": "夜间施工噪声扰民，影响休息。", **IN_SQUAD_A}


def test_a_client_submits_with_its_key_and_its_channel(hotline, org):
    client, key = hotline
    response = post(key_client(key), f"{API}/intake/", TICKET)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True and body["channel"] == "12345" and body["number"].startswith("GD")
    order = WorkOrder.objects.get(pk=body["id"])
    assert (order.created_by, order.status, order.squad) == (client.user, Status.RECEIVED, org.squad_a)
    assert order.steps.get().actor == client.user


def test_a_resent_ticket_answers_200_with_the_original_order(hotline):
    _, key = hotline
    first = post(key_client(key), f"{API}/intake/", TICKET).json()
    rows = WorkOrder.objects.count()
    again = post(key_client(key, header="x-api-key"), f"{API}/intake/", {**TICKET, "text": "重发"})
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["created"]) == (first["id"], False)
    assert WorkOrder.objects.count() == rows


def test_a_batch_with_a_resent_ticket_and_a_new_one(hotline):
    _, key = hotline
    first = post(key_client(key), f"{API}/intake/", TICKET).json()
    batch = {"orders": [TICKET, {"external_ticket": "HL-2024-0002", "text": "小区门口乱堆建筑垃圾。"}]}
    response = post(key_client(key), f"{API}/intake/", batch)
    assert response.status_code == 201
    rows = response.json()["orders"]
    assert [(r["id"] == first["id"], r["created"]) for r in rows] == [(True, False), (False, True)]
    assert WorkOrder.objects.filter(external_ticket__startswith="HL-2024-").count() == 2
    # the same batch again: nothing new, so 200
    assert post(key_client(key), f"{API}/intake/", batch).status_code == 200


def test_a_client_may_submit_only_its_own_channel(hotline):
    _, key = hotline
    response = post(key_client(key), f"{API}/intake/", {**TICKET, "channel": "12319"})
    body = assert_error_body(response, 400)
    assert body["code"] == "channel_not_allowed" and body["errors"][0]["field"] == "channel"
    assert not WorkOrder.objects.exists()


def test_wrong_rotated_or_deactivated_keys_are_refused(hotline, users):
    client, key = hotline
    assert assert_error_body(post(key_client("not-a-key"), f"{API}/intake/", TICKET), 401)["code"] == "invalid_api_key"
    _, new_key = clients.rotate_key(client, users[R.ADMIN])
    assert post(key_client(key), f"{API}/intake/", TICKET).status_code == 401
    assert post(key_client(new_key), f"{API}/intake/", TICKET).status_code == 201
    clients.deactivate(client, users[R.ADMIN])
    response = post(key_client(new_key), f"{API}/intake/", {**TICKET, "external_ticket": "HL-X"})
    assert assert_error_body(response, 401)["code"] == "invalid_api_key"
    assert not WorkOrder.objects.filter(external_ticket="HL-X").exists()


def test_a_client_key_opens_nothing_but_intake(hotline):
    _, key = hotline
    # other endpoints do not take API keys at all
    assert assert_error_body(key_client(key).get(f"{API}/"), 401)["code"] == "not_authenticated"


def test_only_administrators_manage_clients(users):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        clients.create_client(by=users[R.DISPATCHER], name="某平台", channel="12345")
    assert not IntakeClient.objects.exists()


def test_the_command_prints_a_working_key(org, users):
    out = StringIO()
    call_command("create_intake_client", "市12319平台", "--channel", "12319", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    client = IntakeClient.objects.get(name="市12319平台")
    assert client.user.username.startswith("intake-") and not client.user.has_usable_password()
    assert key not in (client.key_digest, "") and client.key_prefix == key[:8]
    response = post(key_client(key), f"{API}/intake/", {"text": "道路扬尘严重。", **IN_SQUAD_A})
    assert response.status_code == 201 and response.json()["channel"] == "12319"


# --- bad input: a Chinese message, a stable code, nothing saved ---------------------------------


BAD_INTAKE = [
    ({**TICKET, "text": ""}, "required", "text"),
    ({**TICKET, "text": "很" * 6000}, "too_long", "text"),
    ({**TICKET, "lat": 95}, "invalid_coordinates", "lat"),
    ({**TICKET, "lon": "东经121度"}, "invalid_coordinates", "lon"),
    ({**TICKET, "channel": "wechat"}, "unknown_channel", "channel"),
    ({**TICKET, "category": "no_such_category"}, "unknown_category", "category"),
    ({**TICKET, "text": 12345}, "invalid", "text"),
    ({**TICKET, "wants_reply": "maybe"}, "invalid", "wants_reply"),
    ({**TICKET, "received_at": "yesterday"}, "invalid_datetime", "received_at"),
    ({**TICKET, "reporter_phone": "call me"}, "invalid_phone", "reporter_phone"),
]


@pytest.mark.parametrize(("payload", "code", "field"), BAD_INTAKE, ids=[c for _, c, _ in BAD_INTAKE])
def test_bad_intake_is_refused_and_nothing_saved(users, payload, code, field):
    payload = {"channel": "12345", **payload}
    before = (WorkOrder.objects.count(), AuditEvent.objects.count())
    body = assert_error_body(post(api_client(users[R.DISPATCHER]), f"{API}/intake/", payload), 400)
    assert (body["code"], body["errors"][0]["field"]) == (code, field)
    assert is_chinese(body["message"])
    assert (WorkOrder.objects.count(), AuditEvent.objects.count()) == before


def test_one_bad_order_in_a_batch_saves_none(users):
    batch = {"orders": [{**TICKET, "channel": "12345"}, {"channel": "12345", "text": ""}]}
    body = assert_error_body(post(api_client(users[R.DISPATCHER]), f"{API}/intake/", batch), 400)
    assert body["errors"][0]["field"] == "orders[1].text"
    assert not WorkOrder.objects.exists()


def test_an_oversized_batch_is_refused(users, settings):
    settings.WORKORDER_INTAKE_BATCH = 3
    batch = {"orders": [{"channel": "12345", "text": f"第{i}件"} for i in range(4)]}
    body = assert_error_body(post(api_client(users[R.DISPATCHER]), f"{API}/intake/", batch), 400)
    assert body["code"] == "too_many" and is_chinese(body["message"])
    assert not WorkOrder.objects.exists()


def test_orders_must_be_a_list(users):
    body = assert_error_body(post(api_client(users[R.DISPATCHER]), f"{API}/intake/", {"orders": "x"}), 400)
    assert body["code"] == "invalid"


def test_an_expired_token_is_refused(users, settings):
    client = api_client(users[R.DISPATCHER])
    Token.objects.filter(user=users[R.DISPATCHER]).update(
        created=timezone.now() - dt.timedelta(days=settings.API_TOKEN_TTL_DAYS + 1))
    body = assert_error_body(post(client, f"{API}/intake/", {**TICKET, "channel": "12345"}), 401)
    assert body["code"] == "token_expired" and is_chinese(body["message"])
    assert not WorkOrder.objects.exists()


def test_staff_report_other_channels_only_with_the_intake_right(users):
    response = post(api_client(users[R.OFFICER]), f"{API}/", {"channel": "12345", "text": "占道经营", **IN_SQUAD_A})
    assert assert_error_body(response, 403)["code"] == "permission_denied"
    assert not WorkOrder.objects.exists()


def test_a_patrol_report_with_photos(users, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    officer = users[R.OFFICER]
    photo = store_evidence(SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"), by=officer,
                           squad=officer.org_unit)
    response = post(api_client(officer), f"{API}/", {"text": "人行道上堆放建筑材料。", "photos": [photo.pk],
                                                     **IN_SQUAD_A})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["photos"], body["created_by"]) == ("patrol", [photo.pk], officer.pk)
    response = post(api_client(officer), f"{API}/", {"text": "再报一件", "photos": [photo.pk + 999]})
    assert assert_error_body(response, 400)["code"] == "does_not_exist"


# --- masking ------------------------------------------------------------------------------------


def test_the_reporter_phone_is_masked_unless_the_role_may_see_it(users):
    order = receive(users)
    for role, phone, name in [(R.SUPERVISOR, "138****5678", "张*"), (R.LEADER, "138****5678", "张*"),
                              (R.DISPATCHER, PHONE, "张三"), (R.OFFICER, PHONE, "张三")]:
        client = api_client(users[role])
        row = next(r for r in client.get(f"{API}/").json()["results"] if r["id"] == order.pk)
        detail = client.get(f"{API}/{order.pk}/").json()
        assert (row["reporter_phone"], detail["reporter_phone"]) == (phone, phone), role
        assert detail["reporter_name"] == name, role


# --- list, detail ---------------------------------------------------------------------------------


def test_the_list_filters_and_pages(users):
    a, b = receive(users), receive(users, IN_SQUAD_B, category="noise", text="夜间施工噪声")
    client = api_client(users[R.DISPATCHER])
    assert ids(client.get(f"{API}/?category={a.category_id}")) == {a.pk}
    assert ids(client.get(f"{API}/?squad={b.squad_id}")) == {b.pk}
    assert ids(client.get(f"{API}/?q={b.number}")) == {b.pk}
    first = client.get(f"{API}/?page_size=1").json()
    assert len(first["results"]) == 1 and first["next"]
    assert len(client.get(first["next"]).json()["results"]) == 1


def test_the_list_costs_the_same_few_queries_for_many_orders(users, django_assert_max_num_queries):
    for i in range(12):
        receive(users, text=f"第{i}处占道经营")
    client = api_client(users[R.DISPATCHER])
    with django_assert_max_num_queries(8):
        assert len(client.get(f"{API}/").json()["results"]) == 12


def test_the_detail_shows_timeline_candidates_and_allowed_actions(users):
    order = workflow.accept(receive(users), by=users[R.DISPATCHER])
    body = api_client(users[R.DISPATCHER]).get(f"{API}/{order.pk}/").json()
    assert [(s["action"], s["action_display"]) for s in body["steps"]] == [("receive", "受理"), ("accept", "签收")]
    assert {"dispatch", "reject", "merge"} <= {a["action"] for a in body["allowed_actions"]}
    officer_view = api_client(users[R.OFFICER]).get(f"{API}/{order.pk}/").json()
    assert "dispatch" not in {a["action"] for a in officer_view["allowed_actions"]}


# --- refused transitions ----------------------------------------------------------------------


WRONG_STATE = [  # (verb, order state, payload, role allowed to run it in the right state)
    ("accept", "dispatched", {}, R.DISPATCHER),
    ("dispatch", "received", {}, R.DISPATCHER),
    ("reassign", "received", {"note": "改派"}, R.DISPATCHER),
    ("assign", "received", "officer", R.DISPATCHER),
    ("start", "received", {}, R.OFFICER),
    ("reply", "received", {"findings": "现场", "result": "resolved", "reply_text": "好"}, R.OFFICER),
    ("return", "received", {"reason": "不归我们"}, R.OFFICER),
    ("verify", "received", {"passed": True}, R.SUPERVISOR),
    ("close", "received", {}, R.SUPERVISOR),
    ("reject", "dispatched", {"reason": "非职责"}, R.DISPATCHER),
    ("merge", "replied", "parent", R.DISPATCHER),
    ("escalate", "verified", {"reason": "督办"}, R.SUPERVISOR),
    ("classify", "replied", "category", R.DISPATCHER),
    ("locate", "dispatched", IN_SQUAD_A, R.DISPATCHER),
    ("request-extension", "received", {"reason": "需要时间", "extra_days": 2}, R.OFFICER),
    ("request-suspension", "received", {"reason": "当事人外出"}, R.OFFICER),
    ("resume", "received", {}, R.DISPATCHER),
    ("rate", "received", {"satisfaction": "satisfied"}, R.DISPATCHER),
    ("convert-to-case", "received", {"facts": "违法事实"}, R.OFFICER),
]


@pytest.mark.parametrize(("verb", "state", "payload", "role"), WRONG_STATE, ids=[w[0] for w in WRONG_STATE])
def test_a_step_in_the_wrong_state_is_refused_with_409(users, verb, state, payload, role):
    orders = Orders(users)
    order = getattr(orders, state)
    payload = {"officer": {"assignee": users[R.OFFICER].pk}, "parent": {"parent": orders.other_received.pk},
               "category": {"category": Category.objects.get(code="noise").pk}}.get(payload, payload) \
        if isinstance(payload, str) else payload
    order.refresh_from_db()
    before = (order.status, order.steps.count(), AuditEvent.objects.count())
    body = assert_error_body(post(api_client(users[role]), f"{API}/{order.pk}/{verb}/", payload), 409)
    assert body["code"] == "invalid_transition" and is_chinese(body["message"])
    order.refresh_from_db()
    assert (order.status, order.steps.count(), AuditEvent.objects.count()) == before


def test_rework_and_out_of_remit_answer_their_own_codes(users):
    orders = Orders(users)
    client = api_client(users[R.SUPERVISOR])
    body = assert_error_body(post(client, f"{API}/{orders.replied.pk}/verify/", {"passed": False}), 400)
    assert (body["code"], body["errors"][0]["field"]) == ("required", "note")
    response = post(client, f"{API}/{orders.replied.pk}/verify/", {"passed": False, "note": "现场仍有摊贩"})
    assert response.status_code == 200 and response.json()["status"] == Status.HANDLING
    outside = receive(users, category="out_of_remit", text="物业不作为")
    workflow.accept(outside, by=users[R.DISPATCHER])
    body = assert_error_body(post(api_client(users[R.DISPATCHER]), f"{API}/{outside.pk}/dispatch/", {}), 409)
    assert body["code"] == "out_of_remit"


def test_references_outside_the_scope_read_as_missing(users, org):
    orders = Orders(users)
    leader = users[R.SQUAD_LEADER]
    response = post(api_client(leader), f"{API}/{orders.accepted.pk}/dispatch/", {"squad": org.squad_b.pk})
    assert assert_error_body(response, 400)["errors"][0]["field"] == "squad"
    response = post(api_client(leader), f"{API}/{orders.received.pk}/merge/", {"parent": orders.received_b.pk})
    assert assert_error_body(response, 400)["errors"][0]["field"] == "parent"
    assert WorkOrder.objects.get(pk=orders.received.pk).status == Status.RECEIVED


def test_one_cannot_approve_ones_own_request(users):
    request = Orders(users).clock_request
    dispatcher = users[R.DISPATCHER]
    request.requested_by = dispatcher
    request.save()
    body = assert_error_body(post(api_client(dispatcher), f"{API}/clock-requests/{request.pk}/decide/",
                                  {"approve": True}), 409)
    assert body["code"] == "self_approval"
    assert ClockRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "code", "field"), [
    ({"code": "noise", "name": "重复"}, "duplicate", "code"),
    ({"code": "Bad Code", "name": "坏代码"}, "invalid", "code"),
    ({"code": "zero", "name": "零时限", "limit_amount": "0"}, "out_of_range", "limit_amount"),
    ({"code": "orphan", "name": "无上级", "parent": 999999}, "does_not_exist", "parent"),
])
def test_bad_categories_are_refused(users, payload, code, field):
    rows = Category.objects.count()
    body = assert_error_body(post(api_client(users[R.ADMIN]), f"{API}/categories/", payload), 400)
    assert (body["code"] if not body["errors"] else body["errors"][0]["code"], body["errors"][0]["field"]) == (
        code, field)
    assert Category.objects.count() == rows


def test_a_category_cannot_move_under_its_own_child(users):
    parent, child = Category.objects.get(code="street_order"), Category.objects.get(code="street_occupation")
    response = send(api_client(users[R.ADMIN]), "patch", f"{API}/categories/{parent.pk}/", {"parent": child.pk})
    assert assert_error_body(response, 400)["code"] == "cycle"
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_a_new_category_is_a_service_and_takes_orders(users):
    client = api_client(users[R.ADMIN])
    parent = Category.objects.get(code="street_order")
    assert post(client, f"{API}/categories/", {"code": "night_market", "name": "夜市管理", "parent": parent.pk,
                                               "limit_amount": "2"}).status_code == 201
    order = receive(users, category="night_market")
    assert order.category.code == "night_market"


def test_a_duplicate_time_limit_is_refused(users):
    body = assert_error_body(post(api_client(users[R.ADMIN]), f"{API}/time-limits/",
                                  {"stage": "accept", "kind": "working_hours", "amount": "3"}), 400)
    assert body["code"] == "duplicate"


# --- statistics ---------------------------------------------------------------------------------


def test_conversion_rate_by_squad(users, org):
    orders = Orders(users)
    converted = orders.dispatched_fresh()
    workflow.convert_to_case(converted, by=users[R.OFFICER], facts="占道经营，多次劝阻无效。")
    orders.dispatched_fresh()
    receive(users, IN_SQUAD_B)
    workflow.reject(receive(users), by=users[R.DISPATCHER], reason="非本部门职责")  # not counted
    workflow.merge(receive(users), by=users[R.DISPATCHER], parent=converted)  # not counted
    today = timezone.localdate().isoformat()
    body = api_client(users[R.LEADER]).get(f"{API}/stats/conversion-rate/?start={today}&end={today}").json()
    rows = {r["squad"]: (r["received"], r["converted"], r["rate"]) for r in body["squads"]}
    assert rows == {org.squad_a.pk: (2, 1, 0.5), org.squad_b.pk: (1, 0, 0.0)}
    assert CaseConversion.objects.count() == 1
    # a squad leader sees his squad only
    body = api_client(users[R.SQUAD_LEADER]).get(f"{API}/stats/conversion-rate/").json()
    assert [r["squad"] for r in body["squads"]] == [org.squad_a.pk]


def test_conversion_rate_refuses_a_reversed_range(users):
    response = api_client(users[R.LEADER]).get(f"{API}/stats/conversion-rate/?start=2024-05-02&end=2024-05-01")
    assert assert_error_body(response, 400)["code"] == "invalid_range"
