"""Work orders (诉转案) and inspections that asked for a case become leads here, carrying the
party (where known), place, facts, evidence and squad; the order or inspection shows the case."""

from __future__ import annotations

from django.db import transaction

from chengguan.core.errors import ValidationFailed
from chengguan.regulations.choices import PartyKind

from ..choices import SourceKind
from ..models import Case
from . import workflow


def _taken(conversion_field: str, obj) -> None:
    if Case.objects.filter(**{conversion_field: obj}).exists():
        raise ValidationFailed("该请求已转为案件。", code="already_converted", field=conversion_field)


@transaction.atomic
def open_from_workorder(conversion, *, by, party_list=(), matter=None, act_date=None) -> Case:
    _taken("work_order_conversion", conversion)
    order = conversion.order
    place = {"lon": order.lon, "lat": order.lat} if order.lon is not None else {}
    return workflow.open_lead(by=by, source_kind=SourceKind.WORK_ORDER, facts=conversion.facts,
                              squad=conversion.squad or order.squad, address=order.address, matter=matter,
                              act_date=act_date or order.received_at, party_list=party_list,
                              evidence=list(order.photos.all()), work_order_conversion=conversion, **place)


def _object_party(obj) -> list[dict]:
    """The regulated object as a party, when its registry entry identifies it."""
    if obj.credit_code:
        return [{"kind": PartyKind.ORGANISATION, "name": obj.name, "credit_code": obj.credit_code,
                 "legal_representative": obj.contact_name or "", "address": obj.address}]
    if obj.id_number:
        return [{"kind": PartyKind.PERSON, "name": obj.contact_name or obj.name, "id_number": obj.id_number,
                 "phone": obj.contact_phone, "address": obj.address}]
    return []


@transaction.atomic
def open_from_inspection(request, *, by, party_list=None, matter=None) -> Case:
    _taken("inspection_request", request)
    record = request.record
    found = list(party_list) if party_list is not None else _object_party(record.regulated_object)
    try:
        with transaction.atomic():
            return _open_inspection_lead(request, record, by, found, matter)
    except ValidationFailed as exc:
        if party_list is not None or not (exc.field or "").startswith("parties"):
            raise
    # The registry's data does not make a valid party: open without one; officers add it.
    return _open_inspection_lead(request, record, by, [], matter)


def _open_inspection_lead(request, record, by, party_list, matter) -> Case:
    return workflow.open_lead(by=by, source_kind=SourceKind.INSPECTION, facts=request.facts, lon=record.lon,
                              lat=record.lat, squad=record.squad, address=record.regulated_object.address,
                              matter=matter, act_date=record.inspected_at, party_list=party_list,
                              evidence=list(record.photos.all()), inspection_request=request)
