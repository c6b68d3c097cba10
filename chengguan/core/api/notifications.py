"""Inbox API: the caller's own messages only (anyone else's id is a 404)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import Notification
from ..notifications import inbox, mark_all_read, mark_read, unread_count


class NotificationSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "level", "level_label", "title", "body", "link", "created_at", "read_at"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("unread", OpenApiTypes.BOOL, description="1：只列未读消息"),
]))
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    required_perm = "core.view_notification"  # reading and marking one's own messages
    filter_backends = []  # ?unread=1 is the only filter

    def get_queryset(self):
        messages = inbox(self.request.user)
        if self.request.query_params.get("unread") in {"1", "true"}:
            messages = messages.unread()
        return messages

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        return Response(self.get_serializer(mark_read(self.get_object(), by=request.user)).data)

    @extend_schema(request=None, responses=inline_serializer("MarkedAllRead", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": mark_all_read(request.user)})

    @extend_schema(responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}))
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": unread_count(request.user)})
