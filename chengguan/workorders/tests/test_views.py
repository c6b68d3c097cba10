"""The work-order screens: every page for the roles that may see it and refused for the others
(login, 403, 404 out of scope), the dispatcher board's sections, the officer's navigation
details, masked phones in lists and exports, and each action form — the happy path and a
refusal that shows its Chinese message and changes nothing."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from chengguan.core.choices import RoleCode
from chengguan.core.geo import wgs84_to_gcj02
from chengguan.core.models import AuditEvent
from chengguan.core.testing import make_user
from chengguan.core.tests.test_evidence import png_bytes
from chengguan.workorders.choices import (
    Channel,
    RepeatStatus,
    RequestKind,
    RequestStatus,
    Result,
    Satisfaction,
    Status,
)
from chengguan.workorders.models import CaseConversion, Category, ClockRequest, WorkOrder
from chengguan.workorders.selectors import end_of_today
from chengguan.workorders.services import intake, workflow

pytestmark = pytest.mark.django_db

R = RoleCode
ALL_ROLES = [r.value for r in RoleCode]
IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}
IN_SQUAD_B = {"lon": 121.425, "lat": 31.105}
PHONE = "13812345678"
MASKED = "138****5678"


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    """A private evidence store per test, never var/evidence."""
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


@pytest.fixture
def people(org, users):
    return {**users, "officer_b": make_user(R.OFFICER, org.squad_b, real_name="乙队员"),
            "officer_a2": make_user(R.OFFICER, org.squad_a, real_name="甲二")}


def new_order(people, where=IN_SQUAD_A, **extra) -> WorkOrder:
    fields = {"channel": "12345", "text": "小区门口有人占道摆摊卖水果，影响通行。", "category": "street_occupation",
              "reporter_phone": PHONE, "reporter_name": "张三", **where, **extra}
    return intake.receive(by=people[R.DISPATCHER], **fields).order


def accepted(people, **extra) -> WorkOrder:
    return workflow.accept(new_order(people, **extra), by=people[R.DISPATCHER])


def dispatched(people, assignee=R.OFFICER, **extra) -> WorkOrder:
    order = accepted(people, **extra)
    return workflow.dispatch(order, by=people[R.DISPATCHER], assignee=people[assignee] if assignee else None)


def replied(people) -> WorkOrder:
    order = dispatched(people)
    return workflow.reply(order, by=people[R.OFFICER], findings="已劝离", result=Result.RESOLVED, reply_text="已处理")


def login(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def act(client, order, verb, data=None, **extra):
    return client.post(reverse("workorders:action", args=[order.pk, verb]), data or {}, **extra)


def state(order):
    """What a refused action must leave unchanged."""
    order.refresh_from_db()
    return (order.status, order.steps.count(), AuditEvent.objects.count(), order.squad_id, order.assignee_id,
            order.category_id)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- who sees which page --------------------------------------------------------------------

PAGES = ["workorders:index", "workorders:list", "workorders:squad", "workorders:mine", "workorders:create",
         "workorders:clock_requests", "workorders:export"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_send_anonymous_visitors_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_index_is_the_board_for_the_command_centre_and_a_list_for_the_others(client, people, role):
    response = login(client, people[role]).get(reverse("workorders:index"))
    if role in (R.DISPATCHER, R.ADMIN):
        assert response.status_code == 200 and "调度台" in text(response)
    elif role == R.OFFICER:
        assert response.status_code == 302 and response["Location"] == reverse("workorders:mine")
    else:
        assert response.status_code == 302 and response["Location"] == reverse("workorders:squad")


ALLOWED = {
    "workorders:list": set(ALL_ROLES),
    "workorders:squad": set(ALL_ROLES),
    "workorders:mine": {R.OFFICER, R.SQUAD_LEADER},
    "workorders:create": {R.OFFICER, R.SQUAD_LEADER, R.DISPATCHER, R.ADMIN},
    "workorders:clock_requests": {R.DISPATCHER, R.LEADER},
    "workorders:export": {R.DISPATCHER, R.SQUAD_LEADER, R.SUPERVISOR, R.LEADER, R.ADMIN},
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_page_renders_for_permitted_roles_and_is_refused_otherwise(client, people, role):
    new_order(people)
    login(client, people[role])
    for name, roles in ALLOWED.items():
        response = client.get(reverse(name))
        assert response.status_code == (200 if role in roles else 403), (name, role)


def test_list_links_to_the_excel_import_for_the_command_centre(client, people):
    body = text(login(client, people[R.DISPATCHER]).get(reverse("workorders:list")))
    assert f'href="{reverse("workorders:import")}"' in body
    assert client.get(reverse("workorders:import")).status_code == 200
    body = text(login(client, people[R.SUPERVISOR]).get(reverse("workorders:list")))
    assert reverse("workorders:import") not in body
    assert client.get(reverse("workorders:import")).status_code == 403


def test_order_page_renders_for_every_role_in_scope_and_404_outside(client, people):
    order_a = new_order(people)
    order_b = new_order(people, where=IN_SQUAD_B, text="古美路有人乱倒建筑垃圾，无人清运。")
    for role in ALL_ROLES:
        login(client, people[role])
        assert client.get(reverse("workorders:detail", args=[order_a.pk])).status_code == 200, role
    officer = login(client, people[R.OFFICER])
    assert officer.get(reverse("workorders:detail", args=[order_b.pk])).status_code == 404
    # acting on it is a 404 too, and changes nothing
    before = state(order_b)
    assert act(officer, order_b, "accept").status_code == 404
    assert state(order_b) == before
    assert order_b.number not in text(officer.get(reverse("workorders:list")))


def test_unknown_verb_is_404_and_get_is_refused(client, people):
    order = new_order(people)
    login(client, people[R.DISPATCHER])
    assert act(client, order, "explode").status_code == 404
    assert client.get(reverse("workorders:action", args=[order.pk, "accept"])).status_code == 405


# --- the dispatcher board -------------------------------------------------------------------

def test_board_sections_show_each_kind_of_order_with_counts(client, people, org):
    received = new_order(people)
    to_dispatch = accepted(people, text="江川路夜市烧烤油烟很大，占用人行道。")
    unlocated = intake.receive(by=people[R.DISPATCHER], channel="12345", text="某处有人私搭乱建，请来看看。",
                               category="illegal_construction").order
    unclassified = new_order(people, category=None, text="这里的情况请相关部门处理一下谢谢")
    first = new_order(people, text="莲花南路菜场门口占道卖菜严重，每天早上堵路。", title="占道卖菜")
    repeat = new_order(people, text="莲花南路菜场门口占道卖菜严重，每天早上堵路。", title="占道卖菜")
    late = new_order(people, text="剑川路违规堆放杂物，占用消防通道。", category="road_stacking")
    late.due_at = timezone.now() - dt.timedelta(hours=1)
    late.save(audit_action="test.late")
    workflow.escalate(to_dispatch, by=people[R.SUPERVISOR], reason="媒体关注")

    page = login(client, people[R.DISPATCHER]).get(reverse("workorders:index"))
    sections = {s.key: s for s in page.context["sections"]}
    numbers = {key: {o.number for o in s.orders} for key, s in sections.items()}
    assert received.number in numbers["new"] and to_dispatch.number not in numbers["new"]
    assert to_dispatch.number in numbers["dispatch"] and to_dispatch.number in numbers["supervised"]
    assert unlocated.number in numbers["unlocated"]
    assert unclassified.number in numbers["review"] and received.number not in numbers["review"]
    assert repeat.has_repeat_candidates and repeat.number in numbers["repeats"]
    shown = next(o for o in sections["repeats"].orders if o.number == repeat.number)
    assert first.number in {c.original.number for c in shown.pending_candidates}
    assert late.number in numbers["deadline"]
    body = text(page)
    assert f'data-testid="count-new">{sections["new"].count}<' in body
    assert "相似度" in body and first.number in body  # the reason, with the original's number


def test_board_accept_and_dispatch_go_back_to_the_board(client, people, org):
    order = new_order(people)
    login(client, people[R.DISPATCHER])
    board = reverse("workorders:index")
    response = act(client, order, "accept", {"next": board})
    assert response.status_code == 302 and response["Location"] == board
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED
    response = act(client, order, "dispatch", {"next": board, "dispatch-squad": org.squad_a.pk,
                                               "dispatch-assignee": people[R.OFFICER].pk})
    assert response.status_code == 302 and response["Location"] == board
    order.refresh_from_db()
    assert (order.status, order.squad, order.assignee) == (Status.DISPATCHED, org.squad_a, people[R.OFFICER])
    follow = client.get(board)
    assert f"工单 {order.number} 已派遣。" in text(follow)


def test_an_offsite_next_url_is_ignored(client, people):
    order = new_order(people)
    response = act(login(client, people[R.DISPATCHER]), order, "accept", {"next": "https://evil.example/"})
    assert response["Location"] == reverse("workorders:detail", args=[order.pk])


# --- lists, phones and the export -----------------------------------------------------------

def test_list_masks_phones_filters_and_colours_deadlines(client, people):
    late = new_order(people, text="江川路有人占道修车，油污满地。")
    late.due_at = timezone.now() - dt.timedelta(minutes=5)
    late.save(audit_action="test.late")
    soon = new_order(people, text="沧源路共享单车乱停放堵住盲道。", category="shared_bikes", channel="patrol")
    now = timezone.now()
    soon.due_at = now + min(dt.timedelta(minutes=30), (end_of_today(now) - now) / 2)  # later today
    soon.save(audit_action="test.soon")
    login(client, people[R.DISPATCHER])  # may see contacts, still masked in lists
    body = text(client.get(reverse("workorders:list")))
    assert MASKED in body and PHONE not in body
    assert f'class="cg-row-danger" data-number="{late.number}"' in body
    assert f'class="cg-row-warning" data-number="{soon.number}"' in body
    filtered = client.get(reverse("workorders:list"), {"channel": Channel.PATROL})
    assert [o.number for o in filtered.context["page"]] == [soon.number]
    by_date = client.get(reverse("workorders:list"), {"received_from": "2000-01-01", "q": late.number})
    assert [o.number for o in by_date.context["page"]] == [late.number]


def _export_rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_export_masks_phones_without_the_contact_permission(client, people):
    order = new_order(people)
    header, rows = _export_rows(login(client, people[R.SUPERVISOR]).get(reverse("workorders:export")))
    phone, name = header.index("联系电话"), header.index("反映人")
    assert [(r[0], r[phone], r[name]) for r in rows] == [(order.number, MASKED, "张*")]
    header, rows = _export_rows(login(client, people[R.DISPATCHER]).get(reverse("workorders:export")))
    assert rows[0][phone] == PHONE and rows[0][name] == "张三"
    assert AuditEvent.objects.filter(action="export", object_type="workorders.workorder").count() == 2


def test_export_keeps_to_scope_and_filters(client, people):
    new_order(people)
    other = new_order(people, where=IN_SQUAD_B, text="古美路有人乱倒建筑垃圾，无人清运。", category="construction_waste")
    login(client, people[R.SQUAD_LEADER])  # squad A
    _, rows = _export_rows(client.get(reverse("workorders:export")))
    assert other.number not in {r[0] for r in rows} and len(rows) == 1
    login(client, people[R.LEADER])
    _, rows = _export_rows(client.get(reverse("workorders:export"), {"squad": other.squad_id}))
    assert [r[0] for r in rows] == [other.number]


def test_detail_shows_the_phone_in_full_only_with_the_contact_permission(client, people):
    order = dispatched(people)
    body = text(login(client, people[R.OFFICER]).get(reverse("workorders:detail", args=[order.pk])))
    assert f'href="tel:{PHONE}"' in body
    body = text(login(client, people[R.SUPERVISOR]).get(reverse("workorders:detail", args=[order.pk])))
    assert MASKED in body and PHONE not in body and "tel:" not in body


def test_officer_list_has_navigation_details(client, people):
    order = dispatched(people, address="江川路 100 号")
    other = dispatched(people, assignee=None, text="鹤庆路乱晾晒，衣物挂在行道树上。", category="drying_clothes")
    page = login(client, people[R.OFFICER]).get(reverse("workorders:mine"))
    body = text(page)
    assert [o.number for o in page.context["orders"]] == [order.number]
    assert other.number not in body
    gcj_lon, gcj_lat = wgs84_to_gcj02(order.lon, order.lat)
    assert f"{order.lat:.6f}, {order.lon:.6f}" in body and f"{gcj_lat:.6f}, {gcj_lon:.6f}" in body
    assert f'href="geo:{order.lat:.6f},{order.lon:.6f}?q=' in body
    assert f'href="tel:{PHONE}"' in body and "江川路 100 号" in body
    assert 'id="mine-map"' in body


def test_officer_list_hides_the_phone_without_the_contact_permission(client, people, monkeypatch):
    """A deployment may take the contact right from officers: then no tel: link, no number."""
    from chengguan.core.models import User

    order = dispatched(people)
    has_perm = User.has_perm
    monkeypatch.setattr(User, "has_perm", lambda self, perm, obj=None: (
        perm != "workorders.view_workorder_contact" and has_perm(self, perm, obj)))
    body = text(login(client, people[R.OFFICER]).get(reverse("workorders:mine")))
    assert order.number in body and "tel:" not in body and PHONE not in body


def test_squad_work_list_groups_by_state_and_assigns(client, people, org):
    waiting = dispatched(people, assignee=None)
    handling = workflow.start(dispatched(people, text="江川路店外经营，桌椅摆到人行道。", category="cross_door"),
                              by=people[R.OFFICER])
    dispatched(people, assignee="officer_b", where=IN_SQUAD_B, text="古美路流动摊贩叫卖。", category="mobile_vendor")
    page = login(client, people[R.SQUAD_LEADER]).get(reverse("workorders:squad"))
    groups = {g.key: [o.number for o in g.orders] for g in page.context["groups"]}
    assert groups["unassigned"] == [waiting.number] and groups["handling"] == [handling.number]
    assert sum(len(v) for v in groups.values()) == 2  # squad B's order is not in squad A's list
    response = act(client, waiting, "assign", {"next": reverse("workorders:squad"),
                                               "assign-assignee": people["officer_a2"].pk})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.assignee == people["officer_a2"]
    # an officer of another squad is refused
    before = state(waiting)
    response = act(client, waiting, "assign", {"assign-assignee": people["officer_b"].pk})
    assert response.status_code == 200 and "不是本工单责任中队的队员" in text(response)
    assert state(waiting) == before


# --- the order page and its actions ---------------------------------------------------------

def test_order_page_offers_only_the_next_allowed_actions(client, people):
    order = new_order(people)
    page = login(client, people[R.DISPATCHER]).get(reverse("workorders:detail", args=[order.pk]))
    verbs = [f.verb for f in page.context["forms"]]
    assert verbs[0] == "accept" and "reply" not in verbs and "close" not in verbs
    assert 'data-testid="action-accept"' in text(page)
    page = login(client, people[R.OFFICER]).get(reverse("workorders:detail", args=[order.pk]))
    assert page.context["forms"] == [] and "当前没有您可执行的操作" in text(page)
    body = text(page)
    assert order.text in body and "自动分类建议" in body


def test_action_refused_by_state_or_right_shows_chinese_message_and_changes_nothing(client, people):
    order = new_order(people)
    before = state(order)
    response = act(login(client, people[R.OFFICER]), order, "accept")
    assert response.status_code == 200
    assert "不允许“签收”" in " ".join(messages_of(response))
    assert state(order) == before
    response = act(login(client, people[R.DISPATCHER]), order, "close")
    assert "不允许“结案”" in " ".join(messages_of(response)) and state(order) == before


def test_accept_dispatch_start_reply_verify_close(client, people, org):
    order = new_order(people)
    login(client, people[R.DISPATCHER])
    assert act(client, order, "accept", {"accept-note": "已核实"}).status_code == 302
    response = act(client, order, "dispatch", {"dispatch-squad": "", "dispatch-assignee": people[R.OFFICER].pk})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.DISPATCHED, people[R.OFFICER])

    login(client, people[R.OFFICER])
    assert act(client, order, "start").status_code == 302
    photo = SimpleUploadedFile("现场.png", png_bytes(4, 3), content_type="image/png")
    response = act(client, order, "reply", {
        "reply-findings": "到场时摊贩已离开", "reply-result": Result.RESOLVED, "reply-reply_text": "已劝离",
        "reply-lon": "121.4051", "reply-lat": "31.1051", "reply-photos": [photo]})
    assert response.status_code == 302
    order.refresh_from_db()
    handling = order.handlings.get()
    assert order.status == Status.REPLIED and handling.photos.count() == 1 and handling.lon == pytest.approx(121.4051)
    page = text(client.get(reverse("workorders:detail", args=[order.pk])))
    evidence = handling.photos.get()
    assert reverse("core:evidence_download", args=[evidence.pk]) in page and "到场时摊贩已离开" in page

    login(client, people[R.SUPERVISOR])
    assert act(client, order, "verify", {"verify-passed": "pass"}).status_code == 302
    login(client, people[R.DISPATCHER])
    assert act(client, order, "close", {"close-note": "办结"}).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    page = text(client.get(reverse("workorders:detail", args=[order.pk])))
    for label in ("受理", "签收", "派遣", "开始处置", "处置反馈", "核查通过", "结案"):
        assert label in page


def test_dispatch_refused_without_category(client, people):
    order = workflow.accept(new_order(people, category=None, text="这里的情况请相关部门处理一下谢谢"),
                            by=people[R.DISPATCHER])
    before = state(order)
    response = act(login(client, people[R.DISPATCHER]), order, "dispatch", {"dispatch-squad": ""})
    assert response.status_code == 200 and "请先确定工单分类再派遣。" in text(response)
    assert state(order) == before
    # refused from the board: the message shows on the board
    response = act(client, order, "dispatch", {"next": reverse("workorders:index")}, follow=True)
    assert "请先确定工单分类再派遣。" in text(response) and state(order) == before


def test_reply_refused_without_findings_keeps_no_photo(client, people):
    order = dispatched(people)
    before = state(order)
    photo = SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")
    response = act(login(client, people[R.OFFICER]), order, "reply", {
        "reply-findings": "", "reply-result": Result.RESOLVED, "reply-photos": [photo]})
    assert response.status_code == 200 and "现场情况" in text(response)
    assert state(order) == before and order.handlings.count() == 0
    response = act(client, order, "reply", {"reply-findings": "已处理", "reply-result": Result.UNRESOLVED,
                                            "reply-reply_text": "无法处理"})
    assert "请填写原因。" in text(response) and state(order) == before


def test_return_and_reassign(client, people, org):
    order = dispatched(people)
    login(client, people[R.OFFICER])
    response = act(client, order, "return", {"return-reason": ""})
    assert "退单原因" in text(response) and order.status == Status.DISPATCHED
    assert act(client, order, "return", {"return-reason": "不在本中队辖区"}).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.RETURNED
    login(client, people[R.DISPATCHER])
    act(client, order, "dispatch", {"dispatch-squad": org.squad_a.pk})
    response = act(client, order, "reassign", {"reassign-squad": org.squad_b.pk,
                                               "reassign-assignee": people["officer_b"].pk,
                                               "reassign-note": "实际位于古美辖区"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.squad, order.assignee) == (org.squad_b, people["officer_b"])


def test_verify_fail_needs_a_reason(client, people):
    order = replied(people)
    before = state(order)
    response = act(login(client, people[R.SUPERVISOR]), order, "verify", {"verify-passed": "fail"})
    assert "请填写返工原因。" in text(response) and state(order) == before
    act(client, order, "verify", {"verify-passed": "fail", "verify-note": "现场仍有摊位"})
    order.refresh_from_db()
    assert order.status == Status.HANDLING


def test_reject_out_of_remit(client, people):
    order = new_order(people, category="out_of_remit", text="小区物业不作为，电梯经常坏。")
    login(client, people[R.DISPATCHER])
    before = state(order)
    assert "退回理由" in text(act(client, order, "reject", {"reject-reason": ""})) and state(order) == before
    act(client, order, "reject", {"reject-reason": "属房管部门职责"})
    order.refresh_from_db()
    assert (order.status, order.out_of_remit_reason) == (Status.REJECTED, "属房管部门职责")


def test_merge_and_dismiss_repeat(client, people):
    text_ = "莲花南路菜场门口占道卖菜严重，每天早上堵路。"
    first = new_order(people, text=text_)
    second = new_order(people, text=text_)
    third = new_order(people, text=text_)
    login(client, people[R.DISPATCHER])
    before = state(second)
    response = act(client, second, "merge", {"merge-parent": "GD-NOPE"})
    assert "找不到编号为“GD-NOPE”的工单" in text(response) and state(second) == before
    act(client, second, "merge", {"merge-parent": first.number})
    second.refresh_from_db()
    assert (second.status, second.parent) == (Status.MERGED, first)
    candidate = third.repeat_candidates.get(original=first)
    act(client, third, "dismiss_repeat", {"dismiss_repeat-candidate": candidate.pk})
    candidate.refresh_from_db()
    assert candidate.status == RepeatStatus.DISMISSED
    response = act(client, third, "dismiss_repeat", {"dismiss_repeat-candidate": candidate.pk})
    assert "该疑似重复已处理。" in text(response)


def test_classify_locate_and_escalate(client, people, org):
    order = intake.receive(by=people[R.DISPATCHER], channel="12345", text="这里有人私搭乱建，请来看看。").order
    login(client, people[R.DISPATCHER])
    parent = Category.objects.get(code="illegal_building")
    before = state(order)
    response = act(client, order, "classify", {"classify-category": parent.pk})
    assert "请选择" in text(response) and state(order) == before
    leaf = Category.objects.get(code="illegal_construction")
    act(client, order, "classify", {"classify-category": leaf.pk})
    response = act(client, order, "locate", {"locate-lon": "121.415", "locate-lat": ""})
    assert "经度和纬度须同时填写。" in text(response)
    act(client, order, "locate", {"locate-lon": "121.415", "locate-lat": "31.105"})
    order.refresh_from_db()
    assert (order.category, order.needs_review, order.squad, order.grid) == (leaf, False, org.squad_a, org.grid_a2)
    other = intake.receive(by=people[R.DISPATCHER], channel="12345", text="古美某小区有人违建。",
                           category="illegal_construction").order
    act(client, other, "locate", {"locate-squad": org.squad_b.pk})
    other.refresh_from_db()
    assert other.squad == org.squad_b
    login(client, people[R.SUPERVISOR])
    act(client, order, "escalate", {"escalate-reason": "市领导批示"})
    order.refresh_from_db()
    assert order.supervised and order.supervised_reason == "市领导批示"


def test_extension_request_and_approval_queue(client, people):
    order = dispatched(people)
    login(client, people[R.OFFICER])
    response = act(client, order, "request_extension", {"request_extension-extra_days": 99,
                                                        "request_extension-reason": "需协调"})
    assert "延长天数须为" in text(response) and not order.clock_requests.exists()
    act(client, order, "request_extension", {"request_extension-extra_days": 3, "request_extension-reason": "需协调"})
    request = order.clock_requests.get()
    leader = login(client, people[R.LEADER])
    queue = leader.get(reverse("workorders:clock_requests"))
    assert order.number in text(queue) and 'data-testid="approve"' in text(queue)
    response = act(client, order, "decide_clock", {"next": reverse("workorders:clock_requests"),
                                                   "decide_clock-request": request.pk,
                                                   "decide_clock-approve": "0"}, follow=True)
    assert "请填写审批意见。" in text(response)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    act(client, order, "decide_clock", {"decide_clock-request": request.pk, "decide_clock-approve": "1"})
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert order.number not in text(leader.get(reverse("workorders:clock_requests")))


def test_nobody_approves_their_own_request(client, people):
    order = dispatched(people, assignee=None)
    dispatcher = people[R.DISPATCHER]
    request = ClockRequest(order=order, kind=RequestKind.EXTENSION, reason="等待", extra_days=2,
                           requested_by=dispatcher)
    request.save(audit_action="test.request")
    response = act(login(client, dispatcher), order, "decide_clock", {"decide_clock-request": request.pk,
                                                                      "decide_clock-approve": "1"})
    assert "不能审批自己的申请。" in text(response)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_suspension_and_resume(client, people):
    order = dispatched(people)
    login(client, people[R.OFFICER])
    act(client, order, "request_suspension", {"request_suspension-reason": "等待规划部门认定"})
    request = order.clock_requests.get(kind=RequestKind.SUSPENSION)
    login(client, people[R.DISPATCHER])
    act(client, order, "decide_clock", {"decide_clock-request": request.pk, "decide_clock-approve": "1"})
    order.refresh_from_db()
    assert order.status == Status.SUSPENDED
    login(client, people[R.LEADER])
    act(client, order, "resume", {"resume-note": "已认定"})
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED


def test_rate_and_convert_to_case(client, people):
    order = dispatched(people)
    login(client, people[R.OFFICER])
    before = state(order)
    response = act(client, order, "convert_to_case", {"convert_to_case-facts": ""})
    assert "违法事实" in text(response) and state(order) == before
    act(client, order, "convert_to_case", {"convert_to_case-facts": "占道经营，经劝阻拒不改正",
                                           "convert_to_case-party_name": "王某"})
    assert CaseConversion.objects.get(order=order).party_name == "王某"
    act(client, order, "reply", {"reply-findings": "已立案", "reply-result": Result.CONVERTED,
                                 "reply-reply_text": "已立案查处"})
    login(client, people[R.DISPATCHER])
    response = act(client, order, "rate", {"rate-satisfaction": ""})
    assert "满意度" in text(response)
    act(client, order, "rate", {"rate-satisfaction": Satisfaction.SATISFIED, "rate-note": "回访满意"})
    order.refresh_from_db()
    assert order.satisfaction == Satisfaction.SATISFIED
    page = text(client.get(reverse("workorders:detail", args=[order.pk])))
    assert "占道经营，经劝阻拒不改正" in page and "满意" in page


# --- new orders -----------------------------------------------------------------------------

def test_officer_reports_a_patrol_discovery_with_a_photo(client, people, org):
    login(client, people[R.OFFICER])
    page = client.get(reverse("workorders:create"))
    channels = [value for value, _ in page.context["form"].fields["channel"].choices]
    assert Channel.PATROL in channels and Channel.HOTLINE_12345 not in channels
    photo = SimpleUploadedFile("发现.png", png_bytes(), content_type="image/png")
    response = client.post(reverse("workorders:create"), {
        "channel": Channel.PATROL, "text": "江川路 200 号门口占道堆放建材。", "address": "江川路 200 号",
        "lon": "121.405", "lat": "31.105", "crs": "wgs84", "photos": [photo]})
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("workorders:detail", args=[order.pk])
    assert (order.channel, order.squad, order.created_by, order.photos.count(), order.wants_reply) == (
        Channel.PATROL, org.squad_a, people[R.OFFICER], 1, False)


def test_new_order_refused_changes_nothing(client, people):
    login(client, people[R.DISPATCHER])
    response = client.post(reverse("workorders:create"), {"channel": Channel.LEADERSHIP, "text": "",
                                                          "crs": "wgs84"})
    assert response.status_code == 200 and not WorkOrder.objects.exists()
    response = client.post(reverse("workorders:create"), {"channel": Channel.LEADERSHIP, "text": "请核查",
                                                          "reporter_phone": "电话", "crs": "wgs84"})
    assert "联系电话格式不正确。" in text(response) and not WorkOrder.objects.exists()


# --- dashboard ------------------------------------------------------------------------------

def test_dashboard_cards(client, people):
    order = new_order(people)
    late = dispatched(people, text="剑川路违规堆放杂物。", category="road_stacking")
    late.overdue = True
    late.save(audit_action="test.late")
    dispatched(people, assignee=None, text="鹤庆路乱晾晒，衣物挂在行道树上。", category="drying_clothes")
    body = text(login(client, people[R.DISPATCHER]).get(reverse("core:dashboard")))
    assert 'data-testid="card-workorders_open">3<' in body
    assert 'data-testid="card-workorders_overdue">1<' in body
    assert 'data-testid="card-workorders_awaiting">1<' in body  # the new one; the others are with the squad
    body = text(login(client, people[R.OFFICER]).get(reverse("core:dashboard")))
    assert 'data-testid="card-workorders_awaiting">1<' in body and order.number not in body
    body = text(login(client, people[R.SQUAD_LEADER]).get(reverse("core:dashboard")))
    assert 'data-testid="card-workorders_awaiting">1<' in body  # the one without a handler
    body = text(login(client, people[R.LEGAL_REVIEWER]).get(reverse("core:dashboard")))
    assert "card-workorders_open" in body and "card-workorders_awaiting" not in body


# --- admin ----------------------------------------------------------------------------------

@pytest.fixture
def admin_client_(client, people):
    admin = people[R.ADMIN]
    admin.is_staff = True
    admin.save(audit_action="test.staff")
    return login(client, admin)


def test_admin_pages_render_and_save_through_the_services(admin_client_):
    client = admin_client_
    for model in ("category", "timelimitrule", "intakeclient", "addressentry", "classifiermodel"):
        assert client.get(reverse(f"admin:workorders_{model}_changelist")).status_code == 200, model
    parent = Category.objects.get(code="street_order")
    child = Category.objects.get(code="street_occupation")
    url = reverse("admin:workorders_category_change", args=[parent.pk])
    form = {"name": parent.name, "parent": child.pk, "keywords": parent.keywords, "in_remit": "on",
            "limit_kind": parent.limit_kind, "limit_amount": "1", "order": parent.order, "is_active": "on"}
    response = client.post(url, form)
    assert response.status_code == 200 and "不能把分类移到它自己或它的下级分类之下。" in text(response)
    parent.refresh_from_db()
    assert parent.parent is None
    response = client.post(url, {**form, "parent": "", "limit_amount": "2"})
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.limit_amount == 2
    assert AuditEvent.objects.filter(action="workorder.category.update").exists()


def test_admin_creates_an_intake_client_and_shows_the_key_once(admin_client_):
    from chengguan.workorders.models import IntakeClient

    response = admin_client_.post(reverse("admin:workorders_intakeclient_add"),
                                  {"name": "市 12345 平台", "channel": Channel.HOTLINE_12345}, follow=True)
    client = IntakeClient.objects.get()
    assert "仅显示这一次" in text(response) and client.key_prefix in text(response)
    page = text(admin_client_.get(reverse("admin:workorders_intakeclient_change", args=[client.pk])))
    assert client.key_digest in page and 'name="key_digest"' not in page  # shown, not editable
