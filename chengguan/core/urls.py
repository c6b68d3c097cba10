from django.urls import path

from . import views, views_evidence, views_inbox

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.password_change, name="password_change"),
    path("modules/<slug:slug>/", views.module_placeholder, name="module"),
    path("org/", views.org_tree, name="org_tree"),
    path("org/new/", views.org_create, name="org_create"),
    path("org/<int:pk>/", views.org_detail, name="org_detail"),
    path("org/<int:pk>/edit/", views.org_edit, name="org_edit"),
    path("grids/", views.grid_list, name="grid_list"),
    path("grids/export.xlsx", views.grid_export, name="grid_export"),
    path("grids/new/", views.grid_create, name="grid_create"),
    path("grids/<int:pk>/", views.grid_detail, name="grid_detail"),
    path("grids/<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/export.xlsx", views.staff_export, name="staff_export"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("map/", views.map_page, name="map"),
    path("map/layers.geojson", views.map_layers, name="map_layers"),
    path("map/locate/", views.map_locate, name="map_locate"),
    path("evidence/<int:pk>/download/", views_evidence.evidence_download, name="evidence_download"),
    path("inbox/", views_inbox.inbox_page, name="inbox"),
    path("inbox/read-all/", views_inbox.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/read/", views_inbox.inbox_read, name="inbox_read"),
]
