"""Open311 GeoReport v2 at /open311/v2/ (see views for the spec points followed)."""

from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>[a-z0-9]+)$"

urlpatterns = [
    re_path(r"^services" + FMT, views.services, name="open311-services"),
    re_path(r"^services/(?P<code>[A-Za-z0-9_-]+)" + FMT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, views.requests, name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[A-Za-z0-9_-]+)" + FMT, views.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token>[A-Za-z0-9_-]+)" + FMT, views.token, name="open311-token"),
]
