"""Simple procedure (当场处罚): the Art. 51 limits, Art. 68 collection, the remedy text
saying reconsideration first, refusal to sign noted, 备案, numbering: one number (Art. 52) for
the case, the decision form and the copy the party takes away."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from chengguan.cases.choices import Ending, Status
from chengguan.cases.models import Case
from chengguan.cases.services import execution, simple, workflow
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError
from chengguan.core.evidence import open_verified
from chengguan.core.models import NumberFormat, NumberSequence
from chengguan.core.numbering import set_number_format
from chengguan.documents import services as documents
from chengguan.documents.kinds import KINDS
from chengguan.documents.tests.support import docx_text

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
    year = timezone.localdate().year
    assert case.procedure == "simple" and case.number == f"闵城管当罚字〔{year}〕第00001号"
    assert case.status == Status.EXECUTING
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


def test_case_form_and_party_copy_carry_one_number(staff, matters, numbering):
    """APL art. 52: a pre-numbered form. The case is known by the number of its 当场处罚决定书,
    which is the number the DOCX prints, and the forms run on without gaps."""
    case = on_the_spot(staff, matters)
    form = documents.documents_of(case).get(kind="simple_penalty_decision")
    assert case.number == form.number
    assert case.steps.get(action="simple_decide").data["issued"] == [
        {"kind": "simple_penalty_decision", "id": form.pk, "number": case.number}]
    with open_verified(form.docx, by=staff[R.OFFICER]) as docx:
        assert case.number in docx_text(docx.read())
    assert Case.objects.get(pk=case.pk).number == case.number
    refused(lambda: on_the_spot(staff, matters, party=person(2), fine="250"), "simple_procedure_limit",
            f"{APL}第五十一条")  # takes no number
    following = on_the_spot(staff, matters, party=person(3))
    year = timezone.localdate().year
    assert (case.number, following.number) == (f"闵城管当罚字〔{year}〕第00001号", f"闵城管当罚字〔{year}〕第00002号")
    assert not NumberFormat.objects.filter(kind="simple_case").exists()


def test_the_form_number_follows_the_configured_format(staff, matters, numbering):
    set_number_format("doc_simple_penalty_decision", "当场处罚决定书", "沪闵当罚〔{year}〕{seq:07d}", by=staff[R.ADMIN])
    case = on_the_spot(staff, matters)
    assert case.number == f"沪闵当罚〔{timezone.localdate().year}〕0000001"
    assert documents.documents_of(case).get().number == case.number


MIGRATION = importlib.import_module("chengguan.documents.migrations.0003_simple_decision_number")
FORM_DEFAULT = KINDS["simple_penalty_decision"].number_pattern


def retired_case_format(pattern: str) -> None:
    """The state before the migration: both formats, and numbers issued from both sequences."""
    NumberFormat.objects.update_or_create(kind="doc_simple_penalty_decision",
                                          defaults={"name": "当场处罚决定书", "pattern": FORM_DEFAULT})
    NumberFormat.objects.create(kind="simple_case", name="当场行政处罚决定书编号", pattern=pattern)
    NumberSequence.objects.create(kind="simple_case", year=2025, last_value=42)
    NumberSequence.objects.create(kind="doc_simple_penalty_decision", year=2025, last_value=40)


def test_migration_keeps_a_customised_form_format_and_never_reissues_a_number(db):
    """The retired case sequence: a format the bureau customised for its forms moves to the
    form, whose sequence then continues after the case numbers already issued."""
    retired_case_format("闵当罚〔{year}〕{seq:06d}号")
    MIGRATION.merge(apps, None)
    form = NumberFormat.objects.get(kind="doc_simple_penalty_decision")
    assert form.pattern == "闵当罚〔{year}〕{seq:06d}号"
    assert NumberSequence.objects.get(kind="doc_simple_penalty_decision", year=2025).last_value == 42
    assert not NumberFormat.objects.filter(kind="simple_case").exists()


def test_migration_drops_an_untouched_case_format(db):
    assert (MIGRATION.FORM_DEFAULT, MIGRATION.OLD_DEFAULT) == (FORM_DEFAULT, "城管当罚字〔{year}〕第{seq:06d}号")
    retired_case_format(MIGRATION.OLD_DEFAULT)
    MIGRATION.merge(apps, None)
    assert NumberFormat.objects.get(kind="doc_simple_penalty_decision").pattern == FORM_DEFAULT
    assert NumberSequence.objects.get(kind="doc_simple_penalty_decision", year=2025).last_value == 40  # no gap
    assert not NumberFormat.objects.filter(kind="simple_case").exists()
