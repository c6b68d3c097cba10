"""Server-rendered pages of the enforcement-case module: the case list (nearest deadline first,
keyset pages), the case page with its next allowed actions, the lead form (立案前线索录入), the
officer's on-the-spot form (当场处罚), the approval queues and the deadline board, and the
case's issued documents. Views stay thin: reads come from `selectors` (scoped: out of scope is
a 404), every change is one service verb run by a form that the API's serializer validates
(a refusal shows its Chinese message and nothing is saved)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from chengguan.core.errors import BusinessRuleError, ChengguanError, ValidationFailed
from chengguan.core.evidence import download_name
from chengguan.documents.choices import FileFormat
from chengguan.documents.services import open_file
from chengguan.regulations.models import Matter

from . import selectors
from .choices import Procedure, SourceKind, Status
from .forms import ACTION_FORMS, DUE, CaseListFilter, LeadForm, SimpleForm, simple_matters
from .models import Case
from .services import rules, workflow


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return None


def _get_case(user, pk) -> Case:
    case = selectors.case_for_page(user, pk)
    if case is None:
        raise Http404("案件不存在或不在您的数据范围内。")
    return case


# --- the list ---------------------------------------------------------------------------------

@login_required
@permission_required("cases.view_case", raise_exception=True)
def case_list(request):
    user = request.user
    filterset = CaseListFilter(request.GET, queryset=selectors.case_list(user), user=user)
    rows = filterset.qs if filterset.is_valid() else Case.objects.none()
    page = selectors.keyset_page(rows, after=request.GET.get("after"), before=request.GET.get("before"),
                                 size=selectors.PAGE_SIZE)
    page.rows = selectors.decorate(page.rows, user)
    return render(request, "cases/case_list.html", {
        "filter": filterset,
        "page": page,
        "statuses": Status.choices,
        "procedures": Procedure.choices,
        "sources": SourceKind.choices,
        "dues": DUE,
        "squads": selectors.squads_in_scope(user),
        "matters": _matter_choices(),
        "more_filters": sum(1 for k in ("squad", "status", "procedure", "matter", "source", "due", "created_from",
                                        "created_to") if request.GET.get(k)),
    })


def _matter_choices():
    return Matter.objects.filter(is_active=True).only("id", "code", "name")


# --- the case page and its actions ------------------------------------------------------------

ENDINGS = ("withdraw", "transfer")


def _action_forms(case, user, request, bound=None) -> list:
    """Forms of the next allowed actions (workflow.allowed_actions), in the table's order;
    `bound` replaces its own (the one just refused, with its errors)."""
    forms = []
    # the endings that stop a case (撤案, 移送) after the steps that carry it on
    for verb in sorted(workflow.allowed_actions(case, user), key=lambda v: v in ENDINGS):
        form_class = ACTION_FORMS.get(verb)
        if form_class is None or not form_class.available(case):
            continue
        forms.append(bound if bound is not None and bound.verb == verb
                     else form_class(case=case, user=user, request=request))
    return forms


def _detail_context(request, case, bound=None) -> dict:
    user = request.user
    today = selectors.today()
    steps = list(case.steps.all())
    for step in steps:
        step.label = selectors.step_label(step.action)
    return {
        "case": case,
        "parties": selectors.shown_parties(case, user),
        "officers": sorted(case.case_officers.all(), key=lambda link: link.role != "lead"),
        "deadlines": selectors.open_deadlines(case, today),
        "steps": steps,
        "documents": selectors.documents(case),
        "case_file": selectors.case_file(case),
        "forms": _action_forms(case, user, request, bound),
        "sees_identity": user.has_perm("cases.view_case_party"),
        "surcharge": _surcharge(case, today),
    }


def _surcharge(case, today):
    return rules.surcharge(case, today) if case.status == Status.EXECUTING else None


@login_required
@permission_required("cases.view_case", raise_exception=True)
def case_detail(request, pk):
    case = _get_case(request.user, pk)
    return render(request, "cases/detail.html", _detail_context(request, case))


DONE = {
    "file": "已立案，案件编号 {n}。", "withdraw": "案件已撤案。", "transfer": "案件已移送。", "close": "案件 {n} 已结案。",
    "archive": "案件 {n} 已归档。", "decide": "决定已作出。", "serve": "决定书已送达。",
}


def _refusal(case, verb: str, user) -> str:
    """Why `user` may not run `verb` on `case` now, in Chinese; empty when they may."""
    try:
        workflow.check_allowed(case, verb, user)
    except PermissionDenied as exc:
        return str(exc)
    except ChengguanError as exc:
        return exc.message
    return ""


@login_required
@require_POST
def case_action(request, pk, verb):
    """Run one verb on one case. Unknown verbs and cases out of scope: 404. A verb the user
    may not run now, bad input or a refused step: the Chinese message, nothing changed."""
    form_class = ACTION_FORMS.get(verb)
    if form_class is None:
        raise Http404("未知的操作。")
    user = request.user
    case = _get_case(user, pk)
    form = form_class(request.POST, request.FILES, case=case, user=user, request=request)
    refusal = _refusal(case, verb, user)
    if refusal:
        form.is_valid()
        form.errors.clear()
        form.add_error(None, refusal)
    elif form.save() is not None:
        case.refresh_from_db(fields=["number"])
        messages.success(request, DONE.get(verb, "{label}已完成。").format(n=case.number or "", label=form.label))
        target = _safe_next(request)
        if target:
            return redirect(target)
        return redirect("cases:detail", pk=case.pk)
    messages.error(request, form.error_text() or "操作未完成。")
    target = _safe_next(request)
    if target:
        return redirect(target)
    case = _get_case(user, pk)  # as it is now: nothing was changed
    form.case = case
    return render(request, "cases/detail.html", _detail_context(request, case, bound=form))


@login_required
@permission_required("cases.view_case", raise_exception=True)
@require_GET
def document_file(request, pk, document_id, fmt):
    """One issued document of the case (DOCX or PDF), verified against its recorded hash."""
    case = _get_case(request.user, pk)
    document = next((d for d in selectors.documents(case) if d.pk == document_id), None)
    if document is None or fmt not in FileFormat.values:
        raise Http404("文书不存在。")
    try:
        handle = open_file(document, fmt, by=request.user)
    except ValidationFailed as exc:
        raise Http404(exc.message) from exc
    except BusinessRuleError as exc:
        return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
    evidence = document.docx if fmt == FileFormat.DOCX else document.pdf
    return FileResponse(handle, as_attachment=request.GET.get("inline") != "1", filename=download_name(evidence),
                        content_type=evidence.content_type)


# --- new leads and on-the-spot decisions ------------------------------------------------------

@login_required
@permission_required("cases.add_case", raise_exception=True)
def lead_create(request):
    form = LeadForm(request.POST or None, request.FILES or None, user=request.user, request=request)
    if request.method == "POST":
        case = form.save()
        if case is not None:
            messages.success(request, "线索已录入，等待中队长审批立案。")
            return redirect("cases:detail", pk=case.pk)
        messages.error(request, form.error_text() or "线索未录入。")
    return render(request, "cases/lead_form.html", {"form": form})


@login_required
@permission_required("cases.add_case", raise_exception=True)
def simple_create(request):
    form = SimpleForm(request.POST or None, request.FILES or None, user=request.user, request=request)
    if request.method == "POST":
        case = form.save()
        if case is not None:
            messages.success(request, f"当场处罚决定已作出，决定书编号 {case.number}。")
            return redirect("cases:decision", pk=case.pk)
        messages.error(request, form.error_text() or "当场处罚决定未作出。")
    return render(request, "cases/simple_form.html", {"form": form, "has_matters": simple_matters().exists()})


@login_required
@permission_required("cases.view_case", raise_exception=True)
def simple_decision(request, pk):
    """The on-the-spot decision as the officer hands it over: number, party, penalty, remedy."""
    case = _get_case(request.user, pk)
    if case.procedure != Procedure.SIMPLE:
        return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/decision.html", {
        "case": case, "parties": selectors.shown_parties(case, request.user),
        "officers": sorted(case.case_officers.all(), key=lambda link: link.role != "lead"),
        "documents": selectors.documents(case),
    })


# --- queues and the deadline board ------------------------------------------------------------

@login_required
def queues(request):
    if not selectors.has_queues(request.user):
        raise PermissionDenied("您没有审批、审核或决定案件的权限。")
    return render(request, "cases/queues.html", {"sections": selectors.queues(request.user)})


@login_required
@permission_required("cases.view_case", raise_exception=True)
def deadlines(request):
    user = request.user
    squads = list(selectors.squads_in_scope(user))
    squad_id = request.GET.get("squad")
    squad_id = int(squad_id) if squad_id and squad_id.isdigit() and any(s.pk == int(squad_id) for s in squads) \
        else None
    return render(request, "cases/deadlines.html", {
        "groups": selectors.deadline_board(user, squad_id), "squads": squads, "squad_id": squad_id,
    })
