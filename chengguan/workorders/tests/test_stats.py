"""Per-squad work-order indicators (GB/T 30428.4 as in the domain README §7.6): a worked example
whose figures were counted by hand, the caller's data scope, refused ranges, and the API, page
and Excel export seen from the refused side (roles without `view_stats`, anonymous callers)."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from chengguan.core.api_testing import api_client, assert_error_body
from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.core.testing import make_user
from chengguan.workorders.choices import Result, Satisfaction
from chengguan.workorders.permissions import ROLE_PERMISSIONS
from chengguan.workorders.services import intake, stats, workflow

pytestmark = pytest.mark.django_db

R = RoleCode
API = "/api/v1/workorders/stats/indicators/"
IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}
IN_SQUAD_B = {"lon": 121.425, "lat": 31.105}
STATS_ROLES = ROLE_PERMISSIONS["workorders.view_stats"]
NO_STATS_ROLES = sorted(set(R.values) - set(STATS_ROLES))

FIGURES = ("received", "repeats", "rejected", "closed", "closed_on_time", "due", "closure_rate", "on_time_rate",
           "handled", "reworked", "rework_rate", "rated", "satisfied", "satisfaction_rate", "converted",
           "conversion_rate", "overdue_now")


def figures(row) -> dict:
    return {name: getattr(row, name) for name in FIGURES}


def expect(**values) -> dict:
    """All zero / None unless named; rates given as strings ("75.0")."""
    rates = {"closure_rate", "on_time_rate", "rework_rate", "satisfaction_rate", "conversion_rate"}
    row = {name: None if name in rates else 0 for name in FIGURES}
    row.update({k: Decimal(v) if k in rates else v for k, v in values.items()})
    return row


class Example:
    """Orders of a range from 60 days ago to today, built through intake and the workflow verbs.

    Squad A
      a1  received today; handled, verified, closed, rated 满意            → closed on time
      a2  received 40 days ago (its clocks ran out); handled, 返工, handled
          again, closed, rated 基本满意                                     → closed late, reworked
      a3  received 40 days ago, dispatched, still open; 诉转案              → due but not closed,
                                                                            overdue now, converted
      a4  received today, 非本部门职责                                      → rejected
      a5  received today, merged into a1 (closed with it)                   → repeat, not closed
      a6  received 90 days ago (before the range), handled and closed today → closed late
      a7  received 200 days ago, dispatched, still open (limit before the range) → overdue now only
    Squad B
      b1  received 10 days ago, handled, rated 不满意 (so reopened)         → rated, not satisfied
    Unplaced
      u1  received today without a place
    """

    def __init__(self, users, org):
        self.users = users
        self.dispatcher, self.officer = users[R.DISPATCHER], users[R.OFFICER]
        self.today = timezone.localdate()
        self.start = self.today - dt.timedelta(days=60)
        now = timezone.now()
        days_ago = lambda n: now - dt.timedelta(days=n)  # noqa: E731

        a1 = self.handled(self.receive("菜场门口有人摆摊卖菜。"))
        self.receive("小区门口有人摆摊卖菜。")  # a5, merged below
        a5 = self.last
        workflow.merge(a5, by=self.dispatcher, parent=a1)
        self.finish(a1, Satisfaction.SATISFIED)

        a2 = self.handled(self.receive("学校门口有流动摊贩。", received_at=days_ago(40)))
        a2 = workflow.verify(a2, by=users[R.SUPERVISOR], passed=False, note="现场仍有摊贩。")
        a2 = self.reply(a2)
        self.finish(a2, Satisfaction.BASICALLY)

        a3 = self.dispatched(self.receive("地铁站口占道经营。", received_at=days_ago(40)))
        workflow.convert_to_case(a3, by=self.officer, facts="占道经营，多次劝阻无效。")

        workflow.reject(self.receive("小区内部绿化被毁。"), by=self.dispatcher, reason="属物业管理范围")
        self.finish(self.handled(self.receive("桥下有人烧烤。", received_at=days_ago(90))))
        self.dispatched(self.receive("公园门口占道卖气球。", received_at=days_ago(200)))

        self.officer = make_user(R.OFFICER, org.squad_b)
        b1 = self.handled(self.receive("商场门口占道经营。", IN_SQUAD_B, received_at=days_ago(10)))
        workflow.rate(b1, by=self.dispatcher, satisfaction=Satisfaction.UNSATISFIED)

        self.receive("有人乱摆摊，具体位置不详。", {})  # u1

    def receive(self, text, where=IN_SQUAD_A, **extra):
        self.last = intake.receive(by=self.dispatcher, channel="12345", text=text, category="street_occupation",
                                   **where, **extra).order
        return self.last

    def dispatched(self, order):
        return workflow.dispatch(workflow.accept(order, by=self.dispatcher), by=self.dispatcher)

    def reply(self, order):
        return workflow.reply(order, by=self.officer, findings="到场劝离。", result=Result.RESOLVED,
                              reply_text="已处理。")

    def handled(self, order):
        return self.reply(self.dispatched(order))

    def finish(self, order, satisfaction=None):
        order = workflow.verify(order, by=self.users[R.SUPERVISOR], passed=True)
        order = workflow.close(order, by=self.users[R.SUPERVISOR])
        if satisfaction:
            workflow.rate(order, by=self.dispatcher, satisfaction=satisfaction)


SQUAD_A = expect(received=3, repeats=1, rejected=1, closed=3, closed_on_time=1, due=4, closure_rate="75.0",
                 on_time_rate="25.0", handled=3, reworked=1, rework_rate="33.3", rated=2, satisfied=2,
                 satisfaction_rate="100.0", converted=1, conversion_rate="33.3", overdue_now=2)
SQUAD_B = expect(received=1, handled=1, rework_rate="0.0", rated=1, satisfaction_rate="0.0",
                 conversion_rate="0.0")
UNPLACED = expect(received=1, conversion_rate="0.0")
TOTAL = expect(received=5, repeats=1, rejected=1, closed=3, closed_on_time=1, due=4, closure_rate="75.0",
               on_time_rate="25.0", handled=4, reworked=1, rework_rate="25.0", rated=3, satisfied=2,
               satisfaction_rate="66.7", converted=1, conversion_rate="20.0", overdue_now=2)


@pytest.fixture
def example(users, org):
    return Example(users, org)


def test_the_worked_example_for_the_whole_bureau(example, users, org):
    rows = stats.indicators_by_squad(example.start, example.today, users[R.LEADER])
    by_name = {row.squad_name: figures(row) for row in rows}
    assert [row.squad for row in rows] == [org.squad_a.pk, org.squad_b.pk, None, None]
    assert by_name == {org.squad_a.name: SQUAD_A, org.squad_b.name: SQUAD_B, "未定位": UNPLACED, "合计": TOTAL}
    assert rows[-1].is_total and not any(row.is_total for row in rows[:-1])


def test_the_conversion_endpoint_gives_the_same_conversions(example, users, org):
    rows = stats.conversion_rate_by_squad(example.start, example.today, users[R.LEADER])
    assert {r["squad"]: (r["received"], r["converted"]) for r in rows} == {
        org.squad_a.pk: (3, 1), org.squad_b.pk: (1, 0), None: (1, 0)}


def test_a_range_before_the_work_counts_only_what_is_overdue_now(example, users, org):
    long_ago = example.today - dt.timedelta(days=300)
    rows = stats.indicators_by_squad(long_ago, long_ago + dt.timedelta(days=30), users[R.LEADER])
    assert [figures(row) for row in rows] == [expect(overdue_now=2), expect(), expect(overdue_now=2)]


def test_a_squad_leader_sees_his_squad_only(example, users, org):
    rows = stats.indicators_by_squad(example.start, example.today, users[R.SQUAD_LEADER])
    assert [(row.squad_name, figures(row)) for row in rows] == [(org.squad_a.name, SQUAD_A), ("合计", SQUAD_A)]


@pytest.mark.parametrize("role", NO_STATS_ROLES)
def test_roles_without_the_statistics_permission_are_refused(users, role):
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        stats.indicators_by_squad(today, today, users[role])


@pytest.mark.parametrize("start, end, code", [
    (dt.date(2024, 5, 2), dt.date(2024, 5, 1), "invalid_range"),
    (dt.date(2024, 1, 1), dt.date(2025, 1, 1), "range_too_long"),
    (None, dt.date(2024, 5, 1), "required"),
])
def test_bad_ranges_are_refused(users, start, end, code):
    with pytest.raises(ValidationFailed) as refused:
        stats.indicators_by_squad(start, end, users[R.LEADER])
    assert refused.value.code == code


def test_a_full_leap_year_is_allowed(users):
    rows = stats.indicators_by_squad(dt.date(2024, 1, 1), dt.date(2024, 12, 31), users[R.LEADER])
    assert rows[-1].is_total and rows[-1].received == 0 and rows[-1].closure_rate is None


# --- API ------------------------------------------------------------------------------------------


def test_the_api_gives_the_table_with_percentages(example, users, org):
    response = api_client(users[R.LEADER]).get(f"{API}?start={example.start}&end={example.today}")
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"]) == (example.start.isoformat(), example.today.isoformat())
    total = body["squads"][-1]
    assert total["is_total"] and total["squad_name"] == "合计"
    assert (total["due"], total["closure_rate"], total["satisfaction_rate"]) == (4, "75.0", "66.7")
    squad_b = next(r for r in body["squads"] if r["squad"] == org.squad_b.pk)
    assert (squad_b["closure_rate"], squad_b["rework_rate"]) == (None, "0.0")


def test_the_api_keeps_a_squad_leader_to_his_squad(example, users, org):
    body = api_client(users[R.SQUAD_LEADER]).get(f"{API}?start={example.start}&end={example.today}").json()
    assert [r["squad"] for r in body["squads"]] == [org.squad_a.pk, None]
    assert body["squads"][-1]["received"] == 3


@pytest.mark.parametrize("role", NO_STATS_ROLES)
def test_the_api_refuses_roles_without_the_permission(users, role):
    assert_error_body(api_client(users[role]).get(API), 403)


def test_the_api_refuses_anonymous_callers():
    assert api_client().get(API).status_code in (401, 403)


@pytest.mark.parametrize("query, code", [("start=2024-05-02&end=2024-05-01", "invalid_range"),
                                         ("start=2023-01-01&end=2024-12-31", "range_too_long")])
def test_the_api_refuses_bad_ranges_in_chinese(users, query, code):
    body = assert_error_body(api_client(users[R.LEADER]).get(f"{API}?{query}"), 400)
    assert body["code"] == code and ("日期" in body["message"] or "区间" in body["message"])


def test_the_api_refuses_a_malformed_date(users):
    assert_error_body(api_client(users[R.LEADER]).get(f"{API}?start=yesterday"), 400)


# --- page and export ------------------------------------------------------------------------------


def test_the_page_defaults_to_this_month_and_shows_the_table(users, org, client):
    client.force_login(users[R.DISPATCHER])
    response = client.get(reverse("workorders:stats"))
    assert response.status_code == 200
    today = timezone.localdate()
    assert (response.context["start"], response.context["end"]) == (today.replace(day=1), today)
    body = response.content.decode()
    assert org.squad_a.name in body and org.squad_b.name in body and "合计" in body
    assert reverse("workorders:stats") in body  # the sub-navigation links it


def test_the_page_shows_a_squad_leader_his_squad_only(example, users, org, client):
    client.force_login(users[R.SQUAD_LEADER])
    body = client.get(reverse("workorders:stats"), {"start": example.start, "end": example.today}).content.decode()
    assert org.squad_a.name in body and org.squad_b.name not in body
    assert "75.0" in body


def test_the_page_explains_a_bad_range_and_shows_no_table(users, client):
    client.force_login(users[R.LEADER])
    response = client.get(reverse("workorders:stats"), {"start": "2024-05-02", "end": "2024-05-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "开始日期不能晚于结束日期。" in body and 'data-testid="stats-table"' not in body


@pytest.mark.parametrize("role", NO_STATS_ROLES)
@pytest.mark.parametrize("name", ["workorders:stats", "workorders:stats_export"])
def test_the_page_and_export_refuse_roles_without_the_permission(users, client, role, name):
    client.force_login(users[role])
    assert client.get(reverse(name)).status_code == 403


def test_the_navigation_hides_the_page_from_roles_without_the_permission(users, client):
    client.force_login(users[R.OFFICER])
    assert reverse("workorders:stats") not in client.get(reverse("workorders:list")).content.decode()


@pytest.mark.parametrize("name", ["workorders:stats", "workorders:stats_export"])
def test_the_page_and_export_send_anonymous_visitors_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))


def test_the_export_is_the_same_table(example, users, org, client):
    client.force_login(users[R.LEADER])
    response = client.get(reverse("workorders:stats_export"), {"start": example.start, "end": example.today})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header[:2] == ["中队", "受理数"]
    total = dict(zip(header, rows[-1], strict=True))
    assert (total["中队"], total["受理数"], total["应结案数"], total["结案率(%)"], total["满意率(%)"]) == (
        "合计", 5, 4, 75.0, 66.7)
    squad_b = dict(zip(header, rows[2], strict=True))
    assert squad_b["中队"] == org.squad_b.name and squad_b["结案率(%)"] is None
