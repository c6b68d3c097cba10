from django.db import models

from .audit import AuditedModel


class HolidayOverride(AuditedModel):
    """An administrator's correction to the official calendar: a day that is a statutory
    holiday (is_workday=False) or a make-up working day (调休, is_workday=True). Needed for
    years the chinese-calendar package does not know yet (it raises for 2027 onwards); an
    override always wins over the package."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    name = models.CharField("名称", max_length=50, blank=True, help_text="如：春节、国庆节调休上班")

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.name}"


class ConfirmedCalendarYear(AuditedModel):
    """An administrator's statement that a year's State Council schedule (holidays and 调休
    make-up days) has been fully entered as overrides, for a year the package does not know.
    The year's calendar then counts as official instead of provisional."""

    year = models.PositiveIntegerField("年份", unique=True)
    source = models.CharField("依据", max_length=200, help_text="如：国办发明电〔2026〕X号")
    confirmed_by = models.ForeignKey(
        "core.User", verbose_name="确认人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField("确认时间", auto_now_add=True)

    class Meta:
        verbose_name = "已确认的年度放假安排"
        verbose_name_plural = "已确认的年度放假安排"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年（{self.source}）"
