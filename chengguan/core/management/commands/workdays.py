"""Working-day arithmetic from the command line, on the same calendar every module uses.

    python manage.py workdays add 2024-09-27 3                # → 2024-10-08
    python manage.py workdays add-calendar 2024-09-16 15      # → 2024-10-08
    python manage.py workdays add-months 2024-07-31 3
    python manage.py workdays between 2024-09-27 2024-10-08   # → 3
    python manage.py workdays add-hours "2024-09-30 16:00" 4
    python manage.py workdays is-workday 2024-09-29
    python manage.py workdays status 2027
"""

from django.core.management.base import BaseCommand, CommandError

from ... import calendar
from ...errors import ValidationFailed


def _format_moment(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second or value.microsecond else "%Y-%m-%d %H:%M")


class Command(BaseCommand):
    help = "按工作日历计算期限（工作日、自然日顺延、月、工作小时）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True, metavar="操作")
        for name, help_text in (
            ("add", "起算日后第 N 个工作日（起算日不计入）"),
            ("add-calendar", "N 个自然日后的届满日，末日为节假日的顺延至下一个工作日"),
            ("add-months", "N 个月后的届满日，末日为节假日的顺延至下一个工作日"),
        ):
            op = sub.add_parser(name, help=help_text)
            op.add_argument("date", help="起算日 YYYY-MM-DD")
            op.add_argument("n", help="期间长度")
        between = sub.add_parser("between", help="A 之后到 B（含）之间的工作日数")
        between.add_argument("a")
        between.add_argument("b")
        hours = sub.add_parser("add-hours", help="起算时间后 N 个工作小时（可为小数）")
        hours.add_argument("start", help="起算时间，如 \"2024-09-30 16:00\"（北京时间）")
        hours.add_argument("hours")
        workday = sub.add_parser("is-workday", help="是否工作日")
        workday.add_argument("date")
        status = sub.add_parser("status", help="某年日历来源：official（国务院已发布）或 provisional（暂定）")
        status.add_argument("year")

    def handle(self, *args, op, **options):
        try:
            result, days = self._compute(op, options)
            years = calendar.provisional_years(*days)
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(result)
        if years and op != "status":
            self.stderr.write(
                f"注意：{'、'.join(map(str, years))} 年的日历为暂定（国务院调休安排尚未录入），结果可能变化。"
            )

    def _compute(self, op: str, options) -> tuple[str, list]:
        """(printed result, the days it depends on)."""
        if op == "add-hours":
            start = calendar.parse_datetime(options["start"])
            end = calendar.add_working_hours(start, options["hours"])
            return _format_moment(end), [start, end]
        if op == "between":
            a, b = calendar.parse_date(options["a"], "a"), calendar.parse_date(options["b"], "b")
            return str(calendar.working_days_between(a, b)), [a, b]
        if op == "status":
            year = calendar.parse_positive_int(options["year"], "year")
            status = calendar.calendar_status(year)
            return f"{status.value}\t{status.label}", []
        day = calendar.parse_date(options["date"])
        if op == "is-workday":
            return ("工作日" if calendar.is_workday(day) else "休息日"), [day]
        adder = {
            "add": calendar.add_working_days,
            "add-calendar": calendar.add_calendar_days,
            "add-months": calendar.add_months,
        }[op]
        end = adder(day, calendar.parse_positive_int(options["n"]))
        return end.isoformat(), [day, end]
