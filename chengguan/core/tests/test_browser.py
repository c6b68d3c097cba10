"""The UI in headless Chromium (Debian's /usr/bin/chromium driven by Playwright): login,
dashboard, the one-map page and the phone layout.

Run: pytest -m browser. Without /usr/bin/chromium these tests skip, unless REQUIRE_BROWSER=1
(CI), where a missing browser fails. With CG_SCREENSHOTS=1 each test saves screenshots to
/tmp/cg-shots/ for a person to look at.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from chengguan.core.forms import generic_login_error
from chengguan.core.testing import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's ORM (fixtures) refuses to
# run inside one unless told it is safe here (it is: the loop only waits on the browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path("/tmp/cg-shots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}

pytestmark = [
    pytest.mark.browser,
    # the live server thread must see the test's rows, so they are committed; the migrated
    # rows (roles) are restored afterwards for the tests that run later
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = ("未找到 /usr/bin/chromium（请 apt-get install chromium），浏览器测试未运行。"
                   " / /usr/bin/chromium is missing (apt-get install chromium); browser tests not run.")
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """open_page(viewport) → a new page that records JavaScript errors in page.js_errors."""
    contexts = []

    def make(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and page.js_errors.append(msg.text))
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str, full_page: bool = True) -> None:
    if os.environ.get("CG_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(400)  # let popups and menus finish their transitions
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def log_in(page, base_url, user, password=PASSWORD):
    page.goto(base_url + reverse("core:login"))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_login_shows_dashboard_with_counts_and_name(open_page, live_server, org, users):
    page = open_page()
    officer = users["officer"]
    log_in(page, live_server.url, officer)
    page.wait_for_url(live_server.url + reverse("core:dashboard"))
    assert page.title().startswith("工作台")
    assert officer.real_name in page.locator(".cg-navbar").inner_text()
    assert page.locator("[data-testid=card-squads]").inner_text() == "1"
    assert page.locator("[data-testid=card-grids]").inner_text() == "2"
    assert page.locator("[data-testid=card-staff]").inner_text() == "2"  # officer and squad leader
    assert page.locator("[data-testid=card-audit_today]").count() == 0  # not for officers
    # the ECharts bar chart was drawn (SVG renderer) with the squad's name
    page.wait_for_selector("#staff-chart svg")
    assert org.squad_a.name in page.locator("#staff-chart").inner_text()
    assert page.js_errors == []
    shot(page, "desktop-dashboard")


def test_wrong_password_shows_the_generic_message(open_page, live_server, users):
    page = open_page()
    log_in(page, live_server.url, users["officer"], password="wrong-password")
    error = page.locator("[data-testid=login-error]")
    assert error.inner_text().strip() == generic_login_error()
    assert page.url.startswith(live_server.url + reverse("core:login"))
    shot(page, "desktop-login-error")


def test_list_filter_updates_the_table_in_place(open_page, live_server, org, users):
    page = open_page()
    log_in(page, live_server.url, users["leader"])
    page.wait_for_url(live_server.url + reverse("core:dashboard"))
    page.goto(live_server.url + reverse("core:grid_list"))
    rows = page.locator("[data-testid=grid-table] tbody tr")
    assert rows.count() == 4
    page.evaluate("window.notReloaded = true")
    page.fill("input[name=q]", org.grid_b2.code)  # HTMX swaps the results after a short pause
    page.wait_for_function("document.querySelectorAll('[data-testid=grid-table] tbody tr').length === 1")
    assert org.grid_b2.code in rows.first.inner_text()
    assert page.evaluate("window.notReloaded") is True  # swapped in place, not a page load
    assert f"q={org.grid_b2.code}" in page.url  # the filtered view can be bookmarked
    assert page.js_errors == []


def test_map_draws_jurisdictions_and_grid_popup(open_page, live_server, org, users):
    page = open_page()
    log_in(page, live_server.url, users["leader"])
    page.wait_for_url(live_server.url + reverse("core:dashboard"))
    page.goto(live_server.url + reverse("core:map"))
    squads = page.locator(".leaflet-overlay-pane path.cg-squad")
    squads.first.wait_for()
    assert squads.count() == 2
    assert {t.strip() for t in page.locator(".cg-squad-label").all_inner_texts()} == {
        org.squad_a.name, org.squad_b.name}

    # the test district fits the screen at a zoom where grids are drawn
    grid = page.locator(f".leaflet-overlay-pane path.cg-grid-id-{org.grid_a1.pk}")
    grid.wait_for()
    assert page.locator(".leaflet-overlay-pane path.cg-grid").count() == 4
    grid.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert org.grid_a1.code in popup.inner_text() and org.squad_a.name in popup.inner_text()
    shot(page, "desktop-map-popup", full_page=False)

    page.fill("input[name=lon]", "121.435")
    page.fill("input[name=lat]", "31.105")
    page.click("#cg-locate-form button[type=submit]")
    result = page.locator("#cg-locate-result [data-testid=locate-result]")
    result.wait_for()
    assert org.grid_b2.code in result.inner_text() and org.squad_b.name in result.inner_text()
    assert page.locator(".leaflet-marker-pane img").count() == 1
    assert page.js_errors == []
    shot(page, "desktop-map-locate", full_page=False)


def test_phone_layout_collapses_the_menu(open_page, live_server, org, users):
    page = open_page(PHONE)
    log_in(page, live_server.url, users["squad_leader"])
    page.wait_for_url(live_server.url + reverse("core:dashboard"))
    toggler = page.locator(".navbar-toggler")
    duty_link = page.locator("#cg-nav").get_by_text("勤务")
    assert toggler.is_visible() and not duty_link.is_visible()
    assert no_horizontal_scroll(page)
    shot(page, "phone-dashboard")
    toggler.click()
    duty_link.wait_for(state="visible")
    box = duty_link.bounding_box()
    assert box["height"] >= 40  # touch target
    shot(page, "phone-menu")
    duty_link.click()  # a module not built yet: its placeholder
    page.wait_for_url(live_server.url + reverse("core:module", args=["duty"]))
    assert "勤务模块尚未上线" in page.locator("main").inner_text()

    for name in ("core:staff_list", "core:grid_list", "core:org_tree"):
        page.goto(live_server.url + reverse(name))
        assert no_horizontal_scroll(page), name
        shot(page, f"phone-{name.split(':')[1]}")

    page.goto(live_server.url + reverse("core:map"))
    page.locator(".leaflet-overlay-pane path.cg-squad").first.wait_for()
    map_box = page.locator("#cg-map").bounding_box()
    assert map_box["width"] == PHONE["width"] and map_box["height"] > PHONE["height"] * 0.8
    assert page.js_errors == []
    shot(page, "phone-map", full_page=False)
