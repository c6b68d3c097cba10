from django import forms
from django.contrib import admin

from .. import calendar
from ..errors import ValidationFailed
from ..models import ConfirmedCalendarYear, HolidayOverride


class YearFilter(admin.SimpleListFilter):
    title = "年份"
    parameter_name = "year"

    def lookups(self, request, model_admin):
        return [(str(d.year), f"{d.year}年") for d in HolidayOverride.objects.dates("date", "year", order="DESC")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


class HolidayOverrideForm(forms.ModelForm):
    class Meta:
        model = HolidayOverride
        fields = ("date", "is_workday", "name")

    def clean_date(self):
        day = self.cleaned_data["date"]
        try:
            calendar.check_year(day.year)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        return day


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """Edits go through the calendar service, so they are audited and every process's cached
    calendar is refreshed."""

    form = HolidayOverrideForm
    list_display = ("date", "weekday", "is_workday", "name")
    list_filter = ("is_workday", YearFilter)
    search_fields = ("name",)
    ordering = ("date",)

    @admin.display(description="星期")
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def get_readonly_fields(self, request, obj=None):
        # The date is the record's identity: change another day by adding its own override.
        return ("date",) if obj else ()

    def save_model(self, request, obj, form, change):
        obj.pk = calendar.set_holiday_override(obj.date, obj.is_workday, obj.name, by=request.user).pk

    def delete_model(self, request, obj):
        calendar.remove_holiday_override(obj.date, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            calendar.remove_holiday_override(obj.date, by=request.user)


class ConfirmedCalendarYearForm(forms.ModelForm):
    class Meta:
        model = ConfirmedCalendarYear
        fields = ("year", "source")

    def clean(self):
        data = super().clean()
        try:
            calendar.validate_confirmation(data.get("year") or 0, data.get("source") or "")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        return data


@admin.register(ConfirmedCalendarYear)
class ConfirmedCalendarYearAdmin(admin.ModelAdmin):
    """After entering a new year's holidays and 调休 days, confirm the year here."""

    form = ConfirmedCalendarYearForm
    list_display = ("year", "source", "confirmed_by", "confirmed_at")
    fields = ("year", "source")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = calendar.confirm_year(obj.year, obj.source, by=request.user).pk
