"""Evidence download for signed-in staff (pages embed these links). The API has its own route
to the same verified response."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .errors import BusinessRuleError
from .evidence import download_name, open_verified
from .models import Evidence


def verified_response(evidence: Evidence, *, by, inline: bool = False) -> FileResponse:
    """Stream the evidence after its hash was re-checked (raises `evidence_tampered` first).
    `inline` lets a page show an image, video or PDF in place instead of saving it."""
    return FileResponse(
        open_verified(evidence, by=by),
        as_attachment=not inline,
        filename=download_name(evidence),
        content_type=evidence.content_type,
    )


@login_required
@require_GET
def evidence_download(request, pk: int):
    evidence = get_object_or_404(Evidence.objects.restrict(request.user), pk=pk)
    try:
        return verified_response(evidence, by=request.user, inline=request.GET.get("inline") == "1")
    except BusinessRuleError as exc:
        return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
