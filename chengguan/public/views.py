"""The public portal (公示): no login. It shows only what has been published — 双随机 plans
with their hashes, seed and frozen lists, and inspection results — and never personal data:
contact details and ID numbers are never read here, and the names of natural persons
(objects registered by ID number instead of a credit code) are masked."""

import re

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from chengguan.core.choices import OrgUnitKind
from chengguan.core.errors import BusinessRuleError
from chengguan.core.fields import mask_id_number, mask_name, mask_phone
from chengguan.core.models import OrgUnit
from chengguan.core.views_evidence import verified_response
from chengguan.inspections import selectors
from chengguan.inspections.choices import PlanStatus
from chengguan.inspections.filters import PublicRecordFilter

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


# Numbers that look like a mobile phone or an ID number inside free text (findings)
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Free text as the public may read it: phone and ID numbers typed into it masked."""
    text = _ID.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE.sub(lambda m: mask_phone(m.group()), text)


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
