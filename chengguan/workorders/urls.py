from django.urls import path

from . import views, views_import

app_name = "workorders"

urlpatterns = [
    path("", views.index, name="index"),
    path("list/", views.order_list, name="list"),
    path("export.xlsx", views.order_export, name="export"),
    path("squad/", views.squad_work, name="squad"),
    path("mine/", views.my_orders, name="mine"),
    path("new/", views.order_create, name="create"),
    path("clock-requests/", views.clock_requests, name="clock_requests"),
    path("stats/", views.stats_page, name="stats"),
    path("stats/export.xlsx", views.stats_export, name="stats_export"),
    path("import/", views_import.import_orders, name="import"),
    path("import/template.xlsx", views_import.import_template, name="import_template"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/<slug:verb>/", views.order_action, name="action"),
]
