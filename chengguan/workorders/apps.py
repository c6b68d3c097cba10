from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "chengguan.workorders"
    label = "workorders"
    verbose_name = "工单"
