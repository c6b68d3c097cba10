"""The public portal (公示): no login. It shows only what has been published — 双随机 plans
with their hashes, seed and frozen lists, inspection results, penalty decisions (with the
notices of withdrawn ones) and the bureau's enforcement matters with their legal bases — and
never personal data: contact details and ID numbers are never shown here, and the names of
natural persons (objects registered by ID number instead of a credit code) are masked.

It also takes citizens' reports (市民反映, and 社区工作室 through a QR code) into the work-order
intake, and shows a reporter the status of their own order (ticket number plus the last four
digits of their phone, which is compared and never displayed)."""

import hmac
import io
import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from chengguan.cases.models import DisclosureStatus
from chengguan.cases.services import disclosure
from chengguan.core import evidence
from chengguan.core.choices import OrgUnitKind
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.fields import mask_in_text, mask_name
from chengguan.core.models import Grid, OrgUnit, User
from chengguan.core.views_evidence import verified_response
from chengguan.inspections import selectors
from chengguan.inspections.choices import PlanStatus
from chengguan.inspections.filters import PublicRecordFilter
from chengguan.regulations.choices import MatterCategory, PenaltyKind
from chengguan.regulations.models import Matter
from chengguan.workorders.choices import Channel, Satisfaction, Status
from chengguan.workorders.models import WorkOrder
from chengguan.workorders.services import classification, intake, workflow

from .filters import PublicDecisionFilter

PAGE_SIZE = 30
SELECTIONS_PAGE_SIZE = 200
FINDINGS_SUMMARY_CHARS = 80
DRAW_FILES = {"population": "population_file", "pool": "pool_file"}


def bureau_name() -> str:
    bureau = (OrgUnit.objects.filter(kind=OrgUnitKind.BUREAU, parent__isnull=True, is_active=True)
              .order_by("sort_order", "pk").values_list("name", flat=True).first())
    return bureau or "城市管理行政执法局"


def _render(request, template, context):
    return render(request, template, {"bureau": bureau_name(), **context})


def public_name(obj) -> str:
    """A business is named in full; a natural person (registered by ID number, without a
    credit code) only masked."""
    return obj.name if obj.credit_code else mask_name(obj.name)


def scrub(text: str) -> str:
    """Free text as the public may read it: phone and ID numbers typed into it masked."""
    return mask_in_text(text)


def summary(text: str, limit: int = FINDINGS_SUMMARY_CHARS) -> str:
    text = scrub(" ".join(text.split()))
    return text[:limit] + "…" if len(text) > limit else text


@require_GET
def index(request):
    return _render(request, "public/index.html", {
        "plans": selectors.published_plans()[:5],
        "record_count": selectors.published_records().count(),
    })


@require_GET
def draws(request):
    page = Paginator(selectors.published_plans(), PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "public/draws.html", {"page": page})


@require_GET
def draw_detail(request, pk):
    plan = get_object_or_404(selectors.published_plans().select_related("population_file", "pool_file"), pk=pk)
    page = Paginator(selectors.selections_of(plan), SELECTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    selections = selectors.with_inspector_names(page)
    for row in selections:
        row.public_name = public_name(row.regulated_object)
    return _render(request, "public/draw_detail.html", {
        "plan": plan, "page": page, "selections": selections, "superseded": plan.status == PlanStatus.SUPERSEDED,
    })


@require_GET
def draw_file(request, pk, kind):
    """A frozen list of a published plan, re-verified against its SHA-256 before sending.
    Only files that published plans reference are served."""
    if kind not in DRAW_FILES:
        raise Http404("没有这个文件。")
    plan = get_object_or_404(selectors.published_plans().select_related(DRAW_FILES[kind]), pk=pk)
    evidence = getattr(plan, DRAW_FILES[kind])
    if evidence is None:
        raise Http404("没有这个文件。")
    try:
        return verified_response(evidence, by=None)
    except BusinessRuleError as exc:
        return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")


@require_GET
def how_to_verify(request):
    return _render(request, "public/how_to_verify.html", {})


@require_GET
def results(request):
    filterset = PublicRecordFilter(request.GET, queryset=selectors.published_records())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for record in page:
        record.public_name = public_name(record.regulated_object)
        record.summary = summary(record.findings)
    return _render(request, "public/results.html", {
        "filter": filterset, "page": page, "object_types": selectors.object_types(),
    })


# --- penalty decisions (《行政处罚法》第四十八条) and enforcement matters (第三十九条) -----------
#
# Pages built only from the snapshot taken when a decision was published (masked then, never
# re-derived from the case); a withdrawn decision shows the withdrawal notice and its reason
# instead of the decision; anything not public (pending, excluded, expired) is a 404.

@require_GET
def decisions(request):
    public = disclosure.public_disclosures()
    filterset = PublicDecisionFilter(request.GET, queryset=public)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "public/decisions.html", {
        "filter": filterset, "page": page, "withdrawn": DisclosureStatus.WITHDRAWN,
        "matters": Matter.objects.filter(pk__in=public.values("matter_id")).order_by("code"),
        "squads": OrgUnit.objects.filter(pk__in=public.values("squad_id")).order_by("sort_order", "path"),
    })


@require_GET
def decision_detail(request, pk):
    record = get_object_or_404(disclosure.public_disclosures(), pk=pk)
    return _render(request, "public/decision_detail.html", {
        "record": record, "data": record.public_data, "withdrawn": record.status == DisclosureStatus.WITHDRAWN,
    })


@require_GET
def matters(request):
    """The bureau's enforcement matters (执法事项) with the provisions they break and that
    punish them, and the kinds of penalty (事前公开, 《行政处罚法》第三十九条)."""
    rows = Matter.objects.filter(is_active=True).prefetch_related("violation_bases", "penalty_bases")
    category = request.GET.get("category", "")
    if category in MatterCategory.values:
        rows = rows.filter(category=category)
    keyword = " ".join(request.GET.get("q", "").split())[:50]
    if keyword:
        rows = rows.filter(name__icontains=keyword)
    page = Paginator(rows.order_by("category", "code"), PAGE_SIZE).get_page(request.GET.get("page"))
    for matter in page:
        matter.kind_labels = [PenaltyKind(k).label for k in matter.penalty_kinds if k in PenaltyKind.values]
    return _render(request, "public/matters.html", {
        "page": page, "categories": MatterCategory.choices, "category": category, "q": keyword,
    })


# --- citizens' reports (市民网上反映 / 社区工作室扫码反映) and their status -----------------------
#
# No login: anyone may report a problem and, with the ticket number and the last four digits of
# the phone they gave, see how it is being handled. Abuse is held off without anything external:
# a per-IP hourly limit (Django cache) and a honeypot field that people never see. The status
# page answers a wrong number and wrong digits with the same message, so it reveals nothing
# about which numbers exist, and it never shows who handled an order.

REPORT_LIMIT_PER_HOUR = 10
LOOKUP_LIMIT_PER_HOUR = 30
MAX_PHOTOS = 4
PHOTO_MAX_MB = 10
PUBLIC_UPLOADER = "public-web"  # the system account public photos are recorded under
PUBLIC_CHANNELS = (Channel.PUBLIC_WEB, Channel.WORKSTATION)
HONEYPOT = "website"
LOOKUP_FAILED = "工单号或手机号后四位不正确，请核对后重试。"
RATE_LIMITED_REPORT = "同一网络每小时最多提交 {limit} 条反映，请稍后再试；紧急情况请拨打 12345 市民服务热线。"
RATE_LIMITED_LOOKUP = "查询过于频繁，请一小时后再试。"
REFUSED = "提交未成功，请刷新页面后重新填写。"
RATINGS = [(Satisfaction.SATISFIED, "满意"), (Satisfaction.BASICALLY, "基本满意"),
           (Satisfaction.UNSATISFIED, "不满意")]
REPLIED_STATUSES = {Status.REPLIED, Status.VERIFIED, Status.CLOSED}
# What each status means to the person who reported (no internal steps, no names).
PUBLIC_STATUS = {
    Status.RECEIVED: ("已受理", "您的反映已收到，正在分派给负责的执法中队。"),
    Status.ACCEPTED: ("已受理", "您的反映已收到，正在分派给负责的执法中队。"),
    Status.RETURNED: ("已受理", "您的反映正在重新分派。"),
    Status.DISPATCHED: ("处理中", "负责的执法中队正在处理。"),
    Status.HANDLING: ("处理中", "负责的执法中队正在处理。"),
    Status.SUSPENDED: ("暂缓办理", "办理需要等待其他部门或条件，具备条件后将继续办理。"),
    Status.REPLIED: ("已答复", "已处理并答复，正在核查处理结果。"),
    Status.VERIFIED: ("已答复", "已处理并答复，处理结果已核查。"),
    Status.CLOSED: ("已办结", "已处理完毕。"),
    Status.MERGED: ("合并办理", "其他市民也反映了同一问题，已合并办理。"),
    Status.REJECTED: ("非本局职责", "该问题不属于城管执法职责，请向相关部门反映。"),
}


def _client_ip(request) -> str:
    # REMOTE_ADDR: behind a reverse proxy the proxy must pass the client's address through.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _limit_key(request, kind: str) -> str:
    return f"public:{kind}:{_client_ip(request)}:{int(time.time() // 3600)}"


def _over_limit(request, kind: str, limit: int) -> bool:
    return (cache.get(_limit_key(request, kind)) or 0) >= limit


def _count(request, kind: str) -> None:
    key = _limit_key(request, kind)
    if not cache.add(key, 1, 3600):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, 3600)


@dataclass(frozen=True)
class Workstation:
    code: str
    name: str


def workstation(code) -> Workstation | None:
    """A community workstation (社区工作室) by the code on its QR poster: the code of the grid
    it serves, named after the grid's community."""
    code = (code or "").strip()
    if not code or len(code) > 20:
        return None
    grid = Grid.objects.filter(code=code, is_active=True).only("code", "name", "community").first()
    if grid is None:
        return None
    return Workstation(grid.code, f"{grid.community or grid.name}社区工作室")


class ReportForm(forms.Form):
    text = forms.CharField(label="反映内容", max_length=settings.WORKORDER_MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 5, "placeholder": "请写明什么问题、在哪里、什么时间，如：某某路 100 号门口每天早上有人占道摆摊。"}),
                           error_messages={"required": "请填写反映内容。"})
    title = forms.CharField(label="标题", max_length=100, required=False,
                            widget=forms.TextInput(attrs={"placeholder": "选填，一句话概括"}))
    lon = forms.FloatField(required=False, widget=forms.HiddenInput,
                           error_messages={"invalid": "位置坐标无效，请重新选择。"})
    lat = forms.FloatField(required=False, widget=forms.HiddenInput,
                           error_messages={"invalid": "位置坐标无效，请重新选择。"})
    address = forms.CharField(label="地址", max_length=255, required=False,
                              widget=forms.TextInput(attrs={"placeholder": "如：某某路 100 号门口"}))
    reporter_name = forms.CharField(label="称呼", max_length=50, required=False,
                                    widget=forms.TextInput(attrs={"placeholder": "选填，如：王女士"}))
    reporter_phone = forms.CharField(label="手机号", max_length=20, required=False,
                                     widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    ws = forms.CharField(required=False, widget=forms.HiddenInput)
    # Honeypot: hidden from people (CSS and aria-hidden); bots that fill every field give themselves away.
    website = forms.CharField(required=False)

    def clean(self):
        data = super().clean()
        has_point = data.get("lon") is not None and data.get("lat") is not None
        if not has_point and not (data.get("address") or "").strip() and "lon" not in self.errors:
            self.add_error("address", "请在地图上选择位置、使用手机定位，或填写地址。")
        if (data.get("lon") is None) != (data.get("lat") is None):
            data["lon"] = data["lat"] = None
        return data


def _check_photos(files) -> None:
    """Images only, at most MAX_PHOTOS, each within the size limit; checked before any is stored."""
    if len(files) > MAX_PHOTOS:
        raise ValidationFailed(f"最多上传 {MAX_PHOTOS} 张照片。", code="too_many_photos", field="photos")
    limit = min(settings.EVIDENCE_MAX_BYTES, PHOTO_MAX_MB * 1024 * 1024)
    for upload in files:
        if upload.size > limit:
            raise ValidationFailed(f"照片“{upload.name}”超过 {limit // (1024 * 1024)} MB，请压缩后再上传。",
                                   code="file_too_large", field="photos")
        head = upload.read(evidence.SNIFF_BYTES)
        upload.seek(0)
        try:
            kind = evidence.detect_type(head)
        except ValidationFailed:
            kind = ""
        if not kind.startswith("image/"):
            raise ValidationFailed(f"“{upload.name}”不是图片，只能上传照片（JPG、PNG、HEIC 等）。",
                                   code="not_an_image", field="photos")


def public_uploader():
    """The system account photos from the public form are recorded under (Evidence needs an
    uploader): no password, no roles, not on duty, so it can never sign in or see anything."""
    user = User.objects.filter(username=PUBLIC_UPLOADER).first()
    if user is not None:
        return user
    user = User(username=PUBLIC_UPLOADER, real_name="市民（网上反映）", is_active=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(audit_action="public.uploader", actor=None)
    except IntegrityError:  # created by a concurrent first report
        return User.objects.get(username=PUBLIC_UPLOADER)
    return user


def submit_report(data: dict, photos, station: Workstation | None):
    """Take in one citizen's report through intake (by nobody: `created_by` stays empty).
    Everything is checked before the photos are stored, so a refused report leaves nothing."""
    title = data.get("title", "").strip()
    if station:
        title = f"【{station.name}】{title}"[:200]
    item = {
        "channel": Channel.WORKSTATION if station else Channel.PUBLIC_WEB,
        "text": data["text"], "title": title, "address": data.get("address", ""),
        "reporter_name": data.get("reporter_name", ""), "reporter_phone": data.get("reporter_phone", ""),
        "lon": data.get("lon"), "lat": data.get("lat"),
    }
    item = {k: (round(v, 7) if isinstance(v, float) else v) for k, v in item.items()}
    if item["lon"] is None:
        item.pop("lon"), item.pop("lat")
    _, categories = classification.current()
    intake.clean(item, categories, timezone.now())
    _check_photos(photos)
    uploader = public_uploader() if photos else None
    stored = [evidence.store_evidence(p, by=uploader, description="市民反映照片") for p in photos]
    return intake.receive(by=None, photos=stored, **item).order


def _report_page(request, form, station, *, error="", status=200):
    squads = (OrgUnit.objects.filter(kind=OrgUnitKind.SQUAD, is_active=True, jurisdiction__isnull=False)
              .order_by("sort_order", "pk").values_list("name", "jurisdiction"))
    return render(request, "public/report.html", {
        "bureau": bureau_name(), "form": form, "station": station, "error": error,
        "max_photos": MAX_PHOTOS, "photo_max_mb": PHOTO_MAX_MB,
        "layers": [{"name": name, "geometry": shape} for name, shape in squads],
    }, status=status)


@require_http_methods(["GET", "POST"])
def report(request):
    station = workstation(request.POST.get("ws") if request.method == "POST" else request.GET.get("ws"))
    if request.method == "GET":
        return _report_page(request, ReportForm(initial={"ws": station.code if station else ""}), station)
    form = ReportForm(request.POST)
    if request.POST.get(HONEYPOT):
        _count(request, "report")  # a bot's attempts use up its address's allowance
        return _report_page(request, form, station, error=REFUSED, status=400)
    if _over_limit(request, "report", REPORT_LIMIT_PER_HOUR):
        return _report_page(request, form, station, error=RATE_LIMITED_REPORT.format(limit=REPORT_LIMIT_PER_HOUR),
                            status=429)
    if form.is_valid():
        try:
            order = submit_report(form.cleaned_data, request.FILES.getlist("photos"), station)
        except ValidationFailed as exc:
            field = exc.field if exc.field in ("text", "title", "address", "reporter_name",
                                               "reporter_phone", "photos") else None
            if field == "photos":
                return _report_page(request, form, station, error=exc.message)
            form.add_error(field, exc.message)
        else:
            _count(request, "report")
            request.session["public_report"] = {"number": order.number, "has_phone": bool(order.reporter_phone)}
            return redirect("public:report_done")
    return _report_page(request, form, station)


@require_GET
def report_done(request):
    done = request.session.get("public_report")
    if not done:
        return redirect("public:report")
    return _render(request, "public/report_done.html", {"number": done["number"], "has_phone": done["has_phone"]})


@require_GET
def workstation_qr(request, code):
    """The QR code on a community workstation's poster: the report form with its code, as SVG
    drawn here (no outside service)."""
    station = workstation(code)
    if station is None:
        raise Http404("没有这个社区工作室。")
    url = request.build_absolute_uri(reverse("public:report")) + "?" + urlencode({"ws": station.code})
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="svg", scale=8, border=4, title=f"{station.name}：扫码反映问题")
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Content-Disposition"] = content_disposition_header(False, f"{station.code}.svg")
    return response


class StatusForm(forms.Form):
    number = forms.CharField(label="工单号", max_length=32, error_messages={"required": "请填写工单号。"},
                             widget=forms.TextInput(attrs={"placeholder": "如 GD20240000123", "autocomplete": "off"}))
    digits = forms.RegexField(label="手机号后四位", regex=r"^\d{4}$", error_messages={
        "required": "请填写手机号后四位。", "invalid": "请填写手机号的后四位数字。"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "4", "autocomplete": "off"}))


def find_for_reporter(number: str, digits: str) -> WorkOrder | None:
    """The reporter's own order, or None: for an unknown number and for wrong digits alike."""
    number = "".join(number.split()).upper()
    order = (WorkOrder.objects.filter(number=number, channel__in=PUBLIC_CHANNELS)
             .select_related("category", "parent").first())
    phone = re.sub(r"\D", "", order.reporter_phone) if order else ""
    candidate = phone[-4:] if len(phone) >= 4 else "----"
    if not hmac.compare_digest(candidate, digits) or order is None:
        return None
    return order


def public_status(order: WorkOrder) -> dict:
    """What the status page may show: no names, no squad, no internal notes."""
    label, explanation = PUBLIC_STATUS.get(order.status, ("处理中", ""))
    replied = order.status in REPLIED_STATUSES
    reply = ""
    if replied:
        reply = order.reply_text
    elif order.status == Status.REJECTED:
        reply = order.out_of_remit_reason
    return {
        "number": order.number,
        "received_at": order.received_at,
        "category": order.category.name if order.category_id else "待分类",
        "status": label, "explanation": explanation,
        "reply": scrub(reply.strip()),
        "can_rate": replied and not order.satisfaction,
        "satisfaction": order.get_satisfaction_display() if order.satisfaction else "",
        "reopened": bool(order.reopened),
    }


@require_http_methods(["GET", "POST"])
def status(request):
    form = StatusForm(request.POST or None)
    context = {"form": form, "ratings": RATINGS}
    if request.method == "GET":
        return _render(request, "public/status.html", context)
    if _over_limit(request, "lookup", LOOKUP_LIMIT_PER_HOUR):
        return _render_status(request, {**context, "error": RATE_LIMITED_LOOKUP}, 429)
    if not form.is_valid():
        return _render_status(request, context)
    _count(request, "lookup")
    order = find_for_reporter(form.cleaned_data["number"], form.cleaned_data["digits"])
    if order is None:
        return _render_status(request, {**context, "error": LOOKUP_FAILED})
    notice = ""
    if request.POST.get("satisfaction"):
        try:
            order = workflow.rate(order, by=None, satisfaction=request.POST["satisfaction"])
        except (BusinessRuleError, ValidationFailed) as exc:
            notice = exc.message
        else:
            notice = ("感谢您的评价。您表示不满意，该问题已转回重新办理。" if order.status == Status.HANDLING
                      else "感谢您的评价。")
    return _render_status(request, {**context, "order": public_status(order), "notice": notice})


def _render_status(request, context, status_code=200):
    return render(request, "public/status.html", {"bureau": bureau_name(), **context}, status=status_code)
