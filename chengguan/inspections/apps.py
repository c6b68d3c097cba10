from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "chengguan.inspections"
    label = "inspections"
    verbose_name = "检查与监管对象"
