from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("", views.object_list, name="index"),
    path("objects/map.geojson", views.object_map_data, name="object_map_data"),
    path("objects/export.xlsx", views.object_export, name="object_export"),
    path("objects/import/", views.object_import, name="object_import"),
    path("objects/import/template.xlsx", views.object_import_template, name="object_import_template"),
    path("objects/new/", views.object_create, name="object_create"),
    path("objects/<int:pk>/", views.object_detail, name="object_detail"),
    path("objects/<int:pk>/edit/", views.object_edit, name="object_edit"),
    path("objects/<int:pk>/conflicts/new/", views.object_conflict, name="object_conflict"),
    path("objects/<int:pk>/merge/", views.object_merge, name="object_merge"),
    path("objects/<int:pk>/tasks/new/", views.object_task_create, name="object_task_create"),
    path("tier-rules/", views.tier_rules, name="tier_rules"),
    path("tier-rules/recompute/", views.tier_recompute, name="tier_recompute"),
    path("tier-rules/<int:type_pk>/edit/", views.tier_rule_edit, name="tier_rule_edit"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/redraw/", views.plan_redraw, name="plan_redraw"),
    path("plans/<int:pk>/<slug:action>/", views.plan_action, name="plan_action"),
    path("calendar/", views.task_calendar, name="calendar"),
    path("calendar/generate/", views.generate_schedule, name="generate_schedule"),
    path("my-tasks/", views.my_tasks, name="my_tasks"),
    path("tasks/<int:pk>/inspect/", views.task_inspect, name="task_inspect"),
    path("records/", views.record_list, name="record_list"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/publish/", views.record_publish, name="record_publish"),
]
