"""Core REST API: the role × endpoint matrix for every core endpoint, then behaviour the
matrix does not cover (tokens, masking, scope on writes, filters, pagination, schema)."""

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from chengguan.core import auth, services
from chengguan.core.api.views import GridViewSet
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
    send,
)
from chengguan.core.choices import RoleCode
from chengguan.core.models import AuditEvent, Grid, OrgUnit, User
from chengguan.core.testing import PASSWORD, make_user, square

pytestmark = pytest.mark.django_db

API = "/api/v1"
AUDIT_READERS = {RoleCode.SUPERVISOR, RoleCode.LEADER, RoleCode.ADMIN, RoleCode.CASE_REVIEW}
ADMIN = {RoleCode.ADMIN}


def lists_exactly_scope(model):
    """check(): a list answers exactly the rows `restrict(actor)` allows."""
    return lists_exactly(lambda d: model.objects.restrict(d.actor))


def token_issued(d, response):
    body = response.json()
    assert body["token"] == Token.objects.get(user=d.actor).key and body["expires_at"]


def token_revoked(d, response):
    assert not Token.objects.filter(user=d.actor).exists()


def is_me(d, response):
    assert response.json()["username"] == d.actor.username


def features_exactly_scope(d, response):
    features = response.json()["features"]
    assert {f["properties"]["id"] for f in features} == set(Grid.objects.restrict(d.actor).values_list("pk", flat=True))


def located_in_a1(d, response):
    body = response.json()
    assert (body["grid"]["id"], body["squad"]["id"]) == (d.org.grid_a1.pk, d.org.squad_a.pk)
    assert body["h3"] and body["wgs84"] == [121.405, 31.105]


class TestCoreEndpoints(EndpointMatrix):
    endpoints = [
        Endpoint("token-create", "post", lambda d: f"{API}/auth/token/", allowed=ALL_ROLES, ok_status=200,
                 payload=lambda d: {"username": d.actor.username, "password": PASSWORD},
                 public=True, check=token_issued),
        Endpoint("token-delete", "delete", lambda d: f"{API}/auth/token/", allowed=ALL_ROLES,
                 state=lambda d: Token.objects.count(), check=token_revoked),
        Endpoint("me", "get", lambda d: f"{API}/me/", allowed=ALL_ROLES, check=is_me),
        # org units
        Endpoint("org-unit-list", "get", lambda d: f"{API}/org-units/", allowed=ALL_ROLES,
                 check=lists_exactly_scope(OrgUnit)),
        Endpoint("org-unit-detail", "get", lambda d: f"{API}/org-units/{d.org.squad_a.pk}/", allowed=ALL_ROLES),
        Endpoint("org-unit-detail-squad-b", "get", lambda d: f"{API}/org-units/{d.org.squad_b.pk}/",
                 allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("org-unit-create", "post", lambda d: f"{API}/org-units/", allowed=ADMIN, model=OrgUnit,
                 payload=lambda d: {"name": "新建中队", "code": f"{d.org.brigade.code}-S9", "kind": "squad",
                                    "parent": d.org.brigade.pk},
                 check=created(OrgUnit, name="新建中队")),
        Endpoint("org-unit-update", "patch", lambda d: f"{API}/org-units/{d.org.squad_a.pk}/", allowed=ADMIN,
                 payload=lambda d: {"name": "改名中队"}, target=lambda d: d.org.squad_a,
                 check=changed(lambda d: d.org.squad_a, name="改名中队")),
        # grids
        Endpoint("grid-list", "get", lambda d: f"{API}/grids/", allowed=ALL_ROLES, check=lists_exactly_scope(Grid)),
        Endpoint("grid-detail", "get", lambda d: f"{API}/grids/{d.org.grid_a1.pk}/", allowed=ALL_ROLES),
        Endpoint("grid-detail-squad-b", "get", lambda d: f"{API}/grids/{d.org.grid_b1.pk}/",
                 allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("grid-geojson", "get", lambda d: f"{API}/grids/geojson/", allowed=ALL_ROLES,
                 check=features_exactly_scope),
        Endpoint("grid-create", "post", lambda d: f"{API}/grids/", allowed=ADMIN, model=Grid,
                 payload=lambda d: {"code": f"{d.org.grid_a1.code}X", "name": "新网格", "squad": d.org.squad_a.pk,
                                    "boundary": square(121.40, 31.12)},
                 check=created(Grid, name="新网格")),
        Endpoint("grid-update", "patch", lambda d: f"{API}/grids/{d.org.grid_a1.pk}/", allowed=ADMIN,
                 payload=lambda d: {"name": "改名网格"}, target=lambda d: d.org.grid_a1,
                 check=changed(lambda d: d.org.grid_a1, name="改名网格")),
        Endpoint("grid-update-squad-b", "patch", lambda d: f"{API}/grids/{d.org.grid_b1.pk}/", allowed=ADMIN,
                 payload=lambda d: {"name": "改名网格"}, target=lambda d: d.org.grid_b1),
        # staff
        Endpoint("staff-list", "get", lambda d: f"{API}/staff/", allowed=ALL_ROLES, check=lists_exactly_scope(User)),
        Endpoint("staff-detail", "get", lambda d: f"{API}/staff/{d.users['officer'].pk}/", allowed=ALL_ROLES),
        Endpoint("staff-detail-squad-b", "get", lambda d: f"{API}/staff/{d.staff_b.pk}/",
                 allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
        Endpoint("staff-create", "post", lambda d: f"{API}/staff/", allowed=ADMIN, model=User,
                 payload=lambda d: {"username": "new.officer", "real_name": "新队员", "password": "Qx-7pass-word",
                                    "org_unit": d.org.squad_a.pk, "roles": ["officer"]},
                 check=created(User, username="new.officer")),
        Endpoint("staff-update", "patch", lambda d: f"{API}/staff/{d.staff_b.pk}/", allowed=ADMIN,
                 payload=lambda d: {"real_name": "改名", "roles": ["squad_leader"]}, target=lambda d: d.staff_b,
                 check=changed(lambda d: d.staff_b, real_name="改名")),
        # audit log
        Endpoint("audit-list", "get", lambda d: f"{API}/audit-events/", allowed=AUDIT_READERS),
        Endpoint("audit-detail", "get", lambda d: f"{API}/audit-events/{AuditEvent.objects.latest('pk').pk}/",
                 allowed=AUDIT_READERS),
        # place
        Endpoint("geo-locate", "get", lambda d: f"{API}/geo/locate/?lon=121.405&lat=31.105", allowed=ALL_ROLES,
                 check=located_in_a1),
    ]

    @pytest.fixture
    def matrix_data(self, org, users):
        return MatrixData(org=org, users=users, staff_b=make_user(RoleCode.OFFICER, org.squad_b))


def test_matrix_snapshot_sees_every_kind_of_change(org, users):
    """The "refused call changes nothing" check is only as good as its snapshot."""
    from chengguan.core.api_testing import snapshot

    d = MatrixData(org=org, users=users)
    grid = Endpoint("g", "patch", str, allowed=ADMIN, target=lambda d: d.org.grid_a1)
    staff = Endpoint("s", "patch", str, allowed=ADMIN, target=lambda d: d.users["officer"])
    before = snapshot(grid, d)
    services.update_grid(org.grid_a1, by=users["admin"], name="改名")  # a field (and an audit event)
    assert snapshot(grid, d) != before
    before = snapshot(grid, d)
    Grid.objects.create(code="EXTRA", name="多出的网格", squad=org.squad_a, boundary=square(121.4, 31.13))
    assert snapshot(grid, d)["rows"] == before["rows"] + 1
    before = snapshot(staff, d)
    users["officer"].roles.add(RoleCode.ADMIN)  # many-to-many only: no audit event, no field change
    assert snapshot(staff, d)["target"] != before["target"]


# --- tokens -----------------------------------------------------------------------------------


def obtain(username, password):
    return send(api_client(), "post", f"{API}/auth/token/", {"username": username, "password": password})


def test_token_authenticates_until_revoked(users):
    officer = users["officer"]
    key = obtain(officer.username, PASSWORD).json()["token"]
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"{API}/me/").json()["username"] == officer.username
    assert client.delete(f"{API}/auth/token/").status_code == 204
    assert assert_error_body(client.get(f"{API}/me/"), 401)["code"] == "authentication_failed"


def test_valid_token_is_reused_and_expired_one_replaced(users):
    officer = users["officer"]
    first = obtain(officer.username, PASSWORD).json()
    assert obtain(officer.username, PASSWORD).json()["token"] == first["token"]
    old = timezone.now() - timezone.timedelta(days=settings.API_TOKEN_TTL_DAYS + 1)
    Token.objects.filter(key=first["token"]).update(created=old)
    second = obtain(officer.username, PASSWORD).json()
    assert second["token"] != first["token"] and second["expires_at"] > first["expires_at"]
    assert not Token.objects.filter(key=first["token"]).exists()


def test_a_stale_token_header_does_not_block_logging_in(users):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = send(client, "post", f"{API}/auth/token/",
                    {"username": users["officer"].username, "password": PASSWORD})
    assert response.status_code == 200


def test_unknown_user_wrong_password_and_locked_get_one_message(users, settings):
    settings.LOGIN_MAX_FAILURES = 3
    officer = users["officer"]
    unknown = assert_error_body(obtain("nobody-here", PASSWORD), 400)
    wrong = assert_error_body(obtain(officer.username, "wrong-password"), 400)
    assert unknown == wrong and wrong["code"] == "invalid_credentials" and "密码" in wrong["message"]
    officer.refresh_from_db()
    assert officer.failed_logins == 1  # counted by the lockout backend
    obtain(officer.username, "wrong-password")
    obtain(officer.username, "wrong-password")
    officer.refresh_from_db()
    assert officer.is_locked
    assert assert_error_body(obtain(officer.username, PASSWORD), 400) == wrong  # even the right password
    assert not Token.objects.filter(user=officer).exists()


def test_inactive_user_gets_no_token(org):
    retired = make_user(RoleCode.OFFICER, org.squad_a, is_active=False)
    assert assert_error_body(obtain(retired.username, PASSWORD), 400)["code"] == "invalid_credentials"


def test_session_authentication_enforces_csrf(org, users):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    assert client.get(f"{API}/me/").status_code == 200
    response = send(client, "patch", f"{API}/grids/{org.grid_a1.pk}/", {"name": "x"})
    assert assert_error_body(response, 403)["code"] == "permission_denied"
    org.grid_a1.refresh_from_db()
    assert org.grid_a1.name != "x"


# --- me ---------------------------------------------------------------------------------------


def test_me_shows_roles_permissions_and_scope(org, users):
    body = api_client(users["officer"]).get(f"{API}/me/").json()
    assert body["roles"] == [{"code": "officer", "label": "执法队员"}]
    assert "core.view_grid" in body["permissions"] and "core.change_grid" not in body["permissions"]
    assert body["scope"]["level"] == "squad" and body["scope"]["root"]["id"] == org.squad_a.pk
    assert "password" not in body and "failed_logins" not in body
    leader = api_client(users["leader"]).get(f"{API}/me/").json()
    assert leader["scope"] == {"level": "bureau", "level_display": "全局", "root": None}


# --- staff: personal data ----------------------------------------------------------------------


def test_phone_is_masked_unless_the_role_may_see_it(org, users):
    colleague = make_user(RoleCode.OFFICER, org.squad_a, phone="13812345678")
    url = f"{API}/staff/{colleague.pk}/"
    assert api_client(users["officer"]).get(url).json()["phone"] == "138****5678"
    assert api_client(users["squad_leader"]).get(url).json()["phone"] == "13812345678"
    body = api_client(users["admin"]).get(url).json()
    assert not {"password", "failed_logins", "locked_until"} & set(body)


def test_staff_list_query_count_does_not_grow_with_rows(org, users, django_assert_max_num_queries):
    client = api_client(users["officer"])
    for _ in range(10):
        make_user(RoleCode.OFFICER, org.squad_a)
    # token + user, roles, scope (unit, its ancestors, subtree), the page, the page's roles
    with django_assert_max_num_queries(7):
        response = client.get(f"{API}/staff/")
    assert len(response.json()["results"]) == User.objects.restrict(users["officer"]).count() == 12


def test_staff_create_and_update_go_through_the_services(org, users):
    client = api_client(users["admin"])
    response = send(client, "post", f"{API}/staff/", {
        "username": "zhang.san", "real_name": "张三", "password": "Qx-7pass-word", "org_unit": org.squad_b.pk,
        "roles": ["officer", "squad_leader"], "phone": "13900001111", "staff_number": "",
    })
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="zhang.san")
    assert user.check_password("Qx-7pass-word") and user.staff_number is None
    assert user.role_codes == {"officer", "squad_leader"}
    actions = list(AuditEvent.objects.filter(object_id=str(user.pk), object_type="core.user")
                   .values_list("action", flat=True))
    assert actions == ["staff.create", "staff.roles"]
    response = send(client, "patch", f"{API}/staff/{user.pk}/", {"roles": ["officer"]})
    assert response.json()["roles"] == ["officer"]


# --- writes and scope -------------------------------------------------------------------------


@pytest.fixture
def squad_leaders_edit_grids(monkeypatch):
    """A bureau that lets squad leaders edit grids (the role table is configuration): shows
    that a write reaches only objects in the writer's scope."""
    table = dict(auth.permission_table())
    table["core.change_grid"] = table["core.change_grid"] | {RoleCode.SQUAD_LEADER}
    monkeypatch.setattr(auth, "permission_table", lambda: table)


def test_write_outside_scope_is_404_and_changes_nothing(org, users, squad_leaders_edit_grids):
    client = api_client(users["squad_leader"])
    events = AuditEvent.objects.count()
    response = send(client, "patch", f"{API}/grids/{org.grid_b1.pk}/", {"name": "越权修改"})
    assert assert_error_body(response, 404)["code"] == "not_found"
    # a reference to a unit outside the scope reads like one that does not exist
    response = send(client, "patch", f"{API}/grids/{org.grid_a1.pk}/", {"squad": org.squad_b.pk})
    assert [(e["field"], e["code"]) for e in assert_error_body(response, 400)["errors"]] == [("squad", "does_not_exist")]
    org.grid_a1.refresh_from_db()
    org.grid_b1.refresh_from_db()
    assert (org.grid_a1.squad, org.grid_b1.name) == (org.squad_a, "古美1号网格")
    assert AuditEvent.objects.count() == events
    ok = send(client, "patch", f"{API}/grids/{org.grid_a1.pk}/", {"name": "本队修改"})
    assert ok.status_code == 200 and ok.json()["name"] == "本队修改"


def test_write_that_would_leave_the_scope_is_rolled_back(org, users, squad_leaders_edit_grids):
    class MovesGridToSquadB(GridViewSet):
        """A service outcome the caller cannot see any more (e.g. a rule re-assigning the grid)."""

        def perform_service_update(self, instance, data):
            return services.update_grid(instance, by=self.request.user, squad=org.squad_b, **data)

    request = APIRequestFactory().patch("/", {"name": "移走"}, format="json")
    force_authenticate(request, user=users["squad_leader"])
    events = AuditEvent.objects.count()
    response = MovesGridToSquadB.as_view({"patch": "partial_update"})(request, pk=org.grid_a1.pk)
    assert response.status_code == 403 and response.data["code"] == "out_of_scope"
    org.grid_a1.refresh_from_db()
    assert (org.grid_a1.squad, org.grid_a1.name) == (org.squad_a, "江川1号网格")
    assert AuditEvent.objects.count() == events


def test_service_refusal_keeps_the_field_and_saves_nothing(org, users):
    client = api_client(users["admin"])
    before = (Grid.objects.count(), AuditEvent.objects.count())
    bad = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}  # self-crossing
    response = send(client, "post", f"{API}/grids/", {"code": "NEW1", "name": "新网格", "squad": org.squad_a.pk,
                                                      "boundary": bad})
    body = assert_error_body(response, 400)
    assert body["code"] == "invalid_geometry" and body["errors"][0]["field"] == "boundary"
    assert (Grid.objects.count(), AuditEvent.objects.count()) == before


# --- filters, pagination, geo, schema -----------------------------------------------------------


def test_filters_are_the_shared_filtersets(org, users):
    client = api_client(users["admin"])
    assert ids(client.get(f"{API}/grids/?squad={org.squad_b.pk}")) == {org.grid_b1.pk, org.grid_b2.pk}
    assert ids(client.get(f"{API}/org-units/?kind=squad&q={org.squad_a.code}")) == {org.squad_a.pk}
    leader = users["squad_leader"]
    assert ids(client.get(f"{API}/staff/?role=squad_leader")) == {leader.pk}


def test_audit_filters(org, users):
    client = api_client(users["admin"])
    send(client, "patch", f"{API}/grids/{org.grid_a1.pk}/", {"name": "改名"})
    rows = client.get(f"{API}/audit-events/?object_type=core.grid&object_id={org.grid_a1.pk}&action=grid.update"
                      f"&actor={users['admin'].pk}&chain=core&date_from={timezone.localdate():%Y-%m-%d}").json()
    assert [(r["action"], r["after"]["name"]) for r in rows["results"]] == [("grid.update", "改名")]
    assert client.get(f"{API}/audit-events/?date_to=2000-01-01").json()["results"] == []


def test_cursor_pagination_walks_every_row_once(org, users):
    client = api_client(users["admin"])
    seen, url = [], f"{API}/org-units/?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == list(OrgUnit.objects.order_by("path").values_list("pk", flat=True))


def test_locate_converts_gcj02_and_refuses_points_outside_grids(org, users):
    from chengguan.core import geo

    client = api_client(users["officer"])
    lon, lat = geo.wgs84_to_gcj02(121.405, 31.105)
    body = client.get(f"{API}/geo/locate/?lon={lon}&lat={lat}&crs=gcj02").json()
    assert body["grid"]["id"] == org.grid_a1.pk
    assert body["wgs84"] == pytest.approx([121.405, 31.105], abs=1e-6)
    outside = client.get(f"{API}/geo/locate/?lon=116.4&lat=39.9")
    assert assert_error_body(outside, 400)["code"] == "outside_grids"
    missing = assert_error_body(client.get(f"{API}/geo/locate/?lon=121.4"), 400)
    assert [e["field"] for e in missing["errors"]] == ["lat"]


def test_grid_geojson_bbox(org, users):
    client = api_client(users["admin"])
    body = client.get(f"{API}/grids/geojson/?bbox=121.4005,31.1005,121.4095,31.1095").json()
    assert [f["properties"]["id"] for f in body["features"]] == [org.grid_a1.pk]
    bad = assert_error_body(client.get(f"{API}/grids/geojson/?bbox=1,2,3"), 400)
    assert bad["errors"][0]["field"] == "bbox"


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/grids/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"/static/vendor/swagger-ui" in docs.content
