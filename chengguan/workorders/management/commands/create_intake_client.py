"""`python manage.py create_intake_client "市12345平台" --channel 12345` — prints the key once."""

from django.core.management.base import BaseCommand, CommandError

from chengguan.core.errors import ChengguanError
from chengguan.workorders.choices import Channel
from chengguan.workorders.services import clients


class Command(BaseCommand):
    help = "创建接入平台（热线平台或 Open311 应用）并显示其接入密钥（仅显示一次）。"

    def add_arguments(self, parser):
        parser.add_argument("name", help="接入平台名称")
        parser.add_argument("--channel", required=True, choices=Channel.values, help="来源渠道")

    def handle(self, *args, name, channel, **options):
        try:
            client, key = clients.create_client(by=None, name=name, channel=channel)
        except ChengguanError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已创建接入平台“{client.name}”（渠道 {client.get_channel_display()}，"
                          f"系统账号 {client.user.username}）。")
        self.stdout.write("接入密钥（只显示这一次，请妥善保存）：")
        self.stdout.write(key)
