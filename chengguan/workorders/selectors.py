"""Read queries of the work-order screens: the dispatcher board, the squad and officer lists,
the order page and the dashboard counts. Everything starts from `restrict(user)`, so an order
outside the user's scope is never listed and looks up as a 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone

from chengguan.core.choices import OrgUnitKind, RoleCode
from chengguan.core.fields import mask_name, mask_phone
from chengguan.core.geo import wgs84_to_gcj02
from chengguan.core.models import OrgUnit, User

from .choices import OPEN_STATUSES, RepeatStatus, RequestStatus, Status
from .models import Category, ClockRequest, RepeatCandidate, WorkOrder

BOARD_LIMIT = 30  # orders shown per board section (the count shows how many in all)
BEFORE_DISPATCH = (Status.RECEIVED, Status.ACCEPTED, Status.RETURNED)
IN_HANDS = (Status.DISPATCHED, Status.HANDLING)


def order_list(user, action: str = "view"):
    # The squad's and grid's polygons are not shown in lists; parsing them cost half a page.
    return (WorkOrder.objects.restrict(user, action)
            .select_related("category", "category__parent", "predicted_category", "predicted_category__parent",
                            "squad", "grid", "assignee")
            .defer("squad__jurisdiction", "grid__boundary"))


def end_of_today(now: dt.datetime | None = None) -> dt.datetime:
    """Orders due before this are "due within the day" (临期)."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=23, minute=59, second=59, microsecond=999999)


def is_overdue(order: WorkOrder, now: dt.datetime) -> bool:
    return order.status in OPEN_STATUSES and (order.overdue or (order.due_at is not None and order.due_at <= now))


def deadline_tone(order: WorkOrder, now: dt.datetime, soon: dt.datetime) -> str:
    """"danger" overdue, "warning" due within the day, "" otherwise (list colours)."""
    if order.status not in OPEN_STATUSES or order.status == Status.SUSPENDED:
        return ""
    if is_overdue(order, now):
        return "danger"
    if order.due_at is not None and order.due_at <= soon:
        return "warning"
    return ""


def decorate(orders, *, now=None) -> list[WorkOrder]:
    """Attach the display values list rows need: deadline tone and the masked phone."""
    now = now or timezone.now()
    soon = end_of_today(now)
    rows = list(orders)
    for order in rows:
        order.tone = deadline_tone(order, now, soon)
        order.phone_masked = mask_phone(order.reporter_phone)
    return rows


# --- the dispatcher board -------------------------------------------------------------------

@dataclass
class Section:
    key: str
    title: str
    icon: str
    tone: str
    count: int
    orders: list = field(default_factory=list)
    hint: str = ""


def _pending_candidates():
    return Prefetch("repeat_candidates", to_attr="pending_candidates",
                    queryset=RepeatCandidate.objects.filter(status=RepeatStatus.PENDING)
                    .select_related("original").order_by("-score"))


def board(user) -> list[Section]:
    now = timezone.now()
    orders = order_list(user)
    open_orders = orders.filter(status__in=OPEN_STATUSES)
    specs = [
        ("new", "新工单待签收", "inbox", "primary", orders.filter(status=Status.RECEIVED).order_by("received_at", "pk"),
         "签收后进入待派遣。"),
        ("dispatch", "待派遣", "send", "info",
         orders.filter(status__in=(Status.ACCEPTED, Status.RETURNED)).order_by("due_at", "pk"),
         "选择中队（可同时指定处置人）后派遣。"),
        ("unlocated", "未定位", "geo-alt", "secondary",
         orders.filter(status__in=BEFORE_DISPATCH, squad__isnull=True).order_by("received_at", "pk"),
         "既无坐标也未匹配到标准地址：请在地图上选点或指定中队。"),
        ("review", "低置信度待人工分类", "tags", "warning",
         open_orders.filter(needs_review=True).order_by("received_at", "pk"),
         "自动分类置信度不足，请确定分类。"),
        ("repeats", "疑似重复", "files", "warning",
         open_orders.filter(has_repeat_candidates=True).prefetch_related(_pending_candidates())
         .order_by("received_at", "pk"), "确认后并入原工单，或判定为非重复。"),
        ("deadline", "超时/临期", "alarm", "danger",
         open_orders.exclude(status=Status.SUSPENDED)
         .filter(Q(overdue=True) | Q(due_at__lte=end_of_today(now))).order_by("due_at", "pk"),
         "已超时或今天到期的工单。"),
        ("supervised", "督办", "flag", "danger", open_orders.filter(supervised=True).order_by("due_at", "pk"),
         "领导或督察要求督办的工单。"),
    ]
    sections = []
    for key, title, icon, tone, queryset, hint in specs:
        sections.append(Section(key, title, icon, tone, queryset.count(),
                                decorate(queryset[:BOARD_LIMIT], now=now), hint))
    return sections


# --- squads and officers --------------------------------------------------------------------

SQUAD_GROUPS = [
    ("unassigned", "待指派处置人", Q(status=Status.DISPATCHED, assignee__isnull=True)),
    ("assigned", "已派遣待处置", Q(status=Status.DISPATCHED, assignee__isnull=False)),
    ("handling", "处置中", Q(status=Status.HANDLING)),
    ("replied", "已反馈待核查", Q(status=Status.REPLIED)),
    ("suspended", "已挂起", Q(status=Status.SUSPENDED)),
]


def squad_work(user, squad_id: int | None = None) -> list[Section]:
    now = timezone.now()
    orders = order_list(user).filter(squad__isnull=False)
    if squad_id:
        orders = orders.filter(squad_id=squad_id)
    groups = []
    for key, title, condition in SQUAD_GROUPS:
        queryset = orders.filter(condition).order_by("due_at", "received_at", "pk")
        groups.append(Section(key, title, "", "", queryset.count(), decorate(queryset[:200], now=now)))
    return groups


def squad_members(squad: OrgUnit | None):
    """Officers and squad leaders of a squad who may be named to handle an order."""
    if squad is None:
        return User.objects.none()
    return (User.objects.filter(is_active=True, org_unit__path__startswith=squad.path,
                                roles__code__in=[RoleCode.OFFICER, RoleCode.SQUAD_LEADER])
            .distinct().select_related("org_unit").defer("org_unit__jurisdiction").order_by("real_name", "pk"))


def handlers_in_scope(user):
    """Everyone the user may name as handler: officers of the squads in the user's scope."""
    paths = Q()
    for path in squads_in_scope(user).values_list("path", flat=True):
        paths |= Q(org_unit__path__startswith=path)
    if not paths:
        return User.objects.none()
    return (User.objects.filter(paths, is_active=True, roles__code__in=[RoleCode.OFFICER, RoleCode.SQUAD_LEADER])
            .distinct().select_related("org_unit").defer("org_unit__jurisdiction")
            .order_by("org_unit__path", "real_name", "pk"))


def squads_in_scope(user):
    return (OrgUnit.objects.restrict(user).filter(kind=OrgUnitKind.SQUAD, is_active=True).defer("jurisdiction")
            .order_by("path"))


def squad_of(user) -> OrgUnit | None:
    return user.org_unit.ancestor_of_kind(OrgUnitKind.SQUAD) if user.org_unit_id else None


@dataclass
class Navigation:
    """What an officer needs to get to the place: coordinates for GPS apps (WGS-84) and for
    Chinese map apps (GCJ-02), a geo: link and one line of text to copy."""

    lon: float
    lat: float
    gcj_lon: float
    gcj_lat: float
    geo_uri: str
    text: str


def navigation(order: WorkOrder) -> Navigation | None:
    if order.lon is None or order.lat is None:
        return None
    gcj_lon, gcj_lat = wgs84_to_gcj02(order.lon, order.lat)
    label = (order.address or order.number).replace("(", "（").replace(")", "）")
    geo_uri = f"geo:{order.lat:.6f},{order.lon:.6f}?q={order.lat:.6f},{order.lon:.6f}({label})"
    text = (f"{order.number} {order.address or ''}\n"
            f"WGS-84（GPS）：{order.lat:.6f},{order.lon:.6f}\n"
            f"GCJ-02（高德/腾讯）：{gcj_lat:.6f},{gcj_lon:.6f}").replace("  ", " ")
    return Navigation(order.lon, order.lat, gcj_lon, gcj_lat, geo_uri, text)


def my_orders(user) -> list[WorkOrder]:
    orders = (order_list(user).filter(assignee=user, status__in=IN_HANDS).order_by("due_at", "received_at", "pk"))
    rows = decorate(orders)
    for order in rows:
        order.nav = navigation(order)
    return rows


# --- the order page -------------------------------------------------------------------------

def order_for_page(user, pk: int) -> WorkOrder | None:
    return (order_list(user).select_related("parent", "created_by")
            .prefetch_related("photos").filter(pk=pk).first())


STEP_LABELS = {"receive": "受理", "dismiss_repeat": "判定非重复", "extend": "批准延期", "close_merged": "随主工单结案"}


def step_label(action: str) -> str:
    from .services import workflow

    try:
        return STEP_LABELS.get(action) or workflow.label(action)
    except KeyError:
        return action


def order_related(order: WorkOrder) -> dict:
    steps = list(order.steps.select_related("actor").order_by("at", "pk"))
    for step in steps:
        step.label = step_label(step.action)
    return {
        "steps": steps,
        "handlings": list(order.handlings.select_related("officer").prefetch_related("photos")
                          .order_by("created_at", "pk")),
        "clock_requests": list(order.clock_requests.select_related("requested_by", "decided_by")
                               .order_by("-requested_at", "-pk")),
        "candidates": list(order.repeat_candidates.select_related("original").order_by("status", "-score")),
        "repeats": list(order.repeats.order_by("received_at", "pk").only("pk", "number", "status", "received_at")),
        "conversion": getattr(order, "case_conversion", None),
    }


def leaf_categories():
    """Active categories without active children (the ones an order may be classified as)."""
    return (Category.objects.filter(is_active=True).exclude(children__is_active=True)
            .select_related("parent").order_by("parent__order", "parent__code", "order", "code"))


def contact(order: WorkOrder, user) -> dict:
    full = user.has_perm("workorders.view_workorder_contact")
    return {
        "full": full,
        "name": order.reporter_name if full else mask_name(order.reporter_name),
        "phone": order.reporter_phone if full else mask_phone(order.reporter_phone),
        "tel": "".join(ch for ch in order.reporter_phone if ch.isdigit() or ch == "+") if full else "",
    }


# --- clock requests -------------------------------------------------------------------------

def pending_clock_requests(user):
    return (ClockRequest.objects.filter(status=RequestStatus.PENDING,
                                        order__in=WorkOrder.objects.restrict(user).values("pk"))
            .select_related("order", "order__squad", "order__category", "requested_by")
            .order_by("requested_at", "pk"))


def clock_request_for(user, pk: int) -> ClockRequest | None:
    return (ClockRequest.objects.filter(pk=pk, order__in=WorkOrder.objects.restrict(user).values("pk"))
            .select_related("order").first())


# --- dashboard ------------------------------------------------------------------------------

def awaiting_q(user) -> Q | None:
    """Orders that wait for something this user's roles do (None: nothing for this user)."""
    parts = []
    if user.has_perm("workorders.intake_workorder"):  # the command centre takes in and dispatches
        parts.append(Q(status__in=BEFORE_DISPATCH))
    elif user.has_perm("workorders.dispatch_workorder"):  # squad leaders name the handler
        parts.append(Q(status=Status.DISPATCHED, assignee__isnull=True))
    if user.has_perm("workorders.handle_workorder"):
        parts.append(Q(status__in=IN_HANDS, assignee=user))
    if user.has_perm("workorders.verify_workorder"):
        parts.append(Q(status__in=(Status.REPLIED, Status.VERIFIED)))
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition |= part
    return condition


def export_columns(user):
    """(header, getter) pairs of the Excel export; contact details masked without the perm."""
    full = user.has_perm("workorders.view_workorder_contact")

    def when(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    def yes(value):
        return "是" if value else "否"

    return [
        ("工单编号", lambda o: o.number),
        ("来源渠道", lambda o: o.get_channel_display()),
        ("外部工单号", lambda o: o.external_ticket),
        ("标题", lambda o: o.title),
        ("诉求内容", lambda o: o.text),
        ("地址", lambda o: o.address),
        ("经度", lambda o: o.lon),
        ("纬度", lambda o: o.lat),
        ("网格", lambda o: o.grid.code if o.grid_id else ""),
        ("责任中队", lambda o: o.squad.name if o.squad_id else ""),
        ("分类", lambda o: str(o.category) if o.category_id else ""),
        ("状态", lambda o: o.get_status_display()),
        ("处置人", lambda o: o.assignee.real_name if o.assignee_id else ""),
        ("反映人", lambda o: o.reporter_name if full else mask_name(o.reporter_name)),
        ("联系电话", lambda o: o.reporter_phone if full else mask_phone(o.reporter_phone)),
        ("受理时间", lambda o: when(o.received_at)),
        ("当前环节时限", lambda o: when(o.due_at)),
        ("处置反馈时限", lambda o: when(o.reply_due_at)),
        ("已超时", lambda o: yes(o.overdue)),
        ("重复件", lambda o: yes(o.is_repeat)),
        ("督办", lambda o: yes(o.supervised)),
        ("处置结果", lambda o: o.get_result_display() if o.result else ""),
        ("满意度", lambda o: o.get_satisfaction_display() if o.satisfaction else ""),
        ("结案时间", lambda o: when(o.closed_at)),
    ]
