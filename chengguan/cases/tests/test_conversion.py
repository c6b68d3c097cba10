"""An inspection that asked for a case becomes a lead carrying the regulated object as the
party, the place, the facts and the squad; the request shows the case."""

import pytest

from chengguan.cases.choices import SourceKind, Status
from chengguan.cases.services import conversion, workflow
from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.inspections.choices import InspectionOutcome
from chengguan.inspections.tests.conftest import (  # noqa: F401 - fixtures
    object_types,
    regobj_factory,
)
from chengguan.inspections.tests.test_records import (  # noqa: F401 - fixtures
    all_pass,
    officer,
    partner,
    shop,
    submit,
    task,
)

pytestmark = pytest.mark.django_db


def test_open_from_inspection(task, shop, officer, partner, users, numbering):  # noqa: F811
    record = submit(task, officer, others=[partner], checklist=all_pass(shop, "fail"),
                    outcome=InspectionOutcome.OPEN_CASE, case_facts="擅自占用道路堆放物料，经责令仍未改正")
    request = record.case_request
    case = conversion.open_from_inspection(request, by=officer)
    assert (case.status, case.source_kind, case.squad, case.facts) == (
        Status.LEAD, SourceKind.INSPECTION, shop.squad, "擅自占用道路堆放物料，经责令仍未改正")
    party = case.case_parties.get().party
    assert party.credit_code == shop.credit_code and party.name == shop.name
    request.refresh_from_db()
    assert request.case_reference == f"线索{case.pk}"
    with pytest.raises(ValidationFailed) as caught:
        conversion.open_from_inspection(request, by=officer)
    assert caught.value.code == "already_converted"
    workflow.withdraw(case, by=users[RoleCode.SQUAD_LEADER], reason="已改正，不予立案")
