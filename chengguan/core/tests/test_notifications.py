import pytest
from django.db import transaction
from django.http import Http404
from rest_framework.test import APIClient

from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import Notification
from chengguan.core.notifications import mark_all_read, mark_read, notify, notify_many, unread_count


@pytest.fixture
def officer(users):
    return users[RoleCode.OFFICER]


@pytest.fixture
def leader(users):
    return users[RoleCode.SQUAD_LEADER]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- services -------------------------------------------------------------------------------


def test_notify_creates_a_message(officer):
    message = notify(officer, "新派遣工单", body="请于今日处理", link="/workorders/1/", level="warning")

    assert (message.recipient, message.title, message.level, message.read_at) == (officer, "新派遣工单", "warning", None)
    assert unread_count(officer) == 1


def test_same_dedupe_key_is_delivered_once_per_user(officer, leader):
    key = "deadline:case:42:statement"
    assert notify(officer, "陈述申辩期即将届满", dedupe_key=key) is not None
    assert notify(officer, "陈述申辩期即将届满", dedupe_key=key) is None
    mark_all_read(officer)
    assert notify(officer, "陈述申辩期即将届满", dedupe_key=key) is None  # also once read
    assert notify(leader, "陈述申辩期即将届满", dedupe_key=key) is not None

    assert Notification.objects.filter(dedupe_key=key).count() == 2


def test_without_a_dedupe_key_every_notify_delivers(officer):
    notify(officer, "提醒")
    notify(officer, "提醒")

    assert unread_count(officer) == 2


def test_notify_many_skips_repeats_and_earlier_deliveries(officer, leader, users):
    notify(officer, "督办", dedupe_key="escalation:7")
    created = notify_many([officer, leader, leader, None, users[RoleCode.DISPATCHER]], "督办", dedupe_key="escalation:7")

    assert {m.recipient for m in created} == {leader, users[RoleCode.DISPATCHER]}
    assert Notification.objects.filter(dedupe_key="escalation:7").count() == 3


def test_a_message_is_rolled_back_with_the_callers_transaction(officer):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(officer, "新派遣工单")
        raise RuntimeError("dispatch failed")

    assert unread_count(officer) == 0


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"title": " "}, "required"),
    ({"link": "javascript:alert(1)"}, "invalid_link"),
    ({"link": "https://example.com/"}, "invalid_link"),
    ({"link": "//example.com/"}, "invalid_link"),
    ({"level": "urgent"}, "invalid_choice"),
])
def test_bad_messages_are_refused(officer, kwargs, code):
    with pytest.raises(ValidationFailed) as refused:
        notify(officer, **{"title": "提醒", **kwargs})

    assert refused.value.code == code
    assert not Notification.objects.exists()


def test_mark_read_and_mark_all_read(officer):
    first, second, third = (notify(officer, f"消息{i}") for i in range(3))

    mark_read(first, by=officer)
    assert unread_count(officer) == 2
    assert mark_all_read(officer) == 2
    assert unread_count(officer) == 0
    assert all(m.read_at for m in Notification.objects.filter(recipient=officer))


def test_only_the_recipient_can_mark_a_message_read(officer, leader):
    message = notify(officer, "新派遣工单")

    with pytest.raises(Http404):
        mark_read(message, by=leader)
    message.refresh_from_db()
    assert message.read_at is None


# --- API ------------------------------------------------------------------------------------


def test_api_lists_only_own_messages(officer, leader):
    mine = notify(officer, "我的消息")
    notify(leader, "别人的消息")
    read = notify(officer, "已读消息")
    mark_read(read, by=officer)

    client = api(officer)
    assert [m["title"] for m in client.get("/api/v1/notifications/").json()["results"]] == ["已读消息", "我的消息"]
    assert [m["id"] for m in client.get("/api/v1/notifications/?unread=1").json()["results"]] == [mine.pk]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}


def test_api_someone_elses_message_is_not_found(officer, leader):
    theirs = notify(leader, "别人的消息")

    client = api(officer)
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    response = client.post(f"/api/v1/notifications/{theirs.pk}/read/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_mark_read_and_read_all(officer, leader):
    one, _ = notify(officer, "一"), notify(officer, "二")
    theirs = notify(leader, "别人的")

    client = api(officer)
    response = client.post(f"/api/v1/notifications/{one.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert unread_count(officer) == 0
    assert unread_count(leader) == 1 and Notification.objects.get(pk=theirs.pk).read_at is None


def test_api_requires_authentication():
    assert APIClient().get("/api/v1/notifications/").status_code == 401


# --- inbox page -----------------------------------------------------------------------------


def test_inbox_page_shows_own_messages_unread_first(officer, leader, client):
    old = notify(officer, "早先的消息")
    mark_read(old, by=officer)
    notify(officer, "新派遣工单", body="请尽快处理", level="danger", link="/workorders/1/")
    notify(leader, "别人的消息")

    client.force_login(officer)
    page = client.get("/inbox/").content.decode()

    assert "别人的消息" not in page
    assert page.index("新派遣工单") < page.index("早先的消息")
    assert "1 条未读" in page and "超期" in page and "全部标为已读" in page
    assert "csrfmiddlewaretoken" in page


def test_inbox_read_goes_to_the_link_and_others_get_404(officer, leader, client):
    mine = notify(officer, "新派遣工单", link="/workorders/1/")
    theirs = notify(leader, "别人的消息")

    client.force_login(officer)
    assert client.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    response = client.post(f"/inbox/{mine.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/workorders/1/"
    assert unread_count(officer) == 0 and unread_count(leader) == 1


def test_inbox_read_all_needs_post(officer, client):
    notify(officer, "一")
    client.force_login(officer)

    assert client.get("/inbox/read-all/").status_code == 405
    assert client.post("/inbox/read-all/").status_code == 302
    assert unread_count(officer) == 0


def test_inbox_requires_login(client, db):
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_lists_messages_read_only(officer, users, client):
    notify(officer, "新派遣工单")
    admin_user = users[RoleCode.ADMIN]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)

    assert "新派遣工单" in client.get("/admin/core/notification/").content.decode()
    assert client.get("/admin/core/notification/add/").status_code == 403
