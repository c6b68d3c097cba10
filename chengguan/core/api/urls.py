from django.urls import path
from rest_framework.routers import DefaultRouter

from . import calendar, views
from .evidence import EvidenceViewSet
from .notifications import NotificationViewSet

router = DefaultRouter(trailing_slash=True)
router.register("org-units", views.OrgUnitViewSet, basename="org-unit")
router.register("grids", views.GridViewSet, basename="grid")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("calendar/overrides", calendar.HolidayOverrideViewSet, basename="holiday-override")
router.register("evidence", EvidenceViewSet, basename="evidence")
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("geo/locate/", views.LocateView.as_view(), name="geo-locate"),
    path("calendar/compute/", calendar.CalendarComputeView.as_view(), name="calendar-compute"),
    *router.urls,
]
