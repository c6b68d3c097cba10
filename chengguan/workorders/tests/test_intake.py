"""Intake: validation with nothing saved on bad input, idempotency on (channel, ticket),
classification, routing, repeats and hotspots, batches."""

import datetime as dt

import pytest
from django.utils import timezone

from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.core.fields import mask_phone
from chengguan.core.models import AuditEvent
from chengguan.workorders.choices import ClassifiedBy, LocatedBy, Stage, Status
from chengguan.workorders.models import AddressEntry, RepeatCandidate, WorkOrder, WorkOrderStep
from chengguan.workorders.services import addresses, classification, intake

IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}


@pytest.fixture
def dispatcher(users):
    return users[RoleCode.DISPATCHER]


def counts():
    return WorkOrder.objects.count(), WorkOrderStep.objects.count(), AuditEvent.objects.count()


def test_an_order_is_stored_numbered_located_and_clocked(org, dispatcher):
    result = intake.receive(by=dispatcher, channel="12345", external_ticket="HL-1", text="  门口占道经营  ",
                            category="street_occupation", reporter_name="李四", reporter_phone="13812345678",
                            **IN_SQUAD_A)
    order = WorkOrder.objects.get(pk=result.order.pk)
    assert result.created
    assert (order.text, order.status, order.squad, order.grid, order.located_by) == (
        "门口占道经营", Status.RECEIVED, org.squad_a, org.grid_a1, LocatedBy.COORDINATES)
    assert (order.clock_stage, order.category.code, order.classified_by) == (
        Stage.ACCEPT, "street_occupation", ClassifiedBy.PERSON)
    assert order.reporter_phone == "13812345678" and mask_phone(order.reporter_phone) == "138****5678"
    assert order.h3 and order.fingerprint and order.due_at > order.received_at
    assert order.reply_due_at > order.due_at
    assert list(order.steps.values_list("action", flat=True)) == ["receive"]


def test_personal_data_is_encrypted_at_rest(org, dispatcher):
    from django.db import connection

    order = intake.receive(by=dispatcher, channel="12345", text="噪声扰民", reporter_phone="13812345678").order
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM workorders_workorder WHERE id = %s", [order.pk])
        stored = cursor.fetchone()[0]
    assert "13812345678" not in stored


def test_a_resent_ticket_returns_the_original_order(org, dispatcher):
    first = intake.receive(by=dispatcher, channel="12345", external_ticket="HL-7", text="噪声扰民", **IN_SQUAD_A)
    before = counts()
    again = intake.receive(by=dispatcher, channel="12345", external_ticket="HL-7", text="噪声扰民（重发）")
    assert (again.order.pk, again.created) == (first.order.pk, False)
    assert counts() == before
    other_channel = intake.receive(by=dispatcher, channel="12319", external_ticket="HL-7", text="噪声扰民")
    assert other_channel.created, "tickets are unique per channel"


def test_a_batch_creates_each_ticket_once_and_keeps_the_order_of_the_input(org, dispatcher):
    intake.receive(by=dispatcher, channel="12345", external_ticket="B-1", text="一")
    results = intake.receive_many([
        {"channel": "12345", "external_ticket": "B-1", "text": "一（重发）"},
        {"channel": "12345", "external_ticket": "B-2", "text": "二"},
        {"channel": "12345", "external_ticket": "B-2", "text": "二（同批重复）"},
        {"channel": "patrol", "text": "巡查发现"},
    ], by=dispatcher)
    assert [r.created for r in results] == [False, True, False, True]
    assert results[1].order.pk == results[2].order.pk
    assert WorkOrder.objects.count() == 3
    numbers = [r.order.number for r in results]
    assert numbers[1] != numbers[3] and len(set(WorkOrder.objects.values_list("number", flat=True))) == 3


@pytest.mark.parametrize(("item", "field", "code"), [
    ({"channel": "12345", "text": ""}, "text", "required"),
    ({"channel": "12345", "text": "字" * 5001}, "text", "too_long"),
    ({"channel": "fax", "text": "噪声"}, "channel", "unknown_channel"),
    ({"channel": "12345", "text": "噪声", "category": "nope"}, "category", "unknown_category"),
    ({"channel": "12345", "text": "噪声", "lon": 200, "lat": 31.1}, "lon", "invalid_coordinates"),
    ({"channel": "12345", "text": "噪声", "lon": 121.4}, "lat", "required"),
    ({"channel": "12345", "text": "噪声", "reporter_phone": "call me"}, "reporter_phone", "invalid_phone"),
    ({"channel": "12345", "text": 42}, "text", "invalid"),
    ({"channel": "12345", "text": "噪声", "received_at": "yesterday"}, "received_at", "invalid_datetime"),
    ({"channel": "12345", "text": "噪声", "external_ticket": "x" * 65}, "external_ticket", "too_long"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_saved(org, dispatcher, item, field, code):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        intake.receive(by=dispatcher, **item)
    assert (exc.value.field, exc.value.code) == (field, code)
    assert exc.value.message and not exc.value.message.isascii(), "a Chinese message"
    assert counts() == before


def test_one_bad_order_in_a_batch_saves_none_and_names_every_error(org, dispatcher):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        intake.receive_many([{"channel": "12345", "text": "好的"}, {"channel": "12345", "text": ""},
                             {"channel": "x", "text": "坏的"}], by=dispatcher)
    assert [e["field"] for e in exc.value.errors] == ["orders[1].text", "orders[2].channel"]
    assert counts() == before


def test_a_received_time_in_the_future_is_refused(org, dispatcher):
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationFailed) as exc:
        intake.receive(by=dispatcher, channel="12345", text="噪声", received_at=later)
    assert exc.value.code == "in_future"


def test_orders_outside_every_grid_wait_for_the_dispatcher(org, dispatcher):
    order = intake.receive(by=dispatcher, channel="12345", text="噪声", lon=120.0, lat=30.0).order
    assert (order.squad, order.grid, order.lon) == (None, None, 120.0)


def test_an_address_from_the_district_list_locates_the_order(org, dispatcher):
    addresses.import_addresses([{"地址": "上海市闵行区江川路100号", "经度": 121.405, "纬度": 31.105}], by=dispatcher)
    assert AddressEntry.objects.count() == 1
    order = intake.receive(by=dispatcher, channel="12345", text="门口垃圾", address="江川路100号").order
    assert (order.squad, order.located_by) == (org.squad_a, LocatedBy.ADDRESS)
    unknown = intake.receive(by=dispatcher, channel="12345", text="门口垃圾", address="火星路1号").order
    assert unknown.squad is None and unknown.located_by == ""


def test_the_model_classifies_confident_texts_and_leaves_the_rest_to_a_person(org, dispatcher, settings):
    texts = {"noise": ["晚上工地施工噪音很大", "广场舞噪声扰民", "夜间施工噪音扰民睡不着"],
             "cooking_fumes": ["饭店油烟直排扰民", "烧烤店油烟很大", "餐馆排烟熏到楼上"],
             "shared_bikes": ["共享单车乱停放", "单车堆满人行道", "共享单车堵住盲道"]}
    for code, samples in texts.items():
        for text in samples * 3:
            intake.receive(by=dispatcher, channel="12345", text=text, category=code)
    classification.train(by=dispatcher, evaluate=False)
    settings.WORKORDER_MIN_CONFIDENCE = 0.3
    order = intake.receive(by=dispatcher, channel="12345", text="楼下饭店的油烟太大了").order
    assert (order.category.code, order.classified_by, order.needs_review) == ("cooking_fumes", ClassifiedBy.MODEL,
                                                                              False)
    assert order.predicted_category == order.category and 0 < order.confidence <= 1
    settings.WORKORDER_MIN_CONFIDENCE = 0.999
    doubtful = intake.receive(by=dispatcher, channel="12345", text="楼下饭店的油烟太大了").order
    assert doubtful.category is None and doubtful.needs_review
    assert doubtful.predicted_category.code == "cooking_fumes", "the suggestion is kept for the person"


def test_without_a_model_every_unclassified_order_goes_to_a_person(org, dispatcher):
    order = intake.receive(by=dispatcher, channel="12345", text="楼下饭店的油烟太大了").order
    assert order.needs_review and order.category is None and order.confidence is None


def test_a_likely_repeat_is_recorded_with_its_reason(org, dispatcher):
    first = intake.receive(by=dispatcher, channel="12345", text="江川路菜场门口有人占道摆摊卖水果",
                           category="street_occupation", **IN_SQUAD_A).order
    second = intake.receive(by=dispatcher, channel="12345", text="江川路菜场门口有人占道摆摊卖水果！！",
                            category="street_occupation", lon=121.4051, lat=31.1051).order
    assert second.has_repeat_candidates and not first.has_repeat_candidates
    candidate = RepeatCandidate.objects.get(order=second)
    assert candidate.original == first and candidate.reason and candidate.score >= 0.5


def test_a_place_that_keeps_coming_back_is_flagged_for_supervision(org, dispatcher, settings):
    settings.WORKORDER_HOTSPOT_COUNT = 3
    texts = ["占道经营", "乱扔垃圾", "噪声扰民"]
    orders = [intake.receive(by=dispatcher, channel="12345", text=t, **IN_SQUAD_A).order for t in texts]
    assert [o.supervised for o in orders] == [False, False, True]
    assert "第 3 次" in orders[2].supervised_reason


def test_intake_is_on_the_audit_chain(org, dispatcher):
    order = intake.receive(by=dispatcher, channel="12345", text="噪声").order
    event = AuditEvent.objects.get(action="workorder.receive", object_id=str(order.pk))
    assert event.actor == dispatcher
    assert "13" not in str(event.after.get("reporter_phone", ""))
