"""Server-rendered pages of the core app. Views stay thin: reads come from selectors, writes go
through forms that call services; every object lookup is scoped, so out-of-scope is a 404."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import selectors
from .errors import ChengguanError
from .exports import xlsx_response
from .fields import mask_phone
from .filters import GridFilter, StaffFilter
from .forms import GridForm, LocateForm, LoginForm, OrgUnitForm, PasswordChangeForm, StaffForm
from .models import Grid, OrgUnit, User

PAGE_SIZE = 50
DETAIL_ROWS = 20  # rows of a related list shown on a detail page


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- authentication ---------------------------------------------------------------------------

class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


LogoutView = auth_views.LogoutView  # POST only (Django 5); redirects to LOGOUT_REDIRECT_URL


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid() and form.save():
        update_session_auth_hash(request, request.user)  # keep this session, end the others
        messages.success(request, "密码已修改。")
        return redirect("core:dashboard")
    return render(request, "registration/password_change_form.html", {"form": form})


# --- dashboard and module placeholders --------------------------------------------------------

@login_required
def dashboard(request):
    chart = selectors.staff_per_squad(request.user)
    return render(request, "core/dashboard.html", {
        "cards": selectors.dashboard_counts(request.user),
        "chart": {"names": [name for name, _ in chart], "values": [n for _, n in chart]},
    })


# Modules of DESIGN.md not built yet: slug → (title, what it will do). The menu is in
# core.context_processors.MODULE_MENU; a module's own app replaces its entry here.
MODULES = {
    "workorders": ("工单", "诉件受理、网格与巡查发现、非现场告警、领导交办的统一受理，分类、派遣、处置、反馈、核查、结案，"
                           "时限预警与督办，重复件归并，诉转案"),
    "inspections": ("检查与监管对象", "执法对象监管库、分级分类、“双随机、一公开”抽查计划与检查记录、检查结果公示"),
    "duty": ("勤务", "排班、岗点与打卡点、轨迹、勤务任务、出勤统计与指挥调度"),
    "offsite": ("非现场执法", "摄像头与算法仓管理、智能识别告警、告警转工单、非现场执法证据"),
    "oversight": ("督察考核", "案卷评查、督察通知（两单两书）、中队绩效考核"),
    "analytics": ("统计分析", "指标统计、热点分析、趋势分析与报表生成"),
    "public": ("公示", "行政执法公示、诉件办理进度查询、Open311 接口与公众地图"),
    "regulations": ("执法事项与裁量基准", "执法事项目录、法律依据、裁量基准与免罚清单的维护（含版本与有效期）"),
}


@login_required
def module_placeholder(request, slug):
    if slug not in MODULES:
        raise Http404("没有这个模块。")
    title, features = MODULES[slug]
    return render(request, "core/module_placeholder.html", {"title": title, "features": features})


# --- org units --------------------------------------------------------------------------------

@login_required
def org_tree(request):
    return render(request, "core/org_tree.html", {"units": selectors.org_tree(request.user)})


@login_required
def org_detail(request, pk):
    unit = get_object_or_404(OrgUnit.objects.restrict(request.user).select_related("parent"), pk=pk)
    staff = selectors.staff_list(request.user).filter(org_unit=unit)
    grids = selectors.grid_list(request.user).filter(squad=unit)
    # a squad has hundreds of grids: show the first ones and link to the filtered lists
    return render(request, "core/org_detail.html", {
        "unit": unit,
        "staff": staff[:DETAIL_ROWS], "staff_total": staff.count(),
        "grids": grids[:DETAIL_ROWS], "grid_total": grids.count(),
        "children": OrgUnit.objects.restrict(request.user).filter(parent=unit),
    })


def _edit(request, form_class, instance, noun, detail_url_name, list_url_name):
    """Create (instance None) or edit page shared by org units, grids and staff."""
    form = form_class(request.POST or None, user=request.user, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, f"{noun}“{saved}”已{'保存' if instance else '创建'}。")
            return redirect(detail_url_name, pk=saved.pk)
    cancel_url = reverse(detail_url_name, args=[instance.pk]) if instance else reverse(list_url_name)
    return render(request, "core/form.html", {"form": form, "object": instance, "noun": noun,
                                              "cancel_url": cancel_url})


@login_required
@permission_required("core.add_orgunit", raise_exception=True)
def org_create(request):
    return _edit(request, OrgUnitForm, None, "组织机构", "core:org_detail", "core:org_tree")


@login_required
@permission_required("core.change_orgunit", raise_exception=True)
def org_edit(request, pk):
    unit = get_object_or_404(OrgUnit.objects.restrict(request.user, "change"), pk=pk)
    return _edit(request, OrgUnitForm, unit, "组织机构", "core:org_detail", "core:org_tree")


# --- grids ------------------------------------------------------------------------------------

@login_required
def grid_list(request):
    filterset = GridFilter(request.GET, queryset=selectors.grid_list(request.user))
    return render(request, "core/grid_list.html", {
        "filter": filterset,
        "page": _page(request, filterset.qs),
        "squads": selectors.squads_in_scope(request.user),
    })


@login_required
def grid_export(request):
    filterset = GridFilter(request.GET, queryset=selectors.grid_list(request.user))
    columns = [
        ("网格编码", lambda g: g.code), ("网格名称", lambda g: g.name), ("责任中队", lambda g: g.squad.name),
        ("所属社区", lambda g: g.community), ("面积（平方米）", lambda g: g.area_m2),
        ("状态", lambda g: "启用" if g.is_active else "停用"),
    ]
    return xlsx_response("单元网格", columns, filterset.qs.iterator(chunk_size=2000), model=Grid,
                         filters=request.GET.dict(), actor=request.user)


@login_required
def grid_detail(request, pk):
    grid = get_object_or_404(selectors.grid_list(request.user), pk=pk)
    return render(request, "core/grid_detail.html", {"grid": grid, "map_config": _map_config()})


@login_required
@permission_required("core.add_grid", raise_exception=True)
def grid_create(request):
    return _edit(request, GridForm, None, "网格", "core:grid_detail", "core:grid_list")


@login_required
@permission_required("core.change_grid", raise_exception=True)
def grid_edit(request, pk):
    grid = get_object_or_404(Grid.objects.restrict(request.user, "change"), pk=pk)
    return _edit(request, GridForm, grid, "网格", "core:grid_detail", "core:grid_list")


# --- staff ------------------------------------------------------------------------------------

@login_required
def staff_list(request):
    filterset = StaffFilter(request.GET, queryset=selectors.staff_list(request.user))
    return render(request, "core/staff_list.html", {
        "filter": filterset,
        "page": _page(request, filterset.qs),
        "units": selectors.units_in_scope(request.user),
    })


@login_required
def staff_export(request):
    filterset = StaffFilter(request.GET, queryset=selectors.staff_list(request.user))
    full_phone = request.user.has_perm("core.view_user_phone")
    columns = [
        ("工号", lambda u: u.staff_number or ""), ("姓名", lambda u: u.real_name), ("登录名", lambda u: u.username),
        ("所属单位", lambda u: u.org_unit.name if u.org_unit else ""),
        ("角色", lambda u: "、".join(r.get_code_display() for r in u.roles.all())),
        ("手机号", lambda u: u.phone if full_phone else mask_phone(u.phone)),
        ("执法证号", lambda u: u.certificate_number), ("执法证有效期止", lambda u: u.certificate_valid_to),
        ("执法证状态", lambda u: selectors.certificate_status(u).label), ("在岗", lambda u: "是" if u.is_active else "否"),
    ]
    return xlsx_response("工作人员", columns, filterset.qs, model=User, filters=request.GET.dict(),
                         actor=request.user)


@login_required
def staff_detail(request, pk):
    staff = get_object_or_404(selectors.staff_list(request.user), pk=pk)
    return render(request, "core/staff_detail.html", {"staff": staff})


@login_required
@permission_required("core.add_user", raise_exception=True)
def staff_create(request):
    return _edit(request, StaffForm, None, "工作人员", "core:staff_detail", "core:staff_list")


@login_required
@permission_required("core.change_user", raise_exception=True)
def staff_edit(request, pk):
    staff = get_object_or_404(User.objects.restrict(request.user, "change"), pk=pk)
    return _edit(request, StaffForm, staff, "工作人员", "core:staff_detail", "core:staff_list")


# --- map --------------------------------------------------------------------------------------

def _map_config() -> dict:
    """Tile layer settings for map.js; no tile URL means we draw only our own vector layers."""
    return {"tileUrl": settings.MAP_TILE_URL, "tileAttribution": settings.MAP_TILE_ATTRIBUTION}


@login_required
def map_page(request):
    return render(request, "core/map.html", {
        "locate_form": LocateForm(),
        "map_config": {
            **_map_config(),
            "layersUrl": reverse("core:map_layers"),
            "locateUrl": reverse("core:map_locate"),
        },
    })


def _parse_bbox(value: str):
    try:
        bbox = tuple(float(v) for v in value.split(","))
    except ValueError:
        bbox = ()
    if len(bbox) != 4 or bbox[0] > bbox[2] or bbox[1] > bbox[3]:
        return None
    return bbox


def _error(message: str, code: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "errors": []}, status=status,
                        json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def map_layers(request):
    layer = request.GET.get("layer", "squads")
    if layer == "squads":
        features = selectors.squad_features(request.user)
    elif layer == "grids":
        bbox = None
        if request.GET.get("bbox"):
            bbox = _parse_bbox(request.GET["bbox"])
            if bbox is None:
                return _error("bbox 参数格式应为 最小经度,最小纬度,最大经度,最大纬度。", "invalid_bbox")
        features = selectors.grid_features(request.user, bbox)
    else:
        return _error("layer 参数只能是 squads 或 grids。", "invalid_layer")
    return JsonResponse({"type": "FeatureCollection", "features": features},
                        json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def map_locate(request):
    form = LocateForm(request.GET)
    if not form.is_valid():
        return JsonResponse({
            "code": "invalid", "message": "请填写正确的经纬度。",
            "errors": [{"field": f, "code": "invalid", "message": e[0]} for f, e in form.errors.items()],
        }, status=400, json_dumps_params={"ensure_ascii": False})
    from . import geo  # written alongside this view; imported lazily so pages load without it

    lon, lat = form.cleaned_data["lon"], form.cleaned_data["lat"]
    if form.cleaned_data["crs"] == "gcj02":
        lon, lat = geo.gcj02_to_wgs84(lon, lat)
    try:
        location = geo.locate(lon, lat)
    except ChengguanError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message, "lon": lon, "lat": lat, "errors": []},
                            status=exc.status, json_dumps_params={"ensure_ascii": False})
    grid, squad = location.grid, location.squad
    return JsonResponse({
        "lon": round(lon, 7), "lat": round(lat, 7),
        "grid": {"id": grid.pk, "code": grid.code, "name": grid.name} if grid else None,
        "squad": {"id": squad.pk, "name": squad.name} if squad else None,
    }, json_dumps_params={"ensure_ascii": False})
