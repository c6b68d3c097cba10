from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "城管执法平台 管理后台"
admin.site.site_title = "城管执法平台"
admin.site.index_title = "系统管理"

urlpatterns = [
    # Password changes go through core.services.change_password (validated and audited).
    path("admin/password_change/", RedirectView.as_view(pattern_name="core:password_change")),
    path("admin/", admin.site.urls),
    path("api/v1/inspections/", include("chengguan.inspections.api.urls")),
    path("api/v1/workorders/", include("chengguan.workorders.api.urls")),
    path("api/v1/regulations/", include("chengguan.regulations.api.urls")),
    path("api/v1/cases/", include("chengguan.cases.api.urls")),
    path("open311/v2/", include("chengguan.workorders.open311.urls")),
    path("api/v1/", include("chengguan.core.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("inspections/", include("chengguan.inspections.urls")),
    path("workorders/", include("chengguan.workorders.urls")),
    path("cases/", include("chengguan.cases.urls")),
    path("public/", include("chengguan.public.urls")),
    path("", include("chengguan.core.urls")),
]
