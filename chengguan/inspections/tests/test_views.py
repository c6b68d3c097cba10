"""The inspections screens: every page for a permitted and a refused role (403 for actions,
404 out of scope), personal data masked, the import error table, the inspection form's
refusals (nothing saved), the plan lifecycle buttons, dashboard cards and query-count guards."""

import base64
import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from chengguan.core.choices import RoleCode
from chengguan.core.models import Evidence
from chengguan.core.testing import make_user
from chengguan.core.tests.test_evidence import png_bytes
from chengguan.inspections import selectors
from chengguan.inspections.choices import PlanStatus, TaskSource, TaskStatus
from chengguan.inspections.models import (
    DrawPlan,
    InspectionRecord,
    InspectionTask,
    InspectorConflict,
    RegulatedObject,
    TierRule,
)
from chengguan.inspections.services import draws, records, registry, tiering

from .conftest import credit_code

pytestmark = pytest.mark.django_db

ALL_ROLES = [r.value for r in RoleCode]
TODAY = timezone.localdate
ID_NUMBER = "110101199003070011"  # valid check digit
PHONE = "13912345678"


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


def login(client, user):
    client.force_login(user)
    return client


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def shop_a(org, regobj_factory):
    return tiering.assign_tier(regobj_factory(org.grid_a1, name="江川甲商店", contact_phone=PHONE), save=True)


@pytest.fixture
def shop_b(org, regobj_factory):
    return tiering.assign_tier(regobj_factory(org.grid_b1, name="古美乙商店"), save=True)


def make_task(obj, *, due=None, inspectors=(), source=TaskSource.SCHEDULE, status=TaskStatus.PENDING):
    task = InspectionTask.objects.create(regulated_object=obj, squad=obj.squad, source=source,
                                         due_date=due or TODAY(), status=status)
    task.inspectors.set(inspectors)
    return task


# --- every page, every role -------------------------------------------------------------------

PAGES = ["inspections:index", "inspections:my_tasks", "inspections:calendar", "inspections:record_list",
         "inspections:plan_list", "inspections:tier_rules", "inspections:object_map_data"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_opens_the_read_pages(client, users, object_types, shop_a, role):
    login(client, users[role])
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("inspections:index"), {"view": "map"}).status_code == 200


def test_anonymous_is_sent_to_login(client, object_types, shop_a):
    for name in ("inspections:index", "inspections:my_tasks", "inspections:plan_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("core:login"))


def test_menu_links_to_the_module(client, users):
    page = page_text(login(client, users["officer"]).get(reverse("core:dashboard")))
    assert f'href="{reverse("inspections:index")}"' in page
    assert f'href="{reverse("public:index")}"' in page


# --- registry ---------------------------------------------------------------------------------

def test_registry_list_and_profile_are_scoped(client, users, shop_a, shop_b):
    login(client, users["officer"])  # squad A
    names = [o.name for o in client.get(reverse("inspections:index")).context["page"]]
    assert names == ["江川甲商店"]
    assert client.get(reverse("inspections:object_detail", args=[shop_a.pk])).status_code == 200
    assert client.get(reverse("inspections:object_detail", args=[shop_b.pk])).status_code == 404
    data = client.get(reverse("inspections:object_map_data")).json()
    assert [f["properties"]["name"] for f in data["features"]] == ["江川甲商店"] and data["total"] == 1
    login(client, users["leader"])  # bureau
    assert {o.name for o in client.get(reverse("inspections:index")).context["page"]} == {"江川甲商店", "古美乙商店"}


def test_registry_filters(client, org, users, object_types, regobj_factory):
    overdue = regobj_factory(org.grid_a1, name="逾期店", credit_grade="D",
                             next_inspection_due=TODAY() - dt.timedelta(days=3))
    regobj_factory(org.grid_a2, name="良好店", credit_grade="A", next_inspection_due=TODAY() + dt.timedelta(days=30))
    site = regobj_factory(org.grid_b1, name="某建筑工地", object_type=object_types["construction_site"],
                          address="工地路1号")
    merged = regobj_factory(org.grid_a1, name="已合并店", is_active=False)
    login(client, users["leader"])

    def names(**params):
        return {o.name for o in client.get(reverse("inspections:index"), params).context["page"]}

    assert names(overdue="true") == {"逾期店"}
    assert names(credit_grade="D") == {"逾期店"}
    assert names(object_type=object_types["construction_site"].pk) == {"某建筑工地"}
    assert names(q="工地路") == {"某建筑工地"}
    assert names(q=site.credit_code[-6:]) == {"某建筑工地"}
    assert names(squad=org.squad_b.pk) == {"某建筑工地"}
    assert names(grid=org.grid_a2.pk) == {"良好店"}
    assert "已合并店" not in names() and names(state="inactive") == {"已合并店"}
    assert merged.pk and overdue.pk
    # the map shows the same filter
    data = client.get(reverse("inspections:object_map_data"), {"credit_grade": "D"}).json()
    assert [f["properties"]["name"] for f in data["features"]] == ["逾期店"]


def test_map_data_is_capped_with_the_total(client, org, users, regobj_factory, monkeypatch):
    for _ in range(5):
        regobj_factory(org.grid_a1)
    monkeypatch.setattr(selectors, "MAP_MAX_OBJECTS", 3)
    data = login(client, users["officer"]).get(reverse("inspections:object_map_data")).json()
    assert len(data["features"]) == 3 and data["total"] == 5 and data["limit"] == 3
    page = page_text(client.get(reverse("inspections:index"), {"view": "map"}))
    assert 'id="objects-map"' in page and "vendor/leaflet/leaflet.js" in page


def test_contact_phone_masked_without_permission_and_id_always(client, org, users, regobj_factory):
    person = regobj_factory(org.grid_a1, name="张三烟杂店", credit_code="", id_number=ID_NUMBER, contact_phone=PHONE)
    url = reverse("inspections:object_detail", args=[person.pk])
    officer_page = page_text(login(client, users["officer"]).get(url))
    assert PHONE in officer_page  # officers may call the party
    assert ID_NUMBER not in officer_page and "110101********0011" in officer_page
    reviewer = make_user(RoleCode.LEGAL_REVIEWER, org.squad_a)
    assert not reviewer.has_perm("inspections.view_regulatedobject_contact")
    reviewer_page = page_text(login(client, reviewer).get(url))
    assert PHONE not in reviewer_page and "139****5678" in reviewer_page and ID_NUMBER not in reviewer_page
    # the edit form never sends the ID number back to the browser
    edit = page_text(login(client, users["officer"]).get(reverse("inspections:object_edit", args=[person.pk])))
    assert ID_NUMBER not in edit


def test_profile_shows_tier_reason_tasks_records_history_and_conflicts(client, org, users, shop_a):
    task = make_task(shop_a, inspectors=[users["officer"]])
    InspectorConflict.objects.create(inspector=users["officer"], regulated_object=shop_a, reason="亲属经营")
    url = reverse("inspections:object_detail", args=[shop_a.pk])
    response = login(client, users["squad_leader"]).get(url)
    page = page_text(response)
    assert shop_a.tier_reason and shop_a.tier_reason in page
    assert response.context["pending_tasks"] == [task]
    assert "亲属经营" in page  # planners see declared conflicts
    assert any("分级分类计划任务" in e["text"] for e in response.context["history"])
    for name in ("object_edit", "object_conflict", "object_merge", "object_task_create"):
        assert reverse(f"inspections:{name}", args=[shop_a.pk]) in page
    # officers do not see others' conflicts, nor the merge button
    response = login(client, users["officer"]).get(url)
    assert response.context["conflicts"] is None and "亲属经营" not in page_text(response)
    assert reverse("inspections:object_merge", args=[shop_a.pk]) not in page_text(response)


def test_create_object_through_the_form_and_bad_input_saves_nothing(client, org, users, object_types):
    login(client, users["officer"])
    form = {"object_type": object_types["street_shop"].pk, "name": "新开店", "credit_code": credit_code(9001),
            "address": "江川路9号", "lon": "121.405", "lat": "31.105", "crs": "wgs84", "risk_level": "1",
            "credit_grade": "B", "licences": "营业执照，91310112MA1XXXXX，2027-01-01"}
    bad = client.post(reverse("inspections:object_create"), {**form, "credit_code": "91310112000000001X"})
    assert bad.status_code == 200 and "校验位错误" in " ".join(bad.context["form"].errors["credit_code"])
    outside = client.post(reverse("inspections:object_create"), {**form, "lon": "121.60"})
    assert outside.status_code == 200 and not RegulatedObject.objects.exists()
    assert "网格" in page_text(outside)
    bad_licence = client.post(reverse("inspections:object_create"), {**form, "licences": "只有名称"})
    assert "第 1 行格式不对" in page_text(bad_licence) and not RegulatedObject.objects.exists()
    created = client.post(reverse("inspections:object_create"), form)
    obj = RegulatedObject.objects.get()
    assert created.status_code == 302 and created.url == reverse("inspections:object_detail", args=[obj.pk])
    assert obj.squad == org.squad_a and obj.licences == [
        {"name": "营业执照", "number": "91310112MA1XXXXX", "valid_to": "2027-01-01"}]
    assert obj.tier_reason  # tiered on creation


def test_edit_keeps_secret_fields_when_left_empty(client, org, users, regobj_factory):
    person = regobj_factory(org.grid_a1, credit_code="", id_number=ID_NUMBER, contact_phone=PHONE)
    reviewer_like = make_user(RoleCode.OFFICER, org.squad_a)
    login(client, reviewer_like)
    response = client.get(reverse("inspections:object_edit", args=[person.pk]))
    data = {k: v for k, v in response.context["form"].initial.items() if v is not None}
    data.update(name="改名后", id_number="", crs="wgs84", object_type=person.object_type_id)
    assert client.post(reverse("inspections:object_edit", args=[person.pk]), data).status_code == 302
    person.refresh_from_db()
    assert person.name == "改名后" and person.id_number == ID_NUMBER and person.contact_phone == PHONE


@pytest.mark.parametrize(("role", "status"), [("legal_reviewer", 403), ("supervisor", 403), ("officer", 200)])
def test_edit_and_create_need_the_permission(client, users, shop_a, role, status):
    login(client, users[role])
    assert client.get(reverse("inspections:object_edit", args=[shop_a.pk])).status_code == status
    assert client.get(reverse("inspections:object_create")).status_code == status


def test_out_of_scope_actions_are_404(client, users, shop_b):
    login(client, users["squad_leader"])  # squad A
    for name in ("object_edit", "object_conflict", "object_merge", "object_task_create"):
        assert client.get(reverse(f"inspections:{name}", args=[shop_b.pk])).status_code == 404, name


def test_export_is_scoped_and_masks(client, users, shop_a, shop_b):
    response = login(client, users["supervisor"]).get(reverse("inspections:object_export"), {"squad": shop_a.squad_id})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["江川甲商店"]
    assert PHONE not in str(rows) and "139****5678" in str(rows)  # supervisors do not see contacts
    officer_rows = list(load_workbook(io.BytesIO(login(client, users["officer"]).get(
        reverse("inspections:object_export")).content)).active.iter_rows(values_only=True))
    assert [r[2] for r in officer_rows[1:]] == ["江川甲商店"]


# --- import -----------------------------------------------------------------------------------

def workbook(rows) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.append([header for _, header, _ in registry.COLUMNS])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("objects.xlsx", buffer.getvalue())


def import_row(n, **kw):
    values = {"pk": None, "object_type": "沿街商户", "name": f"导入商户{n}", "credit_code": credit_code(8000 + n),
              "id_number": "", "address": f"导入路{n}号", "lon": 121.405, "lat": 31.105, "crs": "",
              "contact_name": "", "contact_phone": "", "risk_level": 1, "credit_grade": "B", **kw}
    return [values[field] for field, _, _ in registry.COLUMNS]


def test_import_with_bad_rows_shows_the_error_table_and_saves_nothing(client, users, object_types):
    login(client, users["squad_leader"])
    upload = workbook([import_row(1), import_row(2, credit_code="91310112000000001X"), import_row(3, lon=121.9)])
    response = client.post(reverse("inspections:object_import"), {"file": upload})
    assert response.status_code == 200 and not RegulatedObject.objects.exists()
    page = page_text(response)
    assert 'data-testid="import-errors"' in page and "未导入任何数据" in page
    rows = {e.row for e in response.context["result"].errors}
    assert rows == {3, 4}  # header is row 1
    assert "第 3 行" in page and "统一社会信用代码" in page


def test_import_with_wrong_columns_names_them(client, users, object_types):
    book = Workbook()
    book.active.append(["名称", "随便一列"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = login(client, users["admin"]).post(reverse("inspections:object_import"),
                                                  {"file": SimpleUploadedFile("x.xlsx", buffer.getvalue())})
    errors = response.context["result"].errors
    assert len(errors) == 1 and "无法识别的列：随便一列" in errors[0].message and "地址" in errors[0].message
    assert "无法识别的列：随便一列" in page_text(response)
    assert not RegulatedObject.objects.exists()


def test_import_success_reports_counts(client, users, object_types):
    login(client, users["squad_leader"])
    response = client.post(reverse("inspections:object_import"), {"file": workbook([import_row(1), import_row(2)])},
                           follow=True)
    assert "新增 2 个，更新 0 个" in page_text(response)
    assert RegulatedObject.objects.count() == 2


def test_import_and_template_need_the_permission(client, users, object_types):
    login(client, users["officer"])
    assert client.get(reverse("inspections:object_import")).status_code == 403
    assert client.get(reverse("inspections:object_import_template")).status_code == 403
    response = login(client, users["admin"]).get(reverse("inspections:object_import_template"))
    header = next(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert list(header) == [h for _, h, _ in registry.COLUMNS]


# --- conflicts, merge, manual task ------------------------------------------------------------

def test_officer_declares_own_conflict_only(client, org, users, shop_a):
    login(client, users["officer"])
    url = reverse("inspections:object_conflict", args=[shop_a.pk])
    form = client.get(url).context["form"]
    assert list(form.fields["inspector"].queryset) == [users["officer"]]
    colleague = make_user(RoleCode.OFFICER, org.squad_a)
    refused = client.post(url, {"inspector": colleague.pk, "reason": "亲属"})
    assert refused.status_code == 200 and not InspectorConflict.objects.exists()
    assert client.post(url, {"inspector": users["officer"].pk, "reason": "亲属经营"}).status_code == 302
    assert InspectorConflict.objects.get().reason == "亲属经营"
    # a planner records one for a colleague
    login(client, users["squad_leader"])
    assert client.post(url, {"inspector": colleague.pk, "reason": "曾在该店任职"}).status_code == 302
    assert InspectorConflict.objects.count() == 2


def test_merge_page_lists_duplicates_and_merges(client, org, users, regobj_factory):
    keep = regobj_factory(org.grid_a1, name="重复店", address="江川路1号")
    dup = regobj_factory(org.grid_a1, name="重复店 ", address="江川路1号")
    lone = regobj_factory(org.grid_a1, name="独家店")
    url = reverse("inspections:object_merge", args=[keep.pk])
    assert login(client, users["officer"]).get(url).status_code == 403
    login(client, users["squad_leader"])
    response = client.get(url)
    assert response.context["candidates"] == [dup]
    assert client.post(url, {"duplicates": [dup.pk], "reason": ""}).status_code == 200  # reason required
    dup.refresh_from_db()
    assert dup.is_active
    assert client.post(url, {"duplicates": [dup.pk], "reason": "同一门店重复登记"}).status_code == 302
    dup.refresh_from_db()
    assert not dup.is_active and dup.merged_into == keep
    assert 'data-testid="no-duplicates"' in page_text(client.get(reverse("inspections:object_merge", args=[lone.pk])))


def test_manual_task(client, org, users, shop_a):
    url = reverse("inspections:object_task_create", args=[shop_a.pk])
    assert login(client, users["officer"]).get(url).status_code == 403
    login(client, users["squad_leader"])
    past = client.post(url, {"due_date": (TODAY() - dt.timedelta(days=1)).isoformat()})
    assert past.status_code == 200 and "不能早于今天" in page_text(past) and not InspectionTask.objects.exists()
    ok = client.post(url, {"due_date": TODAY().isoformat(), "note": "节前专项"})
    assert ok.status_code == 302 and InspectionTask.objects.get().source == TaskSource.MANUAL


# --- tier rules -------------------------------------------------------------------------------

def rule_form(**overrides):
    data = {"violation_weight": 3, "violation_window_days": 180, "credit_A": 0, "credit_B": 1, "credit_C": 2,
            "credit_D": 4, "threshold_1": 10, "threshold_2": 6, "threshold_3": 3, "frequency_1": 30,
            "frequency_2": 60, "frequency_3": 120, "frequency_4": 365}
    data.update(overrides)
    return data


def test_tier_rules_page_and_admin_edit(client, users, object_types):
    shop = object_types["street_shop"]
    page = page_text(login(client, users["officer"]).get(reverse("inspections:tier_rules")))
    assert "沿街商户" in page and "建筑工地" in page
    assert reverse("inspections:tier_rule_edit", args=[shop.pk]) not in page
    assert client.get(reverse("inspections:tier_rule_edit", args=[shop.pk])).status_code == 403
    login(client, users["admin"])
    url = reverse("inspections:tier_rule_edit", args=[shop.pk])
    bad = client.post(url, rule_form(threshold_2=20))
    assert bad.status_code == 200 and "分级阈值必须一级" in page_text(bad)
    assert TierRule.objects.get(object_type=shop).violation_weight == 2
    assert client.post(url, rule_form()).status_code == 302
    rule = TierRule.objects.get(object_type=shop)
    assert rule.violation_weight == 3 and rule.thresholds == {"1": 10, "2": 6, "3": 3}
    assert rule.frequency_days["4"] == 365


def test_recompute_button(client, org, users, regobj_factory):
    obj = regobj_factory(org.grid_a1, credit_grade="D", risk_level=5)  # saved without a tier computed
    assert login(client, users["officer"]).post(reverse("inspections:tier_recompute")).status_code == 403
    assert client.get(reverse("inspections:tier_recompute")).status_code == 405
    response = login(client, users["squad_leader"]).post(reverse("inspections:tier_recompute"), follow=True)
    assert "重新分级完成" in page_text(response)
    obj.refresh_from_db()
    assert obj.tier_reason and obj.tier == 1


# --- draw plans -------------------------------------------------------------------------------

@pytest.fixture
def shops(org, regobj_factory):
    grades = "AABBCCDD"
    grids = [org.grid_a1, org.grid_a2, org.grid_b1, org.grid_b2]
    return [regobj_factory(grids[i % 4], credit_grade=g) for i, g in enumerate(grades)]


@pytest.fixture
def officers(org, users):
    return [users["officer"], *(make_user(RoleCode.OFFICER, org.squad_a) for _ in range(2)),
            *(make_user(RoleCode.OFFICER, org.squad_b) for _ in range(3))]


def plan_form(org, object_types, **kw):
    data = {"name": "沿街商户双随机抽查", "org_unit": org.bureau.pk, "period_start": TODAY().isoformat(),
            "period_end": (TODAY() + dt.timedelta(days=30)).isoformat(),
            "object_types": [object_types["street_shop"].pk], "ratio_A": "50", "ratio_B": "50", "ratio_C": "50",
            "ratio_D": "100", "inspectors_per_object": "2"}
    data.update(kw)
    return data


def test_plan_lifecycle_through_the_buttons(client, org, users, object_types, shops, officers):
    login(client, users["leader"])
    bad = client.post(reverse("inspections:plan_create"), plan_form(org, object_types, ratio_A="0"))
    assert bad.status_code == 200 and not DrawPlan.objects.exists()
    assert "抽取比例" in page_text(bad)
    created = client.post(reverse("inspections:plan_create"), plan_form(org, object_types))
    plan = DrawPlan.objects.get()
    assert created.url == reverse("inspections:plan_detail", args=[plan.pk])
    assert plan.ratios == {"A": 0.5, "B": 0.5, "C": 0.5, "D": 1.0}
    detail = reverse("inspections:plan_detail", args=[plan.pk])
    page = page_text(client.get(detail))
    assert 'data-testid="plan-action-commit"' in page and "plan-action-draw" not in page

    client.post(reverse("inspections:plan_action", args=[plan.pk, "commit"]))
    plan.refresh_from_db()
    page = page_text(client.get(detail))
    assert plan.status == PlanStatus.COMMITTED and plan.seed_commitment in page and plan.seed not in page
    assert plan.population_file.sha256 in page and plan.pool_file.sha256 in page
    assert reverse("core:evidence_download", args=[plan.population_file_id]) in page
    assert 'data-testid="plan-action-draw"' in page

    # a repeated commit is refused with the service's message, nothing changes
    refused = client.post(reverse("inspections:plan_action", args=[plan.pk, "commit"]), follow=True)
    assert "只有草稿状态的计划可以冻结" in page_text(refused)

    client.post(reverse("inspections:plan_action", args=[plan.pk, "draw"]))
    plan.refresh_from_db()
    response = client.get(detail)
    assert plan.status == PlanStatus.DRAWN and plan.seed in page_text(response)
    assert len(response.context["selections"]) == plan.selections.count() == 5  # 1 + 1 + 1 + 2
    first = response.context["selections"][0]
    assert len(first.inspector_names) == 2 and first.regulated_object.name in page_text(response)
    verify = client.get(detail, {"verify": "1"})
    assert verify.context["verify"].ok and "核验通过" in page_text(verify)

    client.post(reverse("inspections:plan_action", args=[plan.pk, "publish"]))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED and plan.published_at


def test_blank_ratio_leaves_the_class_out(client, org, users, object_types):
    login(client, users["leader"])
    nothing = client.post(reverse("inspections:plan_create"),
                          plan_form(org, object_types, ratio_A="", ratio_B="", ratio_C="", ratio_D=""))
    assert "请至少为一个信用等级填写抽取比例" in page_text(nothing) and not DrawPlan.objects.exists()
    client.post(reverse("inspections:plan_create"), plan_form(org, object_types, ratio_A="", ratio_B=""))
    plan = DrawPlan.objects.get()
    assert plan.ratios == {"C": 0.5, "D": 1.0} and plan.population_filters == {"credit_grades": ["C", "D"]}


def test_plan_actions_refused_for_officers_and_out_of_scope(client, org, users, object_types, shops, officers):
    plan = draws.create_plan(by=users["leader"], name="全区计划", org_unit=org.bureau, period_start=TODAY(),
                             period_end=TODAY() + dt.timedelta(days=30), object_types=[object_types["street_shop"]],
                             ratios={"A": 0.5, "B": 0.5, "C": 0.5, "D": 1})
    login(client, users["officer"])
    assert client.get(reverse("inspections:plan_create")).status_code == 403
    assert client.post(reverse("inspections:plan_action", args=[plan.pk, "commit"])).status_code == 403
    assert client.post(reverse("inspections:plan_redraw", args=[plan.pk]), {"reason": "x"}).status_code == 403
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    # the squad leader plans for the squad, not the bureau
    login(client, users["squad_leader"])
    assert client.get(reverse("inspections:plan_detail", args=[plan.pk])).status_code == 404
    assert client.post(reverse("inspections:plan_action", args=[plan.pk, "commit"])).status_code == 404
    assert plan.org_unit not in client.get(reverse("inspections:plan_create")).context["form"].fields[
        "org_unit"].queryset


def test_redraw_needs_a_reason_and_makes_a_new_plan(client, org, users, object_types, shops, officers):
    plan = draws.create_plan(by=users["leader"], name="计划甲", org_unit=org.bureau, period_start=TODAY(),
                             period_end=TODAY() + dt.timedelta(days=30), object_types=[object_types["street_shop"]],
                             ratios={"A": 0.5, "B": 0.5, "C": 0.5, "D": 1})
    draws.run_draw(draws.commit_plan(plan, by=users["leader"]), by=users["leader"])
    login(client, users["leader"])
    url = reverse("inspections:plan_redraw", args=[plan.pk])
    assert "重新抽取须填写理由" in page_text(client.post(url, {"reason": ""}, follow=True))
    assert DrawPlan.objects.count() == 1
    response = client.post(url, {"reason": "抽中人员集体外出培训"})
    new = DrawPlan.objects.exclude(pk=plan.pk).get()
    assert response.url == reverse("inspections:plan_detail", args=[new.pk]) and new.replaces == plan
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUPERSEDED


def test_plan_list_filters_and_query_count(client, org, users, object_types, django_assert_max_num_queries):
    for i in range(12):
        draws.create_plan(by=users["leader"], name=f"计划{i}", org_unit=org.bureau, period_start=TODAY(),
                          period_end=TODAY() + dt.timedelta(days=30), object_types=list(object_types.values()),
                          ratios={"A": 0.1, "B": 0.1, "C": 0.1, "D": 0.1})
    login(client, users["leader"])
    client.get(reverse("inspections:plan_list"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("inspections:plan_list"))
    assert len(response.context["page"]) == 12
    assert [p.name for p in client.get(reverse("inspections:plan_list"), {"q": "计划11"}).context["page"]] == ["计划11"]


# --- calendar and my tasks --------------------------------------------------------------------

def test_calendar_groups_by_day_and_marks_overdue(client, users, shop_a, shop_b):
    today = TODAY()
    late = make_task(shop_a, due=today.replace(day=1) - dt.timedelta(days=2))
    now = make_task(shop_a, due=today, source=TaskSource.MANUAL)
    make_task(shop_b, due=today)  # squad B: not in the officer's calendar
    response = login(client, users["officer"]).get(reverse("inspections:calendar"))
    assert [t for _, tasks in response.context["days"] for t in tasks] == [now]
    assert response.context["overdue_before"] == [late]
    page = page_text(response)
    assert 'data-overdue="1"' in page and "逾期" in page
    previous = client.get(reverse("inspections:calendar"), {"month": late.due_date.strftime("%Y-%m")})
    assert [t for _, tasks in previous.context["days"] for t in tasks] == [late]
    assert previous.context["days"][0][1][0].overdue
    assert "生成检查计划" not in page  # officers do not generate schedules


def test_generate_schedule(client, org, users, regobj_factory):
    due = regobj_factory(org.grid_a1, next_inspection_due=TODAY() + dt.timedelta(days=5))
    regobj_factory(org.grid_a1, next_inspection_due=TODAY() + dt.timedelta(days=90))
    url = reverse("inspections:generate_schedule")
    assert login(client, users["officer"]).post(url, {"until": TODAY().isoformat()}).status_code == 403
    login(client, users["squad_leader"])
    assert "生成检查计划" in page_text(client.get(reverse("inspections:calendar")))
    too_far = client.post(url, {"until": (TODAY() + dt.timedelta(days=900)).isoformat()}, follow=True)
    assert "截止日期不能晚于一年后" in page_text(too_far) and not InspectionTask.objects.exists()
    response = client.post(url, {"until": (TODAY() + dt.timedelta(days=30)).isoformat()}, follow=True)
    assert "已生成 1 项检查任务" in page_text(response)
    assert list(InspectionTask.objects.values_list("regulated_object", flat=True)) == [due.pk]


def test_my_tasks_lists_assigned_and_unassigned_by_due_date(client, org, users, shop_a, shop_b):
    officer = users["officer"]
    later = make_task(shop_a, due=TODAY() + dt.timedelta(days=3), inspectors=[officer])
    sooner = make_task(shop_a, due=TODAY(), inspectors=[officer, users["squad_leader"]])
    drawn_elsewhere = make_task(shop_b, due=TODAY() + dt.timedelta(days=1), inspectors=[officer], source=TaskSource.DRAW)
    unassigned = make_task(shop_a, due=TODAY())
    make_task(shop_a, inspectors=[officer], status=TaskStatus.DONE)
    response = login(client, officer).get(reverse("inspections:my_tasks"))
    assert response.context["mine"] == [sooner, drawn_elsewhere, later]
    assert response.context["unassigned"] == [unassigned]
    page = page_text(response)
    assert f'data-lon="{shop_a.lon:f}"' in page
    assert reverse("inspections:task_inspect", args=[drawn_elsewhere.pk]) in page


def test_my_tasks_query_count(client, org, users, regobj_factory, django_assert_max_num_queries):
    officer = users["officer"]
    for i in range(15):
        make_task(regobj_factory(org.grid_a1), due=TODAY() + dt.timedelta(days=i), inspectors=[officer])
    login(client, officer)
    client.get(reverse("inspections:my_tasks"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("inspections:my_tasks"))
    assert len(response.context["mine"]) == 15
    with django_assert_max_num_queries(14):
        response = client.get(reverse("inspections:calendar"))


# --- the inspection form ----------------------------------------------------------------------

@pytest.fixture
def partner(org):
    return make_user(RoleCode.OFFICER, org.squad_a, real_name="李四")


@pytest.fixture
def task(shop_a, users, partner):
    return make_task(shop_a, inspectors=[users["officer"], partner])


def signature_data() -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(40, 20)).decode()


def inspection_post(task, partner, **overrides):
    data = {"lon": f"{task.regulated_object.lon:.7f}", "lat": f"{task.regulated_object.lat:.7f}",
            "co_inspectors": [partner.pk], "outcome": "compliant", "signature": signature_data(), "findings": "门前整洁"}
    for item in task.regulated_object.object_type.checklist.all():
        data[f"item_{item.pk}"] = "pass"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_inspection_form_renders_checklist_and_defaults(client, users, task, partner):
    response = login(client, users["officer"]).get(reverse("inspections:task_inspect", args=[task.pk]))
    page = page_text(response)
    assert page.count('data-testid="check-item"') == 4 and "门责制落实" in page
    assert response.context["form"].initial["co_inspectors"] == [partner.pk]
    assert 'id="signature-pad"' in page and 'name="lon"' in page and "inspections/inspections.js" in page


def test_inspection_submitted_with_photo_and_signature(client, users, task, partner):
    login(client, users["officer"])
    data = inspection_post(task, partner)
    data["photos"] = [SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")]
    response = client.post(reverse("inspections:task_inspect", args=[task.pk]), data)
    record = InspectionRecord.objects.get()
    assert response.status_code == 302 and response.url == reverse("inspections:record_detail", args=[record.pk])
    assert record.location_verified and record.photos.count() == 1 and record.signature is not None
    assert set(record.inspectors.all()) == {users["officer"], partner}
    assert record.signature.content_type == "image/png" and record.signature.squad == task.squad
    page = page_text(client.get(response.url))
    assert "门前整洁" in page and "已核验" in page and reverse("core:evidence_download", args=[record.signature_id])
    # a done task cannot be submitted twice
    again = client.get(reverse("inspections:task_inspect", args=[task.pk]))
    assert again.status_code == 302 and again.url == reverse("inspections:record_detail", args=[record.pk])


@pytest.mark.parametrize(("overrides", "message"), [
    ({"lon": "121.43", "lat": "31.105"}, "超过允许的 300 米"),
    ({"lon": None, "lat": None}, "未获取到您的当前位置"),
    ({"co_inspectors": None}, "共同检查人员"),
    ({"signature": None}, "当事人拒绝签名"),
    ({"outcome": "order_to_correct"}, "整改期限"),
    ({"outcome": "open_case", "findings": ""}, "检查情况"),
    ({"signature": "data:image/png;base64,@@@"}, "签名数据无效"),
])
def test_inspection_refusals_show_on_the_form_and_save_nothing(client, users, task, partner, overrides, message):
    login(client, users["officer"])
    data = inspection_post(task, partner, **overrides)
    data["photos"] = [SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")]
    response = client.post(reverse("inspections:task_inspect", args=[task.pk]), data)
    assert response.status_code == 200
    page = page_text(response)
    assert message in page and 'data-testid="form-error"' in page
    assert not InspectionRecord.objects.exists() and not Evidence.objects.exists()
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING


def test_incomplete_checklist_and_failed_item_contradiction(client, users, task, partner):
    login(client, users["officer"])
    first = task.regulated_object.object_type.checklist.first()
    data = inspection_post(task, partner)
    del data[f"item_{first.pk}"]
    response = client.post(reverse("inspections:task_inspect", args=[task.pk]), data)
    assert f"请选择“{first.text}”的检查结果" in page_text(response)
    data = inspection_post(task, partner, **{f"item_{first.pk}": "fail"})
    response = client.post(reverse("inspections:task_inspect", args=[task.pk]), data)
    assert "不能为“未发现问题”" in page_text(response) and not InspectionRecord.objects.exists()
    # party refused to sign, order to correct with a deadline: accepted with a re-inspection task
    deadline = TODAY() + dt.timedelta(days=7)
    data = inspection_post(task, partner, signature=None, party_refused_to_sign="on", outcome="order_to_correct",
                           correction_deadline=deadline.isoformat(), **{f"item_{first.pk}": "fail"})
    assert client.post(reverse("inspections:task_inspect", args=[task.pk]), data).status_code == 302
    record = InspectionRecord.objects.get()
    assert record.party_refused_to_sign and record.signature is None
    assert record.reinspection_task.due_date == deadline


def test_inspection_form_permissions_and_scope(client, org, users, task, shop_b, partner):
    assert login(client, users["supervisor"]).get(reverse("inspections:task_inspect", args=[task.pk])).status_code \
        == 403
    other = make_task(shop_b)
    assert login(client, users["officer"]).get(reverse("inspections:task_inspect", args=[other.pk])).status_code \
        == 404


def test_drawn_inspector_from_another_squad_can_inspect(client, org, users, shop_b, partner):
    """A 双随机 draw sends squad A's officers to squad B's objects."""
    officer = users["officer"]
    task = make_task(shop_b, inspectors=[officer, partner], source=TaskSource.DRAW)
    login(client, officer)
    form = client.get(reverse("inspections:task_inspect", args=[task.pk])).context["form"]
    assert partner in form.fields["co_inspectors"].queryset
    response = client.post(reverse("inspections:task_inspect", args=[task.pk]), inspection_post(task, partner))
    assert response.status_code == 302
    record = InspectionRecord.objects.get()
    assert record.signature.squad == officer.org_unit  # filed under the inspector's own squad


# --- records ----------------------------------------------------------------------------------

def submit(task, officer, partner, **kw):
    fields = {"lon": task.regulated_object.lon, "lat": task.regulated_object.lat, "outcome": "compliant",
              "checklist": [{"item": i.pk, "result": "pass"} for i in task.regulated_object.object_type.checklist.all()],
              "party_refused_to_sign": True, **kw}
    return records.submit_inspection(task, by=officer, inspectors=[officer, partner], **fields)


def test_record_list_filters_and_publish(client, org, users, shop_a, partner):
    officer = users["officer"]
    record = submit(make_task(shop_a), officer, partner, findings="无问题")
    url = reverse("inspections:record_detail", args=[record.pk])
    login(client, officer)
    assert 'data-testid="publish-record"' not in page_text(client.get(url))
    assert client.post(reverse("inspections:record_publish", args=[record.pk])).status_code == 403
    assert [r.pk for r in client.get(reverse("inspections:record_list"), {"published": "false"}).context["page"]] \
        == [record.pk]
    login(client, users["squad_leader"])
    assert 'data-testid="publish-record"' in page_text(client.get(url))
    client.post(reverse("inspections:record_publish", args=[record.pk]))
    record.refresh_from_db()
    assert record.published_at is not None
    again = client.post(reverse("inspections:record_publish", args=[record.pk]), follow=True)
    assert "已于" in page_text(again) and "公示" in page_text(again)
    assert [r.pk for r in client.get(reverse("inspections:record_list"), {"published": "true"}).context["page"]] \
        == [record.pk]
    assert not client.get(reverse("inspections:record_list"), {"outcome": "open_case"}).context["page"]


def test_record_publication_overdue_filter_and_dashboard_cards(client, org, users, shop_a, partner):
    officer = users["officer"]
    record = submit(make_task(shop_a), officer, partner)
    record.publish_due = TODAY() - dt.timedelta(days=1)
    record.save()
    make_task(shop_a, due=TODAY() - dt.timedelta(days=1))
    make_task(shop_a, due=TODAY() + dt.timedelta(days=1))
    login(client, users["squad_leader"])
    page = client.get(reverse("inspections:record_list"), {"publication_overdue": "true"}).context["page"]
    assert [r.pk for r in page] == [record.pk]
    dashboard = page_text(client.get(reverse("core:dashboard")))
    values = dict(re.findall(r'data-testid="card-(inspection_[a-z_]+)">(\d+)<', dashboard))
    assert values == {"inspection_tasks": "2", "inspection_overdue": "1", "inspection_publication_overdue": "1"}


def test_record_pages_are_scoped(client, org, users, shop_b):
    colleague_b = make_user(RoleCode.OFFICER, org.squad_b)
    partner_b = make_user(RoleCode.OFFICER, org.squad_b)
    record = submit(make_task(shop_b), colleague_b, partner_b)
    login(client, users["officer"])  # squad A
    assert client.get(reverse("inspections:record_detail", args=[record.pk])).status_code == 404
    assert not client.get(reverse("inspections:record_list")).context["page"]
    login(client, users["squad_leader"])
    assert client.post(reverse("inspections:record_publish", args=[record.pk])).status_code == 404


def test_list_query_counts_do_not_grow_with_rows(client, org, users, regobj_factory, partner,
                                                 django_assert_max_num_queries):
    officer = users["officer"]
    for _ in range(25):
        submit(make_task(regobj_factory(org.grid_a1)), officer, partner)
    login(client, users["leader"])
    client.get(reverse("inspections:index"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("inspections:index"))
    assert len(response.context["page"]) == 25
    with django_assert_max_num_queries(12):
        response = client.get(reverse("inspections:record_list"))
    assert len(response.context["page"]) == 25
    with django_assert_max_num_queries(10):
        client.get(reverse("inspections:object_map_data"))
