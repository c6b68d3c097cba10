"""Open311 GeoReport v2 conformance: the JSON and XML shapes of every resource, the required
fields, the error format, api_key on POST, the filters of GET requests, and no reporter
personal data on the public answers."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from chengguan.core.choices import RoleCode
from chengguan.workorders.choices import Status
from chengguan.workorders.models import Category, WorkOrder
from chengguan.workorders.services import clients, intake, workflow

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


@pytest.fixture
def app(org, users):
    _, key = clients.create_client(by=users[RoleCode.ADMIN], name="随手拍 App", channel="open311")
    return key


@pytest.fixture
def web():
    return Client()


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def order(users, **extra) -> WorkOrder:
    fields = {"channel": "12345", "text": "张三反映：楼下烧烤摊油烟扰民，电话13812345678，邻居13900002222也反映过。", "category": "cooking_fumes",
              "reporter_name": "张三", "reporter_phone": "13812345678", **IN_SQUAD_A, **extra}
    return intake.receive(by=users[RoleCode.DISPATCHER], **fields).order


def new_request(web, key, **fields):
    data = {"api_key": key, "service_code": "street_occupation", "lat": "31.105", "long": "121.405",
            "description": "人行道上有人摆摊卖水果。", "first_name": "四", "last_name": "李", "phone": "13900001111",
            "email": "li@example.com", **fields}
    return web.post(f"{BASE}/requests.json", {k: v for k, v in data.items() if v is not None})


def assert_error(response, status, fmt="json") -> str:
    assert response.status_code == status
    if fmt == "json":
        body = response.json()
        assert isinstance(body, list) and set(body[0]) == {"code", "description"} and body[0]["code"] == status
        return body[0]["description"]
    root = xml(response)
    assert root.tag == "errors" and [e.tag for e in root[0]] == ["code", "description"]
    assert root.find("error/code").text == str(status)
    return root.find("error/description").text


# --- services -----------------------------------------------------------------------------------


def test_services_json_lists_active_leaf_categories(web, db):
    body = web.get(f"{BASE}/services.json").json()
    codes = {s["service_code"] for s in body}
    assert all(set(s) == SERVICE_FIELDS for s in body)
    assert "street_occupation" in codes and "waste_sorting" in codes
    assert "street_order" not in codes, "a category with children is a group, not a service"
    assert "out_of_remit" not in codes
    service = next(s for s in body if s["service_code"] == "street_occupation")
    assert (service["group"], service["metadata"], service["type"]) == ("街面秩序", False, "realtime")
    assert "摆摊" in service["keywords"].split(",")


def test_services_xml_shape(web, db):
    root = xml(web.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and {child.tag for child in root} == {"service"}
    first = root[0]
    assert {child.tag for child in first} == SERVICE_FIELDS
    assert first.find("metadata").text == "false"


def test_a_deactivated_category_is_no_service(web, db):
    category = Category.objects.get(code="noise")
    category.is_active = False
    category.save()
    assert "noise" not in {s["service_code"] for s in web.get(f"{BASE}/services.json").json()}
    assert_error(web.get(f"{BASE}/services/noise.json"), 404)


def test_service_definition(web, db):
    assert web.get(f"{BASE}/services/noise.json").json() == {"service_code": "noise", "attributes": []}
    root = xml(web.get(f"{BASE}/services/noise.xml"))
    assert root.tag == "service_definition" and root.find("service_code").text == "noise"
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0
    assert "不存在" in assert_error(web.get(f"{BASE}/services/nothing.xml"), 404, "xml")


def test_an_unknown_format_is_an_error(web, db):
    assert_error(web.get(f"{BASE}/services.csv"), 400, "xml")


# --- POST requests ------------------------------------------------------------------------------


def test_post_creates_an_order_through_intake(web, app, org):
    response = new_request(web, app)
    assert response.status_code == 201
    body = response.json()
    assert len(body) == 1 and set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    assert body[0]["account_id"] is None and body[0]["service_request_id"] in body[0]["service_notice"]
    created = WorkOrder.objects.get(number=body[0]["service_request_id"])
    assert (created.channel, created.category.code, created.squad, created.status) == (
        "open311", "street_occupation", org.squad_a, Status.RECEIVED)
    assert (created.reporter_name, created.reporter_phone, created.wants_reply) == ("李四", "13900001111", True)
    assert created.created_by.intake_client.name == "随手拍 App"


def test_post_answers_xml(web, app):
    response = web.post(f"{BASE}/requests.xml", {"api_key": app, "service_code": "noise",
                                                "address_string": "莘庄镇莘东路 100 号", "description": "夜间施工噪声"})
    root = xml(response)
    assert response.status_code == 201
    assert root.tag == "service_requests" and root[0].tag == "request"
    assert [c.tag for c in root[0]] == ["service_request_id", "service_notice", "account_id"]
    assert WorkOrder.objects.filter(number=root[0].find("service_request_id").text, address="莘庄镇莘东路 100 号").exists()


def test_post_accepts_the_key_in_a_header_too(web, app):
    response = web.post(f"{BASE}/requests.json", {"service_code": "noise", "lat": "31.105", "long": "121.405",
                                                  "description": "噪声"}, HTTP_X_API_KEY=app)
    assert response.status_code == 201


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_post_needs_a_valid_api_key(web, app, key):
    assert "api_key" in assert_error(new_request(web, key), 403)
    assert not WorkOrder.objects.exists()


def test_only_open311_clients_may_post(web, users):
    _, hotline_key = clients.create_client(by=users[RoleCode.ADMIN], name="市12345平台", channel="12345")
    assert_error(new_request(web, hotline_key), 403)
    assert not WorkOrder.objects.exists()


def test_a_deactivated_client_may_not_post(web, app, users):
    from chengguan.workorders.models import IntakeClient

    clients.deactivate(IntakeClient.objects.get(), users[RoleCode.ADMIN])
    assert_error(new_request(web, app), 403)


@pytest.mark.parametrize(("fields", "word"), [
    ({"service_code": None}, "service_code"),
    ({"service_code": "no_such_service"}, "no_such_service"),
    ({"service_code": "street_order"}, "street_order"),  # a group, not a service
    ({"lat": None, "long": None}, "lat"),
    ({"long": None}, "long"),
    ({"lat": "95"}, "纬度"),
    ({"lat": "north"}, "纬度"),
    ({"description": ""}, "诉求内容"),
    ({"description": "很" * 6000}, "诉求内容"),
    ({"phone": "call me"}, "电话"),
])
def test_bad_posts_are_400_and_save_nothing(web, app, fields, word):
    description = assert_error(new_request(web, app, **fields), 400)
    assert word in description
    assert not WorkOrder.objects.exists()


def test_bad_post_errors_in_xml(web, app):
    response = web.post(f"{BASE}/requests.xml", {"api_key": app, "lat": "31.1", "long": "121.4"})
    assert "service_code" in assert_error(response, 400, "xml")


def test_post_needs_no_csrf_token(app):
    strict = Client(enforce_csrf_checks=True)
    assert new_request(strict, app).status_code == 201


# --- GET requests -------------------------------------------------------------------------------


def test_get_requests_shape_and_no_personal_data(web, users, org):
    placed = order(users)
    body = web.get(f"{BASE}/requests.json").json()
    assert len(body) == 1 and set(body[0]) == REQUEST_FIELDS
    row = body[0]
    assert (row["service_request_id"], row["status"], row["service_code"], row["agency_responsible"]) == (
        placed.number, "open", "cooking_fumes", org.squad_a.name)
    assert (row["lat"], row["long"]) == (pytest.approx(31.105), pytest.approx(121.405))
    assert row["requested_datetime"].endswith("+08:00")
    assert dt.datetime.fromisoformat(row["updated_datetime"]) >= dt.datetime.fromisoformat(row["requested_datetime"])
    raw = web.get(f"{BASE}/requests.json").content.decode()
    assert "13812345678" not in raw and "张三" not in raw
    assert "13900002222" not in raw and "139*" in row["description"] and "油烟" in row["description"]


def test_get_requests_xml_shape(web, users):
    order(users)
    root = xml(web.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and root[0].tag == "request"
    assert {c.tag for c in root[0]} == REQUEST_FIELDS


def test_status_maps_to_open_and_closed(web, users):
    open_order = order(users)
    rejected = workflow.reject(order(users), by=users[RoleCode.DISPATCHER], reason="非本部门职责")
    statuses = {r["service_request_id"]: r["status"] for r in web.get(f"{BASE}/requests.json").json()}
    assert statuses == {open_order.number: "open", rejected.number: "closed"}
    assert [r["service_request_id"] for r in web.get(f"{BASE}/requests.json?status=closed").json()] == [
        rejected.number]
    assert [r["service_request_id"] for r in web.get(f"{BASE}/requests.json?status=open").json()] == [
        open_order.number]
    assert len(web.get(f"{BASE}/requests.json?status=open,closed").json()) == 2
    assert_error(web.get(f"{BASE}/requests.json?status=pending"), 400)


def test_filters_by_id_code_and_dates(web, users):
    old = order(users, received_at=timezone.now() - dt.timedelta(days=120), text="旧的噪声投诉", category="noise")
    recent = order(users)
    other = order(users, category="noise", text="施工噪声")
    listed = web.get(f"{BASE}/requests.json").json()
    assert {r["service_request_id"] for r in listed} == {recent.number, other.number}, "default: last 90 days"
    by_id = web.get(f"{BASE}/requests.json?service_request_id={old.number},{recent.number}").json()
    assert {r["service_request_id"] for r in by_id} == {old.number, recent.number}
    by_code = web.get(f"{BASE}/requests.json?service_code=noise").json()
    assert [r["service_request_id"] for r in by_code] == [other.number]
    start = (timezone.now() - dt.timedelta(days=200)).isoformat()
    end = (timezone.now() - dt.timedelta(days=100)).isoformat()
    ranged = web.get(f"{BASE}/requests.json", {"start_date": start, "end_date": end}).json()
    assert [r["service_request_id"] for r in ranged] == [old.number]
    assert_error(web.get(f"{BASE}/requests.json?start_date=last-week"), 400)
    assert_error(web.get(f"{BASE}/requests.json", {"start_date": end, "end_date": start}), 400)


def test_at_most_1000_requests(web, users, monkeypatch):
    from chengguan.workorders.open311 import views

    monkeypatch.setattr(views, "MAX_REQUESTS", 2)
    for i in range(3):
        order(users, text=f"第{i}处油烟")
    assert len(web.get(f"{BASE}/requests.json").json()) == 2
    assert views.DEFAULT_DAYS == 90


def test_one_request_and_its_token(web, users):
    placed = order(users)
    body = web.get(f"{BASE}/requests/{placed.number}.json").json()
    assert len(body) == 1 and body[0]["service_request_id"] == placed.number
    assert xml(web.get(f"{BASE}/requests/{placed.number}.xml")).find("request/service_request_id").text == \
        placed.number
    assert_error(web.get(f"{BASE}/requests/GD0000.json"), 404)
    assert web.get(f"{BASE}/tokens/{placed.number}.json").json() == [
        {"service_request_id": placed.number, "token": placed.number}]
    assert xml(web.get(f"{BASE}/tokens/{placed.number}.xml")).find("request/token").text == placed.number
    assert_error(web.get(f"{BASE}/tokens/nothing.xml"), 404, "xml")


def test_a_created_request_can_be_read_back(web, app):
    number = new_request(web, app).json()[0]["service_request_id"]
    row = web.get(f"{BASE}/requests/{number}.json").json()[0]
    assert (row["service_code"], row["status"], row["description"]) == ("street_occupation", "open",
                                                                        "人行道上有人摆摊卖水果。")
    assert "李四" not in web.get(f"{BASE}/requests/{number}.json").content.decode()


def test_only_get_and_post(web, db):
    assert web.delete(f"{BASE}/requests.json").status_code == 405
    assert web.post(f"{BASE}/services.json").status_code == 405
