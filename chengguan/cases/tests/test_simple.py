"""Simple procedure (当场处罚): the Art. 51 limits, Art. 68 collection, the remedy text
saying reconsideration first, refusal to sign noted, 备案, numbering."""

from decimal import Decimal

import pytest

from chengguan.cases.choices import Ending, Status
from chengguan.cases.models import Case
from chengguan.cases.services import execution, simple, workflow
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError

from .conftest import IN_SQUAD_A, company, person

pytestmark = pytest.mark.django_db
R = RoleCode
APL = "《中华人民共和国行政处罚法》"


def on_the_spot(staff, matters, **extra):
    fields = {"officers": [staff[R.OFFICER], staff["officer2"]], "party": person(), "matter": matters["street"],
              "facts": "占道设摊。", "penalty_kind": "fine", "fine": "80", **IN_SQUAD_A, **extra}
    return simple.decide_on_the_spot(by=staff[R.OFFICER], **fields)


def refused(call, code, article):
    before = Case.objects.count()
    with pytest.raises(BusinessRuleError) as caught:
        call()
    assert caught.value.code == code and article in caught.value.message
    assert Case.objects.count() == before


def test_on_the_spot_fine_paid_closed_archived(staff, matters, numbering):
    case = on_the_spot(staff, matters, refused_to_sign=True)
    assert case.procedure == "simple" and "当罚" in case.number and case.status == Status.EXECUTING
    assert "先申请行政复议" in case.remedy_text and case.filed_with_bureau_at is not None
    assert [s.action for s in case.steps.all()] == ["simple_decide", "simple_file_record"]
    assert "拒绝签收" in case.steps.first().note
    case = execution.record_payment(case, by=staff[R.OFFICER], amount="80")
    case = workflow.archive(workflow.close(case, by=staff[R.SQUAD_LEADER]), by=staff[R.CASE_REVIEW])
    assert case.status == Status.ARCHIVED


def test_warning_and_collection_on_the_spot(staff, matters, numbering):
    warning = on_the_spot(staff, matters, penalty_kind="warning", fine=None)
    assert warning.status == Status.EXECUTED and warning.ending == Ending.PERFORMED
    collected = on_the_spot(staff, matters, party=person(2), fine="100", collect_on_spot=True)
    assert collected.status == Status.EXECUTED and collected.paid_amount == Decimal("100.00")


def test_limits_of_article_51(staff, matters, numbering):
    refused(lambda: on_the_spot(staff, matters, fine="250"), "simple_procedure_limit", f"{APL}第五十一条")
    assert on_the_spot(staff, matters, party=company(), fine="300").decided_fine == Decimal("300.00")
    refused(lambda: on_the_spot(staff, matters, matter=matters["works"], party=person(3)),
            "simple_procedure_not_allowed", f"{APL}第五十一条")


def test_collection_only_up_to_100_yuan(staff, matters, numbering):
    refused(lambda: on_the_spot(staff, matters, fine="150", collect_on_spot=True),
            "on_the_spot_collection_not_allowed", f"{APL}第六十八条")


def test_two_certified_officers_and_one_penalty_per_act(staff, matters, numbering):
    refused(lambda: on_the_spot(staff, matters, officers=[staff[R.OFFICER]]), "officers_required", f"{APL}第四十二条")
    refused(lambda: on_the_spot(staff, matters, officers=[staff[R.OFFICER], staff["expired"]]),
            "officer_certificate_invalid", f"{APL}第四十二条")
    on_the_spot(staff, matters)
    refused(lambda: on_the_spot(staff, matters), "double_penalty", f"{APL}第二十九条")
