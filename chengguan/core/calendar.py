"""Working-day calendar: China's public holidays and make-up workdays (调休), the
administrators' overrides, and the period arithmetic every deadline uses (domain §0).

Which days are working days comes from two layers, the second winning:
1. the `chinesecalendar` package (the State Council's published schedule; it raises for years
   it does not know yet), or for those years a provisional calendar: weekends plus the
   statutory holidays of 《全国年节及纪念日放假办法》 (2024 revision, in force 2025);
2. `HolidayOverride` rows entered by administrators (e.g. the next year's 调休 schedule,
   published each autumn).

Per-year sets of rest days are built once per process and per override version; the version
token lives in Django's cache and is replaced whenever an override changes, so every process
rebuilds on its next call (and at least every few minutes, for per-process caches).
"""

import datetime as dt
import time
import uuid
from calendar import monthrange
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils.dateparse import parse_date as _parse_iso_date
from django.utils.dateparse import parse_datetime as _parse_iso_datetime
from lunar_python import Lunar, Solar

from .errors import ValidationFailed
from .models import ConfirmedCalendarYear, HolidayOverride

# Legal periods run on Beijing time whatever the server's zone.
CHINA_TZ = ZoneInfo("Asia/Shanghai")
# chinesecalendar starts in 2004; beyond 2100 nothing we compute is meaningful.
MIN_YEAR, MAX_YEAR = 2004, 2100
ONE_DAY = dt.timedelta(days=1)


class CalendarStatus(models.TextChoices):
    OFFICIAL = "official", "国务院放假安排（已发布）"
    PROVISIONAL = "provisional", "暂定：按法定节假日推算，国务院调休安排尚未录入"


class DeadlineKind(models.TextChoices):
    WORKING_DAYS = "working_days", "工作日"
    CALENDAR_DAYS = "calendar_days", "自然日"
    WORKING_HOURS = "working_hours", "工作小时"
    MONTHS = "months", "个月"


# --- input parsing (shared by the command, the API and the services) ----------------------------

def _as_date(value, field: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.astimezone(CHINA_TZ).date() if value.utcoffset() is not None else value.date()
    if not isinstance(value, dt.date):
        raise ValidationFailed("日期无效。", code="invalid_date", field=field)
    check_year(value.year, field)
    return value


def check_year(year: int, field: str = "date") -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            f"工作日历只支持 {MIN_YEAR}–{MAX_YEAR} 年的日期。", code="year_out_of_range", field=field
        )


def parse_date(text, field: str = "date") -> dt.date:
    """'2024-09-27' → date; anything else is refused with a Chinese message."""
    try:
        value = _parse_iso_date(str(text or "").strip())
    except ValueError:
        value = None
    if value is None:
        raise ValidationFailed(f"日期“{text or ''}”无效，请使用 YYYY-MM-DD 格式。", code="invalid_date", field=field)
    check_year(value.year, field)
    return value


def parse_datetime(text, field: str = "start") -> dt.datetime:
    """'2024-09-30 16:00' (Beijing time) or an ISO datetime with offset → aware datetime."""
    try:
        value = _parse_iso_datetime(str(text or "").strip())
    except ValueError:
        value = None
    if value is None:
        raise ValidationFailed(
            f"时间“{text or ''}”无效，请使用 YYYY-MM-DD HH:MM 格式（北京时间）。", code="invalid_datetime", field=field
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA_TZ)
    check_year(value.astimezone(CHINA_TZ).year, field)
    return value


# Far beyond any legal period; keeps date arithmetic clear of overflow.
MAX_AMOUNT = 100_000


def parse_positive_int(value, field: str = "n") -> int:
    try:
        number = None if isinstance(value, bool) else int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not 0 < number <= MAX_AMOUNT:
        raise ValidationFailed(f"“{value}”不是 1–{MAX_AMOUNT} 之间的整数。", code="invalid_number", field=field)
    return number


def parse_hours(value, field: str = "hours") -> dt.timedelta:
    """A positive number of hours, fractions allowed ('1.5')."""
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        hours = None
    if hours is None or not hours.is_finite() or not 0 < hours <= MAX_AMOUNT:
        raise ValidationFailed(f"“{value}”不是 0–{MAX_AMOUNT} 之间的小时数。", code="invalid_number", field=field)
    return dt.timedelta(seconds=float(hours * 3600))


# --- the statutory fallback -------------------------------------------------------------------

def _lunar(year: int, month: int, day: int) -> dt.date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> dt.date:
    # The solar term falls on April 4, 5 or 6; lunar_python computes the term astronomically.
    for day in (4, 5, 6):
        if Solar.fromYmd(year, 4, day).getLunar().getJieQi() == "清明":
            return dt.date(year, 4, day)
    raise ImproperlyConfigured(f"无法计算 {year} 年清明")  # unreachable for 1900–2100


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """Rest days that 《全国年节及纪念日放假办法》 (2024 revision) itself fixes for `year`:
    art. 2's thirteen days, plus art. 6's 补假 (a holiday falling on a Saturday or Sunday is
    made up on the next working weekday after its block). Art. 7's 调休 (bridging weekends into
    longer breaks) is decided each year by the State Council and cannot be computed."""
    check_year(year, "year")
    new_year = _lunar(year, 1, 1)
    blocks = [
        ("元旦", [dt.date(year, 1, 1)]),
        ("春节", [new_year - ONE_DAY + dt.timedelta(days=i) for i in range(4)]),  # 除夕, 初一–初三
        ("清明节", [_qingming(year)]),
        ("劳动节", [dt.date(year, 5, 1), dt.date(year, 5, 2)]),
        ("端午节", [_lunar(year, 5, 5)]),
        ("中秋节", [_lunar(year, 8, 15)]),
        ("国庆节", [dt.date(year, 10, d) for d in (1, 2, 3)]),
    ]
    blocks.sort(key=lambda block: block[1][0])
    days: dict[dt.date, str] = {}
    for name, block in blocks:
        for day in block:
            days.setdefault(day, name)
    for name, block in blocks:
        owed = sum(day.weekday() >= 5 for day in block)
        day = block[-1]
        while owed:
            day += ONE_DAY
            if day.weekday() < 5 and day not in days:
                days[day] = f"{name}补假"
                owed -= 1
    return dict(sorted(days.items()))


# --- per-year rest-day sets, cached per override version -------------------------------------

def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _days_of(year: int):
    day, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    while day <= end:
        yield day
        day += ONE_DAY


@dataclass(frozen=True)
class _Year:
    status: CalendarStatus
    rest_days: frozenset[dt.date]


def _build_year(year: int) -> _Year:
    if _package_knows(year):
        status = CalendarStatus.OFFICIAL
        rest = {day for day in _days_of(year) if not chinese_calendar.is_workday(day)}
    else:
        confirmed = ConfirmedCalendarYear.objects.filter(year=year).exists()
        status = CalendarStatus.OFFICIAL if confirmed else CalendarStatus.PROVISIONAL
        statutory = statutory_holidays(year)
        rest = {day for day in _days_of(year) if day.weekday() >= 5 or day in statutory}
    overrides = HolidayOverride.objects.filter(date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31))
    for day, is_workday in overrides.values_list("date", "is_workday"):
        if is_workday:
            rest.discard(day)
        else:
            rest.add(day)
    return _Year(status, frozenset(rest))


_VERSION_KEY = "core:calendar:overrides-version"
# Rebuild at least this often even without a version change: with the per-process LocMemCache
# (embedded mode), another process's override edit is otherwise seen only after a restart.
_SNAPSHOT_MAX_AGE_S = 300


class _Snapshot:
    def __init__(self, version):
        self.version = version
        self.born = time.monotonic()
        self.years: dict[int, _Year] = {}

    def year(self, year: int) -> _Year:
        data = self.years.get(year)
        if data is None:
            check_year(year)
            data = self.years[year] = _build_year(year)
        return data

    def is_workday(self, day: dt.date) -> bool:
        return day not in self.year(day.year).rest_days


_snapshot: _Snapshot | None = None


def _current() -> _Snapshot:
    """One cache read per public call, never one per day stepped."""
    global _snapshot
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(_VERSION_KEY)
    snap = _snapshot
    if snap is None or snap.version != version or time.monotonic() - snap.born > _SNAPSHOT_MAX_AGE_S:
        snap = _snapshot = _Snapshot(version)
    return snap


def invalidate() -> None:
    """Make every process rebuild its year sets on its next call."""
    cache.set(_VERSION_KEY, uuid.uuid4().hex, timeout=None)


# --- queries ----------------------------------------------------------------------------------

def is_workday(day) -> bool:
    return _current().is_workday(_as_date(day))


def calendar_status(year: int) -> CalendarStatus:
    """OFFICIAL when the year comes from the State Council's published schedule (the package);
    PROVISIONAL when it is only the statutory fallback plus whatever overrides were entered,
    so dashboards can warn that deadlines in that year may still move."""
    check_year(year, "year")
    return _current().year(year).status


def provisional_years(*days) -> list[int]:
    """Years between the earliest and latest of `days` whose calendar is provisional."""
    years = [_as_date(day).year for day in days]
    if not years:
        return []
    snap = _current()
    return [y for y in range(min(years), max(years) + 1) if snap.year(y).status == CalendarStatus.PROVISIONAL]


def working_days_between(a, b) -> int:
    """Working days d with a < d <= b, so working_days_between(a, add_working_days(a, n)) == n;
    negative when b is before a."""
    a, b = _as_date(a, "a"), _as_date(b, "b")
    if b < a:
        return -working_days_between(b, a)
    snap = _current()
    count, day = 0, a
    while day < b:
        day += ONE_DAY
        count += snap.is_workday(day)
    return count


# --- period arithmetic --------------------------------------------------------------------------

def add_working_days(start, n: int) -> dt.date:
    """The n-th working day after `start` (the start day is not counted). APL art. 85: its
    二日、三日、五日、七日 are working days excluding statutory holidays; ACL art. 69 likewise for
    periods of ten days or fewer."""
    day, n = _as_date(start), parse_positive_int(n)
    snap = _current()
    while n:
        day += ONE_DAY
        n -= snap.is_workday(day)
    return day


def _roll_forward(day: dt.date, snap: _Snapshot) -> dt.date:
    # CPL (2023) art. 85, which APL art. 61 and ARL art. 88 point to: the start day is not
    # counted, and a period whose last day is a statutory rest day ends on the first working
    # day after it.
    while not snap.is_workday(day):
        day += ONE_DAY
    return day


def add_calendar_days(start, n: int) -> dt.date:
    """End of an n-calendar-day period (e.g. APL art. 67's 15 days, art. 60's 90 days), rolled
    forward to the next working day if it falls on a holiday or rest day (CPL art. 85)."""
    day, n = _as_date(start), parse_positive_int(n)
    end = day + dt.timedelta(days=n)
    check_year(end.year)
    return _roll_forward(end, _current())


def add_months(start, n: int) -> dt.date:
    """End of an n-month period (e.g. ACL art. 53's 3 months): the same day of the month n
    months later, or that month's last day if it has none; rolled forward as in CPL art. 85."""
    day, n = _as_date(start), parse_positive_int(n)
    year, month0 = divmod(day.year * 12 + day.month - 1 + n, 12)
    check_year(year)
    end = dt.date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))
    return _roll_forward(end, _current())


@lru_cache(maxsize=4)
def _parse_office_hours(spans: tuple) -> tuple[tuple[dt.time, dt.time], ...]:
    parsed = []
    try:
        for begin, end in spans:
            parsed.append((dt.time.fromisoformat(begin.strip()), dt.time.fromisoformat(end.strip())))
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"OFFICE_HOURS 配置有误：{spans!r}，应为 08:30-12:00 形式的时段") from exc
    ordered = all(b < e for b, e in parsed) and all(parsed[i][1] <= parsed[i + 1][0] for i in range(len(parsed) - 1))
    if not parsed or not ordered:
        raise ImproperlyConfigured(f"OFFICE_HOURS 配置有误：{spans!r}，时段须按时间先后排列且互不重叠")
    return tuple(parsed)


def office_hours() -> tuple[tuple[dt.time, dt.time], ...]:
    return _parse_office_hours(tuple(tuple(span) for span in settings.OFFICE_HOURS))


def add_working_hours(start: dt.datetime, hours) -> dt.datetime:
    """The moment `hours` office hours (settings.OFFICE_HOURS, on working days) after `start`.
    A start outside office hours begins counting at the next office span; fractions allowed.
    Returns an aware datetime in Beijing time."""
    if not isinstance(start, dt.datetime) or start.utcoffset() is None:
        raise ValidationFailed("起算时间必须是带时区的日期时间。", code="invalid_datetime", field="start")
    remaining = parse_hours(hours)
    spans = office_hours()
    snap = _current()
    cursor = start.astimezone(CHINA_TZ)
    day = cursor.date()
    while True:
        if snap.is_workday(day):
            for begin, end in spans:
                span_end = dt.datetime.combine(day, end, CHINA_TZ)
                if cursor >= span_end:
                    continue
                span_start = max(cursor, dt.datetime.combine(day, begin, CHINA_TZ))
                if remaining <= span_end - span_start:
                    return span_start + remaining
                remaining -= span_end - span_start
        day += ONE_DAY
        cursor = dt.datetime.combine(day, dt.time(0), CHINA_TZ)


def working_hours_between(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Office time (settings.OFFICE_HOURS on working days) from `start` to `end`, so that
    working_hours_between(a, add_working_hours(a, h)) == h hours; zero when end <= start."""
    for value, field in ((start, "start"), (end, "end")):
        if not isinstance(value, dt.datetime) or value.utcoffset() is None:
            raise ValidationFailed("时间必须是带时区的日期时间。", code="invalid_datetime", field=field)
    start, end = start.astimezone(CHINA_TZ), end.astimezone(CHINA_TZ)
    total = dt.timedelta(0)
    if end <= start:
        return total
    spans, snap = office_hours(), _current()
    day = start.date()
    while day <= end.date():
        if snap.is_workday(day):
            for begin, finish in spans:
                lo = max(start, dt.datetime.combine(day, begin, CHINA_TZ))
                hi = min(end, dt.datetime.combine(day, finish, CHINA_TZ))
                if hi > lo:
                    total += hi - lo
        day += ONE_DAY
    return total


def end_of_working_day(day) -> dt.datetime:
    """The close of office on `day` (the moment a period counted in working days runs out)."""
    return dt.datetime.combine(_as_date(day), office_hours()[-1][1], CHINA_TZ)


# --- overrides (admin-edited) ------------------------------------------------------------------

def _after_override_change() -> None:
    # Bump now so this process (and this transaction) sees the change, and again after commit
    # so no other process keeps a set it rebuilt from the not-yet-committed state. (If an outer
    # transaction rolls back afterwards, the snapshot age limit bounds the stale view.)
    invalidate()
    transaction.on_commit(invalidate)


@transaction.atomic
def set_holiday_override(date, is_workday: bool, name: str = "", *, by) -> HolidayOverride:
    """Declare `date` a working day (e.g. a 调休 Saturday) or a rest day; creates or replaces the
    day's override. Audited through the model's save."""
    day = _as_date(date)
    if not isinstance(is_workday, bool):
        raise ValidationFailed("请说明该日是上班还是放假。", code="required", field="is_workday")
    name = (name or "").strip()
    if len(name) > HolidayOverride._meta.get_field("name").max_length:
        raise ValidationFailed("名称不能超过 50 个字。", code="too_long", field="name")
    override = HolidayOverride.objects.select_for_update().filter(date=day).first()
    if override is None:
        override = HolidayOverride(date=day)
    override.is_workday, override.name = is_workday, name
    override.save(audit_action="calendar.override.set", actor=by)
    _after_override_change()
    return override


@transaction.atomic
def remove_holiday_override(date, *, by) -> None:
    """Drop the override for `date`, so the package (or the statutory fallback) applies again."""
    day = _as_date(date)
    override = HolidayOverride.objects.select_for_update().filter(date=day).first()
    if override is None:
        raise ValidationFailed(f"{day} 没有节假日调整记录。", code="not_found", field="date")
    override.delete(actor=by)
    _after_override_change()


@transaction.atomic
def confirm_year(year: int, source: str, *, by) -> ConfirmedCalendarYear:
    """Mark a year the package does not know as official once its State Council schedule has
    been entered as overrides (`source` names the notice)."""
    validate_confirmation(year, source)
    confirmed = ConfirmedCalendarYear(year=year, source=source.strip(), confirmed_by=by)
    confirmed.save(audit_action="calendar.year.confirm", actor=by)
    _after_override_change()
    return confirmed


def validate_confirmation(year: int, source: str) -> None:
    check_year(year, "year")
    if _package_knows(year):
        raise ValidationFailed(f"{year} 年的放假安排已由日历组件提供，无需确认。", code="already_official", field="year")
    if not (source or "").strip():
        raise ValidationFailed("请填写依据（国务院办公厅通知文号）。", code="required", field="source")
    if ConfirmedCalendarYear.objects.filter(year=year).exists():
        raise ValidationFailed(f"{year} 年已确认。", code="duplicate", field="year")


# --- deadline rules ---------------------------------------------------------------------------

_ADDERS = {
    DeadlineKind.WORKING_DAYS: add_working_days,
    DeadlineKind.CALENDAR_DAYS: add_calendar_days,
    DeadlineKind.WORKING_HOURS: add_working_hours,
    DeadlineKind.MONTHS: add_months,
}


@dataclass(frozen=True)
class DeadlineRule:
    """A period the law sets, with how it is counted and where it comes from (domain §0).
    `verified=False` marks a default taken from practice, not from a text we read; only
    `configurable` rules may be changed through settings.DEADLINE_OVERRIDES."""

    code: str
    name: str
    kind: DeadlineKind
    amount: int | Decimal
    basis: str
    verified: bool = True
    configurable: bool = False

    def due(self, start):
        """Last day (or moment, for working hours) of the period that starts at `start`."""
        return _ADDERS[self.kind](start, self.amount)

    @property
    def period_label(self) -> str:
        return f"{self.amount}{self.kind.label}"


APL = "《中华人民共和国行政处罚法》"
ACL = "《中华人民共和国行政强制法》"
ARL = "《中华人民共和国行政复议法》"
ALL = "《中华人民共和国行政诉讼法》"
WD, CD, MONTHS = DeadlineKind.WORKING_DAYS, DeadlineKind.CALENDAR_DAYS, DeadlineKind.MONTHS

DEADLINE_RULES: dict[str, DeadlineRule] = {
    rule.code: rule
    for rule in (
        DeadlineRule("apl_statement", "陈述、申辩期", WD, 5,
                     f"{APL}第四十四条、第四十五条（法律未规定期限，默认 5 个工作日，待本局确认）",
                     verified=False, configurable=True),
        DeadlineRule("apl_hearing_request", "听证申请期", WD, 5, f"{APL}第六十四条第（一）项"),
        # due(notice served) = the earliest day the hearing may be held.
        DeadlineRule("apl_hearing_notice", "听证通知提前期", WD, 7, f"{APL}第六十四条第（二）项"),
        DeadlineRule("apl_preservation", "先行登记保存处理期", WD, 7, f"{APL}第五十六条"),
        DeadlineRule("apl_withdraw_publication", "撤回已公开的处罚决定", WD, 3, f"{APL}第四十八条"),
        DeadlineRule("apl_decision", "作出处罚决定期限（自立案之日起，不含延期）", CD, 90, f"{APL}第六十条"),
        DeadlineRule("apl_service", "处罚决定书送达期（当事人不在场）", WD, 7, f"{APL}第六十一条"),
        DeadlineRule("apl_payment", "罚款缴纳期（自收到决定书之日起）", CD, 15, f"{APL}第六十七条"),
        DeadlineRule("acl_seizure", "查封、扣押期限", CD, 30, f"{ACL}第二十五条"),
        DeadlineRule("acl_seizure_extension", "查封、扣押延长期限", CD, 30, f"{ACL}第二十五条"),
        DeadlineRule("acl_substitute_reminder", "代履行前催告期", WD, 3, f"{ACL}第五十一条"),
        DeadlineRule("acl_court_reminder", "催告送达后申请法院强制执行的等待期", WD, 10, f"{ACL}第五十四条"),
        DeadlineRule("acl_court_application", "申请人民法院强制执行期限", MONTHS, 3, f"{ACL}第五十三条"),
        # Limitation (追责时效) from the act or the end of a continuing act; 5 years where life,
        # health or financial safety was concerned and harm followed.
        DeadlineRule("apl_limitation", "追责时效", MONTHS, 24, f"{APL}第三十六条第一款"),
        DeadlineRule("apl_limitation_harm", "追责时效（涉及生命健康、金融安全且有危害后果）", MONTHS, 60,
                     f"{APL}第三十六条第一款"),
        DeadlineRule("case_prefiling_check", "立案前核查期限", CD, 15,
                     "《住房和城乡建设行政处罚程序规定》第十五条（待核实，可由本局配置）",
                     verified=False, configurable=True),
        DeadlineRule("arl_application", "申请行政复议期限", CD, 60, f"{ARL}第二十条"),
        DeadlineRule("all_litigation", "提起行政诉讼期限", MONTHS, 6, f"{ALL}第四十六条"),
        # 2018 text of 上海市城市管理行政执法条例第二十五条 (CPL art. 95: 30 days).
        DeadlineRule("case_announcement_service", "公告送达期满视为送达", CD, 60,
                     "《上海市城市管理行政执法条例》第二十五条（2018年文本；民事诉讼法第九十五条为三十日）",
                     verified=False, configurable=True),
        # Publication of a penalty decision (公示): MOHURD-55 art. 10 says within 7 days of the
        # decision (text read only in part); 国办发〔2018〕118号 says 7 working days (domain §1.8, §10).
        DeadlineRule("case_decision_publication", "行政处罚决定公示期限（自作出决定之日起）", WD, 7,
                     "《住房和城乡建设行政处罚程序规定》第十条、国办发〔2018〕118号（待核实，可由本局配置）",
                     verified=False, configurable=True),
    )
}


def deadline_rule(code: str) -> DeadlineRule:
    """The catalogue rule, with the amount from settings.DEADLINE_OVERRIDES where the rule is
    configurable (e.g. DEADLINE_OVERRIDES=apl_statement=3)."""
    rule = DEADLINE_RULES[code]
    override = settings.DEADLINE_OVERRIDES.get(code)
    if override is None:
        return rule
    if not rule.configurable:
        raise ImproperlyConfigured(f"期限“{rule.name}”由法律规定（{rule.basis}），不能在 DEADLINE_OVERRIDES 中修改")
    return replace(rule, amount=override)

