"""Idempotent intake under concurrency, on PostgreSQL: hotline platforms resend a ticket when
an answer is slow, so the same ticket arrives on several connections at once. Exactly one
order may come of it, and every sender must be told the same order."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from chengguan.core.choices import RoleCode
from chengguan.core.testing import Org, users_by_role
from chengguan.workorders.models import WorkOrder, WorkOrderStep
from chengguan.workorders.services import clients, intake

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("installation_data")]

THREADS = 8
TICKET = {"channel": "12345", "external_ticket": "HL-RACE-1", "text": "夜间施工噪声扰民。", "lon": 121.405,
          "lat": 31.105}


def run_together(work, n: int = THREADS) -> list:
    """Run `work(i)` in n threads released at the same moment, each on its own connection."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_the_same_ticket_sent_at_once_makes_one_order(require_postgres):
    org = Org()
    dispatcher = users_by_role(org)[RoleCode.DISPATCHER]
    results = run_together(lambda i: intake.receive(by=dispatcher, **TICKET))
    assert len({r.order.pk for r in results}) == 1, "every sender is told the same order"
    assert sum(r.created for r in results) == 1
    order = WorkOrder.objects.get(channel="12345", external_ticket="HL-RACE-1")
    assert WorkOrderStep.objects.filter(order=order).count() == 1


def test_overlapping_batches_through_the_api_make_each_order_once(require_postgres):
    org = Org()
    admin = users_by_role(org)[RoleCode.ADMIN]
    _, key = clients.create_client(by=admin, name="市12345平台", channel="12345")
    # each thread sends two tickets, its own and one shared by all
    batches = [{"orders": [{k: v for k, v in TICKET.items() if k != "channel"},
                           {"external_ticket": f"HL-OWN-{i}", "text": f"第{i}处占道经营。"}]} for i in range(THREADS)]

    def send(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
        response = client.post("/api/v1/workorders/intake/", batches[i], format="json")
        assert response.status_code == 201, response.content
        return response.json()["orders"]

    results = run_together(send)
    shared = {rows[0]["id"] for rows in results}
    assert len(shared) == 1 and sum(rows[0]["created"] for rows in results) == 1
    assert all(rows[1]["created"] for rows in results)
    assert WorkOrder.objects.filter(external_ticket="HL-RACE-1").count() == 1
    assert WorkOrder.objects.filter(external_ticket__startswith="HL-OWN-").count() == THREADS
