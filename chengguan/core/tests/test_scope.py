import datetime as dt

import pytest
from django.utils import timezone

from chengguan.core import services
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.models import AuditEvent, Grid, OrgUnit, User
from chengguan.core.scope import in_scope
from chengguan.core.testing import make_user, square

pytestmark = pytest.mark.django_db


def visible_grids(user):
    return set(Grid.objects.restrict(user).values_list("code", flat=True))


def test_squad_roles_see_only_their_squad(org, users):
    own = {org.grid_a1.code, org.grid_a2.code}
    assert visible_grids(users["officer"]) == own
    assert visible_grids(users["squad_leader"]) == own
    assert not in_scope(users["officer"], org.grid_b1)


def test_brigade_role_sees_its_brigade_subtree(org, users):
    other_brigade = OrgUnit.objects.create(name="二大队", code="X-D2", kind="brigade", parent=org.bureau)
    other_squad = OrgUnit.objects.create(name="别处中队", code="X-S9", kind="squad", parent=other_brigade)
    far = Grid.objects.create(code="FAR1", name="远处网格", squad=other_squad, boundary=square(121.5, 31.2))
    seen = visible_grids(users["legal_reviewer"])
    assert {org.grid_a1.code, org.grid_b2.code} <= seen and far.code not in seen


def test_brigade_role_in_a_bureau_department_sees_the_bureau(org):
    reviewer = make_user(RoleCode.LEGAL_REVIEWER, org.department)
    assert visible_grids(reviewer) == set(Grid.objects.values_list("code", flat=True))


@pytest.mark.parametrize("role", ["dispatcher", "supervisor", "leader", "admin", "case_review"])
def test_bureau_roles_see_everything(org, users, role):
    assert visible_grids(users[role]) == set(Grid.objects.values_list("code", flat=True))


def test_widest_role_wins(org):
    user = make_user(RoleCode.OFFICER, org.squad_a)
    user.roles.add(RoleCode.DISPATCHER)
    user = User.objects.get(pk=user.pk)
    assert org.grid_b1.code in visible_grids(user)


def test_no_role_inactive_or_anonymous_see_nothing(org):
    from django.contrib.auth.models import AnonymousUser

    nobody = make_user(None, org.squad_a)
    retired = make_user(RoleCode.LEADER, org.bureau, is_active=False)
    assert visible_grids(nobody) == set()
    assert visible_grids(retired) == set()
    assert not Grid.objects.restrict(AnonymousUser()).exists()


def test_action_needs_the_role_permission(org, users):
    assert not Grid.objects.restrict(users["officer"], "change").exists()
    assert Grid.objects.restrict(users["admin"], "change").count() == 4


def test_staff_scope_follows_org_unit(org, users):
    colleague = make_user(RoleCode.OFFICER, org.squad_a)
    stranger = make_user(RoleCode.OFFICER, org.squad_b)
    seen = set(User.objects.restrict(users["officer"]))
    assert colleague in seen and stranger not in seen


# --- enforcement certificates (APL art. 42) ---------------------------------------------------

def test_expired_certificate_cannot_enforce(org):
    today = timezone.localdate()
    expired = make_user(RoleCode.OFFICER, org.squad_a, certificate_valid_to=today - dt.timedelta(days=1))
    valid = make_user(RoleCode.OFFICER, org.squad_a)
    assert valid.can_enforce and not expired.can_enforce
    with pytest.raises(BusinessRuleError) as exc:
        services.require_enforcement_officers([valid, expired])
    assert exc.value.code == "certificate_invalid" and expired.real_name in exc.value.message


def test_two_officers_are_required(org):
    one = make_user(RoleCode.OFFICER, org.squad_a)
    with pytest.raises(BusinessRuleError) as exc:
        services.require_enforcement_officers([one, one])
    assert exc.value.code == "too_few_officers"
    services.require_enforcement_officers([one, make_user(RoleCode.OFFICER, org.squad_a)])


def test_uncertified_officer_cannot_enforce(org):
    assert not make_user(RoleCode.OFFICER, org.squad_a, certified=False).can_enforce


# --- service validation: refused input changes nothing ----------------------------------------

def unchanged(fn):
    before = (AuditEvent.objects.count(), OrgUnit.objects.count(), Grid.objects.count(), User.objects.count())
    with pytest.raises((ValidationFailed, BusinessRuleError)) as exc:
        fn()
    after = (AuditEvent.objects.count(), OrgUnit.objects.count(), Grid.objects.count(), User.objects.count())
    assert before == after
    return exc.value


def test_org_tree_rules(org, users):
    admin = users["admin"]
    assert unchanged(lambda: services.create_org_unit(by=admin, name="中队", code="Q1", kind="squad",
                                                      parent=org.squad_a)).code == "invalid_parent"
    assert unchanged(lambda: services.create_org_unit(by=admin, name="重复", code=org.squad_a.code, kind="squad",
                                                      parent=org.brigade)).code == "duplicate"
    unit = services.create_org_unit(by=admin, name="新中队", code="Q2", kind="squad", parent=org.brigade)
    assert unit.path.startswith(org.brigade.path) and unit.depth == 3


def test_bad_polygons_are_refused(org, users):
    admin = users["admin"]
    bowtie = {"type": "Polygon", "coordinates": [[[121.4, 31.1], [121.41, 31.11], [121.41, 31.1], [121.4, 31.11], [121.4, 31.1]]]}
    london = square(-0.1, 51.5)
    for boundary, code in [(bowtie, "invalid_geometry"), (london, "out_of_range"),
                           ({"type": "Point", "coordinates": [121.4, 31.1]}, "invalid_geometry")]:
        err = unchanged(lambda b=boundary: services.create_grid(by=admin, code="BAD", name="坏", squad=org.squad_a, boundary=b))
        assert err.code == code and err.field == "boundary"


def test_grid_must_belong_to_a_squad(org, users):
    err = unchanged(lambda: services.create_grid(by=users["admin"], code="G9", name="x", squad=org.brigade,
                                                 boundary=square(121.4, 31.1)))
    assert err.code == "invalid_squad"


def test_staff_creation_rules(org, users):
    admin = users["admin"]
    ok = {"by": admin, "real_name": "王五", "password": "Str0ng-pass-2024", "org_unit": org.squad_a, "roles": ["officer"]}
    assert unchanged(lambda: services.create_staff(username="w1", **{**ok, "password": "123"})).code == "weak_password"
    assert unchanged(lambda: services.create_staff(username=users["officer"].username, **ok)).code == "duplicate"
    assert unchanged(lambda: services.create_staff(username="w2", certificate_number="310001", **ok)).field == "certificate_valid_to"
    assert unchanged(lambda: services.create_staff(username="w3", **{**ok, "roles": ["wizard"]})).code == "invalid_choice"
    user = services.create_staff(username="w4", phone="13800001111", **ok)
    assert user.has_role("officer") and user.check_password("Str0ng-pass-2024")
    roles_event = AuditEvent.objects.filter(object_id=str(user.pk), action="staff.roles").get()
    assert roles_event.after == {"roles": ["officer"]}


def test_cannot_deactivate_yourself(users):
    admin = users["admin"]
    assert unchanged(lambda: services.update_staff(admin, by=admin, is_active=False)).code == "cannot_deactivate_self"
