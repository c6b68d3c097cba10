from django.apps import AppConfig


class RegulationsConfig(AppConfig):
    name = "chengguan.regulations"
    label = "regulations"
    verbose_name = "执法事项"
