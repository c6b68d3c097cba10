"""The inspections screens in headless Chromium (same launch and helpers as core's browser
tests): an officer on a phone inspects on site (position from the browser, checklist toggles,
signature drawn on the canvas), a planner freezes, draws and publishes a plan that then shows on
the public portal, and every page fits a phone screen.

Run: pytest -m browser. With CG_SCREENSHOTS=1 screenshots go to /tmp/cg-shots/."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from chengguan.core.choices import RoleCode
from chengguan.core.testing import make_user
from chengguan.core.tests import test_browser as core_browser
from chengguan.core.tests.test_browser import DESKTOP, PHONE, log_in, no_horizontal_scroll, shot
from chengguan.core.tests.test_evidence import png_bytes
from chengguan.inspections.choices import PlanStatus, TaskSource
from chengguan.inspections.models import DrawPlan, InspectionRecord, InspectionTask
from chengguan.inspections.services import draws, records, tiering

# core's Chromium fixtures, shared (same launch, same JavaScript error capture)
browser = core_browser.browser
open_page = core_browser.open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


def logged_in(open_page, live_server, user, viewport=DESKTOP):
    page = open_page(viewport)
    log_in(page, live_server.url, user)
    page.wait_for_url(live_server.url + reverse("core:dashboard"))
    return page


def test_officer_inspects_on_a_phone(open_page, live_server, org, users, regobj_factory):
    officer = users[RoleCode.OFFICER]
    partner = make_user(RoleCode.OFFICER, org.squad_a, real_name="李四")
    shop = tiering.assign_tier(regobj_factory(org.grid_a1, name="江川路便利店"), save=True)
    far = tiering.assign_tier(regobj_factory(org.grid_a2, name="远处面馆"), save=True)
    task = InspectionTask.objects.create(regulated_object=shop, squad=shop.squad, source=TaskSource.SCHEDULE,
                                         due_date=timezone.localdate())
    task.inspectors.set([officer, partner])
    later = InspectionTask.objects.create(regulated_object=far, squad=far.squad, source=TaskSource.DRAW,
                                          due_date=timezone.localdate() + dt.timedelta(days=3))
    later.inspectors.set([officer, partner])

    page = logged_in(open_page, live_server, officer, PHONE)
    # the phone stands about 20 m from the shop
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"longitude": shop.lon + 0.0002, "latitude": shop.lat, "accuracy": 8})
    page.goto(live_server.url + reverse("inspections:my_tasks"))
    cards = page.locator("[data-testid=my-tasks] .cg-task")
    assert cards.count() == 2 and "江川路便利店" in cards.first.inner_text()  # due first
    page.locator("[data-testid=my-tasks] .cg-distance").first.wait_for(state="visible")
    assert "距您" in page.locator("[data-testid=my-tasks] .cg-distance").first.inner_text()
    assert no_horizontal_scroll(page)
    shot(page, "phone-inspections-my-tasks")

    cards.first.click()
    page.wait_for_url(live_server.url + reverse("inspections:task_inspect", args=[task.pk]))
    status = page.locator("[data-testid=position-status]")
    page.wait_for_function("document.getElementById('position-status').dataset.located === '1'")
    assert "已定位" in status.inner_text() and "距检查对象" in status.inner_text()

    # big toggles: one tap passes every item, then one item is marked not applicable
    page.click("#all-pass")
    items = page.locator("[data-testid=check-item]")
    assert items.count() == 4
    na = items.nth(3).locator("label", has_text="不适用")
    assert na.bounding_box()["height"] >= 44  # a finger-sized target
    na.click()
    assert page.locator(f"#{partner_checkbox_id(page, partner)}").is_checked()  # the assigned partner
    page.fill("textarea[name=findings]", "门前三包落实，店招完好")
    page.set_input_files("#id_photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png_bytes(8, 6)}])
    assert page.locator("#photo-count").inner_text() == "已选择 1 张照片"
    page.locator("label", has_text="未发现问题").click()
    assert not page.locator("[data-outcome=order_to_correct]").is_visible()
    page.locator("label", has_text="责令改正").click()
    assert page.locator("[data-outcome=order_to_correct]").is_visible()
    page.locator("label", has_text="未发现问题").click()

    # the party signs with a finger on the canvas
    pad = page.locator("[data-testid=signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 20, box["y"] + box["height"] / 2 + (-1) ** step * 25, steps=3)
    page.mouse.up()
    assert page.evaluate("document.querySelector('input[name=signature]').value.startsWith('data:image/png;base64,')")
    assert no_horizontal_scroll(page)
    shot(page, "phone-inspections-form")

    page.click("[data-testid=submit-inspection]")
    page.wait_for_url(lambda url: "/inspections/records/" in url)
    record = InspectionRecord.objects.get()
    assert page.url == live_server.url + reverse("inspections:record_detail", args=[record.pk])
    assert "已核验" in page.locator("[data-testid=location]").inner_text()
    assert record.signature is not None and record.checklist[3]["result"] == "na"
    assert record.photos.count() == 1
    assert page.locator(".cg-photo-grid img").evaluate("img => img.naturalWidth") == 8
    assert page.locator("img[data-testid=signature]").evaluate("img => img.naturalWidth") > 0
    assert no_horizontal_scroll(page)
    assert page.js_errors == []
    shot(page, "phone-inspections-record-signed")


def partner_checkbox_id(page, partner) -> str:
    return page.locator(f"input[name=co_inspectors][value='{partner.pk}']").get_attribute("id")


def test_inspection_refused_when_far_away_keeps_the_form(open_page, live_server, org, users, regobj_factory):
    officer = users[RoleCode.OFFICER]
    partner = make_user(RoleCode.OFFICER, org.squad_a)
    shop = tiering.assign_tier(regobj_factory(org.grid_a1, name="远程打卡店"), save=True)
    task = InspectionTask.objects.create(regulated_object=shop, squad=shop.squad, source=TaskSource.MANUAL,
                                         due_date=timezone.localdate())
    task.inspectors.set([officer, partner])
    page = logged_in(open_page, live_server, officer, PHONE)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"longitude": shop.lon + 0.02, "latitude": shop.lat, "accuracy": 10})  # ~2 km
    page.goto(live_server.url + reverse("inspections:task_inspect", args=[task.pk]))
    page.wait_for_function("document.getElementById('position-status').dataset.located === '1'")
    assert "请到现场后重新定位" in page.locator("[data-testid=position-status]").inner_text()
    page.click("#all-pass")
    page.locator("label", has_text="未发现问题").click()
    page.check("input[name=party_refused_to_sign]")
    page.click("[data-testid=submit-inspection]")
    error = page.locator("[data-testid=form-error]")
    error.wait_for()
    assert "超过允许的 300 米" in error.inner_text()
    assert not InspectionRecord.objects.exists()
    assert page.locator("input[name=party_refused_to_sign]").is_checked()  # answers kept
    assert page.locator(".cg-check-item input[value=pass]:checked").count() == 4
    shot(page, "phone-inspections-refused")


def test_planner_draws_and_the_public_sees_it(open_page, live_server, org, users, regobj_factory):
    planner = users[RoleCode.LEADER]
    for i, grid in enumerate([org.grid_a1, org.grid_a2, org.grid_b1, org.grid_b2] * 2):
        tiering.assign_tier(regobj_factory(grid, name=f"抽查商户{i}", credit_grade="CD"[i % 2]), save=True)
    for squad in (org.squad_a, org.squad_b):
        make_user(RoleCode.OFFICER, squad)
        make_user(RoleCode.OFFICER, squad)

    page = logged_in(open_page, live_server, planner)
    page.goto(live_server.url + reverse("inspections:plan_create"))
    page.fill("input[name=name]", "2026年沿街商户双随机抽查")
    page.select_option("select[name=org_unit]", str(org.bureau.pk))
    today = timezone.localdate()
    page.fill("input[name=period_start]", today.isoformat())
    page.fill("input[name=period_end]", (today + dt.timedelta(days=30)).isoformat())
    page.locator("label", has_text="沿街商户").first.click()
    page.fill("input[name=ratio_C]", "50")
    page.fill("input[name=ratio_D]", "100")
    shot(page, "desktop-plan-create")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/inspections/plans/" in url and url.rstrip("/").split("/")[-1].isdigit())
    plan = DrawPlan.objects.get()

    page.click("[data-testid=plan-action-commit]")
    page.locator("[data-testid=seed-commitment]").wait_for()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMMITTED
    assert page.locator("[data-testid=seed-commitment]").inner_text().strip() == plan.seed_commitment
    assert "抽取后公开" in page.locator("[data-testid=seed]").inner_text()
    page.click("[data-testid=plan-action-draw]")
    page.locator("[data-testid=plan-action-publish]").wait_for()
    plan.refresh_from_db()
    assert page.locator("[data-testid=seed]").inner_text().strip() == plan.seed
    assert page.locator("[data-testid=selection-table] tbody tr").count() == plan.selections.count() == 6
    page.click("[data-testid=verify]")
    assert "核验通过" in page.locator("[data-testid=verify-result]").inner_text()
    page.click("[data-testid=plan-action-publish]")
    page.locator(".alert-success", has_text="公示平台公开").wait_for()
    assert page.js_errors == []
    shot(page, "desktop-plan-detail")

    public = open_page(PHONE)  # anybody, not logged in
    public.goto(live_server.url + reverse("public:draws"))
    public.locator("[data-testid=public-plans] a", has_text="2026年沿街商户双随机抽查").click()
    assert public.locator("[data-testid=seed]").inner_text().startswith(plan.seed)
    assert plan.pool_file.sha256 in public.locator("[data-testid=pool-sha]").inner_text()
    assert public.locator("[data-testid=public-selections] tbody tr").count() == 6
    assert no_horizontal_scroll(public)
    assert public.js_errors == []
    shot(public, "phone-public-draw")
    desktop = open_page(DESKTOP)
    desktop.goto(public.url)
    shot(desktop, "desktop-public-draw")


def test_pages_fit_a_phone_and_the_map_draws(open_page, live_server, org, users, regobj_factory):
    officer, partner = users[RoleCode.OFFICER], users[RoleCode.SQUAD_LEADER]
    shops = [tiering.assign_tier(regobj_factory(grid, credit_grade="D", risk_level=4), save=True)
             for grid in (org.grid_a1, org.grid_a2, org.grid_a1)]
    task = InspectionTask.objects.create(regulated_object=shops[0], squad=shops[0].squad, source=TaskSource.MANUAL,
                                         due_date=timezone.localdate() - dt.timedelta(days=2))
    checklist = [{"item": i.pk, "result": "pass"} for i in shops[0].object_type.checklist.all()]
    record = records.submit_inspection(task, by=officer, inspectors=[officer, partner], lon=shops[0].lon,
                                       lat=shops[0].lat, checklist=checklist, findings="检查正常",
                                       party_refused_to_sign=True, outcome="compliant")
    InspectionTask.objects.create(regulated_object=shops[1], squad=shops[1].squad, source=TaskSource.SCHEDULE,
                                  due_date=timezone.localdate() - dt.timedelta(days=40))
    records.publish_record(record, by=partner)
    plan = draws.create_plan(by=users[RoleCode.LEADER], name="草稿计划", org_unit=org.bureau,
                             period_start=timezone.localdate(), period_end=timezone.localdate() + dt.timedelta(days=9),
                             object_types=[shops[0].object_type], ratios={"A": 0.1, "B": 0.1, "C": 0.1, "D": 0.5})
    assert plan.pk

    for viewport, prefix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = logged_in(open_page, live_server, partner, viewport)
        page.goto(live_server.url + reverse("inspections:index") + "?view=map")
        page.locator(".leaflet-overlay-pane canvas").wait_for()
        page.wait_for_function("document.getElementById('objects-map-note').textContent.includes('地图显示')")
        assert "3 个对象" in page.locator("[data-testid=map-note]").inner_text()
        shot(page, f"{prefix}-inspections-map", full_page=False)
        pages = {
            "registry": reverse("inspections:index"),
            "object": reverse("inspections:object_detail", args=[shops[0].pk]),
            "tier-rules": reverse("inspections:tier_rules"),
            "calendar": reverse("inspections:calendar"),
            "records": reverse("inspections:record_list"),
            "record": reverse("inspections:record_detail", args=[record.pk]),
            "plans": reverse("inspections:plan_list"),
            "plan-create": reverse("inspections:plan_create"),
            "object-edit": reverse("inspections:object_edit", args=[shops[0].pk]),
            "import": reverse("inspections:object_import"),
            "public-home": reverse("public:index"),
            "public-results": reverse("public:results"),
            "public-verify": reverse("public:how_to_verify"),
        }
        for name, url in pages.items():
            page.goto(live_server.url + url)
            assert page.locator("h1").first.is_visible(), name
            if viewport is PHONE:
                assert no_horizontal_scroll(page), name
            shot(page, f"{prefix}-inspections-{name}")
        assert page.js_errors == []
