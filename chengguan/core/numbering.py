"""Document numbers (文书编号): one configurable format per document kind, numbers gap-free per
kind and year, never issued twice.

Call `next_number` inside the transaction that saves the numbered document: the sequence row
stays locked until that transaction ends, so concurrent requests queue for the next number and
a rolled-back request gives its number back. Take numbers first in a transaction, before other
locks, and several kinds always in the same order, so two requests cannot wait on each other."""

import re
import string

from django.db import transaction
from django.utils import timezone

from . import audit
from .errors import ValidationFailed
from .models import NumberFormat, NumberSequence

KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PLACEHOLDERS = {"year", "seq"}


def validate_kind(kind: str) -> None:
    if not KIND_RE.match(kind or ""):
        raise ValidationFailed(
            "文书种类代码须为小写字母开头的小写字母、数字或下划线，最多 32 位。", field="kind", code="invalid_kind"
        )


def validate_pattern(pattern: str) -> None:
    """A pattern uses only {year} and {seq} (with an optional format spec such as {seq:05d}),
    contains {seq}, and formats cleanly with different numbers for different sequence values."""

    def invalid(message: str):
        return ValidationFailed(f"编号格式无效：{message}", field="pattern", code="invalid_pattern")

    if not pattern or not pattern.strip():
        raise invalid("不能为空。")
    if len(pattern) > NumberFormat._meta.get_field("pattern").max_length:
        raise invalid("过长。")
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
        unknown = [name for name in fields if name not in PLACEHOLDERS]
        if unknown:
            raise invalid(f"只能使用占位符 {{year}} 和 {{seq}}，不能使用 {{{unknown[0]}}}。")
        if "seq" not in fields:
            raise invalid("必须包含序号占位符 {seq}，如 第{seq:05d}号。")
        first, second = pattern.format(year=2024, seq=1), pattern.format(year=2024, seq=2)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise invalid("格式写法有误，示例：闵城管罚字〔{year}〕第{seq:05d}号。") from exc
    if first == second:
        raise invalid("序号没有出现在编号中。")


@transaction.atomic
def set_number_format(kind: str, name: str, pattern: str, *, by) -> NumberFormat:
    """Create or change the format of one document kind. Numbers already issued keep their text."""
    validate_kind(kind)
    if not (name or "").strip():
        raise ValidationFailed("文书种类名称不能为空。", field="name", code="required")
    validate_pattern(pattern)
    fmt = NumberFormat.objects.select_for_update().filter(kind=kind).first() or NumberFormat(kind=kind)
    fmt.name, fmt.pattern = name.strip(), pattern
    fmt.save(audit_action="number_format.set", actor=by)
    return fmt


def next_number(kind: str, *, year: int | None = None, actor=None) -> str:
    """Issue the next number of `kind` for `year` (default: this year, Shanghai time)."""
    return next_numbers(kind, 1, year=year, actor=actor)[0]


def next_numbers(kind: str, count: int, *, year: int | None = None, actor=None) -> list[str]:
    """Issue `count` consecutive numbers of `kind` with one lock and one audit event (a batch
    of hotline tickets, say)."""
    fmt = NumberFormat.objects.filter(kind=kind).first()
    if fmt is None:
        raise ValidationFailed(f"未配置文书种类“{kind}”的编号格式。", field="kind", code="unknown_number_kind")
    year = year or timezone.localdate().year
    if not 2000 <= year <= 2999:
        raise ValidationFailed(f"编号年度 {year} 无效。", field="year", code="out_of_range")
    if count < 1:
        return []
    with transaction.atomic():
        NumberSequence.objects.bulk_create([NumberSequence(kind=kind, year=year)], ignore_conflicts=True)
        sequence = NumberSequence.objects.select_for_update().get(kind=kind, year=year)
        first = sequence.last_value + 1
        sequence.last_value += count
        sequence.save(update_fields=["last_value"])
        numbers = [fmt.pattern.format(year=year, seq=seq) for seq in range(first, sequence.last_value + 1)]
        # One chain per kind: its head is only ever locked by the holder of this kind's
        # sequence row, so recording the issue adds no lock another request could hold.
        after = {"kind": kind, "year": year, "seq": sequence.last_value, "number": numbers[-1]}
        if count > 1:
            after.update(first_seq=first, first_number=numbers[0])
        audit.append(f"number.{kind}", [{
            "action": "number.issue", "object_type": "core.numbersequence", "object_id": sequence.pk,
            "after": after,
        }], actor=actor)
    return numbers
