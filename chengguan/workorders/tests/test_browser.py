"""The work-order screens in headless Chromium (core's launch and helpers): a dispatcher takes
a new order on the board, accepts and dispatches it and sees it move; the officer's phone list
shows the order on the map with its navigation details; the order page draws its place.

Run: pytest -m browser. With CG_SCREENSHOTS=1 screenshots go to /tmp/cg-shots/."""


import pytest
from django.urls import reverse

from chengguan.core.choices import RoleCode
from chengguan.core.testing import make_user
from chengguan.core.tests import test_browser as core_browser
from chengguan.core.tests.test_browser import DESKTOP, PHONE, log_in, no_horizontal_scroll, shot
from chengguan.workorders.choices import Status
from chengguan.workorders.models import WorkOrder
from chengguan.workorders.services import intake, workflow

browser = core_browser.browser
open_page = core_browser.open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}


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
def _installed(installation_data):
    """The default catalogue (see conftest.installation_data)."""


def logged_in(open_page, live_server, user, viewport=DESKTOP):
    page = open_page(viewport)
    log_in(page, live_server.url, user)
    page.wait_for_url(live_server.url + reverse("core:dashboard"))
    return page


def section_item(page, section, number):
    return page.locator(f"[data-section={section}] [data-testid=board-item][data-number='{number}']")


def test_dispatcher_accepts_and_dispatches_on_the_board(open_page, live_server, org, users):
    dispatcher = users[RoleCode.DISPATCHER]
    officer_b = make_user(RoleCode.OFFICER, org.squad_b, real_name="古美队员")
    order = intake.receive(by=dispatcher, channel="12345", text="江川路菜场门口有人占道卖水果，影响通行。",
                           category="street_occupation", reporter_phone="13812345678", **IN_SQUAD_A).order

    page = logged_in(open_page, live_server, dispatcher)
    page.goto(live_server.url + reverse("workorders:index"))
    item = section_item(page, "new", order.number)
    assert item.count() == 1 and "占道卖水果" in item.inner_text()
    assert page.locator("[data-testid=count-new]").inner_text() == "1"
    shot(page, "desktop-workorders-board")

    item.locator("[data-testid=accept]").click()
    page.wait_for_load_state()
    section_item(page, "dispatch", order.number).wait_for()
    assert section_item(page, "new", order.number).count() == 0
    assert f"工单 {order.number} 已签收。" in page.locator(".cg-messages").inner_text()

    # send it to squad B (a correction of the located squad) and its officer
    form = section_item(page, "dispatch", order.number).locator("[data-testid=dispatch-form]")
    officers = form.locator("select[name=dispatch-assignee]")
    assert officers.locator(f"option[value='{users[RoleCode.OFFICER].pk}']").is_enabled()
    assert not officers.locator(f"option[value='{officer_b.pk}']").is_enabled()  # only squad A's people
    form.locator("select[name=dispatch-squad]").select_option(str(org.squad_b.pk))
    assert officers.locator(f"option[value='{officer_b.pk}']").is_enabled()
    officers.select_option(str(officer_b.pk))
    form.locator("[data-testid=dispatch]").click()
    page.wait_for_load_state()
    page.locator(".cg-messages").wait_for()
    assert f"工单 {order.number} 已派遣。" in page.locator(".cg-messages").inner_text()
    assert page.locator(f"[data-testid=board-item][data-number='{order.number}']").count() == 0
    order.refresh_from_db()
    assert (order.status, order.squad, order.assignee) == (Status.DISPATCHED, org.squad_b, officer_b)
    assert page.js_errors == []
    shot(page, "desktop-workorders-board-dispatched")


def test_officer_phone_list_and_order_page(open_page, live_server, org, users):
    dispatcher, officer = users[RoleCode.DISPATCHER], users[RoleCode.OFFICER]
    order = intake.receive(by=dispatcher, channel="12345", text="江川路 100 号门口堆放建材。", address="江川路 100 号",
                           category="road_stacking", reporter_phone="13812345678", **IN_SQUAD_A).order
    order = workflow.dispatch(workflow.accept(order, by=dispatcher), by=dispatcher, assignee=officer)

    page = logged_in(open_page, live_server, officer, PHONE)
    page.goto(live_server.url + reverse("workorders:index"))
    page.wait_for_url(live_server.url + reverse("workorders:mine"))
    card = page.locator(f"[data-testid=my-order][data-number='{order.number}']")
    assert "江川路 100 号" in card.inner_text()
    assert card.locator("[data-testid=geo-link]").get_attribute("href").startswith("geo:31.105000,121.405000")
    assert card.locator("[data-testid=tel]").get_attribute("href") == "tel:13812345678"
    page.locator("#mine-map .leaflet-marker-icon").first.wait_for()
    page.locator("#mine-map path.cg-squad").first.wait_for()  # our own layers, no tiles
    assert page.locator("#mine-map .leaflet-tile").count() == 0
    assert no_horizontal_scroll(page)
    shot(page, "phone-workorders-mine")

    card.locator("a", has_text=order.number).click()
    page.wait_for_url(live_server.url + reverse("workorders:detail", args=[order.pk]))
    page.locator("#order-map .leaflet-marker-icon").wait_for()
    assert page.locator("[data-testid=original-text]").inner_text() == order.text
    page.click("[data-testid=action-start]")
    page.wait_for_url(live_server.url + reverse("workorders:detail", args=[order.pk]))
    assert "已开始处置" in page.locator(".cg-messages").inner_text()
    assert WorkOrder.objects.get(pk=order.pk).status == Status.HANDLING
    assert no_horizontal_scroll(page)
    assert page.js_errors == []
    shot(page, "phone-workorders-detail")


def test_board_fits_a_phone(open_page, live_server, org, users):
    dispatcher = users[RoleCode.DISPATCHER]
    intake.receive(by=dispatcher, channel="12345", text="沧源路共享单车乱停放，堵住盲道。", category="shared_bikes",
                   **IN_SQUAD_A)
    page = logged_in(open_page, live_server, dispatcher, PHONE)
    for name in ("workorders:index", "workorders:list", "workorders:create", "workorders:clock_requests"):
        page.goto(live_server.url + reverse(name))
        assert no_horizontal_scroll(page), name
        shot(page, f"phone-{name.replace(':', '-')}")
    assert page.js_errors == []
