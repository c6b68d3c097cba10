"""Server-rendered pages of the core app: login, dashboard, lists and details in scope,
administration forms through the services, the map endpoints and the error pages."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from chengguan.core.choices import RoleCode
from chengguan.core.forms import generic_login_error
from chengguan.core.models import AuditEvent, Grid, Notification, OrgUnit, User
from chengguan.core.testing import PASSWORD, make_user, square
from chengguan.core.views import MODULES

pytestmark = pytest.mark.django_db

ALL_ROLES = [r.value for r in RoleCode]
BOW_TIE = {"type": "Polygon", "coordinates": [[[121.40, 31.10], [121.41, 31.11], [121.41, 31.10],
                                               [121.40, 31.11], [121.40, 31.10]]]}


def login(client, user):
    client.force_login(user)
    return client


def errors_of(response) -> str:
    """All error texts of the form in the page context."""
    form = response.context["form"]
    return " ".join(str(e) for errs in form.errors.values() for e in errs)


# --- login, logout, password --------------------------------------------------------------------

def post_login(client, username, password):
    return client.post(reverse("core:login"), {"username": username, "password": password})


def test_login_success_lands_on_dashboard_with_name(client, users):
    officer = users["officer"]
    response = post_login(client, officer.username, PASSWORD)
    assert response.status_code == 302 and response.url == reverse("core:dashboard")
    page = client.get(reverse("core:dashboard"))
    assert page.status_code == 200
    assert officer.real_name in page.content.decode()


def test_login_page_is_chinese_and_anonymous_is_redirected(client):
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("core:login"))
    page = client.get(reverse("core:login")).content.decode()
    assert "用户登录" in page and "登录名" in page and "密码" in page


def test_wrong_password_and_unknown_user_get_the_same_generic_message(client, users):
    message = generic_login_error()
    assert f"{settings.LOGIN_MAX_FAILURES} 次" in message and f"{settings.LOGIN_LOCKOUT_MINUTES} 分钟" in message
    wrong = post_login(client, users["officer"].username, "not-the-password")
    unknown = post_login(client, "no-such-user", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [message]
        assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_after_max_failures_refuses_even_the_right_password(client, users):
    officer = users["officer"]
    for _ in range(settings.LOGIN_MAX_FAILURES):
        post_login(client, officer.username, "wrong-password")
    officer.refresh_from_db()
    assert officer.is_locked
    response = post_login(client, officer.username, PASSWORD)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [generic_login_error()]
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only_and_ends_the_session(client, users):
    login(client, users["officer"])
    assert client.get(reverse("core:logout")).status_code == 405
    response = client.post(reverse("core:logout"))
    assert response.status_code == 302 and response.url == reverse("core:login")
    assert client.get(reverse("core:dashboard")).status_code == 302


def test_password_change_with_wrong_old_password_changes_nothing(client, users):
    officer = users["officer"]
    login(client, officer)
    before = User.objects.get(pk=officer.pk).password
    response = client.post(reverse("core:password_change"), {
        "old_password": "wrong-old", "new_password1": "Xin-mima-2025!", "new_password2": "Xin-mima-2025!"})
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"] == ["原密码不正确。"]
    assert User.objects.get(pk=officer.pk).password == before


@pytest.mark.parametrize(("new1", "new2", "field"), [
    ("12345678", "12345678", "new_password1"),  # weak: all digits, too common
    ("Xin-mima-2025!", "Xin-mima-2026!", "new_password2"),  # confirmation differs
])
def test_password_change_refuses_weak_or_mismatched(client, users, new1, new2, field):
    officer = users["officer"]
    login(client, officer)
    response = client.post(reverse("core:password_change"),
                           {"old_password": PASSWORD, "new_password1": new1, "new_password2": new2})
    assert response.status_code == 200 and field in response.context["form"].errors
    assert "密码" in " ".join(response.context["form"].errors[field])
    assert User.objects.get(pk=officer.pk).check_password(PASSWORD)


def test_password_change_success_keeps_session_and_is_audited(client, users):
    officer = users["officer"]
    login(client, officer)
    response = client.post(reverse("core:password_change"), {
        "old_password": PASSWORD, "new_password1": "Xin-mima-2025!", "new_password2": "Xin-mima-2025!"})
    assert response.status_code == 302
    assert User.objects.get(pk=officer.pk).check_password("Xin-mima-2025!")
    assert AuditEvent.objects.filter(action="staff.password_change", object_id=str(officer.pk)).exists()
    assert client.get(reverse("core:dashboard")).status_code == 200  # session still valid


# --- dashboard --------------------------------------------------------------------------------

def cards(response) -> dict:
    return {card["key"]: card["value"] for card in response.context["cards"]}


def test_dashboard_counts_are_limited_to_the_squad_officers_scope(client, org, users):
    today = timezone.localdate()
    make_user(RoleCode.OFFICER, org.squad_a, certificate_valid_to=today + dt.timedelta(days=10))
    make_user(RoleCode.OFFICER, org.squad_b, certificate_valid_to=today + dt.timedelta(days=5))
    make_user(RoleCode.OFFICER, org.squad_a, certificate_valid_to=today - dt.timedelta(days=1))  # expired
    Notification.objects.create(recipient=users["officer"], title="新工单")
    Notification.objects.create(recipient=users["officer"], title="已读", read_at=timezone.now())

    officer = cards(login(client, users["officer"]).get(reverse("core:dashboard")))
    # squad A: officer, squad leader and the three just made minus squad B's one; other apps add
    # their own cards, and the audit card is not shown to officers
    core_keys = ("squads", "grids", "staff", "certified", "certificates_expiring", "unread")
    assert {k: officer[k] for k in core_keys} == {"squads": 1, "grids": 2, "staff": 4, "certified": 3,
                                                   "certificates_expiring": 1, "unread": 1}
    assert "audit_today" not in officer

    leader = cards(login(client, users["leader"]).get(reverse("core:dashboard")))
    assert leader["squads"] == 2 and leader["grids"] == 4 and leader["staff"] == 11
    assert leader["certificates_expiring"] == 2 and leader["unread"] == 0
    assert leader["audit_today"] == AuditEvent.objects.filter(
        created_at__date=today).count() > 0  # audit card only for roles that may read the log


def test_dashboard_renders_cards_chart_and_unread_badge(client, org, users):
    Notification.objects.create(recipient=users["squad_leader"], title="超期预警")
    page = login(client, users["squad_leader"]).get(reverse("core:dashboard")).content.decode()
    assert 'data-testid="card-grids">2<' in page
    assert 'data-testid="unread-count">1<' in page
    assert 'id="staff-chart-data"' in page and org.squad_a.name in page and org.squad_b.name not in page
    assert reverse("core:inbox") in page


@pytest.mark.parametrize(("valid_to", "expected"), [
    (-1, "您的执法证已过期，不能作为执法人员办案。"),
    (12, "到期后不能作为执法人员办案，请及时办理换证。"),
    (200, None),
])
def test_certificate_banner(client, org, valid_to, expected):
    user = make_user(RoleCode.OFFICER, org.squad_a,
                     certificate_valid_to=timezone.localdate() + dt.timedelta(days=valid_to))
    page = login(client, user).get(reverse("core:dashboard")).content.decode()
    if expected:
        assert expected in page and "cg-cert-banner" in page
    else:
        assert "cg-cert-banner" not in page


def test_navigation_names_every_module_and_placeholders_render(client, users):
    page = login(client, users["officer"]).get(reverse("core:dashboard")).content.decode()
    for label in ("工作台", "工单", "执法案件", "检查与监管对象", "勤务", "非现场执法", "督察考核", "统计分析",
                  "一张图", "公示", "系统管理", "组织机构", "单元网格", "工作人员", "API 文档", "退出登录", "修改密码"):
        assert label in page, label
    for slug, (title, _) in MODULES.items():
        response = client.get(reverse("core:module", args=[slug]))
        assert response.status_code == 200 and f"{title}模块尚未上线" in response.content.decode()
    duty = client.get(reverse("core:module", args=["duty"])).content.decode()
    assert "勤务模块尚未上线：排班、岗点与打卡点、轨迹、勤务任务、出勤统计与指挥调度等功能正在建设中。" in duty
    assert 'href="/cases/"' in page  # a built module's menu entry opens the module
    assert client.get(reverse("core:module", args=["nonsense"])).status_code == 404


# --- lists and details --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_can_open_the_lists(client, users, role):
    login(client, users[role])
    for name in ("core:dashboard", "core:org_tree", "core:grid_list", "core:staff_list", "core:map"):
        assert client.get(reverse(name)).status_code == 200, name


def test_squad_officer_sees_own_squad_and_gets_404_outside(client, org, users):
    other = make_user(RoleCode.OFFICER, org.squad_b)
    login(client, users["officer"])
    assert client.get(reverse("core:grid_detail", args=[org.grid_a1.pk])).status_code == 200
    assert client.get(reverse("core:org_detail", args=[org.squad_a.pk])).status_code == 200
    assert client.get(reverse("core:staff_detail", args=[users["squad_leader"].pk])).status_code == 200
    for url in (reverse("core:grid_detail", args=[org.grid_b1.pk]),
                reverse("core:org_detail", args=[org.squad_b.pk]),
                reverse("core:org_detail", args=[org.bureau.pk]),
                reverse("core:staff_detail", args=[other.pk])):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "页面不存在" in response.content.decode()

    grids = client.get(reverse("core:grid_list")).context["page"]
    assert {g.code for g in grids} == {org.grid_a1.code, org.grid_a2.code}
    staff = client.get(reverse("core:staff_list")).context["page"]
    assert other not in staff and users["squad_leader"] in staff
    tree = client.get(reverse("core:org_tree")).context["units"]
    assert [u.pk for u in tree] == [org.squad_a.pk]


def test_org_tree_and_detail_show_units_staff_and_grids(client, org, users):
    login(client, users["leader"])
    tree = client.get(reverse("core:org_tree")).context["units"]
    assert tree[0] == org.bureau and tree[0].level == 0
    squad = next(u for u in tree if u.pk == org.squad_a.pk)
    assert (squad.level, squad.staff_count, squad.grid_count) == (2, 2, 2)
    page = client.get(reverse("core:org_detail", args=[org.squad_a.pk])).content.decode()
    assert users["officer"].real_name in page and org.grid_a2.code in page


def test_org_detail_caps_long_lists_and_links_to_the_filtered_list(client, org, users):
    for _ in range(22):
        make_user(RoleCode.OFFICER, org.squad_a)
    login(client, users["leader"])
    response = client.get(reverse("core:org_detail", args=[org.squad_a.pk]))
    assert response.context["staff_total"] == 24 and len(response.context["staff"]) == 20
    assert f"{reverse('core:staff_list')}?org_unit={org.squad_a.pk}" in response.content.decode()
    assert response.context["grid_total"] == 2


def test_grid_list_filters(client, org, users):
    login(client, users["leader"])
    page = client.get(reverse("core:grid_list"), {"q": org.grid_b2.code}).context["page"]
    assert [g.code for g in page] == [org.grid_b2.code]
    page = client.get(reverse("core:grid_list"), {"squad": org.squad_a.pk}).context["page"]
    assert {g.code for g in page} == {org.grid_a1.code, org.grid_a2.code}


def test_staff_list_certificate_status_column(client, org, users):
    today = timezone.localdate()
    make_user(RoleCode.OFFICER, org.squad_a, real_name="将到期", certificate_valid_to=today + dt.timedelta(days=3))
    make_user(RoleCode.OFFICER, org.squad_a, real_name="已过期", certificate_valid_to=today - dt.timedelta(days=3))
    make_user(None, org.squad_a, real_name="无证者", certified=False)
    page = login(client, users["squad_leader"]).get(reverse("core:staff_list")).content.decode()
    for status in ("有效", "即将到期", "已过期", "无证"):
        assert f'data-testid="cert-status">{status}<' in page


def test_phone_is_masked_without_permission(client, org, users):
    officer = users["officer"]
    officer.phone = "13812345678"
    officer.save()
    page = login(client, users["officer"]).get(reverse("core:staff_list")).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    detail = client.get(reverse("core:staff_detail", args=[officer.pk])).content.decode()
    assert "138****5678" in detail and "13812345678" not in detail

    assert users["squad_leader"].has_perm("core.view_user_phone")
    page = login(client, users["squad_leader"]).get(reverse("core:staff_list")).content.decode()
    assert "13812345678" in page


def test_list_query_counts_do_not_grow_with_rows(client, org, users, django_assert_max_num_queries):
    for i in range(30):
        make_user(RoleCode.OFFICER, org.squad_a if i % 2 else org.squad_b, phone=f"1390000{i:04d}")
        Grid.objects.create(code=f"QX{i:03d}", name=f"网格{i}", squad=org.squad_a,
                            boundary=square(121.40 + i * 0.001, 31.12, 0.001))
    login(client, users["leader"])
    client.get(reverse("core:dashboard"))  # warm per-process caches (permission table)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("core:staff_list"))
    assert len(response.context["page"]) == 38
    with django_assert_max_num_queries(10):
        response = client.get(reverse("core:grid_list"))
    assert len(response.context["page"]) == 34


# --- administration ---------------------------------------------------------------------------

def admin_urls(org, users):
    return [
        reverse("core:org_create"), reverse("core:org_edit", args=[org.squad_a.pk]),
        reverse("core:grid_create"), reverse("core:grid_edit", args=[org.grid_a1.pk]),
        reverse("core:staff_create"), reverse("core:staff_edit", args=[users["officer"].pk]),
    ]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_admin_pages_only_for_admin(client, org, users, role):
    login(client, users[role])
    expected = 200 if role == RoleCode.ADMIN else 403
    for url in admin_urls(org, users):
        response = client.get(url)
        assert response.status_code == expected, url
        if expected == 403:
            assert "无权访问" in response.content.decode()
    # a refused POST changes nothing either
    before = OrgUnit.objects.count()
    client.post(reverse("core:org_create"), {"name": "新中队", "code": "NEW1", "kind": "squad",
                                             "parent": org.brigade.pk, "sort_order": 0})
    assert OrgUnit.objects.count() == before + (1 if role == RoleCode.ADMIN else 0)


def test_admin_creates_and_edits_org_unit(client, org, users):
    login(client, users["admin"])
    response = client.post(reverse("core:org_create"), {
        "name": "莘庄中队", "code": "XZ01", "kind": "squad", "parent": org.brigade.pk, "sort_order": 3,
        "jurisdiction": json.dumps(square(121.36, 31.10, 0.02))})
    unit = OrgUnit.objects.get(code="XZ01")
    assert response.status_code == 302 and response.url == reverse("core:org_detail", args=[unit.pk])
    assert unit.parent == org.brigade and unit.path.startswith(org.brigade.path)

    response = client.post(reverse("core:org_edit", args=[unit.pk]), {
        "name": "莘庄中队（新）", "division_code": "310112", "sort_order": 3, "is_active": "on",
        "jurisdiction": json.dumps(square(121.36, 31.10, 0.02))})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.name == "莘庄中队（新）" and unit.division_code == "310112"
    assert AuditEvent.objects.filter(action="org.update", object_id=str(unit.pk)).count() == 1


def test_org_unit_with_invalid_polygon_or_wrong_parent_is_refused(client, org, users):
    login(client, users["admin"])
    before = (OrgUnit.objects.count(), AuditEvent.objects.count())
    response = client.post(reverse("core:org_create"), {
        "name": "坏中队", "code": "BAD1", "kind": "squad", "parent": org.brigade.pk, "sort_order": 0,
        "jurisdiction": json.dumps(BOW_TIE)})
    assert response.status_code == 200
    assert response.context["form"].errors["jurisdiction"] == ["边界多边形无效（自相交或为空）。"]
    response = client.post(reverse("core:org_create"), {
        "name": "坏中队", "code": "BAD2", "kind": "squad", "parent": org.squad_a.pk, "sort_order": 0})
    assert "parent" in response.context["form"].errors  # a squad is not a valid parent (not offered)
    assert (OrgUnit.objects.count(), AuditEvent.objects.count()) == before


def test_admin_creates_grid_and_invalid_boundary_is_refused(client, org, users):
    login(client, users["admin"])
    before = (Grid.objects.count(), AuditEvent.objects.count())
    data = {"code": "NG01", "name": "新网格", "squad": org.squad_b.pk, "community": "古美一村"}
    for boundary, message in (
        (json.dumps(BOW_TIE), "边界多边形无效（自相交或为空）。"),
        (json.dumps(square(2.35, 48.85)), "边界坐标超出中国范围，请确认使用 WGS-84 经纬度。"),
        ('{"type": "Polygon", "coordinates": [[[121.4, 31.1]', "不是有效的 GeoJSON"),
    ):
        response = client.post(reverse("core:grid_create"), {**data, "boundary": boundary})
        assert response.status_code == 200
        assert message in errors_of(response)
        assert message in response.content.decode()
    assert (Grid.objects.count(), AuditEvent.objects.count()) == before

    response = client.post(reverse("core:grid_create"), {**data, "boundary": json.dumps(square(121.44, 31.10))})
    grid = Grid.objects.get(code="NG01")
    assert response.status_code == 302 and grid.squad == org.squad_b and grid.area_m2 > 900_000


def test_admin_edits_grid_and_a_refusal_saves_nothing(client, org, users):
    login(client, users["admin"])
    grid = org.grid_a1
    url = reverse("core:grid_edit", args=[grid.pk])
    form = client.get(url).context["form"]
    assert form.fields["code"].disabled
    data = {"name": "江川1号网格（调整）", "squad": org.squad_a.pk, "community": "",
            "boundary": json.dumps(grid.boundary), "is_active": "on"}
    response = client.post(url, {**data, "boundary": json.dumps(BOW_TIE)})
    assert response.status_code == 200 and "边界多边形无效" in errors_of(response)
    grid.refresh_from_db()
    assert grid.name == "江川1号网格"

    response = client.post(url, data)
    assert response.status_code == 302
    grid.refresh_from_db()
    assert grid.name == "江川1号网格（调整）"
    event = AuditEvent.objects.filter(action="grid.update", object_id=str(grid.pk)).get()
    assert event.after["name"] == "江川1号网格（调整）"


def test_admin_creates_and_edits_staff(client, org, users):
    login(client, users["admin"])
    today = timezone.localdate()
    data = {"username": "wangwu", "real_name": "王五", "password": "Str0ng-pass-2024", "staff_number": "S900",
            "org_unit": org.squad_b.pk, "roles": ["officer", "squad_leader"], "phone": "13900001111",
            "certificate_number": "31009988", "certificate_valid_from": f"{today:%Y-%m-%d}",
            "certificate_valid_to": f"{today + dt.timedelta(days=700):%Y-%m-%d}"}
    response = client.post(reverse("core:staff_create"), data)
    staff = User.objects.get(username="wangwu")
    assert response.status_code == 302
    assert staff.role_codes == {"officer", "squad_leader"} and staff.can_enforce and staff.phone == "13900001111"
    assert staff.check_password("Str0ng-pass-2024")

    response = client.post(reverse("core:staff_create"), {**data, "staff_number": "S901"})
    assert response.context["form"].errors["username"] == ["登录名“wangwu”已被使用。"]

    url = reverse("core:staff_edit", args=[staff.pk])
    edit = {k: v for k, v in data.items() if k not in ("username", "password")}
    refused = {**edit, "certificate_valid_to": f"{today - dt.timedelta(days=5):%Y-%m-%d}", "is_active": "on"}
    response = client.post(url, refused)
    assert response.context["form"].errors["certificate_valid_to"] == ["执法证有效期止不能早于有效期起。"]
    staff.refresh_from_db()
    assert staff.certificate_valid_to == today + dt.timedelta(days=700)

    response = client.post(url, {**edit, "roles": ["officer"], "staff_number": "", "is_active": "on"})
    assert response.status_code == 302
    staff = User.objects.get(pk=staff.pk)
    assert staff.role_codes == {"officer"} and staff.staff_number is None
    assert AuditEvent.objects.filter(action="staff.roles", object_id=str(staff.pk)).count() == 2


def test_admin_cannot_deactivate_self_through_the_form(client, users):
    admin = users["admin"]
    login(client, admin)
    response = client.post(reverse("core:staff_edit", args=[admin.pk]), {
        "real_name": admin.real_name, "org_unit": admin.org_unit_id, "roles": ["admin"],
        "staff_number": admin.staff_number})  # is_active unticked
    assert response.context["form"].non_field_errors() == ["不能停用自己的账号。"]
    admin.refresh_from_db()
    assert admin.is_active


# --- map ----------------------------------------------------------------------------------------

def layers(client, **params):
    response = client.get(reverse("core:map_layers"), params)
    return response.status_code, response.json()


def test_map_layers_are_scoped_and_bbox_limited(client, org, users):
    login(client, users["officer"])
    status, squads = layers(client, layer="squads")
    assert status == 200 and [f["properties"]["name"] for f in squads["features"]] == [org.squad_a.name]
    status, grids = layers(client, layer="grids")
    assert {f["properties"]["code"] for f in grids["features"]} == {org.grid_a1.code, org.grid_a2.code}

    login(client, users["leader"])
    _, grids = layers(client, layer="grids", bbox="121.425,31.101,121.428,31.105")  # inside grid B1 only
    assert [f["properties"]["code"] for f in grids["features"]] == [org.grid_b1.code]
    assert grids["features"][0]["properties"]["squad"] == org.squad_b.name
    _, squads = layers(client, layer="squads")
    assert len(squads["features"]) == 2

    assert layers(client, layer="roads")[1]["code"] == "invalid_layer"
    assert layers(client, layer="grids", bbox="121,31")[1]["code"] == "invalid_bbox"


def test_map_locate(client, org, users):
    from chengguan.core import geo

    login(client, users["officer"])
    response = client.get(reverse("core:map_locate"), {"lon": "121.405", "lat": "31.105", "crs": "wgs84"})
    assert response.status_code == 200
    assert response.json()["grid"]["code"] == org.grid_a1.code
    assert response.json()["squad"]["name"] == org.squad_a.name

    gcj_lon, gcj_lat = geo.wgs84_to_gcj02(121.435, 31.105)
    response = client.get(reverse("core:map_locate"), {"lon": gcj_lon, "lat": gcj_lat, "crs": "gcj02"})
    assert response.json()["grid"]["code"] == org.grid_b2.code

    response = client.get(reverse("core:map_locate"), {"lon": "100", "lat": "40", "crs": "wgs84"})
    assert response.status_code == 400 and response.json()["code"] == "outside_grids"
    response = client.get(reverse("core:map_locate"), {"lon": "abc", "lat": "31.1"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "lon"


def test_map_page_without_tiles_and_with_tiles(client, users, settings):
    login(client, users["officer"])
    config = client.get(reverse("core:map")).context["map_config"]
    assert config["tileUrl"] == "" and config["layersUrl"] == reverse("core:map_layers")
    settings.MAP_TILE_URL = "http://tiles.intranet/{z}/{x}/{y}.png"
    page = client.get(reverse("core:map")).content.decode()
    assert "tiles.intranet" in page


# --- error pages and static assets ------------------------------------------------------------

def test_unknown_url_gets_the_chinese_404(client, users):
    login(client, users["officer"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_500_page_renders_without_a_request_context():
    from django.template.loader import render_to_string

    assert "系统暂时出现故障" in render_to_string("500.html")


VENDORED = [
    "vendor/bootstrap/bootstrap.min.css", "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css", "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/htmx/htmx.min.js", "vendor/echarts/echarts.min.js", "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js", "vendor/leaflet/images/marker-icon.png", "vendor/swagger-ui/swagger-ui-bundle.js",
    "vendor/swagger-ui/swagger-ui.css", "vendor/swagger-ui/swagger-ui-standalone-preset.js",
]


def test_vendored_front_end_files_are_installed():
    from django.contrib.staticfiles import finders

    missing = [path for path in VENDORED if not finders.find(path)]
    assert not missing, f"缺少前端文件，请运行 make install（npm ci && python scripts/vendor_assets.py）：{missing}"


def test_api_docs_use_the_local_swagger_ui(client, users):
    page = login(client, users["officer"]).get("/api/docs/").content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page and "cdn" not in page


def test_pages_load_only_local_assets(client, users):
    page = login(client, users["officer"]).get(reverse("core:map")).content.decode()
    for asset in ("vendor/bootstrap/bootstrap.min.css", "vendor/htmx/htmx.min.js", "vendor/leaflet/leaflet.js",
                  "js/map.js", "css/chengguan.css"):
        assert f"{settings.STATIC_URL}{asset}" in page
    assert "//cdn" not in page and "https://" not in page
