"""The case screens in headless Chromium (core's launch and helpers): the squad leader opens a
lead's page, files it through the 立案 form and sees the timeline grow; an officer fills the
on-the-spot form at phone width (390 px) and is shown the decision with its number.

Run: pytest -m browser. With CG_SCREENSHOTS=1 screenshots go to /tmp/cg-shots/."""

import pytest
from django.apps import apps
from django.urls import reverse

from chengguan.cases.choices import Status
from chengguan.cases.models import Case
from chengguan.core.choices import RoleCode
from chengguan.core.tests import test_browser as core_browser
from chengguan.core.tests.test_browser import DESKTOP, log_in, no_horizontal_scroll, shot
from chengguan.documents import defaults

from .conftest import id_number

browser = core_browser.browser
open_page = core_browser.open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

R = RoleCode
PHONE_390 = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def document_defaults(transactional_db):
    """Every step issues its documents: the default templates and number formats (a flush by
    an earlier live-server test may have removed what the migration wrote)."""
    defaults.install(apps)


def logged_in(open_page, live_server, user, viewport=DESKTOP):
    page = open_page(viewport)
    log_in(page, live_server.url, user)
    page.wait_for_url(live_server.url + reverse("core:dashboard"))
    return page


def test_squad_leader_files_a_lead_and_sees_the_timeline_grow(open_page, live_server, flow, staff):
    case = flow.lead()
    page = logged_in(open_page, live_server, staff[R.SQUAD_LEADER])
    page.click("a.nav-link:has-text('执法案件')")
    page.wait_for_url(live_server.url + reverse("cases:index"))
    page.locator(f"[data-testid=case-table] tr[data-case='{case.pk}'] a").click()
    page.wait_for_url(live_server.url + reverse("cases:detail", args=[case.pk]))
    timeline = page.locator("[data-testid=timeline] li")
    assert timeline.count() == 1 and "录入线索" in timeline.first.inner_text()
    assert page.locator("[data-testid=open-file]").is_visible()
    shot(page, "desktop-case-lead")

    page.click("[data-testid=open-file]")
    form = page.locator("[data-testid=form-file]")
    form.wait_for()
    form.locator("select[name=file-lead_officer]").select_option(str(staff[R.OFFICER].pk))
    form.locator(f"input[name=file-assist_officers][value='{staff['officer2'].pk}']").check()
    form.locator("textarea[name=file-note]").fill("事实清楚，同意立案。")
    form.locator("[data-testid=submit-file]").click()
    page.wait_for_url(live_server.url + reverse("cases:detail", args=[case.pk]))
    case.refresh_from_db()
    assert case.status == Status.INVESTIGATING
    assert f"已立案，案件编号 {case.number}" in page.locator(".cg-messages").inner_text()
    assert timeline.count() == 2 and "立案" in timeline.nth(1).inner_text()
    assert page.locator("[data-testid=case-number]").inner_text() == case.number
    assert "立案审批表" in page.locator("[data-testid=documents]").inner_text()
    assert page.locator("[data-testid=open-file]").count() == 0  # no longer a next step
    assert page.js_errors == []
    shot(page, "desktop-case-filed")


def test_officer_decides_on_the_spot_at_phone_width(open_page, live_server, staff, matters, numbering):
    officer = staff[R.OFFICER]
    page = logged_in(open_page, live_server, officer, PHONE_390)
    page.goto(live_server.url + reverse("cases:simple_create"))
    form = page.locator("[data-testid=simple-form]")
    assert no_horizontal_scroll(page)
    # an organisation's fields stay hidden for a person
    assert not form.locator("input[name=party_credit_code]").is_visible()
    form.locator("input[name=party_name]").fill("张三丰")
    form.locator("input[name=party_id_number]").fill(id_number(1))
    form.locator("input[name=party_phone]").fill("13812345678")
    form.locator("input[name=party_address]").fill("上海市闵行区江川路1号")
    form.locator("select[name=matter]").select_option(str(matters["street"].pk))
    form.locator("textarea[name=facts]").fill("在江川路1号门前占道设摊经营。")
    form.locator("input[name=address]").fill("江川路1号")
    form.locator("input[name=fine]").fill("100")
    form.locator(f"input[name=co_officers][value='{staff['officer2'].pk}']").check()
    shot(page, "phone-case-simple-form")
    form.locator("[data-testid=submit-simple]").click()

    case = Case.objects.get()
    page.wait_for_url(live_server.url + reverse("cases:decision", args=[case.pk]))
    assert page.locator("[data-testid=decision-number]").inner_text() == case.number
    assert f"决定书编号 {case.number}" in page.locator(".cg-messages").inner_text()
    assert "罚款 100.00 元" in page.locator("[data-testid=decision-penalty]").inner_text()
    assert (case.procedure, case.status) == ("simple", Status.EXECUTING)
    assert no_horizontal_scroll(page)
    assert page.js_errors == []
    shot(page, "phone-case-simple-decision")
