"""Excel import of a day's tickets (a hotline platform's daily list, a media or leadership list
typed up by the command centre).

The sheet's first row names the columns (`COLUMNS`; other spellings through `aliases`). Every
row is read and checked first, with intake's own rules, and every error is reported with its
Excel row number and column; if there is any, nothing is saved. Otherwise the rows go through
`intake.receive_many` in batches of WORKORDER_INTAKE_BATCH, all in one transaction, so a file
is taken in whole or not at all. A ticket already taken in (a resent list) is counted as
already present, not created twice.

Real sheets mix cell types in one column: Excel dates next to dates typed as text
(2019/2/28 11:25:05), ticket and phone numbers stored as numbers; all are read as meant."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chengguan.core.errors import ValidationFailed
from chengguan.core.imports import RowError, header_mismatch

from ..choices import Channel
from ..models import Category
from . import classification, intake

MAX_IMPORT_ROWS = 20_000
HOTLINES = frozenset({Channel.HOTLINE_12345, Channel.HOTLINE_12319, Channel.HOTLINE_962000})

# (field, header); the order is the template's and the order errors are reported in.
COLUMNS = [
    ("external_ticket", "工单号"),
    ("received_at", "受理时间"),
    ("title", "标题"),
    ("text", "诉求内容"),
    ("address", "地址"),
    ("lon", "经度"),
    ("lat", "纬度"),
    ("reporter_name", "反映人"),
    ("reporter_phone", "联系电话"),
    ("category", "分类"),
]
HEADER = dict(COLUMNS)
EXAMPLE = ["HL20240501001", "2024/5/1 9:30:00", "夜间施工噪声", "某某路 100 号工地每晚 11 点后仍在施工，噪声扰民。",
           "某某路 100 号", 121.405, 31.105, "张先生", "13812345678", ""]

# 2019/2/28 11:25:05, 2019-02-28 11:25, 2019.2.28, 2019年2月28日 11时25分 …
_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?)?$"
)


@dataclass
class ImportResult:
    created: int = 0
    existing: int = 0  # tickets already taken in (resent), or repeated within the file
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # numbers of the orders created

    @property
    def ok(self) -> bool:
        return not self.errors


def _key(value) -> str:
    """A header as compared: NFKC (full-width forms), no spaces, no trailing required-mark."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return "".join(text.split()).rstrip("*")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a ticket or phone number stored as a number
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _code(value) -> str:
    """Ticket and phone numbers: full-width digits folded, spaces dropped."""
    return "".join(unicodedata.normalize("NFKC", _text(value)).split())


def parse_received_at(value) -> dt.datetime | None:
    """An Excel date cell or a date typed as text, as an aware datetime (naive values are the
    bureau's local time); None when blank; ValidationFailed when not a date."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        match = _DATE_RE.match(text)
        try:
            if match:
                parts = [int(p) if p else 0 for p in match.groups()]
                moment = dt.datetime(*parts)
            else:
                moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            raise ValidationFailed(f"受理时间“{value.strip()}”不是有效的日期时间（如 2024/5/1 9:30:00）。",
                                   code="invalid_datetime", field="received_at")
    else:
        raise ValidationFailed(f"受理时间“{_text(value)}”不是有效的日期时间，请设为日期格式或按 2024/5/1 9:30:00 填写。",
                               code="invalid_datetime", field="received_at")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _number(value, name: str):
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        value = None
    elif isinstance(value, (int, float)):
        return float(value)
    try:
        return float(unicodedata.normalize("NFKC", str(value)).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"{HEADER[name]}“{_text(value)}”不是数字。", code="invalid_number",
                               field=name) from None


def _categories() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Active categories by code, and codes by name (“大类/小类” and the bare name)."""
    by_code, by_name = {}, {}
    for c in Category.objects.filter(is_active=True).select_related("parent"):
        by_code[c.code] = c.code
        names = {c.name, str(c)}
        for name in names:
            by_name.setdefault(_key(name), []).append(c.code)
    return by_code, by_name


def _category(value, by_code, by_name) -> str:
    text = _text(value)
    if not text:
        return ""
    if text in by_code:
        return text
    codes = sorted(set(by_name.get(_key(text), [])))
    if len(codes) == 1:
        return codes[0]
    if codes:
        raise ValidationFailed(f"分类“{text}”有多个同名分类，请写“大类/小类”或分类代码。", code="ambiguous_category",
                               field="category")
    raise ValidationFailed(f"未知的分类“{text}”（填写分类代码或名称，可留空由系统自动分类）。",
                           code="unknown_category", field="category")


def _read_sheet(uploaded_file, result: ImportResult):
    from openpyxl import load_workbook

    try:
        if hasattr(uploaded_file, "seek"):
            uploaded_file.seek(0)
        book = load_workbook(uploaded_file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        result.errors.append(RowError(0, "", "无法读取文件，请上传 Excel（.xlsx）格式的文件。", "invalid_file"))
        return None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = list(next(rows, []) or [])
        data = []
        for number, values in enumerate(rows, start=2):
            if any(_text(v) for v in values):  # blank rows (and rows of blanks) are skipped
                data.append((number, list(values)))
                if len(data) > MAX_IMPORT_ROWS:
                    result.errors.append(RowError(0, "", f"一次最多导入 {MAX_IMPORT_ROWS} 行，请分批导入。",
                                                  "too_many_rows"))
                    return None
    finally:
        book.close()
    return header, data


def _columns(header: list, aliases: Mapping[str, str | None], channel: str,
             result: ImportResult) -> dict[str, int] | None:
    """field → column position; one error naming every unknown, repeated or missing column.
    `aliases` maps another sheet's header to ours, or to None for a column to leave out."""
    known = {_key(h): f for f, h in COLUMNS}
    alias = {_key(k): (_key(v) if v else None) for k, v in aliases.items()}
    positions, unknown, repeated = {}, [], []
    for i, title in enumerate(header):
        key = _key(title)
        if not key:
            continue
        if key in alias:
            key = alias[key]
            if key is None:
                continue
        name = known.get(key)
        if name is None:
            unknown.append(_text(title))
        elif name in positions:
            repeated.append(_text(title))
        else:
            positions[name] = i
    required = ["text"] + (["external_ticket"] if channel in HOTLINES else [])
    missing = [HEADER[f] for f in required if f not in positions]
    message = header_mismatch(missing, unknown, repeated)
    if message is None:
        return positions
    result.errors.append(RowError(1, "", message, "wrong_columns"))
    return None


def _row_item(values: list, positions: dict[str, int], channel: str, cats) -> tuple[dict, list[tuple]]:
    """The intake item of one row and its (field, message, code) errors."""
    def cell(name):
        i = positions.get(name)
        return values[i] if i is not None and i < len(values) else None

    item, errors = {"channel": channel}, []
    for name in ("title", "text", "address", "reporter_name"):
        item[name] = _text(cell(name))
    item["external_ticket"] = _code(cell("external_ticket"))
    item["reporter_phone"] = _code(cell("reporter_phone"))
    if channel in HOTLINES and not item["external_ticket"]:
        errors.append(("external_ticket", "热线工单须填写工单号。", "required"))
    for name, convert in (("received_at", parse_received_at),
                          ("lon", lambda v: _number(v, "lon")), ("lat", lambda v: _number(v, "lat")),
                          ("category", lambda v: _category(v, *cats))):
        try:
            item[name] = convert(cell(name))
        except ValidationFailed as exc:
            errors.append((name, exc.message, exc.code))
            item[name] = None
    return item, errors


def import_orders(uploaded_file, *, by, channel: str,
                  aliases: Mapping[str, str | None] | None = None) -> ImportResult:
    """Take in the orders of an .xlsx file for `channel`; see the module docstring. `by=None`
    is a management command (the server operator)."""
    if by is not None and not by.has_perm("workorders.intake_workorder"):
        raise PermissionDenied("您没有导入工单的权限。")
    if channel not in Channel.values:
        raise ValidationFailed(f"未知的来源渠道“{channel}”。", code="unknown_channel", field="channel")
    result = ImportResult()
    sheet = _read_sheet(uploaded_file, result)
    if sheet is None:
        return result
    header, data = sheet
    positions = _columns(header, aliases or {}, channel, result)
    if positions is None:
        return result
    if not data:
        result.errors.append(RowError(0, "", "文件中没有数据行。", "empty_file"))
        return result
    result.rows = len(data)
    items = _check_rows(data, positions, channel, result)
    if result.errors:
        return result
    try:
        with transaction.atomic():
            _receive(items, by, result)
    except ValidationFailed as exc:  # a rule only intake knows, or a race: nothing was saved
        result.created = result.existing = 0
        result.numbers = []
        result.errors = [RowError(0, "", exc.message, exc.code)]
    return result


def _check_rows(data, positions, channel, result: ImportResult) -> list[tuple[int, dict]]:
    cats = _categories()
    _, intake_categories = classification.current()
    now = timezone.now()
    order = {f: i for i, (f, _) in enumerate(COLUMNS)}
    items = []
    for number, values in data:
        item, errors = _row_item(values, positions, channel, cats)
        _intake_errors(item, errors, intake_categories, now)
        errors.sort(key=lambda e: order.get(e[0], len(order)))
        result.errors.extend(RowError(number, HEADER.get(f, f), message, code) for f, message, code in errors)
        items.append((number, item))
    return items


def _intake_errors(item: dict, errors: list[tuple], categories, now) -> None:
    """Intake's own checks (lengths, phone, coordinates, time window) on the row. `clean`
    stops at the first error, so the failing field is set aside and the row checked again
    until it passes: every error of the row is reported, not just the first."""
    failed = {f for f, _, _ in errors}
    if failed & {"lon", "lat"}:
        failed |= {"lon", "lat"}
    for _ in range(len(COLUMNS) + 1):
        probe = {k: v for k, v in item.items() if k not in failed}
        if "text" in failed:
            probe["text"] = "-"  # stands in for a text already reported, so the rest is checked
        try:
            intake.clean(probe, categories, now)
            return
        except ValidationFailed as exc:
            name = exc.field or ""
            if name in failed or not name:
                if not name:
                    errors.append(("", exc.message, exc.code))
                return
            errors.append((name, exc.message, exc.code))
            failed.add(name)
            if name in ("lon", "lat", "crs"):
                failed |= {"lon", "lat"}


def _receive(items: list[tuple[int, dict]], by, result: ImportResult) -> None:
    size = settings.WORKORDER_INTAKE_BATCH
    for start in range(0, len(items), size):
        batch = [{k: v for k, v in item.items() if v not in (None, "")} for _, item in items[start:start + size]]
        for received in intake.receive_many(batch, by=by):
            if received.created:
                result.created += 1
                result.numbers.append(received.order.number)
            else:
                result.existing += 1


def import_template() -> bytes:
    """The import workbook: the header row, one example row and a sheet explaining each column."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "工单"
    sheet.append([h for _, h in COLUMNS])
    sheet.append(EXAMPLE)
    for column in ("A", "I"):  # tickets and phones as text, so Excel keeps every digit
        for cell in sheet[column]:
            cell.number_format = "@"
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    for row in [
        ("列名", "说明"),
        ("工单号", "热线工单必填（12345、12319、962000 的原工单号）；同一渠道已导入的工单号不会重复导入"),
        ("受理时间", "选填，Excel 日期或“2024/5/1 9:30:00”格式的文字；留空为导入时间；不能早于一年前"),
        ("标题", "选填，不超过 200 字"),
        ("诉求内容", f"必填，不超过 {settings.WORKORDER_MAX_TEXT} 字"),
        ("地址", "选填，没有经纬度时按地址库定位"),
        ("经度 / 纬度", "选填，WGS-84，须同时填写"),
        ("反映人 / 联系电话", "选填，加密保存"),
        ("分类", "选填，分类代码或名称（同名时写“大类/小类”）；留空由系统自动分类"),
    ]:
        notes.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
