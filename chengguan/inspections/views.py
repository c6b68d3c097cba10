"""Server-rendered pages of the inspections module: registry, object profile, tier rules,
draw plans, inspection calendar, the officer's mobile list and inspection form, records.
Views stay thin: reads come from selectors (scoped, so out of scope is a 404), writes go
through forms and service verbs (a refusal shows its Chinese message, nothing is saved)."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from chengguan.core.errors import ChengguanError
from chengguan.core.exports import XLSX, xlsx_response
from chengguan.core.fields import mask_id_number, mask_phone
from chengguan.core.models import OrgUnit
from chengguan.core.selectors import squads_in_scope

from . import selectors
from .choices import CreditGrade, InspectionOutcome, PlanStatus, TaskStatus, Tier
from .filters import DrawPlanFilter, InspectionRecordFilter, RegulatedObjectFilter
from .forms import (
    ConflictForm,
    DrawPlanForm,
    ImportForm,
    InspectionForm,
    ManualTaskForm,
    MergeForm,
    ReasonForm,
    RegulatedObjectForm,
    ScheduleForm,
    TierRuleForm,
)
from .models import DrawPlan, ObjectType, RegulatedObject
from .services import draws, records, registry, tiering

PAGE_SIZE = 50
MAX_PHOTOS = 9


def _page(request, queryset, size=PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _refused(request, exc: ChengguanError) -> None:
    messages.error(request, exc.message)


def _form_page(request, form, title, cancel_url, *, intro=""):
    return render(request, "inspections/form.html", {"form": form, "title": title, "cancel_url": cancel_url,
                                                     "intro": intro})


# --- registry -------------------------------------------------------------------------------

@login_required
def object_list(request):
    filterset = RegulatedObjectFilter(request.GET, queryset=selectors.object_list(request.user))
    view = "map" if request.GET.get("view") == "map" else "list"
    context = {
        "filter": filterset,
        "view": view,
        "squads": squads_in_scope(request.user),
        "grids": selectors.grids_for_filter(request.user, filterset.form.data.get("squad") or None),
        "object_types": selectors.object_types(),
        "tiers": Tier.choices,
        "credit_grades": CreditGrade.choices,
        "states": RegulatedObjectFilter.STATES,
        "today": timezone.localdate(),
        # how many filters besides the text search are set (they fold away on phones)
        "more_filters": sum(1 for k in ("object_type", "squad", "grid", "tier", "credit_grade", "overdue")
                            if request.GET.get(k)) + (request.GET.get("state", "active") != "active"),
    }
    if view == "list":
        context["page"] = _page(request, filterset.qs)
    else:
        context["map_config"] = {"tileUrl": settings.MAP_TILE_URL, "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
                                 "dataUrl": reverse("inspections:object_map_data"),
                                 "layersUrl": reverse("core:map_layers")}
    return render(request, "inspections/object_list.html", context)


@login_required
@require_GET
def object_map_data(request):
    filterset = RegulatedObjectFilter(request.GET, queryset=selectors.object_list(request.user))
    if not filterset.is_valid():
        return JsonResponse({"code": "invalid", "message": "查询条件有误。", "errors": []}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    features, total = selectors.object_map_features(filterset.qs)
    for feature in features:
        props = feature["properties"]
        props["url"] = reverse("inspections:object_detail", args=[props["id"]])
        props["tier_label"] = Tier(props["tier"]).label
    return JsonResponse({"type": "FeatureCollection", "features": features, "total": total,
                         "limit": selectors.MAP_MAX_OBJECTS}, json_dumps_params={"ensure_ascii": False})


@login_required
def object_export(request):
    filterset = RegulatedObjectFilter(request.GET, queryset=selectors.object_list(request.user))
    return xlsx_response("监管对象", registry.export_columns(request.user), filterset.qs.iterator(chunk_size=2000),
                         model=RegulatedObject, filters=request.GET.dict(), actor=request.user)


@login_required
@permission_required("inspections.import_regulatedobject", raise_exception=True)
def object_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = registry.import_objects(form.cleaned_data["file"], by=request.user)
        except ChengguanError as exc:
            form.add_error("file", exc.message)
        else:
            if not result.errors:
                messages.success(request, f"导入完成：新增 {result.created} 个，更新 {result.updated} 个监管对象。")
                return redirect("inspections:index")
    return render(request, "inspections/object_import.html", {
        "form": form, "result": result,
    })


@login_required
@permission_required("inspections.import_regulatedobject", raise_exception=True)
def object_import_template(request):
    response = HttpResponse(registry.import_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "监管对象导入模板.xlsx")
    return response


@login_required
@permission_required("inspections.add_regulatedobject", raise_exception=True)
def object_create(request):
    form = RegulatedObjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and (obj := form.save()) is not None:
        messages.success(request, f"监管对象“{obj}”已登记。")
        return redirect("inspections:object_detail", pk=obj.pk)
    return _form_page(request, form, "登记监管对象", reverse("inspections:index"))


@login_required
@permission_required("inspections.change_regulatedobject", raise_exception=True)
def object_edit(request, pk):
    obj = get_object_or_404(selectors.object_list(request.user, "change"), pk=pk)
    form = RegulatedObjectForm(request.POST or None, user=request.user, instance=obj)
    if request.method == "POST" and form.is_valid() and (saved := form.save()) is not None:
        messages.success(request, f"监管对象“{saved}”已保存。")
        return redirect("inspections:object_detail", pk=saved.pk)
    return _form_page(request, form, f"编辑监管对象：{obj}", reverse("inspections:object_detail", args=[pk]))


@login_required
def object_detail(request, pk):
    obj = get_object_or_404(selectors.object_list(request.user), pk=pk)
    sees_contact = request.user.has_perm("inspections.view_regulatedobject_contact")
    return render(request, "inspections/object_detail.html", {
        "obj": obj,
        "contact_phone": obj.contact_phone if sees_contact else mask_phone(obj.contact_phone),
        "id_number": mask_id_number(obj.id_number),
        "history": registry.object_history(obj),
        "tier_rule": selectors.tier_rule_for(obj.object_type),
        "today": timezone.localdate(),
        **selectors.object_profile(request.user, obj),
    })


@login_required
@permission_required("inspections.add_inspectorconflict", raise_exception=True)
def object_conflict(request, pk):
    obj = get_object_or_404(selectors.object_list(request.user), pk=pk)
    form = ConflictForm(request.POST or None, user=request.user, obj=obj)
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        messages.success(request, "回避申报已登记：该人员不会被抽中检查此对象。")
        return redirect("inspections:object_detail", pk=pk)
    return _form_page(request, form, f"回避申报：{obj}", reverse("inspections:object_detail", args=[pk]),
                      intro="与检查对象有利害关系的执法人员应当回避（《行政处罚法》第四十三条）。申报后，抽查时不会将其派往该对象。")


@login_required
@permission_required("inspections.merge_regulatedobject", raise_exception=True)
def object_merge(request, pk):
    obj = get_object_or_404(selectors.object_list(request.user, "change"), pk=pk)
    candidates = registry.find_duplicates(obj)
    form = MergeForm(request.POST or None, user=request.user, obj=obj, candidates=candidates)
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        messages.success(request, "重复记录已并入本对象，原记录已停管并指向本对象。")
        return redirect("inspections:object_detail", pk=pk)
    return render(request, "inspections/object_merge.html", {"obj": obj, "form": form, "candidates": candidates})


@login_required
@permission_required("inspections.add_inspectiontask", raise_exception=True)
def object_task_create(request, pk):
    obj = get_object_or_404(selectors.object_list(request.user), pk=pk)
    form = ManualTaskForm(request.POST or None, user=request.user, obj=obj)
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        messages.success(request, "专项检查任务已安排。")
        return redirect("inspections:object_detail", pk=pk)
    return _form_page(request, form, f"安排专项检查：{obj}", reverse("inspections:object_detail", args=[pk]))


# --- tier rules -----------------------------------------------------------------------------

@login_required
@permission_required("inspections.view_tierrule", raise_exception=True)
def tier_rules(request):
    return render(request, "inspections/tier_rules.html", {"types": selectors.tier_rules(), "tiers": Tier.choices})


@login_required
@permission_required("inspections.change_tierrule", raise_exception=True)
def tier_rule_edit(request, type_pk):
    object_type = get_object_or_404(ObjectType, pk=type_pk)
    form = TierRuleForm(request.POST or None, user=request.user, object_type=object_type,
                        rule=selectors.tier_rule_for(object_type))
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        messages.success(request, f"“{object_type}”的分级规则已保存。对象等级将在下次重新分级时按新规则计算。")
        return redirect("inspections:tier_rules")
    return render(request, "inspections/tier_rule_form.html", {"form": form, "object_type": object_type})


@login_required
@require_POST
@permission_required("inspections.recompute_tiers", raise_exception=True)
def tier_recompute(request):
    try:
        result = tiering.recompute_tiers(RegulatedObject.objects.restrict(request.user), by=request.user)
    except ChengguanError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"重新分级完成：检查 {result.checked} 个对象，{result.changed} 个等级或应检日期有变化。")
    return redirect("inspections:tier_rules")


# --- draw plans -----------------------------------------------------------------------------

@login_required
def plan_list(request):
    filterset = DrawPlanFilter(request.GET, queryset=selectors.plan_list(request.user))
    return render(request, "inspections/plan_list.html", {
        "filter": filterset, "page": _page(request, filterset.qs), "statuses": PlanStatus.choices,
        "object_types": selectors.object_types(),
    })


@login_required
@permission_required("inspections.add_drawplan", raise_exception=True)
def plan_create(request):
    form = DrawPlanForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and (plan := form.save()) is not None:
        messages.success(request, f"抽查计划“{plan}”已创建（草稿）。核对后请冻结名单并承诺种子。")
        return redirect("inspections:plan_detail", pk=plan.pk)
    return render(request, "inspections/plan_form.html", {"form": form})


# What each lifecycle button does: action → (status it starts from, service verb, message)
PLAN_ACTIONS = {
    "commit": (PlanStatus.DRAFT, "commit_plan", "对象名录和检查人员名录已冻结，随机种子的哈希值已公布。"),
    "draw": (PlanStatus.COMMITTED, "run_draw", "已完成抽取，随机种子已公开。"),
    "publish": (PlanStatus.DRAWN, "publish_plan", "抽查计划和抽取结果已在公示平台公开。"),
}


@login_required
def plan_detail(request, pk):
    plan = get_object_or_404(selectors.plan_list(request.user).select_related("population_file", "pool_file"), pk=pk)
    can_change = (request.user.has_perm("inspections.change_drawplan")
                  and DrawPlan.objects.restrict(request.user, "change").filter(pk=pk).exists())
    selections = selectors.plan_selections(plan, limit=500)
    return render(request, "inspections/plan_detail.html", {
        "plan": plan,
        "can_change": can_change,
        "next_action": next((a for a, (status, *_rest) in PLAN_ACTIONS.items() if status == plan.status), None),
        "can_redraw": plan.status in (PlanStatus.COMMITTED, PlanStatus.DRAWN, PlanStatus.PUBLISHED),
        "selections": selections,
        "selection_total": plan.selection_count,
        "redraw_form": ReasonForm(),
        "filters": _plan_filter_labels(plan),
        "verify": _verify(plan, request.user) if request.GET.get("verify") == "1" else None,
    })


def _plan_filter_labels(plan) -> list[str]:
    filters = plan.population_filters or {}
    labels = []
    if filters.get("squads"):
        names = OrgUnit.objects.filter(pk__in=filters["squads"]).order_by("path").values_list("name", flat=True)
        labels.append("中队：" + "、".join(names))
    if filters.get("tiers"):
        labels.append("监管等级：" + "、".join(Tier(int(t)).label for t in filters["tiers"]))
    if filters.get("credit_grades"):
        labels.append("信用等级：" + "、".join(filters["credit_grades"]))
    return labels


def _verify(plan, user):
    return draws.verify_plan(plan, by=user)


@login_required
@require_POST
@permission_required("inspections.change_drawplan", raise_exception=True)
def plan_action(request, pk, action):
    plan = get_object_or_404(DrawPlan.objects.restrict(request.user, "change"), pk=pk)
    if action not in PLAN_ACTIONS:
        return redirect("inspections:plan_detail", pk=pk)
    _status, verb, done = PLAN_ACTIONS[action]
    try:
        getattr(draws, verb)(plan, by=request.user)
    except ChengguanError as exc:
        _refused(request, exc)
    else:
        messages.success(request, done)
    return redirect("inspections:plan_detail", pk=pk)


@login_required
@require_POST
@permission_required("inspections.change_drawplan", raise_exception=True)
def plan_redraw(request, pk):
    plan = get_object_or_404(DrawPlan.objects.restrict(request.user, "change"), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "重新抽取须填写理由。")
        return redirect("inspections:plan_detail", pk=pk)
    try:
        new_plan = draws.redraw(plan, by=request.user, reason=form.cleaned_data["reason"])
    except ChengguanError as exc:
        _refused(request, exc)
        return redirect("inspections:plan_detail", pk=pk)
    messages.success(request, f"已新建重抽计划“{new_plan}”，原计划作废并保留记录。")
    return redirect("inspections:plan_detail", pk=new_plan.pk)


# --- calendar, tasks and the inspection form ------------------------------------------------

def _month(value: str | None) -> dt.date:
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def task_calendar(request):
    month = _month(request.GET.get("month"))
    squad = request.GET.get("squad") or None
    squad = int(squad) if squad and squad.isdigit() else None
    can_generate = request.user.has_perm("inspections.add_inspectiontask")
    return render(request, "inspections/calendar.html", {
        "month": month, "squad": squad, "squads": squads_in_scope(request.user), "today": timezone.localdate(),
        "schedule_form": ScheduleForm(user=request.user) if can_generate else None,
        **selectors.calendar(request.user, month, squad),
    })


@login_required
@require_POST
@permission_required("inspections.add_inspectiontask", raise_exception=True)
def generate_schedule(request):
    form = ScheduleForm(request.POST, user=request.user)
    if form.is_valid():
        created = form.save()
        if created is not None:
            messages.success(request, f"已生成 {created} 项检查任务。")
            return redirect("inspections:calendar")
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("inspections:calendar")


@login_required
def my_tasks(request):
    return render(request, "inspections/my_tasks.html", {
        "today": timezone.localdate(),
        "can_inspect": request.user.has_perm("inspections.add_inspectionrecord"),
        **selectors.my_tasks(request.user),
    })


@login_required
@permission_required("inspections.add_inspectionrecord", raise_exception=True)
def task_inspect(request, pk):
    task = selectors.task_for_inspection(request.user, pk)
    if task is None:
        raise Http404("检查任务不存在或不在您的数据范围内。")
    if task.status != TaskStatus.PENDING:
        messages.info(request, f"该任务{task.get_status_display()}，不能再录入检查。")
        if task.status == TaskStatus.DONE and hasattr(task, "record"):
            return redirect("inspections:record_detail", pk=task.record.pk)
        return redirect("inspections:my_tasks")
    form = InspectionForm(request.POST or None, user=request.user, task=task)
    photos = request.FILES.getlist("photos")
    if request.method == "POST":
        if len(photos) > MAX_PHOTOS:
            form.add_error(None, f"一次最多上传 {MAX_PHOTOS} 张照片。")
        elif form.is_valid() and (record := form.save(photos)) is not None:
            messages.success(request, "检查记录已提交。")
            return redirect("inspections:record_detail", pk=record.pk)
    return render(request, "inspections/inspect.html", {
        "task": task, "obj": task.regulated_object, "form": form, "outcomes": InspectionOutcome,
        "max_distance": getattr(settings, "INSPECTION_MAX_DISTANCE_M", 300), "had_photos": bool(photos),
    })


# --- records --------------------------------------------------------------------------------

@login_required
def record_list(request):
    filterset = InspectionRecordFilter(request.GET, queryset=selectors.record_list(request.user))
    return render(request, "inspections/record_list.html", {
        "filter": filterset, "page": _page(request, filterset.qs), "outcomes": InspectionOutcome.choices,
        "squads": squads_in_scope(request.user), "object_types": selectors.object_types(),
        "today": timezone.localdate(),
    })


@login_required
def record_detail(request, pk):
    record = get_object_or_404(selectors.record_list(request.user).select_related(
        "signature", "task", "reinspection_task", "created_by").prefetch_related("photos"), pk=pk)
    return render(request, "inspections/record_detail.html", {
        "record": record,
        "case_request": getattr(record, "case_request", None),
        "can_publish": (record.published_at is None
                        and selectors.record_list(request.user, "publish").filter(pk=pk).exists()),
        "today": timezone.localdate(),
    })


@login_required
@require_POST
@permission_required("inspections.publish_inspectionrecord", raise_exception=True)
def record_publish(request, pk):
    record = get_object_or_404(selectors.record_list(request.user, "publish"), pk=pk)
    try:
        records.publish_record(record, by=request.user)
    except ChengguanError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "检查结果已在公示平台公开。")
    return redirect("inspections:record_detail", pk=pk)
