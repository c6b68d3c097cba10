from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WorkordersConfig(AppConfig):
    name = "chengguan.workorders"
    label = "workorders"
    verbose_name = "工单"

    def ready(self):
        from . import cards  # noqa: F401 - registers the dashboard cards
        from .models import Category, TimeLimitRule
        from .services import classification, clocks

        # This process sees an edited category tree or time limit at once (others within
        # the caches' refresh times).
        for signal in (post_save, post_delete):
            signal.connect(classification.invalidate, sender=Category, dispatch_uid=f"category-model-{signal}")
            signal.connect(clocks.invalidate, sender=Category, dispatch_uid=f"category-clock-{signal}")
            signal.connect(clocks.invalidate, sender=TimeLimitRule, dispatch_uid=f"time-limit-{signal}")
