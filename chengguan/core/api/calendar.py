"""Calendar API: period arithmetic on the working-day calendar, and the administrators'
holiday overrides (read by all staff, written by administrators through the service)."""

import datetime as dt

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import calendar
from ..errors import ValidationFailed
from ..models import HolidayOverride
from .pagination import StableCursorPagination


def _param(request, name: str) -> str:
    value = request.query_params.get(name, "").strip()
    if not value:
        raise ValidationFailed(f"缺少参数 {name}。", code="required", field=name)
    return value


def _date(request, name: str = "date"):
    return calendar.parse_date(_param(request, name), name)


def _n(request):
    return calendar.parse_positive_int(_param(request, "n"), "n")


def _add(adder):
    def compute(request):
        start = _date(request)
        end = adder(start, _n(request))
        return end.isoformat(), [start, end]

    return compute


def _add_hours(request):
    start = calendar.parse_datetime(_param(request, "start"), "start")
    end = calendar.add_working_hours(start, _param(request, "hours"))
    return end.isoformat(), [start, end]


def _between(request):
    a, b = _date(request, "a"), _date(request, "b")
    return calendar.working_days_between(a, b), [a, b]


def _is_workday(request):
    day = _date(request)
    return calendar.is_workday(day), [day]


def _status(request):
    year = calendar.parse_positive_int(_param(request, "year"), "year")
    return calendar.calendar_status(year).value, [dt.date(year, 1, 1)]


# op → computation returning (result, the days the result depends on)
OPS = {
    "add-working-days": _add(calendar.add_working_days),
    "add-calendar-days": _add(calendar.add_calendar_days),
    "add-months": _add(calendar.add_months),
    "add-working-hours": _add_hours,
    "between": _between,
    "is-workday": _is_workday,
    "status": _status,
}


def _query(name: str, type_, description: str, **extra) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description, **extra)


class CalendarComputeView(APIView):
    """Any signed-in staff member may compute; no data is read but the calendar."""

    @extend_schema(
        summary="按工作日历计算期限",
        parameters=[
            _query("op", str, "计算类型", required=True, enum=list(OPS)),
            _query("date", OpenApiTypes.DATE, "起算日（add-working-days、add-calendar-days、add-months、is-workday）"),
            _query("n", int, "期间长度：工作日数、自然日数或月数"),
            _query("start", OpenApiTypes.DATETIME, "起算时间（add-working-hours），不带时区按北京时间"),
            _query("hours", float, "工作小时数（add-working-hours），可为小数"),
            _query("a", OpenApiTypes.DATE, "between：起始日（不计入）"),
            _query("b", OpenApiTypes.DATE, "between：截止日（计入）"),
            _query("year", int, "status：年份"),
        ],
        responses=inline_serializer(
            "CalendarComputeResult",
            {
                "result": serializers.JSONField(help_text="日期、时间、工作日数、是否工作日或日历状态"),
                "provisional_years": serializers.ListField(
                    child=serializers.IntegerField(), help_text="结果所涉及的暂定年份（国务院调休安排尚未录入）"
                ),
            },
        ),
    )
    def get(self, request):
        op = request.query_params.get("op", "")
        if op not in OPS:
            raise ValidationFailed(f"不支持的计算类型“{op}”，可选：{'、'.join(OPS)}。", code="invalid_choice", field="op")
        result, days = OPS[op](request)
        return Response({"result": result, "provisional_years": calendar.provisional_years(*days)})


class HolidayOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = HolidayOverride
        fields = ["date", "is_workday", "name"]
        read_only_fields = fields


class HolidayOverrideInputSerializer(serializers.Serializer):
    date = serializers.DateField()
    is_workday = serializers.BooleanField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")


class HolidayOverrideFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="date", lookup_expr="year", label="年份")

    class Meta:
        model = HolidayOverride
        fields = ["year", "is_workday"]


class ByDatePagination(StableCursorPagination):
    ordering = "date"


class HolidayOverrideViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                             mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """List and read for all staff (core.view_holidayoverride); create (or replace the day's
    override) and delete for administrators, through the calendar service."""

    queryset = HolidayOverride.objects.all()
    serializer_class = HolidayOverrideSerializer
    filterset_class = HolidayOverrideFilter
    pagination_class = ByDatePagination
    lookup_field = "date"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"

    def get_serializer_class(self):
        return HolidayOverrideInputSerializer if self.action == "create" else HolidayOverrideSerializer

    @extend_schema(request=HolidayOverrideInputSerializer, responses={201: HolidayOverrideSerializer})
    def create(self, request, *args, **kwargs):
        data = HolidayOverrideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = calendar.set_holiday_override(**data.validated_data, by=request.user)
        return Response(HolidayOverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        calendar.remove_holiday_override(instance.date, by=self.request.user)
