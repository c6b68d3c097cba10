"""Parties: identities validated with the field named, encrypted at rest, found again by
their keyed digest, and a history computed from the cases."""

import pytest
from django.db import connection

from chengguan.cases.models import Party
from chengguan.cases.services import parties, workflow
from chengguan.core.errors import ValidationFailed

from .conftest import company, credit_code, id_number, person

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("values", "field", "code"), [
    (person(id_number="12345"), "id_number", "invalid_id_number"),
    (person(id_number=id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1")), "id_number",
     "invalid_id_number"),
    (person(id_type="passport", id_number="!!"), "id_number", "invalid_id_number"),
    (company(credit_code="91310112ABC"), "credit_code", "invalid_credit_code"),
    (company(credit_code=credit_code(1)[:-1] + ("0" if credit_code(1)[-1] != "0" else "1")), "credit_code",
     "invalid_credit_code"),
    (company(legal_representative=""), "legal_representative", "required"),
    ({"kind": "alien"}, "kind", "invalid_choice"),
])
def test_malformed_identities_name_the_field(values, field, code):
    with pytest.raises(ValidationFailed) as caught:
        parties.clean_party(values, prefix="party.")
    assert (caught.value.field, caught.value.code) == (f"party.{field}", code)


def test_identity_encrypted_and_found_again(db):
    first = parties.find_or_create(person(address="旧地址"), by=None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number, phone, identity_digest FROM {Party._meta.db_table} WHERE id = %s",
                       [first.pk])
        stored, phone, digest = cursor.fetchone()
    assert id_number(1) not in stored and "13812345678" not in phone and id_number(1) not in digest
    again = parties.find_or_create(person(address="新地址"), by=None)
    assert again.pk == first.pk and again.address == "新地址" and Party.objects.count() == 1
    assert parties.find_or_create(company(), by=None).pk != first.pk


def test_history_is_computed(flow, staff):
    first = flow.decided()
    party = first.case_parties.get().party
    fresh = parties.history(party, matter=flow.m["street"])
    assert fresh.repeat_offender and not fresh.first_offence and fresh.prior_penalties == 1
    other = parties.history(parties.find_or_create(person(7), by=None), matter=flow.m["street"])
    assert other.first_offence and not other.repeat_offender and other.prior_cases == 0
    assert parties.history(party, matter=flow.m["street"], exclude_case=first).first_offence
    workflow.withdraw(flow.lead(), by=staff["squad_leader"], reason="误立")
    assert parties.history(party).prior_cases == 2
