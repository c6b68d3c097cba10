from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="index"),
    path("new/", views.lead_create, name="lead_create"),
    path("simple/new/", views.simple_create, name="simple_create"),
    path("queues/", views.queues, name="queues"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/decision/", views.simple_decision, name="decision"),
    path("<int:pk>/documents/<int:document_id>.<str:fmt>", views.document_file, name="document"),
    path("<int:pk>/<slug:verb>/", views.case_action, name="action"),
]
