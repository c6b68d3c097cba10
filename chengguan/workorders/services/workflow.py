"""The handling state machine (GB/T 30428 / CJJ/T 106 闭环: 立案 → 派遣 → 处置 → 核查 → 结案;
12345: 受理 → 派单 → 办理 → 答复 → 督办 → 办结 → 回访 → 评价).

One declarative table, `TRANSITIONS`, says from which states each verb may run, where it
leads and which permission it needs; every verb goes through `_transition`, which locks the
order, checks scope, permission and state, writes the step and the audited order in one
transaction and restarts the clock. Actions that change no state (督办, classification,
placing, clock requests, 诉转案) record a step too, so the timeline is complete."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from chengguan.core import notifications
from chengguan.core.calendar import add_working_days, end_of_working_day
from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.geo import place_fields
from chengguan.core.models import Evidence, OrgUnit, User

from ..choices import (
    ClassifiedBy,
    LocatedBy,
    RepeatStatus,
    RequestKind,
    RequestStatus,
    Result,
    Satisfaction,
    Status,
)
from ..models import (
    CaseConversion,
    Category,
    ClockRequest,
    HandlingRecord,
    RepeatCandidate,
    WorkOrder,
    WorkOrderStep,
)
from . import clocks

S = Status


@dataclass(frozen=True)
class Transition:
    label: str
    sources: frozenset
    target: str | None  # None: decided by the verb (resume returns to the state before the pause)
    perm: str


def _t(label, sources, target, perm) -> Transition:
    return Transition(label, frozenset(sources), target, f"workorders.{perm}_workorder")


BEFORE_DISPATCH = {S.RECEIVED, S.ACCEPTED, S.RETURNED}
IN_HANDS = {S.DISPATCHED, S.HANDLING}

TRANSITIONS: dict[str, Transition] = {
    "accept": _t("签收", {S.RECEIVED}, S.ACCEPTED, "dispatch"),
    "dispatch": _t("派遣", {S.ACCEPTED, S.RETURNED}, S.DISPATCHED, "dispatch"),
    "reassign": _t("改派", IN_HANDS, S.DISPATCHED, "dispatch"),
    "start": _t("开始处置", {S.DISPATCHED}, S.HANDLING, "handle"),
    "reply": _t("处置反馈", IN_HANDS, S.REPLIED, "handle"),
    "return": _t("退单", IN_HANDS, S.RETURNED, "handle"),
    "verify": _t("核查通过", {S.REPLIED}, S.VERIFIED, "verify"),
    "rework": _t("核查不通过，返工", {S.REPLIED}, S.HANDLING, "verify"),
    "close": _t("结案", {S.VERIFIED}, S.CLOSED, "verify"),
    "reject": _t("非本部门职责退回", BEFORE_DISPATCH, S.REJECTED, "dispatch"),
    "merge": _t("并单", BEFORE_DISPATCH | IN_HANDS, S.MERGED, "dispatch"),
    "suspend": _t("挂起", BEFORE_DISPATCH - {S.RECEIVED} | IN_HANDS, S.SUSPENDED, "approve"),
    "resume": _t("恢复办理", {S.SUSPENDED}, None, "approve"),
    "reopen": _t("不满意重办", {S.REPLIED, S.VERIFIED, S.CLOSED}, S.HANDLING, "dispatch"),
}

# Actions that keep the state, with the states they are allowed in and their permission.
ACTIONS: dict[str, Transition] = {
    "escalate": _t("督办", BEFORE_DISPATCH | IN_HANDS | {S.REPLIED, S.SUSPENDED}, None, "supervise"),
    "classify": _t("人工分类", BEFORE_DISPATCH | IN_HANDS, None, "dispatch"),
    "locate": _t("定位", BEFORE_DISPATCH, None, "dispatch"),
    "assign": _t("指派处置人", IN_HANDS, None, "dispatch"),
    "request_extension": _t("申请延期", IN_HANDS, None, "handle"),
    "request_suspension": _t("申请挂起", BEFORE_DISPATCH - {S.RECEIVED} | IN_HANDS, None, "handle"),
    "convert_to_case": _t("诉转案", IN_HANDS | {S.REPLIED}, None, "handle"),
    "rate": _t("回访评价", {S.REPLIED, S.VERIFIED, S.CLOSED}, None, "dispatch"),
}


# Reached only through another verb: reopening through an unsatisfied rating, suspending
# through an approved suspension request.
INDIRECT = frozenset({"reopen", "suspend"})


def allowed_actions(order: WorkOrder, user) -> list[str]:
    """Verbs `user` may run on `order` now (the UI shows only these)."""
    names = [name for name, rule in (*TRANSITIONS.items(), *ACTIONS.items())
             if name not in INDIRECT and order.status in rule.sources and user.has_perm(rule.perm)]
    if "convert_to_case" in names and hasattr(order, "case_conversion"):
        names.remove("convert_to_case")
    return names


def label(name: str) -> str:
    rule = TRANSITIONS.get(name) or ACTIONS[name]
    return rule.label


# --- the one path every change takes ------------------------------------------------------------

def _lock(order: WorkOrder, by) -> WorkOrder:
    """The order, locked for this transaction, if `by` may see it (out of scope: refused as
    if it did not exist)."""
    locked = (WorkOrder.objects.restrict(by, "view").select_for_update(of=("self",))
              .select_related("squad", "category").filter(pk=order.pk).first())
    if locked is None:
        raise PermissionDenied("工单不存在或不在您的数据范围内。")
    return locked


def _check(order: WorkOrder, name: str, by) -> Transition:
    rule = TRANSITIONS.get(name) or ACTIONS[name]
    if not by.has_perm(rule.perm):
        raise PermissionDenied(f"您没有“{rule.label}”的权限。")
    if order.status not in rule.sources:
        raise BusinessRuleError(
            f"工单当前状态为“{order.get_status_display()}”，不能{rule.label}。", code="invalid_transition")
    return rule


def _step(order: WorkOrder, action: str, from_status: str, *, by, note: str = "", at=None) -> WorkOrderStep:
    step = WorkOrderStep(order=order, action=action, from_status=from_status, to_status=order.status,
                         actor=by, note=note[:500], at=at or timezone.now())
    step.save(audit_action=f"workorder.step.{action}", actor=by)
    return step


def _save(order: WorkOrder, action: str, by) -> None:
    order.save(audit_action=f"workorder.{action}", actor=by)


def _text(value, field: str, label_text: str, *, required: bool = True, max_length: int = 500) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise ValidationFailed(f"{label_text}必须是文字。", code="invalid", field=field)
    if required and not value:
        raise ValidationFailed(f"请填写{label_text}。", code="required", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"{label_text}不能超过 {max_length} 个字。", code="too_long", field=field)
    return value


def _run(order: WorkOrder, name: str, *, by, note: str = "", change=None, notify=None) -> WorkOrder:
    """Lock, check, apply `change(order)` (which may raise and so change nothing), move to the
    table's target state, restart the clock, save, record the step."""
    with transaction.atomic():
        order = _lock(order, by)
        rule = _check(order, name, by)
        before = order.status
        if change:
            change(order)
        now = timezone.now()
        if rule.target is not None and name in TRANSITIONS:
            order.status = rule.target
        if name in TRANSITIONS:
            clocks.clock_for_status(order, now)
        _save(order, name, by)
        _step(order, name, before, by=by, note=note, at=now)
        if notify:
            notify(order)
    return order


# --- helpers ----------------------------------------------------------------------------------

def _squad_members(squad: OrgUnit, *roles: str):
    return User.objects.filter(is_active=True, org_unit__path__startswith=squad.path, roles__code__in=roles).distinct()


def _dispatchers():
    return User.objects.filter(is_active=True, roles__code=RoleCode.DISPATCHER)


def _link(order: WorkOrder) -> str:
    return f"/workorders/{order.pk}/"


def _check_assignee(order: WorkOrder, assignee) -> None:
    if assignee is None:
        return
    if not isinstance(assignee, User) or not assignee.is_active:
        raise ValidationFailed("处置人不存在或已停用。", code="invalid_assignee", field="assignee")
    if order.squad is None or not (assignee.org_unit and assignee.org_unit.path.startswith(order.squad.path)):
        raise ValidationFailed(f"处置人 {assignee.get_full_name()} 不属于责任中队。", code="assignee_outside_squad",
                               field="assignee")
    if not assignee.has_role(RoleCode.OFFICER, RoleCode.SQUAD_LEADER):
        raise ValidationFailed(f"{assignee.get_full_name()} 不是执法队员。", code="invalid_assignee", field="assignee")


def _check_handler(order: WorkOrder, by) -> None:
    """An order assigned to one officer is handled by that officer (or sent elsewhere by a
    dispatcher or squad leader)."""
    if order.assignee_id and order.assignee_id != by.pk and not by.has_perm("workorders.dispatch_workorder"):
        raise BusinessRuleError(f"该工单已指派给 {order.assignee.get_full_name()}。", code="not_assignee")


def _notify_dispatch(order: WorkOrder) -> None:
    recipients = [order.assignee] if order.assignee_id else list(
        _squad_members(order.squad, RoleCode.SQUAD_LEADER))
    notifications.notify_many(recipients, f"新派工单 {order.number}",
                              body=(order.title or order.text)[:200], link=_link(order))


# --- verbs ------------------------------------------------------------------------------------

def accept(order: WorkOrder, *, by, note: str = "") -> WorkOrder:
    """签收: the command centre takes the order; the dispatch clock starts."""
    return _run(order, "accept", by=by, note=_text(note, "note", "说明", required=False))


def dispatch(order: WorkOrder, *, by, squad: OrgUnit | None = None, assignee: User | None = None,
             note: str = "") -> WorkOrder:
    """派遣 to the responsible squad (the located one, or `squad` chosen by the dispatcher) and
    optionally to one officer. Orders outside the remit are returned instead (`reject`)."""
    note = _text(note, "note", "说明", required=False)

    def change(o: WorkOrder):
        if o.category_id and not o.category.in_remit:
            raise BusinessRuleError(f"分类“{o.category.name}”不属于本部门职责，请退回并说明理由。", code="out_of_remit")
        if o.category_id is None:
            raise BusinessRuleError("请先确定工单分类再派遣。", code="not_classified")
        _set_squad(o, squad)
        if o.squad_id is None:
            raise ValidationFailed("工单尚未定位到责任中队，请选择派遣中队。", code="required", field="squad")
        o.assignee = assignee
        _check_assignee(o, assignee)
        o.dispatched_at = timezone.now()
        o.return_reason = ""

    return _run(order, "dispatch", by=by, note=note, change=change, notify=_notify_dispatch)


def _set_squad(order: WorkOrder, squad: OrgUnit | None) -> None:
    if squad is None:
        return
    if not isinstance(squad, OrgUnit) or squad.kind != "squad":
        raise ValidationFailed("请选择一个中队。", code="invalid_squad", field="squad")
    if order.squad_id != squad.pk:
        order.squad = squad
        order.located_by = order.located_by or LocatedBy.DISPATCHER


def reassign(order: WorkOrder, *, by, squad: OrgUnit | None = None, assignee: User | None = None,
             note: str) -> WorkOrder:
    """改派 to another squad or officer, with the reason."""
    note = _text(note, "note", "改派原因")

    def change(o: WorkOrder):
        _set_squad(o, squad)
        o.assignee = assignee
        _check_assignee(o, assignee)

    return _run(order, "reassign", by=by, note=note, change=change, notify=_notify_dispatch)


def assign(order: WorkOrder, *, by, assignee: User) -> WorkOrder:
    """指派: the squad leader names the officer who handles the order."""
    def change(o: WorkOrder):
        if assignee is None:
            raise ValidationFailed("请选择处置人。", code="required", field="assignee")
        _check_assignee(o, assignee)
        o.assignee = assignee

    return _run(order, "assign", by=by, note=f"指派 {getattr(assignee, 'real_name', '')}", change=change,
                notify=_notify_dispatch)


def start(order: WorkOrder, *, by) -> WorkOrder:
    def change(o: WorkOrder):
        _check_handler(o, by)
        if o.assignee_id is None:
            o.assignee = by

    return _run(order, "start", by=by, change=change)


def reply(order: WorkOrder, *, by, findings: str, result: str, reply_text: str = "", result_reason: str = "",
          photos=(), lon=None, lat=None) -> WorkOrder:
    """处置反馈: what was found and done on site, the result, the reply to the reporter."""
    findings = _text(findings, "findings", "现场情况", max_length=5000)
    if result not in Result.values:
        raise ValidationFailed("请选择处置结果。", code="invalid_choice", field="result")
    result_reason = _text(result_reason, "result_reason", "原因", required=result == Result.UNRESOLVED,
                          max_length=300)
    photos = list(photos)
    if any(not isinstance(p, Evidence) for p in photos):
        raise ValidationFailed("现场照片无效。", code="invalid", field="photos")
    if lon is not None or lat is not None:
        place = place_fields(lon, lat, allow_outside=True)
        lon, lat = place["lon"], place["lat"]

    def change(o: WorkOrder):
        nonlocal reply_text
        _check_handler(o, by)
        reply_text = _text(reply_text, "reply_text", "答复内容", required=o.wants_reply, max_length=2000)
        if result == Result.CONVERTED and not hasattr(o, "case_conversion"):
            raise BusinessRuleError("尚未提请立案，不能以“已转立案”反馈。", code="no_case_conversion")
        record = HandlingRecord(order=o, officer=by, findings=findings, result=result, result_reason=result_reason,
                                reply_text=reply_text, lon=lon, lat=lat)
        record.save(audit_action="workorder.handling", actor=by)
        if photos:
            record.photos.set(photos)
        o.result, o.reply_text, o.replied_at = result, reply_text, timezone.now()
        if o.assignee_id is None:
            o.assignee = by

    return _run(order, "reply", by=by, note=Result(result).label, change=change)


def return_order(order: WorkOrder, *, by, reason: str) -> WorkOrder:
    """退单: the squad sends the order back to the dispatcher with the reason (wrong place,
    wrong squad …); the dispatch clock runs again."""
    reason = _text(reason, "reason", "退单原因", max_length=200)

    def change(o: WorkOrder):
        _check_handler(o, by)
        o.return_reason, o.assignee = reason, None

    def tell(o: WorkOrder):
        notifications.notify_many(_dispatchers(), f"工单 {o.number} 被退单", body=reason, link=_link(o),
                                  level="warning")

    return _run(order, "return", by=by, note=reason, change=change, notify=tell)


def verify(order: WorkOrder, *, by, passed: bool, note: str = "") -> WorkOrder:
    """核查: passed → waits for closure; failed → back to the handler (返工), reason required."""
    if not isinstance(passed, bool):
        raise ValidationFailed("请选择核查结论。", code="required", field="passed")
    if passed:
        return _run(order, "verify", by=by, note=_text(note, "note", "核查意见", required=False),
                    change=lambda o: setattr(o, "verified_at", timezone.now()))
    note = _text(note, "note", "返工原因")

    def tell(o: WorkOrder):
        notifications.notify_many([o.assignee] if o.assignee_id else _squad_members(o.squad, RoleCode.SQUAD_LEADER),
                                  f"工单 {o.number} 核查不通过，需返工", body=note, link=_link(o), level="warning")

    return _run(order, "rework", by=by, note=note, notify=tell)


def close(order: WorkOrder, *, by, note: str = "") -> WorkOrder:
    def change(o: WorkOrder):
        o.closed_at = timezone.now()
        for child in o.repeats.filter(status=S.MERGED):
            child.closed_at = o.closed_at
            _save(child, "close_merged", by)

    return _run(order, "close", by=by, note=_text(note, "note", "结案意见", required=False), change=change)


def reject(order: WorkOrder, *, by, reason: str) -> WorkOrder:
    """非本部门职责: returned to the sender with the reason; the order ends here."""
    reason = _text(reason, "reason", "退回理由", max_length=200)
    return _run(order, "reject", by=by, note=reason,
                change=lambda o: setattr(o, "out_of_remit_reason", reason))


def merge(order: WorkOrder, *, by, parent: WorkOrder, note: str = "") -> WorkOrder:
    """并单: `order` is a repeat of `parent` and is handled with it; it keeps its own number
    and counts separately in statistics (重复件)."""
    note = _text(note, "note", "说明", required=False)
    if not isinstance(parent, WorkOrder):
        raise ValidationFailed("请选择主工单。", code="required", field="parent")
    root = parent
    while root.parent_id:  # merge under the top of the chain
        root = root.parent
    if root.pk == order.pk:
        raise BusinessRuleError("不能把工单并入它自己。", code="merge_self")
    if not WorkOrder.objects.restrict(by, "view").filter(pk=root.pk).exists():
        raise PermissionDenied("主工单不存在或不在您的数据范围内。")
    if root.status in {S.MERGED, S.REJECTED}:
        raise BusinessRuleError(f"主工单状态为“{root.get_status_display()}”，不能并入。", code="invalid_parent")

    def change(o: WorkOrder):
        if o.repeats.exists():
            raise BusinessRuleError("该工单已有并入的重复件，请把其他工单并入它。", code="has_repeats")
        o.parent, o.is_repeat = root, True
        for candidate in o.repeat_candidates.filter(status=RepeatStatus.PENDING):
            candidate.status = RepeatStatus.MERGED if candidate.original_id == root.pk else RepeatStatus.DISMISSED
            candidate.save(audit_action="workorder.repeat.decide", actor=by)
        o.has_repeat_candidates = False

    return _run(order, "merge", by=by, note=note or f"并入 {root.number}", change=change)


def dismiss_repeat(candidate: RepeatCandidate, *, by) -> RepeatCandidate:
    """The dispatcher judged a likely repeat not to be one."""
    with transaction.atomic():
        order = _lock(candidate.order, by)
        _check(order, "classify", by)  # same right as sorting the order out
        candidate = RepeatCandidate.objects.select_for_update().get(pk=candidate.pk)
        if candidate.status != RepeatStatus.PENDING:
            raise BusinessRuleError("该疑似重复已处理。", code="already_decided")
        candidate.status = RepeatStatus.DISMISSED
        candidate.save(audit_action="workorder.repeat.dismiss", actor=by)
        if not order.repeat_candidates.filter(status=RepeatStatus.PENDING).exists():
            order.has_repeat_candidates = False
            _save(order, "repeat.cleared", by)
        _step(order, "dismiss_repeat", order.status, by=by, note=f"与 {candidate.original.number} 非重复")
    return candidate


def escalate(order: WorkOrder, *, by, reason: str) -> WorkOrder:
    """督办: the order is marked for supervised handling; the squad leaders are told."""
    reason = _text(reason, "reason", "督办原因", max_length=200)

    def change(o: WorkOrder):
        o.supervised, o.supervised_reason = True, reason

    def tell(o: WorkOrder):
        recipients = list(_squad_members(o.squad, RoleCode.SQUAD_LEADER)) if o.squad_id else list(_dispatchers())
        notifications.notify_many(recipients, f"督办工单 {o.number}", body=reason, link=_link(o), level="warning")

    return _run(order, "escalate", by=by, note=reason, change=change, notify=tell)


def classify(order: WorkOrder, *, by, category: Category) -> WorkOrder:
    """A person's classification; it becomes training data for the next model. Before
    dispatch the reply limit follows the new category."""
    if not isinstance(category, Category) or not category.is_active:
        raise ValidationFailed("分类不存在或已停用。", code="invalid_category", field="category")
    if category.children.filter(is_active=True).exists():
        raise ValidationFailed(f"请选择“{category.name}”下的具体小类。", code="not_leaf", field="category")

    def change(o: WorkOrder):
        o.category, o.classified_by, o.needs_review = category, ClassifiedBy.PERSON, False
        if o.status in BEFORE_DISPATCH:
            o.reply_due_at = clocks.limit_for("reply", o).due(o.received_at)

    return _run(order, "classify", by=by, note=str(category), change=change)


def locate(order: WorkOrder, *, by, lon=None, lat=None, crs: str = "wgs84", squad: OrgUnit | None = None) -> WorkOrder:
    """The dispatcher places an order: on the map (coordinates → grid → squad) or by naming the squad."""
    if lon is None and lat is None and squad is None:
        raise ValidationFailed("请在地图上选点或选择责任中队。", code="required", field="lon")
    place = place_fields(lon, lat, crs=crs) if (lon is not None or lat is not None) else None

    def change(o: WorkOrder):
        if place:
            for field, value in place.items():
                setattr(o, field, value)
        _set_squad(o, squad)
        o.located_by = LocatedBy.DISPATCHER

    return _run(order, "locate", by=by, change=change)


def request_clock(order: WorkOrder, *, by, kind: str, reason: str, extra_days: int | None = None) -> ClockRequest:
    """Ask for an extension (延期, in working days) or a suspension (挂起: the clock pauses)."""
    if kind not in RequestKind.values:
        raise ValidationFailed("请选择申请类型。", code="invalid_choice", field="kind")
    reason = _text(reason, "reason", "申请理由", max_length=300)
    if kind == RequestKind.EXTENSION:
        limit = settings.WORKORDER_MAX_EXTENSION_DAYS
        if not isinstance(extra_days, int) or isinstance(extra_days, bool) or not 1 <= extra_days <= limit:
            raise ValidationFailed(f"延长天数须为 1–{limit} 个工作日。", code="out_of_range", field="extra_days")
    else:
        extra_days = None
    created = {}

    def change(o: WorkOrder):
        if o.clock_requests.filter(status=RequestStatus.PENDING).exists():
            raise BusinessRuleError("已有待审批的延期或挂起申请。", code="request_pending")
        created["request"] = ClockRequest(order=o, kind=kind, reason=reason, extra_days=extra_days, requested_by=by)
        created["request"].save(audit_action="workorder.clock.request", actor=by)

    def tell(o: WorkOrder):
        approvers = User.objects.filter(is_active=True, roles__code__in=[RoleCode.LEADER, RoleCode.DISPATCHER])
        notifications.notify_many(approvers.distinct(), f"工单 {o.number} {RequestKind(kind).label}申请",
                                  body=reason, link=_link(o))

    name = "request_extension" if kind == RequestKind.EXTENSION else "request_suspension"
    _run(order, name, by=by, note=reason, change=change, notify=tell)
    return created["request"]


def decide_clock(request: ClockRequest, *, by, approve: bool, note: str = "") -> ClockRequest:
    """Approve or reject an extension or suspension. An approved extension moves the reply
    limit by the working days asked; an approved suspension pauses the clock."""
    if not isinstance(approve, bool):
        raise ValidationFailed("请选择审批结论。", code="required", field="approve")
    note = _text(note, "note", "审批意见", required=not approve, max_length=300)
    if not by.has_perm("workorders.approve_workorder"):
        raise PermissionDenied("您没有审批延期和挂起的权限。")
    with transaction.atomic():
        order = _lock(request.order, by)
        request = ClockRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != RequestStatus.PENDING:
            raise BusinessRuleError("该申请已审批。", code="already_decided")
        if request.requested_by_id == by.pk:
            raise BusinessRuleError("不能审批自己的申请。", code="self_approval")
        now = timezone.now()
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        request.decided_by, request.decided_at, request.decision_note = by, now, note
        if approve and request.kind == RequestKind.EXTENSION:
            if order.status not in IN_HANDS:
                raise BusinessRuleError(f"工单当前状态为“{order.get_status_display()}”，不能延期。",
                                        code="invalid_transition")
            base = timezone.localtime(order.reply_due_at or now).date()
            order.reply_due_at = end_of_working_day(add_working_days(base, request.extra_days))
            request.new_due_at = order.reply_due_at
            clocks.clock_for_status(order, now)
            _save(order, "extend", by)
            _step(order, "extend", order.status, by=by,
                  note=f"延期 {request.extra_days} 个工作日至 {timezone.localtime(order.reply_due_at):%Y-%m-%d}")
        request.save(audit_action="workorder.clock.decide", actor=by)
        if approve and request.kind == RequestKind.SUSPENSION:
            _check(order, "suspend", by)
            before = order.status
            order.status, order.suspended_at = S.SUSPENDED, now
            _save(order, "suspend", by)
            _step(order, "suspend", before, by=by, note=request.reason)
        notifications.notify(request.requested_by, f"工单 {order.number} {request.get_kind_display()}申请"
                             f"{request.get_status_display()}", body=note, link=_link(order))
    return request


def resume(order: WorkOrder, *, by, note: str = "") -> WorkOrder:
    """End a suspension: back to the state before it, the due times moved by the paused time."""
    note = _text(note, "note", "说明", required=False)
    with transaction.atomic():
        order = _lock(order, by)
        _check(order, "resume", by)
        paused = order.steps.filter(action="suspend").order_by("-at", "-pk").first()
        now = timezone.now()
        order.status = paused.from_status if paused else S.ACCEPTED
        order.due_at = clocks.shift_after_pause(order.due_at, order.suspended_at or now, now)
        order.reply_due_at = clocks.shift_after_pause(order.reply_due_at, order.suspended_at or now, now)
        order.suspended_at = None
        order.clock_stage = clocks.CLOCK_STAGE.get(order.status, "")
        order.overdue = bool(order.due_at and order.due_at <= now)
        _save(order, "resume", by)
        _step(order, "resume", S.SUSPENDED, by=by, note=note)
    return order


def rate(order: WorkOrder, *, by=None, satisfaction: str, note: str = "") -> WorkOrder:
    """回访评价 by a dispatcher's call-back (`by`) or by the reporter on the status page
    (`by=None`). An unsatisfied rating re-opens the order for re-handling once."""
    if satisfaction not in Satisfaction.values:
        raise ValidationFailed("请选择满意度。", code="invalid_choice", field="satisfaction")
    note = _text(note, "note", "评价说明", required=False)
    with transaction.atomic():
        if by is not None:
            order = _lock(order, by)
            _check(order, "rate", by)
        else:
            order = WorkOrder.objects.select_for_update(of=("self",)).select_related("squad").get(pk=order.pk)
            if order.status not in ACTIONS["rate"].sources:
                raise BusinessRuleError("工单尚未答复，暂不能评价。", code="invalid_transition")
        if order.satisfaction and by is None:
            raise BusinessRuleError("该工单已评价。", code="already_rated")
        before = order.status
        order.satisfaction = satisfaction
        now = timezone.now()
        reopen = satisfaction == Satisfaction.UNSATISFIED and order.reopened == 0
        if reopen:
            order.status, order.reopened = S.HANDLING, order.reopened + 1
            order.closed_at = order.verified_at = None
            order.reply_due_at = clocks.limit_for("reply", order).due(now)
            clocks.clock_for_status(order, now)
        _save(order, "rate", by)
        _step(order, "rate", before, by=by, note=f"{Satisfaction(satisfaction).label} {note}".strip(), at=now)
        if reopen:
            _step(order, "reopen", before, by=by, note="反映人不满意，重新办理", at=now)
            recipients = [order.assignee] if order.assignee_id else list(
                _squad_members(order.squad, RoleCode.SQUAD_LEADER)) if order.squad_id else list(_dispatchers())
            notifications.notify_many(recipients, f"工单 {order.number} 反映人不满意，需重新办理",
                                      link=_link(order), level="warning")
    return order


def convert_to_case(order: WorkOrder, *, by, facts: str, party_name: str = "") -> CaseConversion:
    """诉转案: request an enforcement case from the order, carrying its place, squad, text and
    photos. The cases module takes the request over and fills in the case number."""
    facts = _text(facts, "facts", "违法事实", max_length=2000)
    party_name = _text(party_name, "party_name", "当事人", required=False, max_length=200)
    created = {}

    def change(o: WorkOrder):
        _check_handler(o, by)
        if hasattr(o, "case_conversion"):
            raise BusinessRuleError("该工单已提请立案。", code="already_converted")
        conversion = CaseConversion(order=o, squad=o.squad, facts=facts, party_name=party_name, requested_by=by)
        conversion.save(audit_action="workorder.case_conversion", actor=by)
        created["conversion"] = conversion

    def tell(o: WorkOrder):
        if o.squad_id:
            notifications.notify_many(_squad_members(o.squad, RoleCode.SQUAD_LEADER), f"诉转案：工单 {o.number}",
                                      body=facts[:200], link=_link(o))

    _run(order, "convert_to_case", by=by, note=facts[:200], change=change, notify=tell)
    return created["conversion"]


def record_case_outcome(conversion: CaseConversion, *, case_reference: str, outcome: str = "", by=None):
    """Called by the cases module: the case number and, later, its outcome show on the order."""
    case_reference = _text(case_reference, "case_reference", "案件编号", max_length=64)
    outcome = _text(outcome, "outcome", "案件结果", required=False, max_length=100)
    with transaction.atomic():
        conversion = CaseConversion.objects.select_for_update().select_related("order").get(pk=conversion.pk)
        conversion.case_reference, conversion.outcome = case_reference, outcome
        conversion.save(audit_action="workorder.case_outcome", actor=by)
        order = conversion.order
        order.case_reference = case_reference
        _save(order, "case_outcome", by)
    return conversion
