import contextlib
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from chengguan.core import audit, services
from chengguan.core.errors import AuditBypassError
from chengguan.core.middleware import AuditContextMiddleware
from chengguan.core.models import AuditEvent, Grid, OrgUnit, User
from chengguan.core.testing import square

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def trigger_disabled():
    """Tamper tests play the attacker with direct SQL; on PostgreSQL that first needs the
    append-only trigger bypassed, which only a superuser can do (replica mode skips triggers)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET session_replication_role = DEFAULT")


def run_verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def events_for(obj):
    return list(AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("seq"))


def test_create_update_and_named_step_each_write_one_event(org, users):
    admin = users["admin"]
    grid = services.create_grid(by=admin, code="G-NEW", name="新网格", squad=org.squad_a,
                                boundary=square(121.40, 31.105, 0.005))
    services.update_grid(grid, by=admin, name="改名网格")
    grid.refresh_from_db()
    grid.save()  # nothing changed: no event

    create, update = events_for(grid)
    assert (create.action, create.before, create.after["name"]) == ("grid.create", None, "新网格")
    assert (update.action, update.before, update.after) == ("grid.update", {"name": "新网格"}, {"name": "改名网格"})
    assert update.actor == admin and update.actor_name == admin.real_name
    assert update.prev_hash == create.hash and update.seq == create.seq + 1


def test_event_is_rolled_back_with_its_change(org):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        org.grid_a1.name = "不会保存"
        org.grid_a1.save()
        raise RuntimeError
    assert AuditEvent.objects.count() == before
    assert Grid.objects.get(pk=org.grid_a1.pk).name != "不会保存"
    assert run_verify()[0] == 0


def test_bulk_writes_that_skip_the_chain_are_refused(org):
    with pytest.raises(AuditBypassError):
        Grid.objects.filter(squad=org.squad_a).update(name="x")
    with pytest.raises(AuditBypassError):
        Grid.objects.bulk_update([org.grid_a1], ["name"])
    with pytest.raises(AuditBypassError):
        Grid.objects.filter(pk=org.grid_a1.pk).delete()
    assert Grid.objects.filter(name="x").count() == 0
    assert Grid.objects.filter(pk=org.grid_a1.pk).exists()


def test_bulk_create_and_delete_are_audited(org):
    units = OrgUnit.objects.bulk_create(
        [OrgUnit(name=f"批量{i}", code=f"BULK{i}", kind="department", parent=org.bureau, path=f"{org.bureau.path}9{i:03d}")
         for i in range(3)]
    )
    assert [e.action for u in units for e in events_for(u)] == ["create"] * 3
    unit, pk = units[0], units[0].pk
    unit.delete()
    assert [e.action for e in AuditEvent.objects.filter(object_type="core.orgunit", object_id=str(pk))] == ["create", "delete"]


def test_personal_data_never_enters_the_log_in_clear(org):
    user = User.objects.create_user("p1", password="x", real_name="李四", phone="13912345678", org_unit=org.squad_a)
    (event,) = events_for(user)
    assert "13912345678" not in str(event.after)
    assert event.after["phone"].startswith("[已加密:")
    assert "password" not in event.after


def test_web_requests_record_actor_and_request_id(org, users):
    def view(request):
        services.update_grid(org.grid_a1, by=None, name="网页改名")
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = RequestFactory().post("/x", HTTP_X_REQUEST_ID="req-123")
    request.user = users["admin"]
    response = AuditContextMiddleware(view)(request)
    assert response["X-Request-ID"] == "req-123"
    event = events_for(org.grid_a1)[-1]
    assert (event.actor, event.request_id, event.source) == (users["admin"], "req-123", "web")


def test_commands_and_jobs_name_their_source(org):
    with audit.context(source="command:test"):
        services.update_grid(org.grid_a1, by=None, name="命令改名")
    event = events_for(org.grid_a1)[-1]
    assert event.source == "command:test" and event.actor is None and event.request_id


def test_verify_passes_on_an_intact_chain(org, users):
    code, out, _ = run_verify()
    assert code == 0
    assert f"共 {AuditEvent.objects.count()} 条事件" in out


def _tamper(sql: str, params):
    with trigger_disabled(), connection.cursor() as cur:
        cur.execute(sql, params)


def test_verify_detects_an_edited_event(org):
    victim = events_for(org.grid_a2)[0]
    _tamper("UPDATE core_auditevent SET actor_name = %s WHERE id = %s", ["冒名", victim.pk])
    code, _, err = run_verify()
    assert code == 1
    assert f"id={victim.pk}" in err and "被修改" in err


def test_verify_detects_a_deleted_event(org):
    first, second = AuditEvent.objects.filter(chain="core").order_by("seq")[:2]
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [first.pk])
    code, _, err = run_verify()
    assert code == 1
    assert f"id={second.pk}" in err


def test_verify_detects_a_deleted_last_event(org):
    last = AuditEvent.objects.filter(chain="core").order_by("-seq").first()
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [last.pk])
    code, _, err = run_verify()
    assert code == 1 and "末尾事件" in err


def test_verify_detects_reordered_events(org):
    a, b = AuditEvent.objects.filter(chain="core").order_by("seq")[2:4]
    _tamper("UPDATE core_auditevent SET seq = -1 WHERE id = %s", [a.pk])
    _tamper("UPDATE core_auditevent SET seq = %s WHERE id = %s", [a.seq, b.pk])
    _tamper("UPDATE core_auditevent SET seq = %s WHERE id = %s", [b.seq, a.pk])
    code, _, err = run_verify()
    assert code == 1
    assert f"id={b.pk}" in err


def test_orm_refuses_to_edit_or_delete_events(org):
    event = AuditEvent.objects.first()
    event.action = "forged"
    with pytest.raises(AuditBypassError):
        event.save()
    with pytest.raises(AuditBypassError):
        event.delete()


def test_postgres_trigger_refuses_update_and_delete(org, require_postgres):
    event = AuditEvent.objects.first()
    for sql in ("UPDATE core_auditevent SET action = 'x' WHERE id = %s", "DELETE FROM core_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


def test_bulk_update_audited_records_each_changed_object_and_skips_the_rest(org, users):
    a1, a2, b1 = Grid.objects.filter(pk__in=[org.grid_a1.pk, org.grid_a2.pk, org.grid_b1.pk]).order_by("code")
    old_name = a1.name
    a1.name, b1.community, b1.area_m2 = "批量改名", "新社区", 1234.5
    b1.boundary = square(121.42, 31.10, 0.005)
    head = AuditEvent.objects.filter(chain="core").order_by("-seq").first().seq

    written = Grid.objects.bulk_update_audited([a1, a2, b1], ["name", "community", "boundary", "area_m2"],
                                               action="grid.bulk_rename", actor=users["admin"])

    assert written == 2  # a2 did not change: neither written nor recorded
    new = list(AuditEvent.objects.filter(chain="core", seq__gt=head).order_by("seq"))
    assert [(e.action, e.object_id, e.before, e.after) for e in new] == [
        ("grid.bulk_rename", str(a1.pk), {"name": old_name}, {"name": "批量改名"}),
        ("grid.bulk_rename", str(b1.pk), {"community": "", "boundary": square(121.42, 31.10), "area_m2": 0.0},
         {"community": "新社区", "boundary": square(121.42, 31.10, 0.005), "area_m2": 1234.5}),
    ]
    assert all(e.actor == users["admin"] for e in new)
    stored_b1 = Grid.objects.get(pk=b1.pk)
    assert Grid.objects.get(pk=a1.pk).name == "批量改名" and Grid.objects.get(pk=a2.pk).name == a2.name
    assert (stored_b1.community, stored_b1.boundary, stored_b1.area_m2) == ("新社区", square(121.42, 31.10, 0.005),
                                                                          1234.5)
    a1.save()  # the in-memory snapshot moved on: saving again records nothing new
    assert AuditEvent.objects.filter(chain="core", seq__gt=head).count() == 2
    assert run_verify()[0] == 0


def test_bulk_update_audited_needs_objects_from_the_database(org):
    with pytest.raises(ValueError):
        Grid.objects.bulk_update_audited([Grid(code="X", name="x", squad=org.squad_a, boundary={})], ["name"],
                                         action="grid.bulk_rename")


def test_bulk_update_audited_refuses_a_too_long_value_rather_than_truncating_it(org, require_postgres):
    grid = Grid.objects.get(pk=org.grid_a1.pk)
    grid.code = "X" * 30  # the column is varchar(20)
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="too long"), transaction.atomic():
        Grid.objects.bulk_update_audited([grid], ["code"], action="grid.bulk_rename")
    assert Grid.objects.get(pk=grid.pk).code == org.grid_a1.code and AuditEvent.objects.count() == count
