from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.index, name="index"),
    path("draws/", views.draws, name="draws"),
    path("draws/how-to-verify/", views.how_to_verify, name="how_to_verify"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/<slug:kind>.csv", views.draw_file, name="draw_file"),
    path("inspections/", views.results, name="results"),
]
