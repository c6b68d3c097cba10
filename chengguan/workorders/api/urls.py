from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
# Named prefixes first: the orders themselves sit at the root ("" → /api/v1/workorders/{id}/).
router.register("categories", views.CategoryViewSet, basename="workorders-category")
router.register("time-limits", views.TimeLimitRuleViewSet, basename="workorders-time-limit")
router.register("clock-requests", views.ClockRequestViewSet, basename="workorders-clock-request")
router.register("repeat-candidates", views.RepeatCandidateViewSet, basename="workorders-repeat-candidate")
router.register("", views.WorkOrderViewSet, basename="workorders-order")
urlpatterns = [
    path("intake/", views.IntakeView.as_view(), name="workorders-intake"),
    path("stats/conversion-rate/", views.ConversionRateView.as_view(), name="workorders-conversion-rate"),
    path("stats/indicators/", views.IndicatorsView.as_view(), name="workorders-indicators"),
    *router.urls,
]
