"""Regulations API: every role reads the catalogue and may compute a fine range; anonymous
callers get 401; the propose-fine command refuses floats and foreign tiers."""

import pytest

from chengguan.core.api_testing import (
    ALL_ROLES,
    Endpoint,
    EndpointMatrix,
    MatrixData,
    api_client,
    send,
)
from chengguan.core.choices import RoleCode
from chengguan.regulations import services

from .conftest import tier_of

pytestmark = pytest.mark.django_db
API = "/api/v1/regulations"


def expect(predicate):
    """check(): the response body satisfies `predicate` (an assertion, not a returned bool)."""

    def check(d, response):
        assert predicate(d, response.json()), response.json()

    return check


def _proposal_ok(d, response):
    body = response.json()
    assert (body["min"], body["max"], body["suggested"]) == ("100.00", "300.00", "200.00")
    assert body["within_range"] is False and "高于" in body["outside_message"]


class TestRegulationEndpoints(EndpointMatrix):
    endpoints = [
        Endpoint("matter-list", "get", lambda d: f"{API}/matters/", allowed=ALL_ROLES,
                 check=expect(lambda d, b: [m["code"] for m in b] == ["T-001"])),
        Endpoint("matter-detail", "get", lambda d: f"{API}/matters/{d.benchmark.matter_id}/", allowed=ALL_ROLES,
                 check=expect(lambda d, b: b["current_benchmark"]["version"] == 1 and b["exemptions"])),
        Endpoint("benchmark-list", "get", lambda d: f"{API}/benchmarks/?matter={d.benchmark.matter_id}",
                 allowed=ALL_ROLES, check=expect(lambda d, b: len(b[0]["tiers"]) == 3)),
        Endpoint("benchmark-detail", "get", lambda d: f"{API}/benchmarks/{d.benchmark.pk}/", allowed=ALL_ROLES),
        Endpoint("exemption-list", "get", lambda d: f"{API}/exemptions/", allowed=ALL_ROLES,
                 check=expect(lambda d, b: [e["kind_display"] for e in b] == ["首违不罚"])),
        Endpoint("legal-basis-list", "get", lambda d: f"{API}/legal-bases/", allowed=ALL_ROLES),
        Endpoint("propose-fine", "post", lambda d: f"{API}/benchmarks/{d.benchmark.pk}/propose-fine/",
                 payload=lambda d: {"tier": tier_of(d.benchmark, "一般").pk, "amount": "350"}, allowed=ALL_ROLES,
                 ok_status=200, target=lambda d: d.benchmark, check=_proposal_ok),
        Endpoint("matter-create-refused", "post", lambda d: f"{API}/matters/", payload=lambda d: {"code": "X"},
                 allowed=frozenset(), refused_status=dict.fromkeys(RoleCode.values, 405)),
    ]

    @pytest.fixture
    def matrix_data(self, org, users, published):
        services.create_exemption(published.matter, by=None, kind="首违不罚", conditions="首次并及时改正",
                                  valid_from=published.valid_from)
        return MatrixData(org=org, users=users, benchmark=published)


def test_propose_fine_refuses_floats_and_foreign_tiers(users, published, matter):
    client = api_client(users[RoleCode.OFFICER])
    url = f"{API}/benchmarks/{published.pk}/propose-fine/"
    response = send(client, "post", url, {"tier": tier_of(published, "一般").pk, "amount": 150.5})
    assert response.status_code == 400 and response.json()["code"] == "float_not_allowed"
    other = services.create_benchmark(matter, by=None, valid_from="2026-01-01",
                                      tiers=[{"label": "一般", "rule": "no_fine"}])
    response = send(client, "post", url, {"tier": other.tiers.get().pk})
    assert response.status_code == 400 and response.json()["code"] == "unknown_tier"
