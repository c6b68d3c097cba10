"""Server-rendered pages of the work-order module: the dispatcher board (调度台), the order
list with its Excel export, the squad work list, the officer's phone list, the order page with
its next allowed actions, the staff's new-order form and the extension/suspension approvals.
Views stay thin: reads come from selectors (scoped, so out of scope is a 404), every change is
one workflow verb posted to `order_action` (a refusal shows its Chinese message, nothing is
saved)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chengguan.core.errors import ValidationFailed
from chengguan.core.exports import xlsx_response
from chengguan.core.models import Grid

from . import selectors
from .choices import Channel, Status
from .filters import WorkOrderFilter
from .forms import ACTION_FORMS, RIDES_ON, NewOrderForm, action_form, squads_of_people
from .models import WorkOrder
from .services import stats, workflow

PAGE_SIZE = 50
# Actions shown as one button (no inputs worth a form of their own).
ONE_CLICK = {"accept", "start"}
# Actions that need the map on the order page.
MAP_ACTIONS = {"locate"}


def _page(request, queryset, size=PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _map_config(**extra) -> dict:
    return {"tileUrl": settings.MAP_TILE_URL, "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
            "layersUrl": reverse("core:map_layers"), **extra}


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return None


def _is_centre(user) -> bool:
    return user.has_perm("workorders.intake_workorder")


# --- the board and the lists ----------------------------------------------------------------

@login_required
@permission_required("workorders.view_workorder", raise_exception=True)
def index(request):
    """The command centre's board; other roles land on their own list."""
    user = request.user
    if not _is_centre(user):
        if user.has_perm("workorders.handle_workorder") and not user.has_perm("workorders.dispatch_workorder"):
            return redirect("workorders:mine")
        return redirect("workorders:squad")
    sections = selectors.board(user)
    squads = list(selectors.squads_in_scope(user))
    people = list(selectors.handlers_in_scope(user))
    squad_ids = squads_of_people(people, squads)
    return render(request, "workorders/board.html", {
        "sections": sections,
        "squads": squads,
        "officers": [(p, ",".join(str(i) for i in squad_ids[p.pk])) for p in people],
        "categories": list(selectors.leaf_categories()),
    })


@login_required
@permission_required("workorders.view_workorder", raise_exception=True)
def order_list(request):
    user = request.user
    filterset = WorkOrderFilter(request.GET, queryset=selectors.order_list(user))
    page = _page(request, filterset.qs)
    page.object_list = selectors.decorate(page.object_list)
    squad = filterset.form.data.get("squad")
    grids = Grid.objects.restrict(user).filter(is_active=True).order_by("code")
    # a district has thousands of grids: offer them once a squad is chosen, or when few
    grids = list(grids.filter(squad_id=squad)[:300]) if squad and str(squad).isdigit() else list(grids[:301])
    return render(request, "workorders/order_list.html", {
        "filter": filterset,
        "page": page,
        "channels": Channel.choices,
        "statuses": Status.choices,
        "categories": selectors.leaf_categories(),
        "squads": selectors.squads_in_scope(user),
        "grids": grids if len(grids) <= 300 else [],
        "import_url": reverse("workorders:import"),
        "more_filters": sum(1 for k in ("channel", "status", "category", "squad", "grid", "overdue", "repeat",
                                        "received_from", "received_to") if request.GET.get(k)),
    })


@login_required
@permission_required("workorders.export_workorder", raise_exception=True)
def order_export(request):
    user = request.user
    filterset = WorkOrderFilter(request.GET, queryset=selectors.order_list(user))
    return xlsx_response("工单", selectors.export_columns(user), filterset.qs.iterator(chunk_size=2000),
                         model=WorkOrder, filters=request.GET.dict(), actor=user)


@login_required
@permission_required("workorders.view_workorder", raise_exception=True)
def squad_work(request):
    user = request.user
    squads = list(selectors.squads_in_scope(user))
    squad_id = request.GET.get("squad")
    squad_id = int(squad_id) if squad_id and squad_id.isdigit() and any(s.pk == int(squad_id) for s in squads) \
        else None
    groups = selectors.squad_work(user, squad_id)
    can_assign = user.has_perm("workorders.dispatch_workorder")
    officers = {}
    if can_assign:
        for squad in squads:
            officers[squad.pk] = list(selectors.squad_members(squad))
        for group in groups:
            for order in group.orders:
                order.officers = officers.get(order.squad_id, [])
    return render(request, "workorders/squad_work.html", {
        "groups": groups, "squads": squads, "squad_id": squad_id, "can_assign": can_assign,
        "own_squad": selectors.squad_of(user),
    })


@login_required
@permission_required("workorders.handle_workorder", raise_exception=True)
def my_orders(request):
    orders = selectors.my_orders(request.user)
    points = [{"id": o.pk, "number": o.number, "lon": o.lon, "lat": o.lat, "address": o.address,
               "url": reverse("workorders:detail", args=[o.pk])} for o in orders if o.lon is not None]
    return render(request, "workorders/mine.html", {
        "orders": orders, "points": points, "map_config": _map_config(),
        "sees_contact": request.user.has_perm("workorders.view_workorder_contact"),
    })


# --- the order page and its actions ---------------------------------------------------------

def _get_order(user, pk) -> WorkOrder:
    order = selectors.order_for_page(user, pk)
    if order is None:
        raise Http404("工单不存在或不在您的数据范围内。")
    return order


def _action_forms(order, user, bound=None) -> list:
    """The forms of the next allowed actions, in table order; `bound` replaces one of them
    (the one just refused, with its errors)."""
    forms, seen = [], set()
    for verb in workflow.allowed_actions(order, user):
        name = {"rework": "verify"}.get(verb, verb)
        if name in seen or name not in ACTION_FORMS:
            continue
        seen.add(name)
        form = bound if bound is not None and bound.verb == name else action_form(name, order, user)
        form.one_click = name in ONE_CLICK
        forms.append(form)
    return forms


def _detail_context(request, order, bound=None) -> dict:
    user = request.user
    now = timezone.now()
    allowed = set(workflow.allowed_actions(order, user))
    related = selectors.order_related(order)
    order.tone = selectors.deadline_tone(order, now, selectors.end_of_today(now))
    can_decide = user.has_perm("workorders.approve_workorder")
    return {
        "order": order,
        "forms": _action_forms(order, user, bound),
        "allowed": allowed,
        "can_merge": "merge" in allowed,
        "can_dismiss": "classify" in allowed,
        "can_decide": can_decide,
        "contact": selectors.contact(order, user),
        "nav": selectors.navigation(order),
        "map_config": _map_config(),
        "point": {"lon": order.lon, "lat": order.lat, "number": order.number} if order.lon is not None else None,
        "pick_point": "locate" in allowed,
        "confidence_pct": round(order.confidence * 100) if order.confidence is not None else None,
        "overdue_now": selectors.is_overdue(order, now),
        **related,
    }


@login_required
@permission_required("workorders.view_workorder", raise_exception=True)
def order_detail(request, pk):
    order = _get_order(request.user, pk)
    return render(request, "workorders/detail.html", _detail_context(request, order))


DONE = {
    "accept": "工单 {n} 已签收。", "dispatch": "工单 {n} 已派遣。", "reassign": "工单 {n} 已改派。",
    "assign": "工单 {n} 已指派处置人。", "start": "已开始处置工单 {n}。", "reply": "工单 {n} 处置情况已反馈。",
    "return": "工单 {n} 已退回调度。", "verify": "工单 {n} 核查意见已提交。", "close": "工单 {n} 已结案。",
    "reject": "工单 {n} 已按非本部门职责退回。", "merge": "工单 {n} 已并单。", "dismiss_repeat": "已判定为非重复。",
    "escalate": "工单 {n} 已列为督办。", "classify": "工单 {n} 分类已确定。", "locate": "工单 {n} 已定位。",
    "request_extension": "延期申请已提交，等待审批。", "request_suspension": "挂起申请已提交，等待审批。",
    "resume": "工单 {n} 已恢复办理。", "rate": "回访评价已记录。", "convert_to_case": "已提请立案（诉转案）。",
    "decide_clock": "审批意见已提交。",
}


@login_required
@require_POST
def order_action(request, pk, verb):
    """Run one verb on one order. Unknown verbs and orders out of scope: 404. A verb the
    user may not run now, bad input or a refused step: the Chinese message, nothing changed."""
    if verb not in ACTION_FORMS:
        raise Http404("未知的操作。")
    user = request.user
    order = _get_order(user, pk)
    form = action_form(verb, order, user, request.POST, request.FILES)
    gate = RIDES_ON.get(verb, verb)
    allowed = workflow.allowed_actions(order, user)
    if gate is not None and gate not in allowed and not (verb == "verify" and "rework" in allowed):
        label = form.label or workflow.label(verb)
        form.is_valid()
        form.errors.clear()
        form.add_error(None, f"工单当前状态为“{order.get_status_display()}”或您的权限不允许“{label}”。")
    elif form.is_valid() and form.save() is not None:
        messages.success(request, DONE.get(verb, "操作已完成。").format(n=order.number))
        target = _safe_next(request)
        if target:
            return redirect(target)
        if WorkOrder.objects.restrict(user).filter(pk=order.pk).exists():
            return redirect("workorders:detail", pk=order.pk)
        return redirect("workorders:index")  # sent to a squad outside the user's scope
    errors = [str(e) for e in form.non_field_errors()] + [
        f"{form.fields[name].label or ''}：{error}" if form.fields[name].label else str(error)
        for name, field_errors in form.errors.items() if name != "__all__" for error in field_errors]
    messages.error(request, "；".join(errors) or "操作未完成。")
    target = _safe_next(request)
    if target:
        return redirect(target)
    order = _get_order(user, pk)  # as it is now: nothing was changed
    form.order = order
    return render(request, "workorders/detail.html", _detail_context(request, order, bound=form), status=200)


# --- new orders -----------------------------------------------------------------------------

@login_required
@permission_required("workorders.add_workorder", raise_exception=True)
def order_create(request):
    photos = request.FILES.getlist("photos")
    form = NewOrderForm(request.POST or None, user=request.user, photos=photos)
    if request.method == "POST" and form.is_valid() and (order := form.save()) is not None:
        messages.success(request, f"工单 {order.number} 已受理。")
        if WorkOrder.objects.restrict(request.user).filter(pk=order.pk).exists():
            return redirect("workorders:detail", pk=order.pk)
        return redirect("workorders:index")
    return render(request, "workorders/create.html", {
        "form": form, "map_config": _map_config(), "had_photos": bool(photos) and request.method == "POST",
    })


# --- extension and suspension approvals -----------------------------------------------------

@login_required
@permission_required("workorders.approve_workorder", raise_exception=True)
def clock_requests(request):
    return render(request, "workorders/clock_requests.html", {
        "pending": list(selectors.pending_clock_requests(request.user)),
    })


# --- indicators -------------------------------------------------------------------------------

class StatsRangeForm(forms.Form):
    start = forms.DateField(label="统计日期起", required=False)
    end = forms.DateField(label="统计日期止", required=False)


# (Chinese header, attribute of stats.SquadIndicators): the page's table and the Excel export.
STATS_COLUMNS = [
    ("中队", "squad_name"), ("受理数", "received"), ("重复件数", "repeats"), ("非本部门职责退回数", "rejected"),
    ("结案数", "closed"), ("按期结案数", "closed_on_time"), ("应结案数", "due"), ("结案率(%)", "closure_rate"),
    ("按期结案率(%)", "on_time_rate"), ("处置数", "handled"), ("返工数", "reworked"), ("返工率(%)", "rework_rate"),
    ("评价数", "rated"), ("满意率(%)", "satisfaction_rate"), ("诉转案数", "converted"),
    ("诉转案率(%)", "conversion_rate"), ("超时在办数", "overdue_now"),
]


def _indicators(request):
    """(form, start, end, rows or None); a bad range leaves rows None and the error on the form."""
    form = StatsRangeForm(request.GET or None)
    today = timezone.localdate()
    start, end = today.replace(day=1), today
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    elif form.is_bound:
        return form, start, end, None
    try:
        return form, start, end, stats.indicators_by_squad(start, end, request.user)
    except ValidationFailed as error:
        form.add_error(None, error.message)
        return form, start, end, None


@login_required
@permission_required("workorders.view_stats", raise_exception=True)
def stats_page(request):
    form, start, end, rows = _indicators(request)
    table = [[getattr(row, attr) for _, attr in STATS_COLUMNS] for row in rows or []]
    return render(request, "workorders/stats.html", {
        "form": form, "start": start, "end": end, "headers": [h for h, _ in STATS_COLUMNS],
        "rows": list(zip(rows or [], table, strict=True)),
    })


@login_required
@permission_required("workorders.view_stats", raise_exception=True)
def stats_export(request):
    form, start, end, rows = _indicators(request)
    if rows is None:
        messages.error(request, "；".join(str(e) for e in form.errors.values()) or "统计区间有误。")
        return redirect("workorders:stats")
    columns = [(header, lambda row, attr=attr: _cell(getattr(row, attr))) for header, attr in STATS_COLUMNS]
    return xlsx_response(f"工单考核指标 {start:%Y%m%d}-{end:%Y%m%d}", columns, rows, model=WorkOrder,
                         filters={"start": start.isoformat(), "end": end.isoformat()}, actor=request.user)


def _cell(value):
    return float(value) if hasattr(value, "quantize") else value
