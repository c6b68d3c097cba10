from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("object-types", views.ObjectTypeViewSet, basename="inspections-object-type")
router.register("tier-rules", views.TierRuleViewSet, basename="inspections-tier-rule")
router.register("objects", views.RegulatedObjectViewSet, basename="inspections-object")
router.register("conflicts", views.ConflictViewSet, basename="inspections-conflict")
router.register("plans", views.DrawPlanViewSet, basename="inspections-plan")
router.register("tasks", views.InspectionTaskViewSet, basename="inspections-task")
router.register("records", views.InspectionRecordViewSet, basename="inspections-record")
urlpatterns = router.urls
