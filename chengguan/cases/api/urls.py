from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("disclosures", views.DisclosureViewSet, basename="cases-disclosure")
router.register("", views.CaseViewSet, basename="cases-case")
urlpatterns = router.urls
