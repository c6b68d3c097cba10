"""The regulated-object registry: validation, placement, scope, duplicates and merge, Excel
import/export, conflicts of interest and history."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from chengguan.core import audit, geo
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.exports import xlsx_response
from chengguan.core.models import AuditEvent
from chengguan.core.testing import make_user
from chengguan.core.validators import id_check_char, uscc_check_char
from chengguan.inspections.choices import InspectionOutcome, PlanStatus, TaskSource, TaskStatus
from chengguan.inspections.models import (
    DrawPlan,
    DrawSelection,
    InspectionRecord,
    InspectionTask,
    InspectorConflict,
    RegulatedObject,
)
from chengguan.inspections.services import registry

from .conftest import credit_code

HEADERS = ["对象类型", "名称", "统一社会信用代码", "身份证件号码", "地址", "经度", "纬度", "坐标系", "联系人",
           "联系电话", "风险等级分", "信用等级"]
A1 = (121.405, 31.105)  # inside grid_a1 (squad A)
B1 = (121.425, 31.105)  # inside grid_b1 (squad B)


def id_number(serial: int) -> str:
    first17 = f"31011219850101{serial:03d}"
    return first17 + id_check_char(first17)


def workbook(rows, headers=HEADERS) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def row(n: int, *, lon=A1[0], lat=A1[1], **over):
    """One valid template row (a 沿街商户 in grid_a1) with credit code number n."""
    values = {"对象类型": "沿街商户", "名称": f"导入商户{n}", "统一社会信用代码": credit_code(800_000 + n),
              "身份证件号码": "", "地址": f"江川路{n}号", "经度": lon, "纬度": lat, "坐标系": "WGS-84",
              "联系人": "张三", "联系电话": "13800138000", "风险等级分": 1, "信用等级": "B"}
    values.update(over)
    return [values[h] for h in HEADERS]


def audit_count(action=None) -> int:
    qs = AuditEvent.objects.all()
    return (qs.filter(action=action) if action else qs).count()


def create(user, **kw):
    fields = {"object_type": kw.pop("object_type"), "name": "老王烟杂店", "address": "江川路 1 号",
              "lon": A1[0], "lat": A1[1], "credit_code": credit_code(700_001)}
    fields.update(kw)
    return registry.create_object(by=user, **fields)


@pytest.fixture
def leader_b(org):
    return make_user(RoleCode.SQUAD_LEADER, org.squad_b)


# --- create / update / deactivate ---------------------------------------------------------------

def test_create_places_tiers_encrypts_and_audits(org, users, object_types):
    leader = users[RoleCode.SQUAD_LEADER]
    obj = create(leader, object_type=object_types["street_shop"], contact_phone="13912345678",
                 licences=[{"name": "营业执照", "number": "310112000123", "valid_to": dt.date(2030, 1, 31)}],
                 risk_level=5, credit_grade="D")
    assert (obj.grid, obj.squad) == (org.grid_a1, org.squad_a)
    assert obj.h3 and obj.id_digest == ""
    # base 1 + risk 5 + credit D 5 = 11 ≥ 9: tier 1, inspected every 30 days
    assert obj.tier == 1 and "得分 11" in obj.tier_reason
    assert obj.next_inspection_due == timezone.localdate() + dt.timedelta(days=30)
    assert obj.licences == [{"name": "营业执照", "number": "310112000123", "valid_to": "2030-01-31"}]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT contact_phone FROM {RegulatedObject._meta.db_table} WHERE id = %s", [obj.pk])
        assert "13912345678" not in cursor.fetchone()[0]
    event = AuditEvent.objects.get(action="regobj.create", object_id=str(obj.pk))
    assert event.actor_id == leader.pk
    assert "13912345678" not in str(event.after)


def test_person_identified_by_id_number_digest(users, object_types):
    number = id_number(7)
    obj = create(users[RoleCode.OFFICER], object_type=object_types["street_shop"], credit_code="", id_number=number)
    assert obj.id_digest == registry.id_digest(number) and len(obj.id_digest) == 64
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number, id_digest FROM {RegulatedObject._meta.db_table} WHERE id = %s", [obj.pk])
        stored, digest = cursor.fetchone()
    assert number not in stored and number not in digest
    assert RegulatedObject.objects.get(pk=obj.pk).id_number == number


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"credit_code": "91310112MA1GBXXX1X"}, "credit_code", "invalid_credit_code"),
    ({"credit_code": credit_code(1)[:17] + ("0" if credit_code(1)[17] != "0" else "1")}, "credit_code",
     "invalid_credit_code"),
    ({"credit_code": ""}, "credit_code", "identifier_required"),
    ({"credit_code": "", "id_number": id_number(1)[:17] + ("0" if id_number(1)[17] != "0" else "1")}, "id_number",
     "invalid_id_number"),
    ({"name": "　 "}, "name", "required"),
    ({"lon": None}, "lon", "required"),
    ({"lon": 121.30}, "lon", "outside_grids"),
    ({"credit_grade": "E"}, "credit_grade", "invalid_credit_grade"),
    ({"risk_level": 6}, "risk_level", "invalid_risk_level"),
    ({"contact_phone": "电话"}, "contact_phone", "invalid_phone"),
    ({"licences": [{"name": "营业执照", "number": "1", "valid_to": "2027-02-30"}]}, "licences", "invalid_licence"),
    ({"crs": "bd09"}, "crs", "invalid_crs"),
])
def test_bad_input_is_refused_and_nothing_saved(users, object_types, changes, field, code):
    before = (RegulatedObject.objects.count(), audit_count())
    with pytest.raises(ValidationFailed) as exc:
        create(users[RoleCode.SQUAD_LEADER], object_type=object_types["street_shop"], **changes)
    assert (exc.value.field, exc.value.code) == (field, code)
    assert exc.value.message  # a Chinese message for people
    assert (RegulatedObject.objects.count(), audit_count()) == before


def test_outside_every_grid_message_names_the_point(users, object_types):
    with pytest.raises(ValidationFailed) as exc:
        create(users[RoleCode.SQUAD_LEADER], object_type=object_types["street_shop"], lon=121.30, lat=31.0)
    assert exc.value.code == "outside_grids" and "121.300000" in exc.value.message


def test_gcj02_input_is_converted(org, users, object_types):
    from chengguan.core.geo import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(*A1)
    obj = create(users[RoleCode.SQUAD_LEADER], object_type=object_types["street_shop"], lon=lon, lat=lat, crs="gcj02")
    assert obj.lon == pytest.approx(A1[0], abs=1e-7) and obj.grid == org.grid_a1


def test_same_credit_code_cannot_be_registered_twice(users, object_types):
    first = create(users[RoleCode.SQUAD_LEADER], object_type=object_types["street_shop"])
    with pytest.raises(ValidationFailed) as exc:
        create(users[RoleCode.SQUAD_LEADER], object_type=object_types["street_shop"], name="另一家")
    assert exc.value.code == "duplicate_object" and str(first.pk) in exc.value.message
    # another type may carry the same code (a company can be a shop and a construction site)
    create(users[RoleCode.SQUAD_LEADER], object_type=object_types["construction_site"], name="工地")


def test_officer_cannot_register_an_object_in_another_squad(users, object_types):
    with pytest.raises(BusinessRuleError) as exc:
        create(users[RoleCode.OFFICER], object_type=object_types["street_shop"], lon=B1[0], lat=B1[1])
    assert exc.value.code == "out_of_scope"
    assert not RegulatedObject.objects.exists()


def test_role_without_add_permission_is_refused(users, object_types):
    with pytest.raises(PermissionDenied):
        create(users[RoleCode.SUPERVISOR], object_type=object_types["street_shop"])


def test_update_changes_retiers_and_audits_only_real_changes(org, users, object_types):
    leader = users[RoleCode.SQUAD_LEADER]
    obj = create(leader, object_type=object_types["street_shop"])
    events = audit_count("regobj.update")
    registry.update_object(obj, by=leader, name=" 老王烟杂店 ")  # same after cleaning
    assert audit_count("regobj.update") == events
    obj = registry.update_object(obj, by=leader, risk_level=4, credit_grade="C", lon=121.415, lat=31.105)
    assert (obj.grid, obj.tier) == (org.grid_a2, 2)  # 1 + 4 + 3 = 8 ≥ 6
    event = AuditEvent.objects.filter(action="regobj.update", object_id=str(obj.pk)).last()
    assert event.actor_id == leader.pk
    assert event.before["risk_level"] == 0 and event.after["risk_level"] == 4
    assert event.after["grid_id"] == org.grid_a2.pk
    with pytest.raises(ValidationFailed) as exc:
        registry.update_object(obj, by=leader, tier=1)
    assert exc.value.code == "not_editable"


def test_scope_squad_a_cannot_see_or_change_squad_b_objects(org, users, object_types, regobj_factory):
    officer_a = users[RoleCode.OFFICER]
    mine, theirs = regobj_factory(org.grid_a1), regobj_factory(org.grid_b1)
    assert list(RegulatedObject.objects.restrict(officer_a)) == [mine]
    before = audit_count()
    with pytest.raises(Http404):
        registry.update_object(theirs, by=officer_a, name="改名")
    with pytest.raises(Http404):
        registry.deactivate_object(theirs, by=officer_a, reason="关门")
    theirs.refresh_from_db()
    assert theirs.name != "改名" and theirs.is_active and audit_count() == before
    # moving one's own object into squad B is refused as well
    with pytest.raises(BusinessRuleError) as exc:
        registry.update_object(mine, by=officer_a, lon=B1[0], lat=B1[1])
    assert exc.value.code == "out_of_scope"
    assert list(RegulatedObject.objects.restrict(users[RoleCode.LEADER]).order_by("pk")) == [mine, theirs]


def test_deactivate_needs_a_reason_and_shows_in_history(users, object_types, org, regobj_factory):
    leader = users[RoleCode.SQUAD_LEADER]
    obj = regobj_factory(org.grid_a1)
    with pytest.raises(ValidationFailed):
        registry.deactivate_object(obj, by=leader, reason=" ")
    obj = registry.deactivate_object(obj, by=leader, reason="店铺已关闭")
    assert not RegulatedObject.objects.get(pk=obj.pk).is_active
    with pytest.raises(BusinessRuleError) as exc:
        registry.update_object(obj, by=leader, name="新名")
    assert exc.value.code == "object_inactive"
    assert any(e["text"] == "停止监管：店铺已关闭" for e in registry.object_history(obj))


def test_deactivating_cancels_the_objects_pending_tasks(users, object_types, org, regobj_factory):
    from django.utils import timezone

    from chengguan.inspections.choices import TaskStatus
    from chengguan.inspections.services import records

    leader = users[RoleCode.SQUAD_LEADER]
    obj = regobj_factory(org.grid_a1)
    task = records.create_manual_task(by=leader, regulated_object=obj, due_date=timezone.localdate())
    registry.deactivate_object(obj, by=leader, reason="店铺已关闭")
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and "店铺已关闭" in task.note


# --- conflicts of interest ----------------------------------------------------------------------

def test_declare_conflict(org, users, regobj_factory):
    officer, leader = users[RoleCode.OFFICER], users[RoleCode.SQUAD_LEADER]
    obj = regobj_factory(org.grid_a1)
    conflict = registry.declare_conflict(by=officer, inspector=officer, regulated_object=obj, reason="配偶经营")
    assert AuditEvent.objects.filter(action="conflict.declare", object_id=str(conflict.pk), actor=officer).exists()
    with pytest.raises(ValidationFailed) as exc:
        registry.declare_conflict(by=leader, inspector=officer, regulated_object=obj, reason="再次申报")
    assert exc.value.code == "duplicate"
    with pytest.raises(PermissionDenied):  # an officer declares only their own
        registry.declare_conflict(by=officer, inspector=leader, regulated_object=obj, reason="代报")
    registry.declare_conflict(by=leader, inspector=make_user(RoleCode.OFFICER, org.squad_b), regulated_object=obj,
                              reason="亲属")
    assert InspectorConflict.objects.count() == 2


# --- duplicates and merge -----------------------------------------------------------------------

def test_find_duplicates_by_code_id_and_normalised_name_address(org, object_types, regobj_factory):
    obj = regobj_factory(org.grid_a1, name="Ｍ记 便利店", address="江川路１２号")
    same_code = regobj_factory(org.grid_a2, credit_code=obj.credit_code, name="别的名字")
    same_name = regobj_factory(org.grid_a1, name="m记便利店", address="江川路 12 号")
    person = regobj_factory(org.grid_a1, credit_code="", id_number=id_number(9), id_digest=registry.id_digest(id_number(9)))
    same_person = regobj_factory(org.grid_b1, credit_code="", id_number=id_number(9),
                                 id_digest=registry.id_digest(id_number(9)))
    regobj_factory(org.grid_a1, name="M记便利店", address="江川路12号", object_type=object_types["construction_site"])
    regobj_factory(org.grid_a1, name="M记便利店", address="江川路12号", is_active=False)
    assert {o.pk for o in registry.find_duplicates(obj)} == {same_code.pk, same_name.pk}
    assert [o.pk for o in registry.find_duplicates(person)] == [same_person.pk]


def test_merge_repoints_history_but_not_committed_draws(org, users, object_types, regobj_factory):
    leader, officer = users[RoleCode.SQUAD_LEADER], users[RoleCode.OFFICER]
    keep = regobj_factory(org.grid_a1, contact_phone="")
    dup = regobj_factory(org.grid_a1, contact_phone="13700000001",
                         licences=[{"name": "食品经营许可证", "number": "JY1", "valid_to": "2028-01-01"}],
                         last_inspected_on=dt.date(2024, 3, 1))
    plan = DrawPlan.objects.create(name="2024 年沿街商户抽查", org_unit=org.squad_a, period_start=dt.date(2024, 1, 1),
                                   period_end=dt.date(2024, 12, 31), status=PlanStatus.COMMITTED, created_by=leader)
    selection = DrawSelection.objects.create(plan=plan, rank=1, regulated_object=dup, credit_class="B",
                                             inspector_ids=[officer.pk, leader.pk])
    task = InspectionTask.objects.create(regulated_object=dup, squad=org.squad_a, source=TaskSource.DRAW, plan=plan,
                                         due_date=dt.date(2024, 3, 1), status=TaskStatus.DONE)
    record = InspectionRecord.objects.create(
        task=task, regulated_object=dup, squad=org.squad_a, inspected_at=timezone.now(), lon=dup.lon, lat=dup.lat,
        distance_m=5, location_verified=True, outcome=InspectionOutcome.COMPLIANT, created_by=officer)
    moved = registry.declare_conflict(by=officer, inspector=officer, regulated_object=dup, reason="亲属")
    registry.declare_conflict(by=leader, inspector=leader, regulated_object=dup, reason="同学")
    registry.declare_conflict(by=leader, inspector=leader, regulated_object=keep, reason="同学")

    with pytest.raises(ValidationFailed):
        registry.merge_objects(keep, [dup], by=leader, reason="")
    with pytest.raises(Http404):  # officers may not merge: the objects are out of their merge scope
        registry.merge_objects(keep, [dup], by=officer, reason="重复登记")
    registry.merge_objects(keep, [dup], by=leader, reason="重复登记")

    keep.refresh_from_db()
    dup.refresh_from_db()
    assert not dup.is_active and dup.merged_into == keep
    assert InspectionTask.objects.get(pk=task.pk).regulated_object == keep
    assert InspectionRecord.objects.get(pk=record.pk).regulated_object == keep
    assert InspectorConflict.objects.get(pk=moved.pk).regulated_object == keep
    assert keep.conflicts.count() == 2
    assert DrawSelection.objects.get(pk=selection.pk).regulated_object == dup  # the draw stays as drawn
    assert keep.contact_phone == "13700000001" and keep.licences[0]["number"] == "JY1"
    assert keep.last_inspected_on == dt.date(2024, 3, 1)
    history = registry.object_history(keep)
    assert {"inspection", "task", "draw", "registry"} <= {e["kind"] for e in history}
    links = {e["kind"]: e["link"] for e in history}
    assert links["inspection"] == links["task"] == f"/inspections/records/{record.pk}/"
    assert links["draw"] == f"/inspections/plans/{plan.pk}/"
    assert [e["time"] for e in history] == sorted((e["time"] for e in history), reverse=True)
    reason = AuditEvent.objects.get(action="regobj.merge.reason", object_id=str(keep.pk))
    assert reason.after == {"reason": "重复登记", "merged": [dup.pk]} and reason.actor_id == leader.pk
    with pytest.raises(BusinessRuleError) as exc:
        registry.merge_objects(keep, [dup], by=leader, reason="再合并")
    assert exc.value.code == "object_inactive"


def test_merge_refuses_different_types(org, users, object_types, regobj_factory):
    keep = regobj_factory(org.grid_a1)
    other = regobj_factory(org.grid_a1, object_type=object_types["construction_site"])
    with pytest.raises(BusinessRuleError) as exc:
        registry.merge_objects(keep, [other], by=users[RoleCode.SQUAD_LEADER], reason="重复")
    assert exc.value.code == "type_mismatch"
    assert RegulatedObject.objects.get(pk=other.pk).is_active


# --- Excel import -------------------------------------------------------------------------------

def test_import_creates_objects_and_audits_each(org, users, object_types):
    leader = users[RoleCode.SQUAD_LEADER]
    result = registry.import_objects(workbook([row(1), row(2, lon=121.415)]), by=leader)
    assert result.ok and (result.created, result.updated) == (2, 0)
    objs = list(RegulatedObject.objects.order_by("pk"))
    assert [o.grid for o in objs] == [org.grid_a1, org.grid_a2]
    assert all(o.h3 and o.tier == 3 and o.next_inspection_due for o in objs)  # 1 + 1 + B 1 = 3: tier 3
    events = AuditEvent.objects.filter(action="regobj.import")
    assert events.count() == 2 and set(events.values_list("actor_id", flat=True)) == {leader.pk}


def test_import_with_bad_rows_saves_nothing_and_reports_every_row(org, users, object_types):
    before = (RegulatedObject.objects.count(), audit_count())
    rows = [
        row(1),  # good, but must not be saved
        row(2, 统一社会信用代码="91310112MA1GB1234"),  # 17 characters
        row(3, 经度=121.30),  # outside every grid
        row(4, 信用等级="E", 风险等级分=9),  # two bad cells in one row
        row(5, 名称="", 对象类型="游乐场"),
        row(6, 统一社会信用代码="", 身份证件号码=""),
        row(7, 坐标系="BD-09"),
        row(8, 统一社会信用代码=credit_code(800_001)),  # the same object as Excel row 2
    ]
    result = registry.import_objects(workbook(rows), by=users[RoleCode.SQUAD_LEADER])
    got = {(e.row, e.field, e.code) for e in result.errors}
    assert got == {
        (3, "统一社会信用代码", "invalid_credit_code"),
        (4, "经度", "outside_grids"),
        (5, "风险等级分", "invalid_risk_level"),
        (5, "信用等级", "invalid_credit_grade"),
        (6, "对象类型", "invalid_object_type"),
        (6, "名称", "required"),
        (7, "统一社会信用代码", "identifier_required"),
        (8, "坐标系", "invalid_crs"),
        (9, "统一社会信用代码", "duplicate_row"),
    }
    assert all(e.message for e in result.errors)
    assert [e.row for e in result.errors] == sorted(e.row for e in result.errors)
    assert (result.created, result.updated) == (0, 0)
    assert (RegulatedObject.objects.count(), audit_count()) == before


def test_import_wrong_columns_is_one_error_naming_them(users, object_types):
    headers = [h for h in HEADERS if h not in ("名称", "纬度")] + ["备注"]
    result = registry.import_objects(workbook([["沿街商户"] * len(headers)], headers=headers),
                                     by=users[RoleCode.SQUAD_LEADER])
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.row, error.code) == (1, "wrong_columns")
    assert "名称" in error.message and "纬度" in error.message and "备注" in error.message
    assert not RegulatedObject.objects.exists()


def test_import_rejects_a_file_that_is_not_a_workbook(users, object_types):
    result = registry.import_objects(io.BytesIO(b"name,address\n"), by=users[RoleCode.SQUAD_LEADER])
    assert [e.code for e in result.errors] == ["invalid_file"]


def test_import_updates_by_credit_code_only_changed_fields(org, users, object_types, regobj_factory):
    leader = users[RoleCode.SQUAD_LEADER]
    existing = regobj_factory(org.grid_a1, name="老店", address="旧地址 1 号", risk_level=0, credit_grade="B",
                              contact_name="李四", contact_phone="13800138000")
    sheet = [row(0, 统一社会信用代码=existing.credit_code, 名称="老店", 地址="新地址 2 号", 经度=existing.lon,
                 纬度=existing.lat, 联系人="李四", 风险等级分=5, 信用等级="D")]
    result = registry.import_objects(workbook(sheet), by=leader)
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 1, 0)
    existing.refresh_from_db()
    assert existing.address == "新地址 2 号" and existing.tier == 1  # 1 + 5 + 5 = 11
    event = AuditEvent.objects.get(action="regobj.import", object_id=str(existing.pk))
    assert event.actor_id == leader.pk
    assert set(event.after) == {"address", "risk_level", "credit_grade"}
    assert AuditEvent.objects.filter(action="regobj.tier_recompute", object_id=str(existing.pk)).exists()
    # the same file again changes nothing
    again = registry.import_objects(workbook(sheet), by=leader)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_import_reads_real_excel_cells(org, users, object_types):
    """Codes typed as numbers, full-width characters and spaces, numbers as text."""
    all_digits = next(code for n in range(100) if (code := f"9131011200000{n:04d}" + uscc_check_char(
        f"9131011200000{n:04d}")).isdigit())
    sheet = [
        row(1, 名称="　小杨生煎　（江川店） ",
            联系电话=13800138000.0, 风险等级分=2.0, 信用等级="ｂ", 经度="１２１.４０５", 纬度=" 31.105 "),
        row(2, 统一社会信用代码="９１３１０１１２" + credit_code(800_002)[8:]),
        row(3, 统一社会信用代码=int(all_digits)),  # a number cell: stored as a double (~15 digits), like Excel
        row(4, 名称=dt.datetime(2024, 5, 1)),  # Excel turned the text into a date: still a name
    ]
    result = registry.import_objects(workbook(sheet), by=users[RoleCode.SQUAD_LEADER])
    assert [(e.row, e.code) for e in result.errors] == [(4, "number_precision")]
    result = registry.import_objects(workbook([sheet[0], sheet[1], sheet[3]]), by=users[RoleCode.SQUAD_LEADER])
    assert result.ok and result.created == 3
    first = RegulatedObject.objects.get(name="小杨生煎 （江川店）")
    assert (first.contact_phone, first.risk_level, first.credit_grade) == ("13800138000", 2, "B")
    assert RegulatedObject.objects.filter(credit_code=credit_code(800_002)).exists()
    assert RegulatedObject.objects.filter(name="2024-05-01").exists()


def test_import_respects_scope(org, users, object_types, regobj_factory):
    leader_a = users[RoleCode.SQUAD_LEADER]
    theirs = regobj_factory(org.grid_b1)
    sheet = [
        row(1, 经度=B1[0], 纬度=B1[1]),  # a new object in squad B
        row(2, 统一社会信用代码=theirs.credit_code),  # squad B's object, by its code
    ]
    result = registry.import_objects(workbook(sheet), by=leader_a)
    assert {(e.row, e.field, e.code) for e in result.errors} == {
        (2, "经度", "out_of_scope"), (3, "统一社会信用代码", "out_of_scope"),
    }
    with pytest.raises(PermissionDenied):
        registry.import_objects(workbook([row(3)]), by=users[RoleCode.OFFICER])


def test_masked_values_cannot_create_objects(users, object_types):
    sheet = [row(1, 统一社会信用代码="", 身份证件号码="310112********1234"), row(2, 联系电话="138****8000")]
    result = registry.import_objects(workbook(sheet), by=users[RoleCode.SQUAD_LEADER])
    assert {(e.row, e.field, e.code) for e in result.errors} == {
        (2, "身份证件号码", "masked_value"), (3, "联系电话", "masked_value"),
    }


# --- export -------------------------------------------------------------------------------------

def export(user, qs=None) -> list[list]:
    qs = qs if qs is not None else RegulatedObject.objects.restrict(user).select_related("object_type", "squad", "grid")
    response = xlsx_response("监管对象", registry.export_columns(user), qs, model=RegulatedObject, filters={},
                             actor=user)
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_export_masks_personal_data(org, users, object_types, regobj_factory):
    number = id_number(3)
    regobj_factory(org.grid_a1, contact_phone="13912345678", id_number=number, id_digest=registry.id_digest(number))
    for role, phone in ((RoleCode.OFFICER, "13912345678"), (RoleCode.SUPERVISOR, "139****5678")):
        header, data = export(users[role])
        values = dict(zip(header, data, strict=True))
        assert values["联系电话"] == phone
        assert values["身份证件号码"] == "310112********" + number[-4:]
    assert AuditEvent.objects.filter(action="export", actor=users[RoleCode.SUPERVISOR]).exists()


def test_export_then_import_updates_nothing(org, users, object_types, regobj_factory):
    number = id_number(5)
    regobj_factory(org.grid_a1, contact_phone="13912345678", risk_level=3, credit_grade="C")
    regobj_factory(org.grid_a2, credit_code="", id_number=number, id_digest=registry.id_digest(number),
                   name="张记（个体）", object_type=object_types["construction_site"])
    regobj_factory(org.grid_b1, contact_phone="")
    exported = export(users[RoleCode.SUPERVISOR])  # phones masked, IDs masked
    assert [h for h, _ in registry.export_columns(users[RoleCode.ADMIN])] == exported[0]
    before = {o.pk: audit.snapshot(o) for o in RegulatedObject.objects.all()}
    events = audit_count()
    result = registry.import_objects(workbook(exported[1:], headers=exported[0]), by=users[RoleCode.ADMIN])
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert {o.pk: audit.snapshot(o) for o in RegulatedObject.objects.all()} == before
    assert audit_count() == events


def test_import_template_has_the_import_headers(object_types):
    sheet = load_workbook(io.BytesIO(registry.import_template())).worksheets[0]
    headers = [c.value for c in next(sheet.iter_rows())]
    assert headers == [h for _, h, _ in registry.COLUMNS]
    assert set(HEADERS) <= set(headers)


# --- admin --------------------------------------------------------------------------------------

def test_admin_pages_and_edits_go_through_the_registry(client, org, object_types, regobj_factory):
    from chengguan.core.testing import PASSWORD

    superuser = make_user(RoleCode.ADMIN, org.bureau, is_staff=True, is_superuser=True)
    client.login(username=superuser.username, password=PASSWORD)
    obj = regobj_factory(org.grid_a1)
    for url in ["/admin/inspections/objecttype/", f"/admin/inspections/objecttype/{object_types['street_shop'].pk}/change/",
                "/admin/inspections/tierrule/", "/admin/inspections/regulatedobject/",
                f"/admin/inspections/regulatedobject/{obj.pk}/change/", "/admin/inspections/inspectorconflict/add/",
                "/admin/inspections/drawplan/", "/admin/inspections/inspectiontask/",
                "/admin/inspections/inspectionrecord/"]:
        assert client.get(url).status_code == 200, url
    form = {"name": obj.name, "address": obj.address, "contact_name": obj.contact_name,
            "contact_phone": "电话", "risk_level": 2, "credit_grade": "C"}
    response = client.post(f"/admin/inspections/regulatedobject/{obj.pk}/change/", form)
    assert response.status_code == 200 and "联系电话" in response.content.decode()  # the service's message
    form["contact_phone"] = "13600000000"
    response = client.post(f"/admin/inspections/regulatedobject/{obj.pk}/change/", form)
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.contact_phone, obj.risk_level, obj.credit_grade) == ("13600000000", 2, "C")
    assert AuditEvent.objects.filter(action="regobj.update", object_id=str(obj.pk), actor=superuser).exists()
    assert client.get("/admin/inspections/regulatedobject/add/").status_code == 403


# --- demo data ----------------------------------------------------------------------------------

def seed_small(seed: int) -> list[tuple]:
    """Seed the small demo inside a savepoint that is rolled back; returns what was created."""
    from django.core.management import call_command
    from django.db import transaction

    with transaction.atomic():
        call_command("seed_demo", "--scale", "small", "--seed", str(seed), stdout=io.StringIO())
        created = [
            (o.object_type.code, o.name, o.credit_code, o.id_number, o.address, o.lon, o.lat, o.grid.code,
             o.squad_id == o.grid.squad_id, o.contact_name, o.contact_phone, o.risk_level, o.credit_grade, o.tier)
            for o in RegulatedObject.objects.select_related("object_type", "grid").order_by("pk")
        ]
        checks = {
            "types": {t.code: (t.checklist.count(), hasattr(t, "tier_rule")) for t in
                      registry.ObjectType.objects.all()},
            "events": AuditEvent.objects.filter(action="regobj.create", source="command:seed_demo").count(),
            "located": all(geo.locate(o.lon, o.lat).grid.pk == o.grid_id for o in RegulatedObject.objects.all()),
            "squads": sorted(RegulatedObject.objects.values_list("squad_id", flat=True)),
        }
        transaction.set_rollback(True)
    return created, checks


def test_demo_seed_is_valid_and_deterministic(db):
    from chengguan.core.validators import validate_credit_code, validate_id_number
    from chengguan.inspections import demo

    first, checks = seed_small(5)
    assert len(first) == 14 * len(demo.TYPES) and checks["events"] == len(first)
    assert all(n >= 4 and has_rule for n, has_rule in checks["types"].values())
    assert set(checks["types"]) == {t[0] for t in demo.TYPES}
    assert checks["located"] and all(row[8] for row in first)
    squads = {s: checks["squads"].count(s) for s in checks["squads"]}
    assert set(squads.values()) == {len(demo.TYPES)}  # one object of each type per squad
    for row in first:
        assert (validate_credit_code(row[2]) if row[2] else validate_id_number(row[3]))
        assert row[10].isdigit() and len(row[10]) == 11
    assert any(not row[2] for row in first)  # some heritage buildings belong to people
    again, _ = seed_small(5)
    other, _ = seed_small(6)
    assert again == first and other != first
