from django.core.management.base import BaseCommand

from ... import audit


class Command(BaseCommand):
    help = "校验审计链（全过程记录）是否完整：逐条重算哈希。完整时退出码为 0，否则为 1 并指出第一条被破坏的事件。"

    def handle(self, *args, **options):
        result = audit.verify()
        if result.ok:
            self.stdout.write(f"审计链完整：共 {result.count} 条事件。")
            return
        where = f"（事件 id={result.broken.pk}，{result.broken}）" if result.broken else ""
        self.stderr.write(f"审计链被破坏：{result.reason}{where}。已校验 {result.count} 条事件。")
        raise SystemExit(1)
