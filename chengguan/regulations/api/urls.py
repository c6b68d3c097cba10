from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("legal-bases", views.LegalBasisViewSet, basename="regulations-legal-basis")
router.register("matters", views.MatterViewSet, basename="regulations-matter")
router.register("benchmarks", views.BenchmarkViewSet, basename="regulations-benchmark")
router.register("exemptions", views.ExemptionViewSet, basename="regulations-exemption")
urlpatterns = router.urls
