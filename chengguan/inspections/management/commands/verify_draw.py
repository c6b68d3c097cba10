from django.core.management.base import BaseCommand, CommandError

from chengguan.core import audit

from ...models import DrawPlan
from ...services.draws import verify_plan


class Command(BaseCommand):
    help = (
        "核验双随机抽查计划的抽取结果：读取冻结的对象名录和检查人员名录并校验其 SHA-256，核对随机种子与抽取前公布的"
        "承诺值，按公开的算法（docs/adr/0004-verifiable-draws.md）重新计算，逐个比对抽中对象、顺序和检查人员。"
        "一致时退出码为 0，否则为 1。"
    )

    def add_arguments(self, parser):
        parser.add_argument("plan_id", type=int, help="抽查计划编号")

    def handle(self, *args, plan_id, **options):
        plan = DrawPlan.objects.select_related("population_file", "pool_file").filter(pk=plan_id).first()
        if plan is None:
            raise CommandError(f"抽查计划 {plan_id} 不存在。")
        self.stdout.write(f"计划 {plan.pk}“{plan.name}”（{plan.get_status_display()}）")
        if plan.population_file_id:
            self.stdout.write(f"  对象名录 {plan.population_count} 户，SHA-256 {plan.population_file.sha256}")
            self.stdout.write(f"  检查人员名录 {plan.pool_count} 人，SHA-256 {plan.pool_file.sha256}")
            self.stdout.write(f"  随机种子承诺值 {plan.seed_commitment}")
        if plan.seed_revealed:
            self.stdout.write(f"  随机种子 {plan.seed}")
        with audit.context(source="command:verify_draw"):
            result = verify_plan(plan)
        if result.ok:
            self.stdout.write(result.message)
            return
        self.stderr.write(f"核验未通过：{result.message}")
        raise SystemExit(1)
