"""Inspections REST API: the role × endpoint matrix for every endpoint (out-of-scope objects
answer 404, refused calls change nothing), then what the matrix does not show: masking of
personal data, the Excel import's error report, the seed kept secret until the draw, the whole
双随机 flow through the API, and the submission refusals with their codes."""

import datetime as dt
import io
from functools import cached_property

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from chengguan.core.api_testing import (
    ALL_ROLES,
    SQUAD_ROLES,
    Endpoint,
    EndpointMatrix,
    MatrixData,
    api_client,
    assert_error_body,
    changed,
    created,
    ids,
    lists_exactly,
    row_values,
    send,
)
from chengguan.core.choices import RoleCode
from chengguan.core.evidence import store_evidence
from chengguan.core.models import AuditEvent
from chengguan.core.testing import make_user
from chengguan.core.tests.test_evidence import png_bytes
from chengguan.inspections.choices import InspectionOutcome, PlanStatus, TaskSource, TaskStatus
from chengguan.inspections.models import (
    ChecklistItem,
    DrawPlan,
    InspectionRecord,
    InspectionTask,
    InspectorConflict,
    ObjectType,
    RegulatedObject,
    TierRule,
)
from chengguan.inspections.services import draws, registry
from chengguan.inspections.tests.conftest import credit_code

pytestmark = pytest.mark.django_db

API = "/api/v1/inspections"
R = RoleCode
ADMIN = {R.ADMIN}
PLANNERS = {R.SQUAD_LEADER, R.LEADER, R.ADMIN, R.SUPERVISOR}
EDITORS = {R.OFFICER, R.SQUAD_LEADER, R.ADMIN}  # add/change regulated objects
TASK_MANAGERS = {R.SQUAD_LEADER, R.ADMIN}
INSPECTORS = {R.OFFICER, R.SQUAD_LEADER}
RATIOS = {"A": 1, "B": 1, "C": 1, "D": 1}
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    """A private evidence store per test (frozen draw lists, photos), never var/evidence."""
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


def all_pass(obj) -> list[dict]:
    return [{"item": item.pk, "result": "pass"}
            for item in ChecklistItem.objects.filter(object_type=obj.object_type_id, is_active=True)]


def make_task(obj, *inspectors, source=TaskSource.SCHEDULE) -> InspectionTask:
    task = InspectionTask.objects.create(regulated_object=obj, squad=obj.squad, source=source, due_date=TODAY())
    task.inspectors.set(inspectors)
    return task


def make_record(obj, inspector) -> InspectionRecord:
    """A record of an inspection already done (written directly: the matrix only reads it)."""
    task = make_task(obj, inspector)
    task.status = TaskStatus.DONE
    task.save()
    return InspectionRecord.objects.create(
        task=task, regulated_object=obj, squad=obj.squad, inspected_at=timezone.now(), lon=obj.lon, lat=obj.lat,
        distance_m=0, location_verified=True, outcome=InspectionOutcome.COMPLIANT, created_by=inspector,
        publish_due=TODAY() + dt.timedelta(days=28),
    )


def plan_fields(org, object_types, **kw) -> dict:
    return {"name": "江川中队沿街商户双随机抽查", "org_unit": org.squad_a, "period_start": TODAY(),
            "period_end": TODAY() + dt.timedelta(days=30), "object_types": [object_types["street_shop"]],
            "ratios": RATIOS, **kw}


class Plans:
    """Plans in each lifecycle state, made on first use (most matrix calls need none)."""

    def __init__(self, org, users, object_types):
        self.org, self.by, self.types = org, users[R.ADMIN], object_types

    def _new(self, **kw):
        return draws.create_plan(by=self.by, **plan_fields(self.org, self.types, **kw))

    @cached_property
    def draft(self):
        return self._new()

    @cached_property
    def committed(self):
        return draws.commit_plan(self._new(), by=self.by)

    @cached_property
    def drawn(self):
        return draws.run_draw(draws.commit_plan(self._new(), by=self.by), by=self.by)

    @cached_property
    def draft_b(self):
        return self._new(name="古美中队抽查", org_unit=self.org.squad_b)


def status_is(get, status):
    return changed(get, status=status)


def no_seed_until_drawn(d, response):
    body = response.json()
    assert body["seed"] is None and body["seed_commitment"]
    assert DrawPlan.objects.get(pk=body["id"]).seed not in response.content.decode()


def submit_payload(d):
    obj = d.task_a.regulated_object
    return {"inspectors": [d.users[R.OFFICER].pk, d.users[R.SQUAD_LEADER].pk], "lon": obj.lon,
            "lat": obj.lat + 0.0005, "checklist": all_pass(obj), "outcome": "compliant"}


def submitted(d, response):
    record = InspectionRecord.objects.get(pk=response.json()["id"])
    assert record.task == d.task_a and record.created_by == d.actor and record.location_verified


def verified(d, response):
    assert response.json()["ok"] is True, response.json()


class TestInspectionEndpoints(EndpointMatrix):
    endpoints = [
        # --- configuration -------------------------------------------------------------------
        Endpoint("object-type-list", "get", lambda d: f"{API}/object-types/", allowed=ALL_ROLES,
                 check=lambda d, r: {t["code"] for t in r.json()} >= {"street_shop", "construction_site"}),
        Endpoint("object-type-detail", "get", lambda d: f"{API}/object-types/{d.types['street_shop'].pk}/",
                 allowed=ALL_ROLES, check=lambda d, r: len(r.json()["checklist"]) == 4),
        Endpoint("object-type-checklist", "get",
                 lambda d: f"{API}/object-types/{d.types['street_shop'].pk}/checklist/", allowed=ALL_ROLES,
                 check=lambda d, r: [i["text"] for i in r.json()][:2] == ["门责制落实", "跨门营业"]),
        Endpoint("object-type-create", "post", lambda d: f"{API}/object-types/", allowed=ADMIN, model=ObjectType,
                 payload=lambda d: {"code": "estate_agent", "name": "房地产经纪机构", "base_risk": 2,
                                    "checklist": [{"text": "备案公示"}, {"text": "房源信息真实"}]},
                 state=lambda d: ChecklistItem.objects.count(),
                 check=lambda d, r: [i["text"] for i in r.json()["checklist"]] == ["备案公示", "房源信息真实"]),
        Endpoint("object-type-update", "patch", lambda d: f"{API}/object-types/{d.types['street_shop'].pk}/",
                 allowed=ADMIN, payload=lambda d: {"name": "临街商户", "base_risk": 2},
                 target=lambda d: d.types["street_shop"],
                 check=changed(lambda d: d.types["street_shop"], name="临街商户", base_risk=2)),
        Endpoint("tier-rule-list", "get", lambda d: f"{API}/tier-rules/", allowed=ALL_ROLES,
                 check=lambda d, r: len(r.json()) == 2),
        Endpoint("tier-rule-detail", "get", lambda d: f"{API}/tier-rules/{d.rule.pk}/", allowed=ALL_ROLES),
        Endpoint("tier-rule-create", "post", lambda d: f"{API}/tier-rules/", allowed=ADMIN, model=TierRule,
                 payload=lambda d: {"object_type": d.bare_type.pk, "violation_weight": 4},
                 check=created(TierRule, object_type__code="garbage_hauler", violation_weight=4)),
        Endpoint("tier-rule-update", "patch", lambda d: f"{API}/tier-rules/{d.rule.pk}/", allowed=ADMIN,
                 payload=lambda d: {"violation_weight": 3, "frequency_days": {"1": 14, "2": 60, "3": 120, "4": 365}},
                 target=lambda d: d.rule, check=changed(lambda d: d.rule, violation_weight=3)),
        Endpoint("tier-recompute", "post", lambda d: f"{API}/tier-rules/recompute/", ok_status=200,
                 allowed={R.SQUAD_LEADER, R.LEADER, R.ADMIN}, model=RegulatedObject, payload=lambda d: {},
                 state=lambda d: sorted(RegulatedObject.objects.values_list("pk", "tier", "tier_reason")),
                 check=lambda d, r: r.json()["checked"] == RegulatedObject.objects.restrict(d.actor).count()),
        # --- the registry --------------------------------------------------------------------
        Endpoint("object-list", "get", lambda d: f"{API}/objects/", allowed=ALL_ROLES,
                 check=lists_exactly(lambda d: RegulatedObject.objects.restrict(d.actor))),
        Endpoint("object-detail", "get", lambda d: f"{API}/objects/{d.shop_a.pk}/", allowed=ALL_ROLES),
        Endpoint("object-detail-squad-b", "get", lambda d: f"{API}/objects/{d.shop_b.pk}/",
                 allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("object-create", "post", lambda d: f"{API}/objects/", allowed=EDITORS, model=RegulatedObject,
                 payload=lambda d: {"object_type": d.types["street_shop"].pk, "name": "新登记商户",
                                    "address": "江川路1号", "lon": 121.405, "lat": 31.105,
                                    "credit_code": credit_code(900001), "credit_grade": "C", "risk_level": 2},
                 check=created(RegulatedObject, name="新登记商户", grid__isnull=False)),
        Endpoint("object-update", "patch", lambda d: f"{API}/objects/{d.shop_a.pk}/", allowed=EDITORS,
                 payload=lambda d: {"name": "改名商户"}, target=lambda d: d.shop_a,
                 check=changed(lambda d: d.shop_a, name="改名商户")),
        Endpoint("object-update-squad-b", "patch", lambda d: f"{API}/objects/{d.shop_b.pk}/", allowed=ADMIN,
                 payload=lambda d: {"name": "越权改名"}, target=lambda d: d.shop_b,
                 refused_status={R.OFFICER: 404, R.SQUAD_LEADER: 404}),
        Endpoint("object-history", "get", lambda d: f"{API}/objects/{d.shop_a2.pk}/history/", allowed=ALL_ROLES,
                 check=lambda d, r: {e["kind"] for e in r.json()} >= {"inspection", "task"}),
        Endpoint("object-duplicates", "get", lambda d: f"{API}/objects/{d.shop_a.pk}/duplicates/",
                 allowed=ALL_ROLES, check=lambda d, r: [o["id"] for o in r.json()] == [d.dup.pk]),
        Endpoint("object-merge", "post", lambda d: f"{API}/objects/{d.shop_a.pk}/merge/",
                 allowed={R.SQUAD_LEADER, R.ADMIN}, ok_status=200,
                 payload=lambda d: {"duplicates": [d.dup.pk], "reason": "重复登记"},
                 target=lambda d: d.shop_a, state=lambda d: row_values(d.dup),
                 check=lambda d, r: RegulatedObject.objects.get(pk=d.dup.pk).merged_into_id == d.shop_a.pk),
        Endpoint("object-deactivate", "post", lambda d: f"{API}/objects/{d.shop_a.pk}/deactivate/",
                 allowed=EDITORS, ok_status=200, payload=lambda d: {"reason": "已歇业"}, target=lambda d: d.shop_a,
                 check=changed(lambda d: d.shop_a, is_active=False)),
        Endpoint("object-export", "get", lambda d: f"{API}/objects/export/", allowed=ALL_ROLES,
                 check=lambda d, r: r["Content-Type"].startswith("application/vnd.openxmlformats")),
        Endpoint("conflict-list", "get", lambda d: f"{API}/conflicts/", allowed=PLANNERS,
                 check=lambda d, r: ids(r) == {d.conflict.pk}),
        Endpoint("conflict-declare", "post", lambda d: f"{API}/conflicts/", allowed=ALL_ROLES,
                 model=InspectorConflict, payload=lambda d: {"regulated_object": d.shop_a.pk, "reason": "亲属经营"},
                 check=created(InspectorConflict, reason="亲属经营")),
        # --- plans ---------------------------------------------------------------------------
        Endpoint("plan-list", "get", lambda d: f"{API}/plans/", allowed=ALL_ROLES,
                 check=lambda d, r: d.plans.draft.pk in ids(r)),
        Endpoint("plan-detail", "get", lambda d: f"{API}/plans/{d.plans.committed.pk}/", allowed=ALL_ROLES,
                 check=no_seed_until_drawn),
        Endpoint("plan-detail-squad-b", "get", lambda d: f"{API}/plans/{d.plans.draft_b.pk}/",
                 allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("plan-create", "post", lambda d: f"{API}/plans/", allowed=PLANNERS, model=DrawPlan,
                 payload=lambda d: {"name": "新计划", "org_unit": d.org.squad_a.pk, "period_start": str(TODAY()),
                                    "period_end": str(TODAY() + dt.timedelta(days=30)),
                                    "object_types": [d.types["street_shop"].pk], "ratios": {"A": 0.5, "B": 0.5,
                                                                                           "C": 1, "D": 1}},
                 check=created(DrawPlan, name="新计划", status=PlanStatus.DRAFT)),
        Endpoint("plan-update", "patch", lambda d: f"{API}/plans/{d.plans.draft.pk}/", allowed=PLANNERS,
                 payload=lambda d: {"name": "改名计划"}, target=lambda d: d.plans.draft,
                 check=changed(lambda d: d.plans.draft, name="改名计划")),
        Endpoint("plan-commit", "post", lambda d: f"{API}/plans/{d.plans.draft.pk}/commit/", allowed=PLANNERS,
                 ok_status=200, target=lambda d: d.plans.draft, check=no_seed_until_drawn),
        Endpoint("plan-commit-squad-b", "post", lambda d: f"{API}/plans/{d.plans.draft_b.pk}/commit/",
                 allowed=set(), target=lambda d: d.plans.draft_b,
                 # squad B has no objects: whoever may reach the plan is refused by the service (409)
                 refused_status={R.SQUAD_LEADER: 404, R.LEADER: 409, R.ADMIN: 409, R.SUPERVISOR: 409}),
        Endpoint("plan-draw", "post", lambda d: f"{API}/plans/{d.plans.committed.pk}/draw/", allowed=PLANNERS,
                 ok_status=200, target=lambda d: d.plans.committed, model=InspectionTask,
                 check=lambda d, r: r.json()["seed"] == DrawPlan.objects.get(pk=d.plans.committed.pk).seed),
        Endpoint("plan-publish", "post", lambda d: f"{API}/plans/{d.plans.drawn.pk}/publish/", allowed=PLANNERS,
                 ok_status=200, target=lambda d: d.plans.drawn,
                 check=status_is(lambda d: d.plans.drawn, PlanStatus.PUBLISHED)),
        Endpoint("plan-redraw", "post", lambda d: f"{API}/plans/{d.plans.drawn.pk}/redraw/", allowed=PLANNERS,
                 payload=lambda d: {"reason": "抽中对象已注销"}, target=lambda d: d.plans.drawn, model=DrawPlan,
                 check=lambda d, r: r.json()["replaces"] == d.plans.drawn.pk and r.json()["status"] == "draft"),
        Endpoint("plan-verify", "get", lambda d: f"{API}/plans/{d.plans.drawn.pk}/verify/", allowed=ALL_ROLES,
                 check=verified),
        Endpoint("plan-selections", "get", lambda d: f"{API}/plans/{d.plans.drawn.pk}/selections/",
                 allowed=ALL_ROLES, check=lambda d, r: [s["rank"] for s in r.json()["results"]] == [1, 2, 3]),
        # --- tasks ---------------------------------------------------------------------------
        Endpoint("task-list", "get", lambda d: f"{API}/tasks/", allowed=ALL_ROLES,
                 check=lists_exactly(lambda d: InspectionTask.objects.restrict(d.actor))),
        Endpoint("task-list-mine", "get", lambda d: f"{API}/tasks/?mine=1", allowed=ALL_ROLES,
                 check=lists_exactly(lambda d: InspectionTask.objects.restrict(d.actor).filter(
                     inspectors=d.actor, status=TaskStatus.PENDING))),
        Endpoint("task-detail", "get", lambda d: f"{API}/tasks/{d.task_a.pk}/", allowed=ALL_ROLES),
        Endpoint("task-detail-squad-b", "get", lambda d: f"{API}/tasks/{d.task_b.pk}/",
                 allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("task-create", "post", lambda d: f"{API}/tasks/", allowed=TASK_MANAGERS, model=InspectionTask,
                 payload=lambda d: {"regulated_object": d.shop_a.pk, "due_date": str(TODAY() + dt.timedelta(days=7)),
                                    "note": "节前专项检查"},
                 check=created(InspectionTask, source=TaskSource.MANUAL, note="节前专项检查")),
        Endpoint("task-generate", "post", lambda d: f"{API}/tasks/generate/", allowed=TASK_MANAGERS, ok_status=200,
                 model=InspectionTask, payload=lambda d: {"until": str(TODAY() + dt.timedelta(days=30))},
                 check=lambda d, r: r.json()["created"] >= 1),
        Endpoint("task-cancel", "post", lambda d: f"{API}/tasks/{d.task_a.pk}/cancel/", allowed=TASK_MANAGERS,
                 ok_status=200, payload=lambda d: {"reason": "对象已停业"}, target=lambda d: d.task_a,
                 check=status_is(lambda d: d.task_a, TaskStatus.CANCELLED)),
        Endpoint("task-submit", "post", lambda d: f"{API}/tasks/{d.task_a.pk}/submit/", allowed=INSPECTORS,
                 payload=submit_payload, target=lambda d: d.task_a, model=InspectionRecord, check=submitted),
        Endpoint("task-submit-squad-b", "post", lambda d: f"{API}/tasks/{d.task_b.pk}/submit/", allowed=set(),
                 payload=submit_payload, target=lambda d: d.task_b, model=InspectionRecord,
                 refused_status={R.OFFICER: 404, R.SQUAD_LEADER: 404}),
        # --- records -------------------------------------------------------------------------
        Endpoint("record-list", "get", lambda d: f"{API}/records/", allowed=ALL_ROLES,
                 check=lists_exactly(lambda d: InspectionRecord.objects.restrict(d.actor))),
        Endpoint("record-detail", "get", lambda d: f"{API}/records/{d.record_a.pk}/", allowed=ALL_ROLES),
        Endpoint("record-detail-squad-b", "get", lambda d: f"{API}/records/{d.record_b.pk}/",
                 allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("record-publish", "post", lambda d: f"{API}/records/{d.record_a.pk}/publish/", allowed=PLANNERS,
                 ok_status=200, target=lambda d: d.record_a,
                 check=lambda d, r: r.json()["published_at"] is not None),
    ]

    @pytest.fixture
    def matrix_data(self, org, users, object_types, regobj_factory):
        officer, leader = users[R.OFFICER], users[R.SQUAD_LEADER]
        partner = make_user(R.OFFICER, org.squad_a)  # the second officer a draw needs in squad A's pool
        shop_a = regobj_factory(org.grid_a1, credit_grade="B")
        shop_a2 = regobj_factory(org.grid_a2, credit_grade="A")
        dup = regobj_factory(org.grid_a1, name=shop_a.name, address=shop_a.address)  # same name and address
        shop_b = regobj_factory(org.grid_b1)
        officer_b = make_user(R.OFFICER, org.squad_b)
        return MatrixData(
            org=org, users=users, types=object_types, rule=TierRule.objects.get(object_type=object_types["street_shop"]),
            bare_type=ObjectType.objects.create(code="garbage_hauler", name="生活垃圾收运单位"),  # no tier rule yet
            shop_a=shop_a, shop_a2=shop_a2, dup=dup, shop_b=shop_b, partner=partner,
            task_a=make_task(shop_a, officer, leader), task_b=make_task(shop_b, officer_b),
            record_a=make_record(shop_a2, officer), record_b=make_record(shop_b, officer_b),
            conflict=InspectorConflict.objects.create(inspector=users[R.LEGAL_REVIEWER], regulated_object=shop_a2,
                                                    reason="曾任店员"),  # not in the draw pool
            plans=Plans(org, users, object_types),
        )


# --- personal data ------------------------------------------------------------------------------


def test_contact_phone_masked_unless_the_role_may_see_it_and_id_number_always(org, users, regobj_factory):
    person = regobj_factory(org.grid_a1, credit_code="", id_number="310112198001011234", contact_phone="13812345678")
    url = f"{API}/objects/{person.pk}/"
    officer = api_client(users[R.OFFICER]).get(url).json()  # may see contacts
    supervisor = api_client(users[R.SUPERVISOR]).get(url).json()  # may not
    assert officer["contact_phone"] == "13812345678"
    assert supervisor["contact_phone"] == "138****5678"
    assert officer["id_number"] == supervisor["id_number"] == "310112********1234"
    listed = api_client(users[R.SUPERVISOR]).get(f"{API}/objects/?q={person.name}").json()["results"]
    assert [(o["contact_phone"], o["id_number"]) for o in listed] == [("138****5678", "310112********1234")]
    assert "13812345678" not in api_client(users[R.ADMIN]).get(f"{API}/objects/{person.pk}/history/").content.decode()


def test_export_is_scoped_and_masked(org, users, regobj_factory):
    mine = regobj_factory(org.grid_a1, contact_phone="13812345678")
    regobj_factory(org.grid_b1)
    response = api_client(users[R.OFFICER]).get(f"{API}/objects/export/")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("对象编号", "对象类型", "名称")
    assert [r[0] for r in rows[1:]] == [mine.pk]  # squad B's object is not exported
    assert rows[1][10] == "13812345678"
    rows = list(load_workbook(io.BytesIO(
        api_client(users[R.SUPERVISOR]).get(f"{API}/objects/export/?squad={org.squad_a.pk}").content)).active
        .iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [mine.pk] and rows[1][10] == "138****5678"
    assert AuditEvent.objects.filter(action="export", object_type="inspections.regulatedobject").count() == 2


# --- Excel import -------------------------------------------------------------------------------


HEADER = [header for _, header, _ in registry.COLUMNS]


def workbook(*rows, header=HEADER) -> SimpleUploadedFile:
    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("objects.xlsx", buffer.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def import_row(n, **kw):
    values = {"pk": None, "object_type": "沿街商户", "name": f"导入商户{n}", "credit_code": credit_code(800000 + n),
              "id_number": "", "address": f"江川路{n}号", "lon": 121.405, "lat": 31.105, "crs": "WGS-84",
              "contact_name": "王五", "contact_phone": "13900001111", "risk_level": 1, "credit_grade": "B", **kw}
    return [values[field] for field, _, _ in registry.COLUMNS]


def upload(user, file):
    return api_client(user).post(f"{API}/objects/import/", {"file": file}, format="multipart")


def test_import_reports_every_bad_row_and_saves_nothing(org, users, object_types):
    before = (RegulatedObject.objects.count(), AuditEvent.objects.count())
    bad_code = credit_code(800002)[:-1] + ("0" if credit_code(800002)[-1] != "0" else "1")
    response = upload(users[R.SQUAD_LEADER], workbook(
        import_row(1), import_row(2, credit_code=bad_code), import_row(3, lon=116.4, lat=39.9, risk_level=9),
    ))
    body = assert_error_body(response, 400)
    assert body["code"] == "import_failed" and "未保存任何数据" in body["message"]
    found = {(e["row"], e["field"]) for e in body["errors"]}
    assert {(3, "统一社会信用代码"), (4, "风险等级分")} <= found
    assert any(e["row"] == 4 and e["field"] in {"经度", "纬度"} for e in body["errors"])  # outside every grid
    assert all(e["row"] != 2 for e in body["errors"]) and all(e["message"] and e["code"] for e in body["errors"])
    assert (RegulatedObject.objects.count(), AuditEvent.objects.count()) == before


def test_import_with_wrong_columns_names_them(org, users, object_types):
    header = [h for h in HEADER if h != "地址"] + ["备注"]
    body = assert_error_body(upload(users[R.ADMIN], workbook(header=header)), 400)
    assert len(body["errors"]) == 1 and body["errors"][0]["code"] == "wrong_columns"
    assert "地址" in body["errors"][0]["message"] and "备注" in body["errors"][0]["message"]


def test_import_creates_then_updates(org, users, object_types):
    leader = users[R.SQUAD_LEADER]
    response = upload(leader, workbook(import_row(1), import_row(2)))
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    response = upload(leader, workbook(import_row(1, name="导入商户1（更名）"), import_row(2)))
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 1}
    assert RegulatedObject.objects.filter(name="导入商户1（更名）", squad=org.squad_a).exists()


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - {R.SQUAD_LEADER, R.ADMIN}))
def test_import_refused_to_roles_without_the_right(org, users, object_types, role):
    response = upload(users[role], workbook(import_row(1)))
    assert assert_error_body(response, 403)["code"] == "permission_denied"
    assert not RegulatedObject.objects.exists()


def test_import_needs_a_file(users):
    body = assert_error_body(api_client(users[R.ADMIN]).post(f"{API}/objects/import/", {}, format="multipart"), 400)
    assert [e["field"] for e in body["errors"]] == ["file"]


# --- 双随机: the seed and the whole flow ---------------------------------------------------------


@pytest.fixture
def squad_a_shops(org, regobj_factory, users):
    make_user(R.OFFICER, org.squad_a)  # with the users' officer: a pool of two
    return [regobj_factory(org.grid_a1, credit_grade=g) for g in "AABBCD"]


def test_seed_never_appears_in_any_response_before_the_draw(org, users, object_types, squad_a_shops):
    client = api_client(users[R.ADMIN])
    payload = {"name": "种子保密测试", "org_unit": org.squad_a.pk, "period_start": str(TODAY()),
               "period_end": str(TODAY() + dt.timedelta(days=30)), "object_types": [object_types["street_shop"].pk],
               "ratios": {"A": 0.5, "B": 0.5, "C": 1, "D": 1}}
    responses = [send(client, "post", f"{API}/plans/", payload)]
    plan_id = responses[0].json()["id"]
    responses.append(send(client, "post", f"{API}/plans/{plan_id}/commit/"))
    assert responses[-1].status_code == 200, responses[-1].json()
    seed = DrawPlan.objects.get(pk=plan_id).seed
    assert len(seed) == 64
    for url in [f"{API}/plans/", f"{API}/plans/{plan_id}/", f"{API}/plans/?status=committed",
                f"{API}/plans/{plan_id}/verify/", f"{API}/plans/{plan_id}/selections/",
                "/api/v1/audit-events/?object_type=inspections.drawplan", "/api/v1/evidence/", "/api/schema/"]:
        responses.append(client.get(url))
    responses.append(send(client, "patch", f"{API}/plans/{plan_id}/", {"name": "冻结后修改"}))  # refused (409)
    for officer_url in [f"{API}/plans/{plan_id}/", f"{API}/tasks/"]:
        responses.append(api_client(users[R.OFFICER]).get(officer_url))
    for response in responses:
        assert response.status_code in {200, 201, 409}, (response.request["PATH_INFO"], response.status_code)
        assert seed not in response.content.decode(), response.request["PATH_INFO"]
    assert responses[1].json()["seed"] is None
    assert responses[1].json()["seed_commitment"] == draws.seed_commitment(seed)

    drawn = send(client, "post", f"{API}/plans/{plan_id}/draw/").json()
    assert drawn["seed"] == seed and drawn["seed_commitment"] == draws.seed_commitment(seed)


def test_full_flow_through_the_api(org, users, object_types, squad_a_shops):
    leader, officer = users[R.SQUAD_LEADER], users[R.OFFICER]
    client = api_client(leader)
    plan = send(client, "post", f"{API}/plans/", {
        "name": "江川中队2025年第一季度双随机抽查", "org_unit": org.squad_a.pk, "period_start": str(TODAY()),
        "period_end": str(TODAY() + dt.timedelta(days=30)), "object_types": [object_types["street_shop"].pk],
        "ratios": {"A": 0.5, "B": 0.5, "C": 1, "D": 1}, "inspectors_per_object": 2,
    })
    assert plan.status_code == 201, plan.json()
    url = f"{API}/plans/{plan.json()['id']}"
    assert send(client, "patch", f"{url}/", {"name": "江川中队一季度抽查"}).json()["name"] == "江川中队一季度抽查"

    committed = send(client, "post", f"{url}/commit/").json()
    assert committed["status"] == "committed" and committed["population_count"] == 6 and committed["pool_count"] == 2
    assert committed["population_sha256"] and committed["pool_sha256"] and committed["seed"] is None
    assert client.get(f"{url}/verify/").json()["ok"] is False  # nothing drawn yet

    drawn = send(client, "post", f"{url}/draw/").json()
    assert drawn["status"] == "drawn" and drawn["seed"] and drawn["publish_due"]
    again = send(client, "post", f"{url}/draw/")
    assert assert_error_body(again, 409)["code"] == "already_drawn"

    # ratio per class: half of A and B, all of C and D → 1 + 1 + 1 + 1
    selections, page = [], client.get(f"{url}/selections/?page_size=3").json()
    while True:
        selections += page["results"]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert [s["rank"] for s in selections] == [1, 2, 3, 4]
    assert sorted(s["credit_class"] for s in selections) == ["A", "B", "C", "D"]
    assert all(len(s["inspector_ids"]) == 2 and len(s["inspector_names"]) == 2 for s in selections)

    published = send(client, "post", f"{url}/publish/").json()
    assert published["status"] == "published" and published["published_at"]
    assert client.get(f"{url}/verify/").json()["ok"] is True

    # the drawn tasks reach the officer's list, and one is inspected through the API
    mine = api_client(officer).get(f"{API}/tasks/?mine=1&source=draw").json()["results"]
    assert {t["regulated_object"] for t in mine} == {s["regulated_object"] for s in selections}
    task = mine[0]
    partner = next(i for i in task["inspectors"] if i != officer.pk)
    obj = RegulatedObject.objects.get(pk=task["regulated_object"])
    photo = store_evidence(SimpleUploadedFile("现场.png", png_bytes()), by=officer)
    record = send(api_client(officer), "post", f"{API}/tasks/{task['id']}/submit/", {
        "inspectors": [officer.pk, partner], "lon": obj.lon, "lat": obj.lat, "checklist": all_pass(obj),
        "findings": "门责制落实到位", "photos": [photo.pk], "party_refused_to_sign": True, "outcome": "compliant",
    })
    assert record.status_code == 201, record.json()
    body = record.json()
    assert body["task"] == task["id"] and body["photos"] == [photo.pk] and body["location_verified"]
    assert [e["result"] for e in body["checklist"]] == ["pass"] * 4 and body["publish_due"]
    assert api_client(officer).get(f"{API}/tasks/{task['id']}/").json()["status"] == "done"
    assert send(client, "post", f"{API}/records/{body['id']}/publish/").json()["published_at"]
    history = client.get(f"{API}/objects/{obj.pk}/history/").json()
    assert {"inspection", "draw", "task"} <= {e["kind"] for e in history}


def test_redraw_needs_a_reason(org, users, object_types, squad_a_shops):
    plan = draws.create_plan(by=users[R.ADMIN], **plan_fields(org, object_types))
    draws.commit_plan(plan, by=users[R.ADMIN])
    before = AuditEvent.objects.count()
    body = assert_error_body(send(api_client(users[R.ADMIN]), "post", f"{API}/plans/{plan.pk}/redraw/", {}), 400)
    assert [e["field"] for e in body["errors"]] == ["reason"]
    assert AuditEvent.objects.count() == before and DrawPlan.objects.count() == 1


def test_plan_with_too_few_inspectors_is_refused_with_its_code(org, users, object_types, regobj_factory):
    regobj_factory(org.grid_a1)
    plan = draws.create_plan(by=users[R.ADMIN], **plan_fields(org, object_types))  # pool: one officer
    body = assert_error_body(send(api_client(users[R.ADMIN]), "post", f"{API}/plans/{plan.pk}/commit/"), 409)
    assert body["code"] == "too_few_inspectors" and body["article"]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and not plan.seed


# --- submission refusals ------------------------------------------------------------------------


@pytest.fixture
def task_a(org, users, regobj_factory):
    shop = regobj_factory(org.grid_a1)
    return make_task(shop, users[R.OFFICER], users[R.SQUAD_LEADER])


def submission_state():
    return (AuditEvent.objects.count(), InspectionRecord.objects.count(),
            sorted(InspectionTask.objects.values_list("pk", "status")),
            sorted(RegulatedObject.objects.values_list("pk", "last_inspected_on", "tier")))


@pytest.mark.parametrize(("change", "status", "code", "field"), [
    ({"lat_offset": 0.01}, 409, "too_far", "lon"),
    ({"inspectors": "self"}, 409, "too_few_officers", "officers"),
    ({"inspectors": "others"}, 409, "submitter_not_inspector", "inspectors"),
    ({"checklist": "partial"}, 400, "checklist_incomplete", "checklist"),
    ({"outcome": "order_to_correct"}, 400, "findings_required", "findings"),
    ({"outcome": "open_case", "findings": "占道经营"}, 400, "case_facts_required", "case_facts"),
])
def test_submission_refusals_keep_everything_as_it_was(org, users, task_a, change, status, code, field):
    officer, leader = users[R.OFFICER], users[R.SQUAD_LEADER]
    obj = task_a.regulated_object
    payload = {"inspectors": [officer.pk, leader.pk], "lon": obj.lon, "lat": obj.lat + change.pop("lat_offset", 0),
               "checklist": all_pass(obj), "outcome": "compliant"}
    people = change.pop("inspectors", None)
    if people == "self":
        payload["inspectors"] = [officer.pk]
    elif people == "others":
        payload["inspectors"] = [leader.pk, make_user(R.OFFICER, org.squad_a).pk]
    if change.pop("checklist", None):
        payload["checklist"] = payload["checklist"][1:]
    payload.update(change)
    before = submission_state()
    response = send(api_client(officer), "post", f"{API}/tasks/{task_a.pk}/submit/", payload)
    body = assert_error_body(response, status)
    assert body["code"] == code and [e["field"] for e in body["errors"]] == [field], body
    assert submission_state() == before
    if code == "too_far":
        assert "米" in body["message"]


def test_submission_shape_errors_name_the_field(users, task_a):
    body = assert_error_body(send(api_client(users[R.OFFICER]), "post", f"{API}/tasks/{task_a.pk}/submit/", {
        "inspectors": [], "lon": "东经", "lat": 31.1, "checklist": [{"item": 1, "result": "maybe"}],
        "outcome": "fine",
    }), 400)
    assert {e["field"] for e in body["errors"]} == {"lon", "checklist[0].result", "outcome"}


def test_a_drawn_inspector_from_another_squad_sees_and_submits_the_task(org, users, regobj_factory):
    """Draws may send inspectors across squads: their own tasks are theirs even out of scope."""
    shop_b = regobj_factory(org.grid_b1)
    officer, partner = users[R.OFFICER], make_user(R.OFFICER, org.squad_b)
    task = make_task(shop_b, officer, partner, source=TaskSource.DRAW)
    client = api_client(officer)
    assert task.pk in ids(client.get(f"{API}/tasks/?mine=1"))
    assert client.get(f"{API}/objects/{shop_b.pk}/").status_code == 404  # the object itself stays out of scope
    response = send(client, "post", f"{API}/tasks/{task.pk}/submit/", {
        "inspectors": [officer.pk, partner.pk], "lon": shop_b.lon, "lat": shop_b.lat, "checklist": all_pass(shop_b),
        "outcome": "compliant"})
    assert response.status_code == 201, response.json()
    assert client.get(f"{API}/records/{response.json()['id']}/").status_code == 200
    # … but another officer of squad A does not see it
    assert api_client(make_user(R.OFFICER, org.squad_a)).get(f"{API}/tasks/{task.pk}/").status_code == 404


# --- filters, configuration, queries ------------------------------------------------------------


def test_object_filters(org, users, regobj_factory, object_types):
    late = regobj_factory(org.grid_a1, next_inspection_due=TODAY() - dt.timedelta(days=1), tier=1, credit_grade="D")
    fine = regobj_factory(org.grid_a2, next_inspection_due=TODAY() + dt.timedelta(days=9))
    site = regobj_factory(org.grid_a1, object_type=object_types["construction_site"], name="江川工地")
    client = api_client(users[R.SQUAD_LEADER])
    assert ids(client.get(f"{API}/objects/?overdue=true")) == {late.pk}
    assert ids(client.get(f"{API}/objects/?tier=1&credit_grade=D")) == {late.pk}
    assert ids(client.get(f"{API}/objects/?grid={org.grid_a2.pk}")) == {fine.pk}
    assert ids(client.get(f"{API}/objects/?object_type={object_types['construction_site'].pk}")) == {site.pk}
    assert ids(client.get(f"{API}/objects/?q=江川工地")) == {site.pk}
    assert ids(client.get(f"{API}/objects/?q={late.credit_code}")) == {late.pk}
    body = client.get(f"{API}/objects/{late.pk}/").json()
    assert body["overdue"] is True and body["tier_display"].startswith("一级")


def test_object_create_refusals_use_the_service_codes(org, users, object_types):
    client = api_client(users[R.OFFICER])
    base = {"object_type": object_types["street_shop"].pk, "name": "坏数据商户", "address": "某路1号",
            "lon": 121.405, "lat": 31.105}
    before = (RegulatedObject.objects.count(), AuditEvent.objects.count())
    cases = [({"credit_code": "91310112MA1FL0000X"}, "credit_code"),
             ({"credit_code": credit_code(700001), "lon": 116.4, "lat": 39.9}, None),
             ({}, "credit_code")]
    codes = []
    for extra, field in cases:
        body = assert_error_body(send(client, "post", f"{API}/objects/", {**base, **extra}), 400)
        codes.append(body["code"])
        if field:
            assert body["errors"][0]["field"] == field
    assert codes[1] == "outside_grids" and codes[2] == "identifier_required"
    # squad A's officer may not register an object in squad B's area
    body = assert_error_body(send(client, "post", f"{API}/objects/", {
        **base, "credit_code": credit_code(700002), "lon": 121.425, "lat": 31.105}), 409)
    assert body["code"] == "out_of_scope"
    assert (RegulatedObject.objects.count(), AuditEvent.objects.count()) == before


def test_checklist_edit_retires_items_instead_of_deleting_them(users, object_types):
    shop = object_types["street_shop"]
    items = list(shop.checklist.order_by("order"))
    client = api_client(users[R.ADMIN])
    response = send(client, "patch", f"{API}/object-types/{shop.pk}/", {"checklist": [
        {"id": items[1].pk, "text": "跨门营业（含夜间）"}, {"id": items[0].pk, "text": items[0].text},
        {"text": "垃圾分类"},
    ]})
    assert response.status_code == 200, response.json()
    assert [i["text"] for i in response.json()["checklist"]] == ["跨门营业（含夜间）", "门责制落实", "垃圾分类"]
    assert ChecklistItem.objects.filter(object_type=shop).count() == 5  # two retired, one added
    assert set(ChecklistItem.objects.filter(object_type=shop, is_active=False)) == set(items[2:])
    other = object_types["construction_site"].checklist.first()
    body = assert_error_body(send(client, "patch", f"{API}/object-types/{shop.pk}/", {"checklist": [
        {"id": other.pk, "text": "借用"}]}), 400)
    assert body["code"] == "unknown_checklist_item" and body["errors"][0]["field"] == "checklist[0].id"


def test_tier_rule_shapes_are_checked_by_the_service(users, object_types):
    rule = TierRule.objects.get(object_type=object_types["street_shop"])
    before = row_values(rule)
    response = send(api_client(users[R.ADMIN]), "patch", f"{API}/tier-rules/{rule.pk}/",
                    {"thresholds": {"1": 3, "2": 6, "3": 9}})  # tier 1 must need the highest score
    body = assert_error_body(response, 400)
    assert body["errors"][0]["field"].startswith("thresholds")
    assert row_values(rule) == before


def test_list_query_counts_do_not_grow_with_rows(org, users, regobj_factory, django_assert_max_num_queries):
    officer = users[R.OFFICER]
    for _ in range(12):
        shop = regobj_factory(org.grid_a1)
        make_task(shop, officer, users[R.SQUAD_LEADER])
    client = api_client(officer)
    for url, limit in [(f"{API}/objects/", 6), (f"{API}/tasks/", 7)]:
        with django_assert_max_num_queries(limit):
            response = client.get(url)
        assert len(response.json()["results"]) == 12, url


def test_schema_lists_the_inspection_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ["/api/v1/inspections/objects/import/", "/api/v1/inspections/plans/{id}/verify/",
                 "/api/v1/inspections/tasks/{id}/submit/"]:
        assert path in schema


def test_merge_with_an_out_of_scope_duplicate_changes_nothing(org, users, regobj_factory):
    shop_a, shop_b = regobj_factory(org.grid_a1), regobj_factory(org.grid_b1)
    before = (row_values(shop_a), row_values(shop_b), AuditEvent.objects.count())
    response = send(api_client(users[R.SQUAD_LEADER]), "post", f"{API}/objects/{shop_a.pk}/merge/",
                    {"duplicates": [shop_b.pk], "reason": "重复登记"})
    body = assert_error_body(response, 400)
    assert body["code"] == "does_not_exist" and body["errors"][0]["field"] == "duplicates"
    assert (row_values(shop_a), row_values(shop_b), AuditEvent.objects.count()) == before
