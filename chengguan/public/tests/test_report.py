"""Citizens' reports on the public portal: the form takes a report into intake (channel public,
or workstation through a 社区工作室 QR code), refuses bots and floods without saving anything,
and the status page shows a reporter their own order — and only with the right phone digits,
answering every wrong lookup the same way, never naming officers or other people."""

import io
import struct
import zlib

import pytest
import segno
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chengguan.core.choices import RoleCode
from chengguan.core.models import Evidence
from chengguan.public import views
from chengguan.workorders.choices import Channel, Result, Satisfaction, Status
from chengguan.workorders.models import Category, WorkOrder
from chengguan.workorders.services import intake, workflow

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
IN_SQUAD_A = {"lon": "121.405", "lat": "31.105"}
TEXT = "小区门口每天早上有人占道摆摊卖早点，影响通行。"


def png(seed: int = 0) -> bytes:
    """A real 1×1 PNG (a different colour per seed)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixel = zlib.compress(bytes([0, seed % 256, 80, 160]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixel) + chunk(b"IEND", b""))


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()  # the rate-limit counters live in the cache
    yield
    cache.clear()


def post_report(client, ip="10.0.0.1", query="", **fields):
    data = {"text": TEXT, **IN_SQUAD_A, "reporter_name": "王女士", "reporter_phone": PHONE, **fields}
    return client.post(reverse("public:report") + query, data, REMOTE_ADDR=ip)


def nothing_saved():
    return WorkOrder.objects.count() == 0 and Evidence.objects.count() == 0


def test_a_report_becomes_a_public_order_and_the_reporter_gets_its_number(client, org):
    page = client.get(reverse("public:report"))
    assert page.status_code == 200 and "我要反映" in page.content.decode()
    photo = SimpleUploadedFile("门口.png", png(), content_type="image/png")
    response = post_report(client, photos=[photo], title="占道摆摊", address="江川路 100 号门口")
    assert response.status_code == 302 and response.url == reverse("public:report_done")
    order = WorkOrder.objects.get()
    assert (order.channel, order.created_by, order.text, order.title) == (Channel.PUBLIC_WEB, None, TEXT, "占道摆摊")
    assert (order.squad, order.grid, order.reporter_phone, order.reporter_name) == (
        org.squad_a, org.grid_a1, PHONE, "王女士")
    photo = order.photos.get()
    assert photo.content_type == "image/png" and photo.uploaded_by.username == views.PUBLIC_UPLOADER
    assert not photo.uploaded_by.has_usable_password() and not photo.uploaded_by.is_active
    done = client.get(response.url).content.decode()
    assert order.number in done and "手机号后四位" in done


def test_an_address_alone_is_enough_and_the_phone_is_optional(client, org):
    response = post_report(client, lon="", lat="", address="江川路 100 号", reporter_phone="")
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert (order.address, order.lon, order.reporter_phone) == ("江川路 100 号", None, "")
    assert "无法在网上查询" in client.get(response.url).content.decode()


def test_the_workstation_qr_code_leads_to_a_workstation_report(client, org):
    org.grid_a1.community = "江川新村"
    org.grid_a1.save(audit_action="grid.update", actor=None)
    query = f"?ws={org.grid_a1.code}"
    page = client.get(reverse("public:report") + query).content.decode()
    assert "江川新村社区工作室" in page
    qr = client.get(reverse("public:workstation_qr", args=[org.grid_a1.code]))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    expected = segno.make_qr(f"http://testserver/public/report/?ws={org.grid_a1.code}", error="m")
    drawn = io.BytesIO()
    expected.save(drawn, kind="svg", scale=8, border=4, title="江川新村社区工作室：扫码反映问题")
    assert qr.content == drawn.getvalue(), "the code encodes the report URL with the workstation"
    assert client.get(reverse("public:workstation_qr", args=["NOPE1"])).status_code == 404
    post_report(client, ws=org.grid_a1.code, title="乱堆物")
    order = WorkOrder.objects.get()
    assert order.channel == Channel.WORKSTATION and order.title == "【江川新村社区工作室】乱堆物"


def test_an_unknown_workstation_code_is_an_ordinary_public_report(client, org):
    post_report(client, ws="NOPE1")
    assert WorkOrder.objects.get().channel == Channel.PUBLIC_WEB


def test_the_honeypot_refuses_with_a_chinese_message_and_saves_nothing(client, org):
    response = post_report(client, website="http://spam.example", photos=[SimpleUploadedFile("a.png", png())])
    assert response.status_code == 400
    assert views.REFUSED in response.content.decode()
    assert nothing_saved()


def test_reports_are_limited_per_address_per_hour(client, org, monkeypatch):
    monkeypatch.setattr(views, "REPORT_LIMIT_PER_HOUR", 2)
    assert [post_report(client).status_code for _ in range(2)] == [302, 302]
    refused = post_report(client, photos=[SimpleUploadedFile("a.png", png(1))])
    assert refused.status_code == 429 and "每小时最多提交 2 条" in refused.content.decode()
    assert WorkOrder.objects.count() == 2 and Evidence.objects.count() == 0
    assert post_report(client, ip="10.0.0.2").status_code == 302, "another address is not affected"


@pytest.mark.parametrize(("fields", "message"), [
    ({"text": "  "}, "请填写反映内容。"),
    ({"lon": "", "lat": "", "address": ""}, "请在地图上选择位置、使用手机定位，或填写地址。"),
    ({"reporter_phone": "call me"}, "联系电话格式不正确。"),
    ({"lon": "200", "lat": "31.1"}, "经度"),
])
def test_bad_input_is_explained_and_nothing_is_saved(client, org, fields, message):
    response = post_report(client, photos=[SimpleUploadedFile("a.png", png())], **fields)
    assert response.status_code == 200 and message in response.content.decode()
    assert nothing_saved()


def test_only_a_few_images_are_accepted_as_photos(client, org):
    pdf = SimpleUploadedFile("a.png", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    response = post_report(client, photos=[pdf])
    assert "不是图片" in response.content.decode()
    too_many = [SimpleUploadedFile(f"{i}.png", png(i)) for i in range(views.MAX_PHOTOS + 1)]
    response = post_report(client, photos=too_many)
    assert f"最多上传 {views.MAX_PHOTOS} 张照片" in response.content.decode()
    assert nothing_saved()


@pytest.fixture
def replied(client, org, users):
    """A citizen's report handled by an officer with a name, replied with a phone number in it."""
    officer = users[RoleCode.OFFICER]
    officer.real_name = "周执法"
    officer.save(audit_action="user.update", actor=None)
    post_report(client, reporter_name="王女士")
    order = WorkOrder.objects.get()
    dispatcher = users[RoleCode.DISPATCHER]
    order = workflow.classify(order, by=dispatcher, category=Category.objects.get(code="street_occupation"))
    order = workflow.accept(order, by=dispatcher)
    order = workflow.dispatch(order, by=dispatcher, assignee=officer)
    order = workflow.start(order, by=officer)
    return workflow.reply(order, by=officer, findings="已劝离", result=Result.RESOLVED,
                          reply_text="经核实，已劝离占道摊贩。如再发生请致电 13800001111。")


def lookup(client, number, digits, ip="10.0.0.9", **extra):
    return client.post(reverse("public:status"), {"number": number, "digits": digits, **extra}, REMOTE_ADDR=ip)


def test_the_reporter_sees_status_and_reply_with_the_right_digits(client, replied):
    page = lookup(client, replied.number.lower(), PHONE[-4:]).content.decode()
    assert replied.number in page and "已答复" in page and "已劝离占道摊贩" in page
    assert replied.category.name in page
    # nothing about people: no officer, no reporter, no squad, phones masked
    for secret in ("周执法", "王女士", PHONE, "13800001111", replied.squad.name):
        assert secret not in page
    assert "138****1111" in page


def test_wrong_digits_and_unknown_numbers_get_the_same_message(client, replied, users):
    hotline = intake.receive(by=users[RoleCode.DISPATCHER], channel="12345", text="噪声", reporter_phone=PHONE).order
    responses = [lookup(client, replied.number, "0000"), lookup(client, "GD20990000001", PHONE[-4:]),
                 lookup(client, hotline.number, PHONE[-4:])]  # not a number the public form gave out
    errors = []
    for response in responses:
        assert response.status_code == 200
        page = response.content.decode()
        assert "已劝离" not in page and 'data-testid="status-result"' not in page
        errors.append(page.split('data-testid="status-error">')[1].split("<")[0])
    assert errors == [views.LOOKUP_FAILED] * 3


def test_lookups_are_limited_per_address(client, replied, monkeypatch):
    monkeypatch.setattr(views, "LOOKUP_LIMIT_PER_HOUR", 3)
    for digits in ("0001", "0002", "0003"):
        assert lookup(client, replied.number, digits).status_code == 200
    refused = lookup(client, replied.number, PHONE[-4:])
    assert refused.status_code == 429 and views.RATE_LIMITED_LOOKUP in refused.content.decode()
    assert "已劝离" not in refused.content.decode()


def test_the_reporter_rates_once(client, replied):
    page = lookup(client, replied.number, PHONE[-4:]).content.decode()
    assert "基本满意" in page and 'name="satisfaction"' in page
    rated = lookup(client, replied.number, PHONE[-4:], satisfaction=Satisfaction.BASICALLY).content.decode()
    assert "感谢您的评价" in rated and 'name="satisfaction"' not in rated
    replied.refresh_from_db()
    assert replied.satisfaction == Satisfaction.BASICALLY
    again = lookup(client, replied.number, PHONE[-4:], satisfaction=Satisfaction.UNSATISFIED).content.decode()
    assert "该工单已评价" in again
    replied.refresh_from_db()
    assert (replied.satisfaction, replied.status) == (Satisfaction.BASICALLY, Status.REPLIED)


def test_rating_needs_the_digits_too(client, replied):
    response = lookup(client, replied.number, "0000", satisfaction=Satisfaction.UNSATISFIED)
    assert views.LOOKUP_FAILED in response.content.decode()
    replied.refresh_from_db()
    assert replied.satisfaction == ""


def test_an_unsatisfied_reporter_sends_the_order_back(client, replied):
    page = lookup(client, replied.number, PHONE[-4:], satisfaction=Satisfaction.UNSATISFIED).content.decode()
    assert "重新办理" in page
    replied.refresh_from_db()
    assert (replied.status, replied.reopened) == (Status.HANDLING, 1)


def test_before_a_reply_there_is_nothing_to_rate(client, org):
    post_report(client)
    order = WorkOrder.objects.get()
    page = lookup(client, order.number, PHONE[-4:]).content.decode()
    assert "已受理" in page and 'name="satisfaction"' not in page


def test_the_portal_links_to_the_report_form_and_the_status_page(client, org):
    page = client.get(reverse("public:index")).content.decode()
    assert reverse("public:report") in page and reverse("public:status") in page
