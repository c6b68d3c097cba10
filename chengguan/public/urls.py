from django.urls import path, re_path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.index, name="index"),
    path("draws/", views.draws, name="draws"),
    path("draws/how-to-verify/", views.how_to_verify, name="how_to_verify"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/<slug:kind>.csv", views.draw_file, name="draw_file"),
    path("inspections/", views.results, name="results"),
    path("decisions/", views.decisions, name="decisions"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision_detail"),
    path("matters/", views.matters, name="matters"),
    path("report/", views.report, name="report"),
    path("report/done/", views.report_done, name="report_done"),
    re_path(r"^report/qr/(?P<code>[A-Za-z0-9_-]{1,20})\.svg$", views.workstation_qr, name="workstation_qr"),
    path("status/", views.status, name="status"),
]
