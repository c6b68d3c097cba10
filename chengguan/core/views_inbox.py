"""The staff inbox page (站内消息)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .notifications import inbox, mark_all_read, mark_read

PAGE_SIZE = 50


@login_required
@require_GET
def inbox_page(request):
    page = Paginator(inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page, "unread": inbox(request.user).unread().count()})


@login_required
@require_POST
def inbox_read(request, pk: int):
    """Mark one message read and go to what it is about (or back to the inbox)."""
    notification = mark_read(get_object_or_404(inbox(request.user), pk=pk), by=request.user)
    # Links were checked to be local paths when the message was created.
    return redirect(notification.link or "core:inbox")


@login_required
@require_POST
def inbox_read_all(request):
    mark_all_read(request.user)
    return redirect("core:inbox")
