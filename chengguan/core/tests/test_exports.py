import io

import pytest
from openpyxl import load_workbook

from chengguan.core.models import AuditEvent
from chengguan.core.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def sheet_rows(client, user, url):
    client.login(username=user.username, password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return header, rows


def test_staff_export_is_scoped_and_masks_phones(client, org, users):
    make_user("officer", org.squad_b, real_name="外队人员", phone="13700000000")
    make_user("officer", org.squad_a, real_name="本队人员", phone="13612345678")
    header, rows = sheet_rows(client, users["officer"], "/staff/export.xlsx")
    names = {row[header.index("姓名")] for row in rows}
    assert "本队人员" in names and "外队人员" not in names
    phones = {row[header.index("手机号")] for row in rows}
    assert "136****5678" in phones and "13612345678" not in phones


def test_staff_export_shows_full_phone_to_managers_and_honours_filters(client, org, users):
    make_user("officer", org.squad_a, real_name="本队人员", phone="13612345678")
    header, rows = sheet_rows(client, users["squad_leader"], "/staff/export.xlsx?q=本队")
    assert [row[header.index("手机号")] for row in rows] == ["13612345678"]


def test_grid_export_is_scoped_and_audited(client, org, users):
    header, rows = sheet_rows(client, users["officer"], "/grids/export.xlsx")
    assert sorted(row[0] for row in rows) == sorted([org.grid_a1.code, org.grid_a2.code])
    event = AuditEvent.objects.filter(action="export", object_type="core.grid").get()
    assert event.actor == users["officer"] and event.after["rows"] == 2


def test_export_requires_login(client, org):
    response = client.get("/staff/export.xlsx")
    assert response.status_code == 302 and "/login/" in response["Location"]
