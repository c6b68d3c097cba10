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
