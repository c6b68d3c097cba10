"""The portal's penalty decisions (《行政处罚法》第四十八条) and enforcement matters (第三十九条):
only published decisions and withdrawal notices are shown, from the snapshot masked when they
were published; the search; and never any personal data in any answer."""

import datetime as dt

import pytest
from django.urls import reverse

from chengguan.cases.choices import AppealOutcome, ServiceMethod
from chengguan.cases.models import Disclosure
from chengguan.cases.services import disclosure, execution, workflow
from chengguan.cases.tests.conftest import Flow, company, id_number, person
from chengguan.core.choices import RoleCode
from chengguan.regulations import services as catalogue

pytestmark = pytest.mark.django_db

R = RoleCode
NAME, PHONE, HOME = "张三丰", "13812345678", "江川路1号"
SECRETS = (NAME, "三丰", id_number(1), PHONE, HOME, "13812345678"[-8:])


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    """The case steps issue their documents into the evidence store: a private one per test."""
    root = tmp_path / "evidence"
    root.mkdir()
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}}
    return root


def decided(flow_: Flow, facts: str = "", **extra):
    """A case of the flow decided with a penalty; its lead written with `facts`."""
    if facts:
        lead = flow_.lead
        flow_.lead = lambda **fields: lead(**{"facts": facts, **fields})
    return flow_.decided(**extra)


def published(flow_: Flow, staff_, facts: str = "", **extra) -> Disclosure:
    case = workflow.serve(decided(flow_, facts, **extra), by=flow_.officer, method=ServiceMethod.DIRECT)
    return disclosure.publish(Disclosure.objects.get(case=case), by=staff_[R.SQUAD_LEADER])


def page(client, name, *args, **params):
    response = client.get(reverse(f"public:{name}", args=args), params)
    return response, response.content.decode()


def assert_no_personal_data(html: str):
    for secret in SECRETS:
        assert secret not in html, secret


# --- what is shown -----------------------------------------------------------------------------------

def test_pages_need_no_login(client, org, matters):
    for name in ("decisions", "matters", "index"):
        response, html = page(client, name)
        assert response.status_code == 200 and org.bureau.name in html, name
    assert reverse("public:decisions") in page(client, "index")[1]


def test_published_decision_masked_in_list_and_detail(client, flow, staff):
    facts = f"当事人{NAME}（身份证号 {id_number(1)}，手机 {PHONE}）在{HOME}门口摆摊经营。"
    d = published(flow, staff, facts)
    response, html = page(client, "decisions")
    assert response.status_code == 200 and "张**跨门营业案" in html and d.decision_number in html
    assert_no_personal_data(html)
    response, html = page(client, "decision_detail", d.pk)
    assert response.status_code == 200 and 'data-testid="decision"' in html
    assert "张**" in html and "（已隐去）" in html and "罚款 200.00 元" in html
    assert "《上海市市容环境卫生管理条例》第二十五条第（五）项" in html
    assert_no_personal_data(html)


def test_organisation_named_with_credit_code(client, staff, matters, clock_at, numbering):
    d = published(Flow(staff, matters, clock_at, party=company()), staff)
    html = page(client, "decision_detail", d.pk)[1]
    assert "上海某某餐饮有限公司" in html and company()["credit_code"] in html
    assert "李四" not in html  # the legal representative is a natural person


def test_pending_excluded_and_expired_are_404(client, flow, staff, clock_at):
    pending = Disclosure.objects.get(case=flow.decided())
    other = Flow(flow.s, flow.m, clock_at, party=person(2))
    excluded = disclosure.exclude(Disclosure.objects.get(case=other.decided()), by=staff[R.SQUAD_LEADER],
                                  reason="涉及商业秘密")
    shown = published(Flow(flow.s, flow.m, clock_at, party=person(3)), staff)
    for d in (pending, excluded):
        assert page(client, "decision_detail", d.pk)[0].status_code == 404
    assert page(client, "decision_detail", 999999)[0].status_code == 404
    html = page(client, "decisions")[1]
    assert f"decisions/{shown.pk}/" in html
    assert f"decisions/{pending.pk}/" not in html and f"decisions/{excluded.pk}/" not in html
    clock_at.moment += dt.timedelta(days=(shown.ends_on - clock_at.today).days + 1)
    assert page(client, "decision_detail", shown.pk)[0].status_code == 404  # publication period over
    assert f"decisions/{shown.pk}/" not in page(client, "decisions")[1]


def test_withdrawn_decision_shows_the_notice_instead(client, flow, staff):
    d = published(flow, staff, facts=f"当事人{NAME}在店门外摆放货架经营，占用人行道。")
    appeal = execution.record_appeal(d.case, by=staff[R.LEGAL_REVIEWER], kind="reconsideration", body="闵行区人民政府")
    execution.record_appeal_outcome(appeal, by=staff[R.LEGAL_REVIEWER], outcome=AppealOutcome.REVOKED)
    response, html = page(client, "decision_detail", d.pk)
    assert response.status_code == 200 and 'data-testid="withdrawal-notice"' in html
    assert "闵行区人民政府行政复议" in html and "被撤销" in html and "撤回" in html
    assert 'data-testid="decision"' not in html and "占用人行道" not in html and "罚款 200.00 元" not in html
    assert_no_personal_data(html)
    html = page(client, "decisions")[1]
    assert "已撤回" in html and "罚款 200.00 元" not in html
    assert f"decisions/{d.pk}/" not in page(client, "decisions", q="占用人行道")[1]  # its text is not searched


def test_portal_shows_the_snapshot_not_the_live_catalogue(client, flow, staff):
    d = published(flow, staff)
    catalogue.update_matter(flow.m["street"], by=None, name="改名后的事项")
    html = page(client, "decision_detail", d.pk)[1]
    assert "跨门营业" in html and "改名后的事项" not in html


# --- search ------------------------------------------------------------------------------------------

def test_search_by_matter_date_street_and_keyword(client, flow, staff, clock_at, org):
    street = published(flow, staff, facts="当事人在店门外摆放水果摊经营。")
    works = published(Flow(flow.s, flow.m, clock_at, party=company(), matter="works"), staff, fine="2000")
    today = clock_at.today

    def found(**params):
        html = page(client, "decisions", **params)[1]
        return {d.pk for d in (street, works) if f"decisions/{d.pk}/" in html}

    assert found() == {street.pk, works.pk}
    assert found(matter=flow.m["works"].pk) == {works.pk}
    assert found(date_from=str(today), date_to=str(today)) == {street.pk, works.pk}
    assert found(date_from=str(today + dt.timedelta(days=1))) == set()
    assert found(date_to=str(today - dt.timedelta(days=1))) == set()
    assert found(squad=org.squad_a.pk) == {street.pk, works.pk}
    assert found(squad=org.squad_b.pk) == set()
    assert found(q="水果摊") == {street.pk}
    assert found(q="餐饮") == {works.pk}
    assert found(q=works.decision_number) == {works.pk}
    response, html = page(client, "decisions", date_from="2024-13-01")
    assert response.status_code == 200 and "查询条件有误" in html


# --- enforcement matters -----------------------------------------------------------------------------

def test_matters_list_bases_and_penalty_kinds(client, matters):
    catalogue.update_matter(matters["works"], by=None, is_active=False)
    response, html = page(client, "matters")
    assert response.status_code == 200
    assert "跨门营业" in html and "《上海市市容环境卫生管理条例》第二十五条第（五）项" in html
    assert "罚款、警告" in html and "处五十元以上五百元以下罚款" in html
    assert "未取得规划许可证建设" not in html  # no longer enforced
    assert "跨门营业" in page(client, "matters", category="street_order")[1]
    assert "跨门营业" not in page(client, "matters", category="construction")[1]
    assert "跨门营业" not in page(client, "matters", q="渣土")[1]
