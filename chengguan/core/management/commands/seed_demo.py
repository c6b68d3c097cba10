import importlib
import time

from django.apps import apps
from django.core.management.base import BaseCommand

from ... import audit, demo
from ...models import OrgUnit


class Command(BaseCommand):
    help = (
        "生成演示区县（以上海市闵行区为原型：局、大队、科室、14 个街镇中队及其辖区和单元网格、各角色人员）。"
        "同一 --seed 总是生成相同的数据；数据库已有组织机构时不做任何事。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(demo.SCALES), default="district",
                            help="small：测试用的小规模；district：演示和性能测试用的全区规模（默认）")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
        parser.add_argument("--print-logins", action="store_true", help="只打印演示账号，不写数据库")

    def handle(self, *args, scale, seed, print_logins, **options):
        if print_logins:
            self.print_logins()
            return
        if OrgUnit.objects.exists():
            self.stdout.write("数据库已有数据，跳过演示数据。")
            return
        started = time.perf_counter()

        def say(message):
            self.stdout.write(f"  {message}（{time.perf_counter() - started:.1f} 秒）")

        self.stdout.write(f"生成演示区县：规模 {scale}，种子 {seed} …")
        plan = demo.build_plan(scale, seed)
        say(f"规划完成：{len(plan.units)} 个单位、{len(plan.grids)} 个网格、{len(plan.staff)} 名人员")
        with audit.context(source="command:seed_demo"):
            demo.seed_database(plan, progress=lambda m: say(f"已写入{m}"))
            for module in app_demos():
                counts = module.seed(scale, seed)
                say("已写入" + "、".join(f"{label} {n} 个" for label, n in counts.items()))
        self.stdout.write(self.style.SUCCESS(f"演示数据已生成，用时 {time.perf_counter() - started:.1f} 秒。"))

    def print_logins(self):
        self.stdout.write(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
        for login in demo.DEMO_LOGINS:
            self.stdout.write(f"  {login['username']:<14}{login['role'].label}（{login['unit']}）")


def app_demos():
    """The `demo` module of every other installed chengguan app, in INSTALLED_APPS order; each
    has `seed(scale, seed) -> {label: count}` (core knows no app by name)."""
    modules = []
    for config in apps.get_app_configs():
        if not config.name.startswith("chengguan.") or config.name == "chengguan.core":
            continue
        name = f"{config.name}.demo"
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the demo module exists but an import inside it failed
                raise
    return modules
