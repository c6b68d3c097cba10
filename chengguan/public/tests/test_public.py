"""The public portal: no login, only published plans and records, never personal data, frozen
lists served only for published plans and only after their hash checks out."""

import datetime as dt
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone

from chengguan.core.choices import RoleCode
from chengguan.core.models import User
from chengguan.core.testing import make_user
from chengguan.inspections.choices import TaskSource
from chengguan.inspections.models import DrawPlan, InspectionTask
from chengguan.inspections.services import draws, records
from chengguan.inspections.tests.conftest import (  # noqa: F401 - fixtures
    object_types,
    regobj_factory,
)
from chengguan.public.views import scrub

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003070011"
PHONE = "13912345678"
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


@pytest.fixture
def planner(users):
    return users[RoleCode.LEADER]


@pytest.fixture
def setting(org, users, regobj_factory):  # noqa: F811
    """Four shops (one kept by a natural person, registered by ID number) and four officers."""
    shops = [
        regobj_factory(org.grid_a1, name="张三烟杂店", credit_code="", id_number=ID_NUMBER, contact_phone=PHONE,
                       contact_name="张三", credit_grade="D"),
        regobj_factory(org.grid_a2, name="光明超市", contact_phone="13800001111", credit_grade="D"),
        regobj_factory(org.grid_b1, name="新华书店", credit_grade="D"),
        regobj_factory(org.grid_b2, name="春风饭店", credit_grade="D"),
    ]
    officers = [users["officer"], make_user(RoleCode.OFFICER, org.squad_a, real_name="王五"),
                make_user(RoleCode.OFFICER, org.squad_b, real_name="赵六"),
                make_user(RoleCode.OFFICER, org.squad_b, real_name="钱七")]
    return shops, officers


def make_plan(planner, org, object_types, name, *, publish=True, draw=True):  # noqa: F811
    plan = draws.create_plan(by=planner, name=name, org_unit=org.bureau, period_start=TODAY(),
                             period_end=TODAY() + dt.timedelta(days=30), object_types=[object_types["street_shop"]],
                             ratios={"A": 0.5, "B": 0.5, "C": 0.5, "D": 1})
    plan = draws.commit_plan(plan, by=planner)
    if draw:
        plan = draws.run_draw(plan, by=planner)
    if publish:
        plan = draws.publish_plan(plan, by=planner)
    return plan


def test_portal_pages_need_no_login(client, org):
    for name in ("public:index", "public:draws", "public:results", "public:how_to_verify"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert org.bureau.name in response.content.decode()  # the bureau's own name on its portal


def test_only_published_plans_are_listed(client, org, planner, object_types, setting):  # noqa: F811
    published = make_plan(planner, org, object_types, "已公示计划")
    drawn = make_plan(planner, org, object_types, "已抽取未公示计划", publish=False)
    committed = make_plan(planner, org, object_types, "已冻结计划", publish=False, draw=False)
    listing = client.get(reverse("public:draws")).content.decode()
    assert "已公示计划" in listing and "已抽取未公示计划" not in listing and "已冻结计划" not in listing
    assert "已抽取未公示计划" not in client.get(reverse("public:index")).content.decode()
    for plan in (drawn, committed):
        assert client.get(reverse("public:draw_detail", args=[plan.pk])).status_code == 404
        assert client.get(reverse("public:draw_file", args=[plan.pk, "population"])).status_code == 404

    page = client.get(reverse("public:draw_detail", args=[published.pk])).content.decode()
    for value in (published.seed, published.seed_commitment, published.population_file.sha256,
                  published.pool_file.sha256):
        assert value in page
    assert "信用 D 级 100%" in page
    names = {name for s in published.selections.all() for name in
             User.objects.filter(pk__in=s.inspector_ids).values_list("real_name", flat=True)}
    assert "光明超市" in page and names and all(name in page for name in names)


def test_public_draw_shows_no_personal_data(client, org, planner, object_types, setting):  # noqa: F811
    plan = make_plan(planner, org, object_types, "脱敏计划")
    assert plan.selections.count() == 4  # D class at 100 %: every shop
    page = client.get(reverse("public:draw_detail", args=[plan.pk])).content.decode()
    assert "张***店" in page  # a natural person's name is masked
    assert "张三烟杂店" not in page
    for secret in (ID_NUMBER, PHONE, "13800001111", "110101", "139****5678"):
        assert secret not in page, secret


def test_frozen_files_download_and_hash_check(client, org, planner, object_types, setting):  # noqa: F811
    plan = make_plan(planner, org, object_types, "文件计划")
    for kind, evidence in (("population", plan.population_file), ("pool", plan.pool_file)):
        response = client.get(reverse("public:draw_file", args=[plan.pk, kind]))
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert hashlib.sha256(body).hexdigest() == evidence.sha256
        assert ID_NUMBER.encode() not in body and PHONE.encode() not in body
    assert client.get(reverse("public:draw_file", args=[plan.pk, "seed"])).status_code == 404
    # a damaged file is refused, not served
    storage = storages["evidence"]
    storage.delete(plan.pool_file.storage_name)
    storage.save(plan.pool_file.storage_name, ContentFile(b"inspector_id,squad_id,conflict_object_ids\n"))
    response = client.get(reverse("public:draw_file", args=[plan.pk, "pool"]))
    assert response.status_code == 409 and "校验失败" in response.content.decode()


def test_superseded_published_plan_stays_listed_and_marked(client, org, planner, object_types, setting):  # noqa: F811
    plan = make_plan(planner, org, object_types, "先公示后重抽")
    draws.redraw(plan, by=planner, reason="抽中人员外出培训")
    assert DrawPlan.objects.count() == 2
    listing = client.get(reverse("public:draws")).content.decode()
    assert listing.count("先公示后重抽") == 1 and "已重新抽取" in listing  # the new draft is not public
    page = client.get(reverse("public:draw_detail", args=[plan.pk])).content.decode()
    assert "已由实施单位重新抽取" in page


def test_results_show_only_published_records_masked(client, org, users, setting):
    shops, officers = setting
    leader = users["squad_leader"]
    person, market = shops[0], shops[1]
    task = InspectionTask.objects.create(regulated_object=person, squad=person.squad, source=TaskSource.SCHEDULE,
                                         due_date=TODAY())
    checklist = [{"item": i.pk, "result": "pass"} for i in person.object_type.checklist.all()]
    published = records.submit_inspection(
        task, by=officers[0], inspectors=officers[:2], lon=person.lon, lat=person.lat, checklist=checklist,
        findings=f"当事人电话{PHONE}，身份证{ID_NUMBER}，门前整洁", party_refused_to_sign=True, outcome="compliant")
    records.publish_record(published, by=leader)
    task2 = InspectionTask.objects.create(regulated_object=market, squad=market.squad, source=TaskSource.SCHEDULE,
                                          due_date=TODAY())
    records.submit_inspection(task2, by=officers[0], inspectors=officers[:2], lon=market.lon, lat=market.lat,
                              checklist=checklist, findings="未公示的检查", party_refused_to_sign=True,
                              outcome="compliant")
    page = client.get(reverse("public:results")).content.decode()
    assert "门前整洁" in page and "未公示的检查" not in page and "光明超市" not in page
    assert "张三烟杂店" not in page and "张***店" in page
    assert PHONE not in page and ID_NUMBER not in page
    assert "139****5678" in page and "110101********0011" in page  # typed into the findings: masked
    # search by object type and date
    other_day = (TODAY() - dt.timedelta(days=10)).isoformat()
    assert "门前整洁" not in client.get(reverse("public:results"), {"date_to": other_day}).content.decode()
    typed = client.get(reverse("public:results"), {"object_type": person.object_type_id}).content.decode()
    assert "门前整洁" in typed
    assert client.get(reverse("public:results"), {"date_from": "not-a-date"}).status_code == 200


def test_scrub_masks_numbers_in_free_text():
    assert scrub(f"电话 {PHONE}，证件 {ID_NUMBER}。") == "电话 139****5678，证件 110101********0011。"
    assert scrub("罚款 200 元，面积 12345678901234567890 平方米") == "罚款 200 元，面积 12345678901234567890 平方米"


def test_selections_are_paged(client, org, planner, object_types, setting, monkeypatch):  # noqa: F811
    from chengguan.public import views

    plan = make_plan(planner, org, object_types, "分页计划")
    monkeypatch.setattr(views, "SELECTIONS_PAGE_SIZE", 3)
    first = client.get(reverse("public:draw_detail", args=[plan.pk]))
    second = client.get(reverse("public:draw_detail", args=[plan.pk]), {"page": 2})
    assert [s.rank for s in first.context["selections"]] == [1, 2, 3]
    assert [s.rank for s in second.context["selections"]] == [4]
    assert "4 户" in first.content.decode()


def test_public_list_query_counts(client, org, users, planner, object_types, setting,  # noqa: F811
                                  django_assert_max_num_queries):
    shops, officers = setting
    for _ in range(3):
        make_plan(planner, org, object_types, "计划")
    checklist = [{"item": i.pk, "result": "pass"} for i in shops[0].object_type.checklist.all()]
    for obj in shops * 3:
        task = InspectionTask.objects.create(regulated_object=obj, squad=obj.squad, source=TaskSource.SCHEDULE,
                                             due_date=TODAY())
        squad_officers = [o for o in officers if o.org_unit_id == obj.squad_id][:2]
        record = records.submit_inspection(task, by=squad_officers[0], inspectors=squad_officers, lon=obj.lon,
                                           lat=obj.lat, checklist=checklist, party_refused_to_sign=True,
                                           outcome="compliant")
        records.publish_record(record, by=users["leader"])
    with django_assert_max_num_queries(6):
        response = client.get(reverse("public:results"))
    assert len(response.context["page"]) == 12
    with django_assert_max_num_queries(6):
        client.get(reverse("public:draws"))
    plan = DrawPlan.objects.first()
    with django_assert_max_num_queries(8):
        client.get(reverse("public:draw_detail", args=[plan.pk]))
