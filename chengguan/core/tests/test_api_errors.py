"""The one API error format: {"code", "message", "errors": [{"field", "code", "message"}]} for
every failure, with stable codes (asserted here) and Chinese messages (for people)."""

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from chengguan.core.api.errors import field_errors, is_chinese
from chengguan.core.api_testing import api_client, assert_error_body, send
from chengguan.core.models import AuditEvent, Grid, OrgUnit, User
from chengguan.core.testing import square

pytestmark = pytest.mark.django_db

API = "/api/v1"


def nothing_saved():
    return Grid.objects.count(), OrgUnit.objects.count(), User.objects.count(), AuditEvent.objects.count()


def assert_chinese(body):
    assert is_chinese(body["message"]), body
    assert all(is_chinese(e["message"]) for e in body["errors"]), body


def test_validation_error_names_each_field_with_code_and_chinese_message(org, users):
    before = nothing_saved()
    response = send(api_client(users["admin"]), "post", f"{API}/grids/",
                    {"code": "X" * 30, "squad": 999999, "boundary": square(121.4, 31.1)})
    body = assert_error_body(response, 400)
    assert body["code"] == "invalid"
    assert_chinese(body)
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("code", "max_length"), ("name", "required"), ("squad", "does_not_exist")}
    assert nothing_saved() == before


def test_list_items_are_named_by_index(org, users):
    response = send(api_client(users["admin"]), "post", f"{API}/staff/", {
        "username": "li.si", "real_name": "李四", "password": "Qx-7pass-word", "org_unit": org.squad_a.pk,
        "roles": ["officer", "chief"]})
    body = assert_error_body(response, 400)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("roles[1]", "invalid_choice")]
    assert not User.objects.filter(username="li.si").exists()


def test_service_validation_becomes_400_with_its_field_and_code(org, users):
    before = nothing_saved()
    response = send(api_client(users["admin"]), "post", f"{API}/staff/", {
        "username": "wang.wu", "real_name": "王五", "password": "123", "org_unit": org.squad_a.pk})
    body = assert_error_body(response, 400)
    assert body["code"] == "weak_password" and body["errors"][0]["field"] == "password"
    assert_chinese(body)
    assert nothing_saved() == before


def test_duplicate_code_from_the_service(org, users):
    response = send(api_client(users["admin"]), "post", f"{API}/org-units/",
                    {"name": "重复", "code": org.squad_a.code, "kind": "squad", "parent": org.brigade.pk})
    body = assert_error_body(response, 400)
    assert (body["code"], body["errors"][0]["field"]) == ("duplicate", "code")


def test_wrong_parent_kind_from_the_service(org, users):
    before = nothing_saved()
    response = send(api_client(users["admin"]), "post", f"{API}/org-units/",
                    {"name": "中队下的大队", "code": "NEW-D", "kind": "brigade", "parent": org.squad_a.pk})
    body = assert_error_body(response, 400)
    assert (body["code"], body["errors"][0]["field"]) == ("invalid_parent", "parent")
    assert nothing_saved() == before


def test_no_credentials_is_401(org):
    response = api_client().get(f"{API}/grids/")
    body = assert_error_body(response, 401)
    assert body["code"] == "not_authenticated" and response["WWW-Authenticate"] == "Token"
    assert_chinese(body)


def test_expired_token_is_401_token_expired(users):
    token, _ = Token.objects.get_or_create(user=users["officer"])
    Token.objects.filter(pk=token.pk).update(
        created=timezone.now() - timezone.timedelta(days=settings.API_TOKEN_TTL_DAYS, minutes=1))
    body = assert_error_body(api_client(users["officer"]).get(f"{API}/me/"), 401)
    assert body["code"] == "token_expired"
    assert_chinese(body)


def test_unknown_token_is_401(db):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    body = assert_error_body(client.get(f"{API}/me/"), 401)
    assert body["code"] == "authentication_failed"
    assert_chinese(body)


def test_missing_permission_is_403(org, users):
    before = nothing_saved()
    response = send(api_client(users["officer"]), "post", f"{API}/grids/",
                    {"code": "NEW1", "name": "新网格", "squad": org.squad_a.pk, "boundary": square(121.4, 31.12)})
    body = assert_error_body(response, 403)
    assert body["code"] == "permission_denied"
    assert_chinese(body)
    assert nothing_saved() == before


@pytest.mark.parametrize("who", ["missing", "out_of_scope"])
def test_missing_and_out_of_scope_objects_are_the_same_404(org, users, who):
    pk = {"missing": 999999, "out_of_scope": org.grid_b1.pk}[who]
    body = assert_error_body(api_client(users["officer"]).get(f"{API}/grids/{pk}/"), 404)
    assert body == {"code": "not_found", "message": "对象不存在或不在您的数据范围内。", "errors": []}


@pytest.mark.parametrize("method", ["put", "delete"])
def test_unsupported_method_is_405(org, users, method):
    before = nothing_saved()
    response = send(api_client(users["admin"]), method, f"{API}/grids/{org.grid_a1.pk}/", {"name": "x"})
    body = assert_error_body(response, 405)
    assert body["code"] == "method_not_allowed"
    assert_chinese(body)
    assert nothing_saved() == before


def test_malformed_json_is_400_parse_error(org, users):
    before = nothing_saved()
    response = api_client(users["admin"]).generic(
        "POST", f"{API}/grids/", '{"code": "NEW1", "name": ', content_type="application/json")
    body = assert_error_body(response, 400)
    assert body["code"] == "parse_error"
    assert_chinese(body)
    assert nothing_saved() == before


def test_form_encoded_body_is_415(org, users):
    response = api_client(users["admin"]).post(f"{API}/grids/", {"code": "NEW1"})  # multipart by default
    assert assert_error_body(response, 415)["code"] == "unsupported_media_type"


def test_business_rule_refusal_is_409_with_its_code(org, users):
    client = api_client(users["admin"])
    before = nothing_saved()
    body = assert_error_body(send(client, "patch", f"{API}/org-units/{org.squad_a.pk}/", {"is_active": False}), 409)
    assert body["code"] == "unit_has_staff"
    assert_chinese(body)
    body = assert_error_body(send(client, "patch", f"{API}/staff/{users['admin'].pk}/", {"is_active": False}), 409)
    assert body["code"] == "cannot_deactivate_self"
    assert nothing_saved() == before
    org.squad_a.refresh_from_db()
    users["admin"].refresh_from_db()
    assert org.squad_a.is_active and users["admin"].is_active


def test_bad_filter_value_is_400_naming_the_parameter(users):
    body = assert_error_body(api_client(users["admin"]).get(f"{API}/grids/?squad=abc"), 400)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("squad", "invalid")]
    assert_chinese(body)


def test_bad_cursor_is_404(users):
    body = assert_error_body(api_client(users["admin"]).get(f"{API}/grids/?cursor=garbage"), 404)
    assert body["message"] == "分页游标无效。"


def test_nested_field_names():
    from rest_framework.exceptions import ErrorDetail

    detail = {
        "non_field_errors": [ErrorDetail("整体错误", code="conflict")],
        "parties": [{}, {"id_number": [ErrorDetail("证件号码无效", code="invalid_id")]}],
        "address": {"city": [ErrorDetail("必填", code="required")]},
    }
    assert field_errors(detail) == [
        {"field": None, "code": "conflict", "message": "整体错误"},
        {"field": "parties[1].id_number", "code": "invalid_id", "message": "证件号码无效"},
        {"field": "address.city", "code": "required", "message": "必填"},
    ]


def test_django_validation_error_from_below_uses_the_format():
    from django.core.exceptions import ValidationError as DjangoValidationError

    from chengguan.core.api.errors import exception_handler

    response = exception_handler(DjangoValidationError({"name": [DjangoValidationError("名称重复。", code="unique")]}), {})
    assert response.status_code == 400
    assert response.data == {"code": "invalid", "message": "提交的数据有误，请检查后重试。",
                             "errors": [{"field": "name", "code": "unique", "message": "名称重复。"}]}
