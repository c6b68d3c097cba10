"""The staff inbox (站内消息): assignments and deadline warnings from every module.

A notification is created in the caller's transaction, so it is rolled back with the change
it announces. Each user sees only their own messages; anyone else's is a 404."""

from django.db.models import F
from django.http import Http404
from django.utils import timezone

from .errors import ValidationFailed
from .models import Notification


def inbox(user):
    """The user's own messages: unread first, then the most recently read; newest first within."""
    return Notification.objects.filter(recipient=user).order_by(
        F("read_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def _check(title: str, link: str, level: str) -> None:
    if not (title or "").strip():
        raise ValidationFailed("消息标题不能为空。", field="title", code="required")
    if len(title) > Notification._meta.get_field("title").max_length:
        raise ValidationFailed("消息标题过长。", field="title", code="too_long")
    # Links point inside the platform; anything else (javascript:, other sites) is refused.
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValidationFailed("消息链接必须是本系统内以 / 开头的地址。", field="link", code="invalid_link")
    if level not in Notification.Level.values:
        raise ValidationFailed("未知的消息级别。", field="level", code="invalid_choice")


def notify_many(recipients, title: str, *, body: str = "", link: str = "",
                level: str = Notification.Level.INFO, dedupe_key: str = "") -> list[Notification]:
    """Send one message to each recipient; returns the messages created. With a `dedupe_key`
    (e.g. "deadline:case:42:statement"), a recipient who already got that key gets nothing."""
    _check(title, link, level)
    fields = {"title": title.strip(), "body": body, "link": link, "level": level}
    created, seen = [], set()
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        if dedupe_key:
            # get_or_create relies on the unique (recipient, dedupe_key) constraint, so two
            # concurrent senders still deliver once.
            notification, new = Notification.objects.get_or_create(
                recipient=user, dedupe_key=dedupe_key, defaults=fields
            )
        else:
            notification, new = Notification.objects.create(recipient=user, **fields), True
        if new:
            created.append(notification)
    return created


def notify(recipient, title: str, *, body: str = "", link: str = "",
           level: str = Notification.Level.INFO, dedupe_key: str = "") -> Notification | None:
    """One message to one user; None when the dedupe key was already delivered to them."""
    created = notify_many([recipient], title, body=body, link=link, level=level, dedupe_key=dedupe_key)
    return created[0] if created else None


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user).unread().count()


def mark_read(notification: Notification, *, by) -> Notification:
    if notification.recipient_id != by.pk:
        raise Http404("消息不存在。")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user) -> int:
    """Mark every unread message of `user` read; returns how many there were."""
    return Notification.objects.filter(recipient=user).unread().update(read_at=timezone.now())
