"""python manage.py train_classifier — train a new version of the work-order classifier on
the orders people classified (plus the category names and keywords) and make it active."""

import time

from django.core.management.base import BaseCommand, CommandError

from chengguan.core import audit
from chengguan.core.errors import ChengguanError
from chengguan.workorders.services import classification


class Command(BaseCommand):
    help = "训练工单自动分类模型（使用人工分类过的工单），保存为新版本并启用。"

    def add_arguments(self, parser):
        parser.add_argument("--no-evaluate", action="store_true", help="不做交叉验证（更快）")

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            with audit.context(source="command:train_classifier"):
                model = classification.train(evaluate=not options["no_evaluate"])
        except ChengguanError as exc:
            raise CommandError(exc.message) from exc
        accuracy = "未评估" if model.cv_accuracy is None else f"{model.cv_accuracy:.3f}"
        self.stdout.write(self.style.SUCCESS(
            f"分类模型 v{model.version} 已启用：{model.training_size} 条训练文本，{len(model.labels)} 个分类，"
            f"5 折交叉验证准确率 {accuracy}，用时 {time.perf_counter() - started:.1f} 秒。"))
