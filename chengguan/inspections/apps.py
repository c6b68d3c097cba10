from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "chengguan.inspections"
    label = "inspections"
    verbose_name = "检查与监管对象"

    def ready(self):
        from . import cards  # noqa: F401 - registers the dashboard cards
