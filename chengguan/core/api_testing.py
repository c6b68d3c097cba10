"""Role × endpoint matrix for API tests (after NetBox's `utilities/testing/views.py`).

An app's tests declare each endpoint once — method, URL, payload, the roles that may call it —
and `EndpointMatrix` turns the list into parametrised tests:

* `test_allowed`: every role in `allowed` gets the success status (200, 201 for POST, 204 for
  DELETE, or `ok_status`), then `check(d, response)` runs if given;
* `test_refused`: every other role in `RoleCode` gets `refused_status` — 403 when the role
  lacks the permission, 404 when the object lies outside the caller's data scope (an int, or
  a {role: status} dict for mixed cases) — in the one error format, **and the refused call
  changes nothing**: the state snapshot is identical before and after;
* `test_anonymous`: no credentials → 401 and nothing changes (skipped for `public` endpoints).

The state snapshot is the number of audit events, the row count of `model` (default: the
target's model), the target object's field and many-to-many values re-read from the database,
and whatever `state(d)` returns.

Builders (`url`, `payload`, `target`, `state`, `check`) take one argument `d`: the
`matrix_data` namespace of the test class, with `d.actor` set to the user making the call.
The default `matrix_data` holds `org` (chengguan.core.testing.Org) and `users` (one user per
role, see `users_by_role`); override the fixture to add the app's own objects:

    import pytest
    from chengguan.core.api_testing import ALL_ROLES, SQUAD_ROLES, Endpoint, EndpointMatrix, MatrixData

    class TestCaseEndpoints(EndpointMatrix):
        endpoints = [
            Endpoint("case-list", "get", lambda d: "/api/v1/cases/", allowed=ALL_ROLES,
                     check=lambda d, r: ...),
            # out of scope: squad A's staff asking for squad B's case get 404
            Endpoint("case-detail-squad-b", "get", lambda d: f"/api/v1/cases/{d.case_b.pk}/",
                     allowed=ALL_ROLES - SQUAD_ROLES, refused_status=404),
            Endpoint("case-file", "post", lambda d: f"/api/v1/cases/{d.case.pk}/file/",
                     payload=lambda d: {"officers": [...]}, allowed={"squad_leader"},
                     target=lambda d: d.case),
        ]

        @pytest.fixture
        def matrix_data(self, org, users):
            return MatrixData(org=org, users=users, case=make_case(org.squad_a), case_b=make_case(org.squad_b))

Calls authenticate with a real API token (`Authorization: Token …`), so the whole stack
(authentication, role permission, scope, error handler) is exercised.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .choices import RoleCode
from .models import AuditEvent

ALL_ROLES = frozenset(RoleCode.values)
# Roles whose data scope is their own squad: the ones that see squad B's objects as 404.
SQUAD_ROLES = frozenset({RoleCode.OFFICER.value, RoleCode.SQUAD_LEADER.value})

Builder = Callable[[Any], Any]


class MatrixData(SimpleNamespace):
    """The fixture objects the builders see, plus `actor` (the calling user)."""

    def as_actor(self, user) -> MatrixData:
        return MatrixData(**{**vars(self), "actor": user})


@dataclass(frozen=True)
class Endpoint:
    name: str  # test id, e.g. "grid-update"
    method: str  # get, post, patch, put, delete
    url: Builder
    allowed: frozenset[str]
    payload: Builder | None = None
    refused_status: int | Mapping[str, int] = 403
    ok_status: int | None = None
    model: type | None = None
    target: Builder | None = None
    state: Builder | None = None
    check: Callable[[Any, Any], None] | None = None
    public: bool = False  # callable without credentials (e.g. obtaining a token)

    def __post_init__(self):
        object.__setattr__(self, "method", self.method.lower())
        object.__setattr__(self, "allowed", frozenset(str(r) for r in self.allowed))
        unknown = self.allowed - ALL_ROLES
        if unknown:
            raise ValueError(f"{self.name}: unknown roles {sorted(unknown)}")

    @property
    def expected_ok(self) -> int:
        return self.ok_status or {"post": 201, "delete": 204}.get(self.method, 200)

    def expected_refusal(self, role: str) -> int:
        if isinstance(self.refused_status, Mapping):
            return self.refused_status.get(role, 403)
        return self.refused_status


def row_values(obj) -> dict | None:
    """The object's stored field values and many-to-many ids, read afresh (None if deleted)."""
    model = type(obj)
    values = model._base_manager.filter(pk=obj.pk).values().first()
    if values is None:
        return None
    fresh = model._base_manager.get(pk=obj.pk)
    for m2m in model._meta.many_to_many:
        values[m2m.name] = sorted(getattr(fresh, m2m.name).values_list("pk", flat=True))
    return values


def snapshot(endpoint: Endpoint, d: MatrixData) -> dict:
    state: dict[str, Any] = {"audit_events": AuditEvent.objects.count()}
    target = endpoint.target(d) if endpoint.target else None
    model = endpoint.model or (type(target) if target is not None else None)
    if model is not None:
        state["rows"] = model._base_manager.count()
    if target is not None:
        state["target"] = row_values(target)
    if endpoint.state:
        state["extra"] = endpoint.state(d)
    return state


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def send(client: APIClient, method: str, url: str, payload=None):
    if method == "get":
        return client.get(url)
    body = "" if payload is None else json.dumps(payload)
    return client.generic(method.upper(), url, body, content_type="application/json")


def assert_error_body(response, status: int) -> dict:
    body = response.json()
    assert set(body) >= {"code", "message", "errors"}, body
    assert isinstance(body["errors"], list)
    assert response.status_code == status, (response.status_code, body)
    return body


class EndpointMatrix:
    """Base class for an app's matrix; see the module docstring."""

    endpoints: ClassVar[list[Endpoint]] = []
    roles: ClassVar[tuple[str, ...]] = tuple(RoleCode.values)

    def pytest_generate_tests(self, metafunc):
        by_name = {}
        if "allowed_call" in metafunc.fixturenames:
            by_name["allowed_call"] = [(e, r) for e in self.endpoints for r in self.roles if r in e.allowed]
        if "refused_call" in metafunc.fixturenames:
            by_name["refused_call"] = [(e, r) for e in self.endpoints for r in self.roles if r not in e.allowed]
        for argname, calls in by_name.items():
            metafunc.parametrize(argname, calls, ids=[f"{e.name}-{r}" for e, r in calls])
        if "anonymous_call" in metafunc.fixturenames:
            endpoints = [e for e in self.endpoints if not e.public]
            metafunc.parametrize("anonymous_call", endpoints, ids=[e.name for e in endpoints])

    @pytest.fixture
    def matrix_data(self, org, users):
        return MatrixData(org=org, users=users)

    def call(self, endpoint: Endpoint, d: MatrixData, user):
        d = d.as_actor(user)
        url = endpoint.url(d)
        payload = endpoint.payload(d) if endpoint.payload else None
        client = api_client(user)  # the token exists before the "before" snapshot
        before = snapshot(endpoint, d)
        response = send(client, endpoint.method, url, payload)
        return d, response, before

    def test_allowed(self, matrix_data, allowed_call):
        endpoint, role = allowed_call
        d, response, _ = self.call(endpoint, matrix_data, matrix_data.users[role])
        body = response.content[:500].decode(errors="replace")
        assert response.status_code == endpoint.expected_ok, f"{role} {endpoint.name}: {response.status_code} {body}"
        if endpoint.check:
            endpoint.check(d, response)

    def test_refused(self, matrix_data, refused_call):
        endpoint, role = refused_call
        d, response, before = self.call(endpoint, matrix_data, matrix_data.users[role])
        assert_error_body(response, endpoint.expected_refusal(role))
        assert snapshot(endpoint, d) == before, f"refused {endpoint.name} by {role} changed the state"

    def test_anonymous(self, matrix_data, anonymous_call):
        endpoint = anonymous_call
        d, response, before = self.call(endpoint, matrix_data, None)
        assert assert_error_body(response, 401)["code"] == "not_authenticated"
        assert snapshot(endpoint, d) == before


# --- result checks shared by every app's endpoint tables --------------------------------------

def ids(response) -> set[int]:
    """The ids on one page of a list response."""
    return {row["id"] for row in response.json()["results"]}


def lists_exactly(queryset_for):
    """check(): the list answers exactly the rows of `queryset_for(d)`."""

    def check(d, response):
        assert ids(response) == set(queryset_for(d).values_list("pk", flat=True))

    return check


def created(model, **lookup):
    """check(): the response's id is a new row matching `lookup`."""

    def check(d, response):
        assert model.objects.filter(pk=response.json()["id"], **lookup).exists()

    return check


def changed(get, **expected):
    """check(): the object `get(d)` now has the `expected` field values."""

    def check(d, response):
        obj = get(d)
        obj.refresh_from_db()
        assert {k: getattr(obj, k) for k in expected} == expected

    return check
