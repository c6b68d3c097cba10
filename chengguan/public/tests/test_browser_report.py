"""A citizen on a phone reports a problem on the public portal in headless Chromium: picks the
place on the map (our own jurisdiction layer, no tiles), submits, gets a ticket number, and
looks it up on the status page with the last four digits of the phone.

Run: pytest -m browser. With CG_SCREENSHOTS=1 screenshots go to /tmp/cg-shots/."""


import pytest
from django.core.cache import cache
from django.urls import reverse

from chengguan.core.tests import test_browser as core_browser
from chengguan.core.tests.test_browser import PHONE, no_horizontal_scroll, shot
from chengguan.workorders.choices import Channel
from chengguan.workorders.models import WorkOrder

# core's Chromium fixtures, shared (same launch, same JavaScript error capture)
browser = core_browser.browser
open_page = core_browser.open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _installed(installation_data):
    """The default catalogue (see conftest.installation_data)."""


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def test_a_citizen_reports_on_a_phone_and_checks_the_status(open_page, live_server, org):
    page = open_page(PHONE)
    page.goto(live_server.url + reverse("public:index"))
    page.click("[data-testid=citizen-links] a[href$='/public/report/']")
    page.wait_for_selector("#report-map .leaflet-interactive, #report-map svg path")
    assert no_horizontal_scroll(page)
    page.fill("#id_text", "小区门口每天早上有人占道摆摊，影响通行。")
    page.fill("#id_title", "占道摆摊")
    # tap the map a little left of and below its middle: the map is fitted to squads A and B
    # side by side (A west), their grids along the southern half
    box = page.locator("#report-map").bounding_box()
    page.locator("#report-map").click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.65})
    status = page.locator("[data-testid=location-status]")
    assert "已选择位置" in status.inner_text()
    assert page.input_value("#id_lon") and page.input_value("#id_lat")
    page.fill("#id_reporter_name", "王女士")
    page.fill("#id_reporter_phone", "13912345678")
    shot(page, "phone-public-report")
    page.click("[data-testid=report-submit]")
    page.wait_for_selector("[data-testid=ticket-number]")
    assert page.url == live_server.url + reverse("public:report_done")
    number = page.locator("[data-testid=ticket-number]").inner_text().strip()
    order = WorkOrder.objects.get(number=number)
    assert order.channel == Channel.PUBLIC_WEB and order.squad == org.squad_a
    shot(page, "phone-public-report-done")

    page.click("text=查询办理进度")
    page.fill("#id_number", number)
    page.fill("#id_digits", "0000")  # not the phone's digits
    page.click("[data-testid=status-submit]")
    assert "不正确" in page.locator("[data-testid=status-error]").inner_text()
    page.fill("#id_number", number)
    page.fill("#id_digits", "5678")
    page.click("[data-testid=status-submit]")
    assert page.locator("[data-testid=status-number]").inner_text() == number
    assert page.locator("[data-testid=status-label]").inner_text() == "已受理"
    assert no_horizontal_scroll(page)
    assert page.js_errors == []
    shot(page, "phone-public-status")


def test_an_address_instead_of_a_point_also_works(open_page, live_server, org):
    page = open_page(PHONE)
    page.goto(live_server.url + reverse("public:report"))
    page.click("[data-testid=report-submit]")  # empty: explained on the page
    assert page.locator("[data-testid=error-text]").inner_text() == "请填写反映内容。"
    page.fill("#id_text", "夜间施工噪声扰民。")
    page.fill("#id_address", "江川路 100 号")
    page.click("[data-testid=report-submit]")
    page.wait_for_selector("[data-testid=ticket-number]")
    assert page.url == live_server.url + reverse("public:report_done")
    assert WorkOrder.objects.get().address == "江川路 100 号"
    assert page.js_errors == []
