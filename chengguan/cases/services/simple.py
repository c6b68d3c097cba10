"""Simple procedure (简易程序, 当场处罚): a warning or a small fine decided on the spot
(《行政处罚法》第五十一条), on a serially numbered form handed over at once (art. 52), the
remedy text saying reconsideration comes first (行政复议法 2023 第二十三条), on-the-spot
collection only where art. 68 allows, and the decision filed with the bureau (备案).

One number (art. 52): the case, the 当场处罚决定书 and the copy the party takes away carry the
number of the form. The documents engine numbers the form from the kind's own sequence
(`doc_simple_penalty_decision`, format under 文书编号格式) when the step issues it, and the case
takes that number; no second sequence exists to drift from it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengguan.core.calendar import deadline_rule
from chengguan.core.errors import ValidationFailed
from chengguan.core.geo import place_fields
from chengguan.core.models import OrgUnit
from chengguan.regulations.choices import PenaltyKind
from chengguan.regulations.models import BenchmarkTier, Matter
from chengguan.regulations.services import benchmark_for, check_fine, money, simple_procedure_allows

from ..choices import (
    DecisionOutcome,
    Ending,
    PaymentMethod,
    Procedure,
    ServiceMethod,
    SourceKind,
    Status,
)
from ..models import Case, CaseParty, Payment
from . import clock, parties, rules
from .rules import APL, refuse
from .workflow import (
    _officer_users,
    _set_officers,
    _step,
    day,
    documents_for,
    evidence_list,
    flag,
    text,
)

# ARL (2023) art. 23(1)(一), (2): on-the-spot penalties — reconsideration before litigation.
REMEDY_SIMPLE = ("如不服本决定，应当自收到本决定书之日起六十日内向本机关的本级人民政府申请行政复议；"
                 "对行政复议决定不服的，可以自收到行政复议决定书之日起十五日内依法向人民法院提起行政诉讼"
                 "（当场作出的行政处罚决定，应当先申请行政复议）。")


@transaction.atomic
def decide_on_the_spot(*, by, officers, party: dict, matter: Matter, facts: str, penalty_kind: str,
                       fine=None, lon=None, lat=None, squad: OrgUnit | None = None, address: str = "",
                       act_date=None, tier: BenchmarkTier | None = None, refused_to_sign: bool = False,
                       collect_on_spot: bool = False, evidence=()) -> Case:
    """当场处罚决定: numbered, served on the spot, filed with the bureau."""
    if not by.has_perm("cases.add_case"):
        raise PermissionDenied("您没有当场处罚的权限。")
    today = clock.today()
    facts = text(facts, "facts", "违法事实", max_length=5000)
    address = text(address, "address", "违法地点", required=False, max_length=255)
    refused_to_sign, collect_on_spot = flag(refused_to_sign, "refused_to_sign"), flag(collect_on_spot, "collect_on_spot")
    if not isinstance(matter, Matter) or not matter.is_active:
        raise ValidationFailed("执法事项不存在或已停用。", code="invalid_matter", field="matter")
    if penalty_kind not in (PenaltyKind.WARNING, PenaltyKind.FINE):
        raise refuse("simple_procedure_not_allowed", "当场处罚只能是警告或者罚款", f"{APL}第五十一条")
    amount = money(fine, field_name="fine", label="罚款金额", allow_zero=False) if penalty_kind == PenaltyKind.FINE else None
    cleaned = parties.clean_party(party, prefix="party.")
    if not matter.simple_procedure_allowed:
        raise refuse("simple_procedure_not_allowed", f"执法事项“{matter.name}”不适用简易程序", f"{APL}第五十一条")
    if not simple_procedure_allows(cleaned["kind"], amount, penalty_kind):
        raise refuse("simple_procedure_limit",
                     "当场处罚限于警告、对公民二百元以下或对法人及其他组织三千元以下罚款，超出的应适用普通程序",
                     f"{APL}第五十一条")
    limit = money(str(settings.CASE_ON_THE_SPOT_COLLECTION_MAX), field_name="settings", label="当场收缴上限")
    if collect_on_spot and (amount is None or amount > limit):
        raise refuse("on_the_spot_collection_not_allowed", f"当场收缴罚款限于 {limit} 元以下的当场处罚",
                      f"{APL}第六十八条")
    chosen = _officer_users(officers, None)
    if by not in chosen:
        raise ValidationFailed("当场处罚须由作出决定的执法人员本人参与。", code="not_officer", field="officers")
    rules.check_officers(chosen, today)
    case = Case(procedure=Procedure.SIMPLE, source_kind=SourceKind.PATROL, matter=matter, facts=facts,
                address=address, created_by=by,
                act_date=day(act_date, "act_date", "违法行为发生日期", default=today, not_after=today))
    if lon is not None or lat is not None:
        for field, value in place_fields(lon, lat, allow_outside=squad is not None).items():
            setattr(case, field, value)
    if squad is not None:
        case.squad = squad
    if case.squad_id is None:
        raise ValidationFailed("请在地图上选点或选择责任中队。", code="required", field="squad")
    if not OrgUnit.objects.restrict(by, "view").filter(pk=case.squad_id).exists():
        raise PermissionDenied("责任中队不在您的数据范围内。")
    case.benchmark = benchmark_for(matter, case.act_date)
    if amount is not None and tier is not None:
        if case.benchmark is None or tier.benchmark_id != case.benchmark.pk:
            raise ValidationFailed("裁量阶次不属于该事项现行裁量基准。", code="invalid_tier", field="tier")
        outside = check_fine(tier, amount)
        if outside:  # no written reason and legal review exist on the spot
            raise refuse("fine_outside_benchmark", outside.message[:-1], f"{APL}第三十四条")
        case.tier = tier
    proofs = evidence_list(evidence, by)
    existing = parties.Party.objects.filter(identity_digest=cleaned["identity_digest"]).values_list("pk", flat=True)
    rules.check_double_penalty(case, matter, list(existing))
    now = clock.now()
    case.penalty_kinds = [penalty_kind]
    case.proposed_fine = case.notified_fine = case.decided_fine = amount
    case.decision_outcome, case.decided_on, case.decided_by = DecisionOutcome.PENALTY, today, by
    case.filed_at, case.filed_by = now, by
    case.remedy_text = REMEDY_SIMPLE
    case.served_on, case.service_method, case.party_refused_to_sign = today, ServiceMethod.ON_THE_SPOT, refused_to_sign
    case.service_due = today
    case.collected_on_spot = collect_on_spot
    case.filed_with_bureau_at = now
    if amount:
        case.payment_due = deadline_rule("apl_payment").due(today)
    case.status = Status.EXECUTING if amount and not collect_on_spot else Status.EXECUTED
    if case.status == Status.EXECUTED:
        case.ending = Ending.PAID if collect_on_spot else Ending.PERFORMED
        case.paid_amount = amount or Decimal("0.00")
    case.save(audit_action="case.simple", actor=by)
    person = parties.find_or_create(party, by=by, prefix="party.")
    CaseParty(case=case, party=person).save(audit_action="case.party.add", actor=by)
    _set_officers(case, chosen, by)
    if proofs:
        case.evidence.add(*proofs)
    if collect_on_spot:
        Payment(case=case, amount=amount, paid_on=today, method=PaymentMethod.ON_THE_SPOT,
                recorded_by=by).save(audit_action="case.payment", actor=by)
    note = "当事人拒绝签收，已在决定书上注明" if refused_to_sign else ""
    step = _step(case, "simple_decide", "", by=by, note=note, at=now,
                 data={"documents": documents_for("simple_decide"), "fine": str(amount) if amount else None,
                       "collected_on_spot": collect_on_spot})
    # APL art. 52: the case is known by the number of its decision form (see the module docstring).
    case.number = next(d["number"] for d in step.data["issued"] if d["kind"] == "simple_penalty_decision")
    rules.refresh_next_deadline(case, today)
    case.save(audit_action="case.number", actor=by)
    _step(case, "simple_file_record", case.status, by=by, note="当场处罚决定报所属行政机关备案", at=now)
    return case
