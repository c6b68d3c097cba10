"""Rules of the violation catalogue: matters, benchmark versions (draft → published → retired),
fine computation from a benchmark tier, the simple-procedure limits of 《行政处罚法》第五十一条,
the no-penalty list (第三十三条), and Excel import/export of the catalogue.

Money is `Decimal` yuan with two places throughout: floats are refused, because 0.1 + 0.2 is not
0.3 in binary and a fine must be exact. Computed amounts are rounded half-up to 0.01 yuan."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.imports import header_mismatch

from .choices import (
    BenchmarkStatus,
    ExemptionKind,
    FineRule,
    MatterCategory,
    PartyKind,
    PenaltyKind,
)
from .models import Benchmark, BenchmarkTier, ExemptionEntry, LegalBasis, Matter, frozen_message

CENT = Decimal("0.01")
FACTOR_PLACES = Decimal("0.0001")
MAX_AMOUNT = Decimal("999999999999.99")


# --- permissions ------------------------------------------------------------------------------

def _require_perm(by, codename: str, what: str) -> None:
    if by is not None and not by.has_perm(f"regulations.{codename}"):
        raise PermissionDenied(f"您没有{what}的权限。")


# --- values -----------------------------------------------------------------------------------

def money(value, *, field_name: str = "amount", label: str = "金额", required: bool = True,
          allow_zero: bool = True) -> Decimal | None:
    """A yuan amount as Decimal with two places. Floats are refused (they are not exact); so are
    negative amounts and more than two decimal places."""
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"请填写{label}。", code="required", field=field_name)
        return None
    if isinstance(value, (bool, float)):
        raise ValidationFailed(f"{label}必须以精确的十进制数表示（元，两位小数），不能使用浮点数。",
                               code="float_not_allowed", field=field_name)
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{label}“{value}”不是有效的金额。", code="invalid_amount", field=field_name) from None
    if not amount.is_finite():
        raise ValidationFailed(f"{label}“{value}”不是有效的金额。", code="invalid_amount", field=field_name)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(f"{label}必须大于零。" if not allow_zero else f"{label}不能为负数。",
                               code="invalid_amount", field=field_name)
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValidationFailed(f"{label}最多保留两位小数（精确到分）。", code="too_many_decimals", field=field_name)
    if amount > MAX_AMOUNT:
        raise ValidationFailed(f"{label}超出允许范围。", code="invalid_amount", field=field_name)
    return amount.quantize(CENT)


def quantity(value, *, field_name: str, label: str, places: Decimal = FACTOR_PLACES,
             required: bool = True) -> Decimal | None:
    """A non-negative exact number (units, factors): Decimal, int or numeric text; never float."""
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"请填写{label}。", code="required", field=field_name)
        return None
    if isinstance(value, (bool, float)):
        raise ValidationFailed(f"{label}必须以精确的十进制数表示，不能使用浮点数。", code="float_not_allowed",
                               field=field_name)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{label}“{value}”不是有效的数字。", code="invalid_number", field=field_name) from None
    if not number.is_finite() or number < 0:
        raise ValidationFailed(f"{label}必须是不小于零的数字。", code="invalid_number", field=field_name)
    if number != number.quantize(places, rounding=ROUND_HALF_UP):
        raise ValidationFailed(f"{label}的小数位数过多。", code="too_many_decimals", field=field_name)
    return number


def round_yuan(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_yuan(value: Decimal) -> str:
    return f"{value:,.2f} 元"


def _text(value, *, label: str, field_name: str, max_length: int, required: bool = True) -> str:
    text = " ".join(("" if value is None else str(value)).split())
    if required and not text:
        raise ValidationFailed(f"{label}不能为空。", code="required", field=field_name)
    if len(text) > max_length:
        raise ValidationFailed(f"{label}不能超过 {max_length} 个字。", code="too_long", field=field_name)
    return text


def _date(value, *, label: str, field_name: str, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"请填写{label}。", code="required", field=field_name)
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{label}“{value}”不是有效日期（如 2025-01-01）。", code="invalid_date",
                               field=field_name) from None


def _period(valid_from, valid_to) -> tuple[dt.date, dt.date | None]:
    start = _date(valid_from, label="生效日期", field_name="valid_from")
    end = _date(valid_to, label="失效日期", field_name="valid_to", required=False)
    if end is not None and end < start:
        raise ValidationFailed("失效日期不能早于生效日期。", code="invalid_period", field="valid_to")
    return start, end


def _overlaps(a_from, a_to, b_from, b_to) -> bool:
    return (b_to is None or a_from <= b_to) and (a_to is None or b_from <= a_to)


# --- legal bases and matters ------------------------------------------------------------------

CN_NUMERAL = "零〇一二三四五六七八九十百千两0123456789"
ARTICLE_RE = re.compile(rf"^《(?P<law>[^》]+)》\s*(?P<article>第[{CN_NUMERAL}]+条)(?P<clause>.*)$")


def parse_citation(text: str) -> dict:
    """《上海市市容环境卫生管理条例》第二十四条第一款 → law, article, clause; a trailing
    （待核实） marks the provision unverified."""
    text = " ".join(str(text).split())
    verified = True
    for mark in ("（待核实）", "(待核实)"):
        if text.endswith(mark):
            text, verified = text[: -len(mark)].strip(), False
    match = ARTICLE_RE.match(text)
    if not match:
        raise ValidationFailed(f"法律依据“{text}”格式不正确，应为《法律法规名称》第X条（可带款、项）。",
                               code="invalid_citation", field="legal_basis")
    return {"law_name": match["law"].strip(), "article": match["article"], "clause": match["clause"].strip(),
            "verified": verified}


def legal_basis(law_name: str, article: str, clause: str = "", *, by=None, version_note: str = "",
                summary: str = "", verified: bool = True, note: str = "") -> LegalBasis:
    """Find or create a provision (identified by law, article, clause and text version)."""
    law_name = _text(law_name.strip("《》"), label="法律法规名称", field_name="law_name", max_length=120)
    article = _text(article, label="条", field_name="article", max_length=30)
    clause = _text(clause, label="款、项", field_name="clause", max_length=60, required=False)
    basis = LegalBasis.objects.filter(law_name=law_name, article=article, clause=clause,
                                      version_note=version_note).first()
    if basis is None:
        _require_perm(by, "add_legalbasis", "登记法律依据")
        basis = LegalBasis(law_name=law_name, article=article, clause=clause, version_note=version_note,
                           summary=summary, verified=verified, note=note)
        basis.save(audit_action="regulations.basis.create", actor=by)
    return basis


def _penalty_kinds(values) -> list[str]:
    labels = {label: value for value, label in PenaltyKind.choices}
    kinds = []
    for item in values or []:
        code = labels.get(str(item).strip(), str(item).strip())
        if code not in PenaltyKind.values:
            raise ValidationFailed(f"处罚种类“{item}”不是《行政处罚法》第九条规定的种类。", code="invalid_penalty_kind",
                                   field="penalty_kinds")
        if code not in kinds:
            kinds.append(code)
    return kinds


def _category(value) -> str:
    labels = {label: code for code, label in MatterCategory.choices}
    code = labels.get(str(value).strip(), str(value).strip())
    if code not in MatterCategory.values:
        raise ValidationFailed(f"类别“{value}”不存在，可选：{'、'.join(MatterCategory.labels)}。", code="invalid_category",
                               field="category")
    return code


MATTER_FIELDS = {"name", "category", "description", "statutory_penalty", "penalty_kinds",
                 "simple_procedure_allowed", "is_active"}


def _clean_matter(values: dict) -> dict:
    cleaned = {}
    if "name" in values:
        cleaned["name"] = _text(values["name"], label="事项名称", field_name="name", max_length=200)
    if "category" in values:
        cleaned["category"] = _category(values["category"])
    if "description" in values:
        cleaned["description"] = str(values["description"] or "").strip()
    if "statutory_penalty" in values:
        cleaned["statutory_penalty"] = _text(values["statutory_penalty"], label="法定处罚幅度",
                                             field_name="statutory_penalty", max_length=300, required=False)
    if "penalty_kinds" in values:
        cleaned["penalty_kinds"] = _penalty_kinds(values["penalty_kinds"])
    for flag in ("simple_procedure_allowed", "is_active"):
        if flag in values:
            cleaned[flag] = bool(values[flag])
    return cleaned


@transaction.atomic
def create_matter(*, by, code: str, name: str, category: str, violation_bases=(), penalty_bases=(),
                  penalty_kinds=(), simple_procedure_allowed: bool = False, description: str = "",
                  statutory_penalty: str = "") -> Matter:
    _require_perm(by, "add_matter", "新增执法事项")
    code = _text(code, label="事项编码", field_name="code", max_length=40).upper()
    if Matter.objects.filter(code=code).exists():
        raise ValidationFailed(f"事项编码“{code}”已存在。", code="duplicate_code", field="code")
    values = _clean_matter({"name": name, "category": category, "description": description,
                            "statutory_penalty": statutory_penalty, "penalty_kinds": list(penalty_kinds),
                            "simple_procedure_allowed": simple_procedure_allowed})
    _check_simple_flag(values)
    matter = Matter(code=code, **values)
    matter.save(audit_action="regulations.matter.create", actor=by)
    matter.violation_bases.set(violation_bases)
    matter.penalty_bases.set(penalty_bases)
    return matter


def _check_simple_flag(values: dict) -> None:
    # Art. 51 allows the simple procedure only for a warning or a small fine.
    kinds = set(values.get("penalty_kinds") or [])
    if values.get("simple_procedure_allowed") and not kinds & {PenaltyKind.WARNING, PenaltyKind.FINE}:
        raise ValidationFailed("只有处罚种类包含警告或罚款的事项才可适用简易程序（《行政处罚法》第五十一条）。",
                               code="simple_procedure_kind", field="simple_procedure_allowed")


@transaction.atomic
def update_matter(matter: Matter, *, by, violation_bases=None, penalty_bases=None, **changes) -> Matter:
    _require_perm(by, "change_matter", "修改执法事项")
    unknown = set(changes) - MATTER_FIELDS
    if unknown:
        raise ValidationFailed(f"不能修改字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    values = _clean_matter(changes)
    _check_simple_flag({"penalty_kinds": matter.penalty_kinds, "simple_procedure_allowed":
                        matter.simple_procedure_allowed, **values})
    for key, value in values.items():
        setattr(matter, key, value)
    matter.save(audit_action="regulations.matter.update", actor=by)
    if violation_bases is not None:
        matter.violation_bases.set(violation_bases)
    if penalty_bases is not None:
        matter.penalty_bases.set(penalty_bases)
    return matter


# --- benchmark tiers --------------------------------------------------------------------------

TIER_FIELDS = ("order", "label", "party_kind", "conditions", "rule", "min_amount", "max_amount", "unit_rate",
               "unit_rate_max", "unit_name", "min_factor", "max_factor", "base_name")


def _party_kind(value) -> str:
    if value in (None, "", "不限", "不区分"):
        return ""
    labels = {label: code for code, label in PartyKind.choices} | {"个人": PartyKind.PERSON,
                                                                     "单位": PartyKind.ORGANISATION}
    code = labels.get(str(value).strip(), str(value).strip())
    if code not in PartyKind.values:
        raise ValidationFailed(f"适用对象“{value}”应为 自然人（个人）、法人或其他组织（单位）或留空。",
                               code="invalid_party_kind", field="party_kind")
    return code


def _rule(value) -> str:
    labels = {label: code for code, label in FineRule.choices}
    code = labels.get(str(value).strip(), str(value).strip())
    if code not in FineRule.values:
        raise ValidationFailed(f"计罚方式“{value}”不存在，可选：{'、'.join(FineRule.labels)}。", code="invalid_rule",
                               field="rule")
    return code


def clean_tier(values: dict) -> dict:
    """Validate one tier's fields and its fine rule; returns model values."""
    rule = _rule(values.get("rule") or FineRule.FIXED_RANGE)
    order = values.get("order") or 1
    if isinstance(order, float) or not str(order).strip().isdigit():
        raise ValidationFailed(f"序号“{order}”应为正整数。", code="invalid_order", field="order")
    cleaned = {
        "order": int(str(order).strip()),
        "label": _text(values.get("label"), label="档次", field_name="label", max_length=30),
        "party_kind": _party_kind(values.get("party_kind")),
        "conditions": str(values.get("conditions") or "").strip(),
        "rule": rule,
        "min_amount": money(values.get("min_amount"), field_name="min_amount", label="最低罚款", required=False),
        "max_amount": money(values.get("max_amount"), field_name="max_amount", label="最高罚款", required=False),
        "unit_rate": money(values.get("unit_rate"), field_name="unit_rate", label="单价", required=False),
        "unit_rate_max": money(values.get("unit_rate_max"), field_name="unit_rate_max", label="单价上限",
                               required=False),
        "unit_name": _text(values.get("unit_name"), label="计量单位", field_name="unit_name", max_length=20,
                           required=False),
        "min_factor": quantity(values.get("min_factor"), field_name="min_factor", label="最低倍数", required=False),
        "max_factor": quantity(values.get("max_factor"), field_name="max_factor", label="最高倍数", required=False),
        "base_name": _text(values.get("base_name"), label="计罚基数", field_name="base_name", max_length=30,
                           required=False),
    }
    lo, hi = cleaned["min_amount"], cleaned["max_amount"]
    if lo is not None and hi is not None and lo > hi:
        raise ValidationFailed("最低罚款不能高于最高罚款。", code="invalid_range", field="min_amount")
    if rule == FineRule.FIXED_RANGE:
        if lo is None or hi is None:
            raise ValidationFailed("固定幅度须填写最低和最高罚款。", code="required", field="min_amount" if lo is None
                                   else "max_amount")
        if hi == 0:
            raise ValidationFailed("固定幅度的最高罚款必须大于零；不罚款请选择“不罚款”或“仅警告”。", code="invalid_range",
                                   field="max_amount")
    elif rule == FineRule.PER_UNIT:
        if cleaned["unit_rate"] is None or cleaned["unit_rate"] == 0:
            raise ValidationFailed("按计量单位计罚须填写大于零的单价。", code="required", field="unit_rate")
        if not cleaned["unit_name"]:
            raise ValidationFailed("按计量单位计罚须填写计量单位（如 平方米、日、辆）。", code="required", field="unit_name")
        if cleaned["unit_rate_max"] is not None and cleaned["unit_rate_max"] < cleaned["unit_rate"]:
            raise ValidationFailed("单价上限不能低于单价。", code="invalid_range", field="unit_rate_max")
    elif rule in (FineRule.MULTIPLE_OF_GAINS, FineRule.MULTIPLE_OF_VALUE):
        if cleaned["min_factor"] is None or cleaned["max_factor"] is None:
            raise ValidationFailed("按倍数计罚须填写最低和最高倍数。", code="required",
                                   field="min_factor" if cleaned["min_factor"] is None else "max_factor")
        if cleaned["min_factor"] > cleaned["max_factor"] or cleaned["max_factor"] == 0:
            raise ValidationFailed("最低倍数不能高于最高倍数，且最高倍数必须大于零。", code="invalid_range",
                                   field="min_factor")
        if rule == FineRule.MULTIPLE_OF_VALUE and not cleaned["base_name"]:
            raise ValidationFailed("按基数比例计罚须填写计罚基数（如 建设工程造价）。", code="required", field="base_name")
        if rule == FineRule.MULTIPLE_OF_GAINS and not cleaned["base_name"]:
            cleaned["base_name"] = "违法所得"
    else:  # warning only / no fine: no amounts at all
        stray = [k for k in ("min_amount", "max_amount", "unit_rate", "unit_rate_max", "min_factor", "max_factor")
                 if cleaned[k] not in (None, Decimal(0))]
        if stray:
            raise ValidationFailed(f"“{FineRule(rule).label}”的档次不应填写金额或倍数。", code="invalid_rule", field=stray[0])
        for k in ("min_amount", "max_amount", "unit_rate", "unit_rate_max", "min_factor", "max_factor"):
            cleaned[k] = None
    return cleaned


def _draft(benchmark: Benchmark) -> Benchmark:
    """The benchmark, locked, if it is still a draft; otherwise the frozen refusal."""
    locked = Benchmark.objects.select_for_update().select_related("matter").get(pk=benchmark.pk)
    if locked.status != BenchmarkStatus.DRAFT:
        raise BusinessRuleError(frozen_message(locked), code="benchmark_frozen", article="《行政处罚法》第三十四条")
    return locked


def _write_tiers(benchmark: Benchmark, tiers, by) -> list[BenchmarkTier]:
    created = []
    for i, values in enumerate(tiers, 1):
        try:
            cleaned = clean_tier({"order": i, **values})
        except ValidationFailed as exc:
            raise ValidationFailed(f"第 {i} 档：{exc.message}", code=exc.code, field=exc.field) from None
        tier = BenchmarkTier(benchmark=benchmark, **cleaned)
        tier.save(audit_action="regulations.tier.create", actor=by)
        created.append(tier)
    return created


# --- benchmark versions -----------------------------------------------------------------------

@transaction.atomic
def create_benchmark(matter: Matter, *, by, valid_from, valid_to=None, tiers=(), document: str = "",
                     note: str = "", version: int | None = None) -> Benchmark:
    """A new draft version (the next number unless given)."""
    _require_perm(by, "add_benchmark", "起草裁量基准")
    start, end = _period(valid_from, valid_to)
    matter = Matter.objects.select_for_update().get(pk=matter.pk)
    latest = matter.benchmarks.aggregate(n=Max("version"))["n"] or 0
    if version is None:
        version = latest + 1
    elif version <= latest:
        raise ValidationFailed(f"版本号应大于已有的第 {latest} 版。", code="invalid_version", field="version")
    benchmark = Benchmark(matter=matter, version=version, valid_from=start, valid_to=end,
                          document=_text(document, label="发布文件", field_name="document", max_length=200,
                                         required=False),
                          note=str(note or "").strip())
    benchmark.save(audit_action="regulations.benchmark.create", actor=by)
    _write_tiers(benchmark, tiers, by)
    return benchmark


@transaction.atomic
def draft_new_version(benchmark: Benchmark, *, by, valid_from, valid_to=None) -> Benchmark:
    """Copy a version's tiers into a new draft: the way to change a published benchmark."""
    tiers = [{k: getattr(t, k) for k in TIER_FIELDS} for t in benchmark.tiers.all()]
    return create_benchmark(benchmark.matter, by=by, valid_from=valid_from, valid_to=valid_to, tiers=tiers,
                            document=benchmark.document, note=benchmark.note)


BENCHMARK_FIELDS = {"valid_from", "valid_to", "document", "note"}


@transaction.atomic
def update_benchmark(benchmark: Benchmark, *, by, tiers=None, **changes) -> Benchmark:
    """Change a draft's period, document or note, and (if given) replace all its tiers."""
    _require_perm(by, "change_benchmark", "修改裁量基准")
    locked = _draft(benchmark)
    unknown = set(changes) - BENCHMARK_FIELDS
    if unknown:
        raise ValidationFailed(f"不能修改字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    start, end = _period(changes.get("valid_from", locked.valid_from), changes.get("valid_to", locked.valid_to))
    locked.valid_from, locked.valid_to = start, end
    if "document" in changes:
        locked.document = _text(changes["document"], label="发布文件", field_name="document", max_length=200,
                                required=False)
    if "note" in changes:
        locked.note = str(changes["note"] or "").strip()
    locked.save(audit_action="regulations.benchmark.update", actor=by)
    if tiers is not None:
        for tier in list(locked.tiers.all()):
            tier.delete(actor=by)
        _write_tiers(locked, tiers, by)
    benchmark.refresh_from_db()
    return locked


@transaction.atomic
def update_tier(tier: BenchmarkTier, *, by, **changes) -> BenchmarkTier:
    _require_perm(by, "change_benchmark", "修改裁量基准")
    _draft(tier.benchmark)
    unknown = set(changes) - set(TIER_FIELDS)
    if unknown:
        raise ValidationFailed(f"不能修改字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    cleaned = clean_tier({**{k: getattr(tier, k) for k in TIER_FIELDS}, **changes})
    for key, value in cleaned.items():
        setattr(tier, key, value)
    tier.save(audit_action="regulations.tier.update", actor=by)
    return tier


@transaction.atomic
def publish_benchmark(benchmark: Benchmark, *, by) -> Benchmark:
    """Publish a draft (《行政处罚法》第三十四条: benchmarks must be published). From now on it is
    frozen. Its validity may not overlap another published version of the same matter, except
    that an open-ended older version is closed the day before this one starts (superseded)."""
    _require_perm(by, "publish_benchmark", "发布裁量基准")
    locked = _draft(benchmark)
    if not locked.matter.is_active:
        raise BusinessRuleError(f"执法事项“{locked.matter.name}”已停用，不能发布裁量基准。", code="matter_inactive")
    tiers = list(locked.tiers.all())
    if not tiers:
        raise BusinessRuleError("裁量基准至少需要一个裁量阶次才能发布。", code="no_tiers")
    for tier in tiers:  # rules may have been written by an import or an old version: check again
        try:
            clean_tier({k: getattr(tier, k) for k in TIER_FIELDS})
        except ValidationFailed as exc:
            raise BusinessRuleError(f"“{tier.label}”档：{exc.message}", code=exc.code, field=exc.field) from None
    others = list(Benchmark.objects.select_for_update().filter(matter=locked.matter_id,
                                                                status=BenchmarkStatus.PUBLISHED)
                  .exclude(pk=locked.pk))
    superseded = None
    for other in others:
        if not _overlaps(locked.valid_from, locked.valid_to, other.valid_from, other.valid_to):
            continue
        if other.valid_to is None and other.valid_from < locked.valid_from and superseded is None:
            superseded = other
            continue
        raise BusinessRuleError(
            f"有效期与已发布的第 {other.version} 版（{other.valid_from} 至 {other.valid_to or '长期'}）重叠；"
            "同一执法事项同一日期只能适用一个版本。", code="benchmark_overlap", field="valid_from")
    if superseded is not None:
        superseded.valid_to = locked.valid_from - dt.timedelta(days=1)
        superseded.save(audit_action="regulations.benchmark.supersede", actor=by)
    locked.status = BenchmarkStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = by
    locked.save(audit_action="regulations.benchmark.publish", actor=by)
    return locked


@transaction.atomic
def retire_benchmark(benchmark: Benchmark, *, by, reason: str) -> Benchmark:
    """Withdraw a published version: it no longer applies to new cases (cases decided under it
    keep it)."""
    _require_perm(by, "publish_benchmark", "废止裁量基准")
    reason = _text(reason, label="废止理由", field_name="reason", max_length=300)
    locked = Benchmark.objects.select_for_update().select_related("matter").get(pk=benchmark.pk)
    if locked.status != BenchmarkStatus.PUBLISHED:
        raise BusinessRuleError("只有已发布的裁量基准可以废止。", code="not_published")
    locked.status = BenchmarkStatus.RETIRED
    locked.retired_at, locked.retired_by, locked.retire_reason = timezone.now(), by, reason
    locked.save(audit_action="regulations.benchmark.retire", actor=by)
    return locked


@transaction.atomic
def delete_draft(benchmark: Benchmark, *, by) -> None:
    _require_perm(by, "change_benchmark", "删除裁量基准草稿")
    locked = _draft(benchmark)
    for tier in list(locked.tiers.all()):
        tier.delete(actor=by)
    locked.delete(actor=by)


def benchmark_for(matter: Matter | int, on_date: dt.date) -> Benchmark | None:
    """The published version of the matter's benchmark valid on that date (None if none)."""
    matter_id = matter.pk if isinstance(matter, Matter) else matter
    return (Benchmark.objects.filter(matter_id=matter_id, status=BenchmarkStatus.PUBLISHED, valid_from__lte=on_date)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on_date))
            .select_related("matter").prefetch_related("tiers").order_by("-valid_from", "-version").first())


def exemptions_for(matter: Matter | int, on_date: dt.date):
    """The no-penalty-list entries of the matter in force on that date (《行政处罚法》第三十三条)."""
    matter_id = matter.pk if isinstance(matter, Matter) else matter
    return (ExemptionEntry.objects.filter(matter_id=matter_id, valid_from__lte=on_date)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on_date)).order_by("kind", "valid_from"))


@transaction.atomic
def create_exemption(matter: Matter, *, by, kind: str, conditions: str, valid_from, valid_to=None,
                     source: str = "") -> ExemptionEntry:
    _require_perm(by, "add_exemptionentry", "登记免罚清单事项")
    entry = ExemptionEntry(matter=matter, kind=_exemption_kind(kind),
                           conditions=_text(conditions, label="适用条件", field_name="conditions", max_length=2000),
                           source=_text(source, label="清单文件", field_name="source", max_length=200, required=False))
    entry.valid_from, entry.valid_to = _period(valid_from, valid_to)
    entry.save(audit_action="regulations.exemption.create", actor=by)
    return entry


def _exemption_kind(value) -> str:
    labels = {label: code for code, label in ExemptionKind.choices} | {"无过错不罚": ExemptionKind.NO_FAULT}
    code = labels.get(str(value).strip(), str(value).strip())
    if code not in ExemptionKind.values:
        raise ValidationFailed(f"免罚类型“{value}”应为 首违不罚、轻微不罚 或 无主观过错不罚。", code="invalid_exemption_kind",
                               field="kind")
    return code


# --- fines ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FineProposal:
    min: Decimal
    max: Decimal
    suggested: Decimal
    basis_text: str
    fine: bool = True  # False for warning-only and no-fine tiers


@dataclass(frozen=True)
class OutsideRange:
    """A fine outside the tier's range: allowed only with a recorded reason and legal review
    (the cases app enforces that; DESIGN principle 1)."""

    amount: Decimal
    min: Decimal
    max: Decimal
    message: str
    code: str = "fine_outside_benchmark"

    @property
    def below(self) -> bool:
        return self.amount < self.min


def _clamp(value: Decimal, tier: BenchmarkTier) -> Decimal:
    if tier.min_amount is not None and value < tier.min_amount:
        value = tier.min_amount
    if tier.max_amount is not None and value > tier.max_amount:
        value = tier.max_amount
    return value


def _caps_text(tier: BenchmarkTier) -> str:
    parts = []
    if tier.min_amount is not None:
        parts.append(f"不低于 {fmt_yuan(tier.min_amount)}")
    if tier.max_amount is not None:
        parts.append(f"不超过 {fmt_yuan(tier.max_amount)}")
    return f"（{'，'.join(parts)}）" if parts else ""


def _factor_text(value: Decimal) -> str:
    if value < 1:
        return f"{(value * 100).normalize():f}%"
    return f"{value.normalize():f} 倍"


def propose_fine(tier: BenchmarkTier, *, units=None, illegal_gains=None, base_value=None) -> FineProposal:
    """The fine range of a tier for the facts given: units for per-unit rules, illegal gains for
    multiples of gains, the base amount (e.g. construction cost) for multiples of a value.
    Every amount is Decimal yuan rounded half-up to 0.01."""
    benchmark = tier.benchmark
    head = f"{benchmark.matter.name} 裁量基准第 {benchmark.version} 版“{tier.label}”档"
    rule = tier.rule
    if rule in (FineRule.WARNING_ONLY, FineRule.NO_FINE):
        zero = Decimal("0.00")
        return FineProposal(zero, zero, zero, f"{head}：{FineRule(rule).label}，不予罚款。", fine=False)
    if rule == FineRule.FIXED_RANGE:
        lo, hi = tier.min_amount, tier.max_amount
        detail = f"罚款 {fmt_yuan(lo)} 至 {fmt_yuan(hi)}"
    elif rule == FineRule.PER_UNIT:
        n = quantity(units, field_name="units", label=f"违法数量（{tier.unit_name}）")
        if n == 0:
            raise ValidationFailed(f"违法数量（{tier.unit_name}）必须大于零。", code="invalid_number", field="units")
        rate_hi = tier.unit_rate_max or tier.unit_rate
        lo, hi = _clamp(round_yuan(n * tier.unit_rate), tier), _clamp(round_yuan(n * rate_hi), tier)
        rate_text = (fmt_yuan(tier.unit_rate) if rate_hi == tier.unit_rate
                     else f"{fmt_yuan(tier.unit_rate)} 至 {fmt_yuan(rate_hi)}")
        detail = f"每{tier.unit_name} {rate_text} × {n.normalize():f} {tier.unit_name}{_caps_text(tier)}"
    else:
        if rule == FineRule.MULTIPLE_OF_GAINS:
            base = money(illegal_gains, field_name="illegal_gains", label="违法所得")
        else:
            base = money(base_value, field_name="base_value", label=tier.base_name or "计罚基数")
        lo = _clamp(round_yuan(base * tier.min_factor), tier)
        hi = _clamp(round_yuan(base * tier.max_factor), tier)
        detail = (f"{tier.base_name or '违法所得'} {fmt_yuan(base)} 的 {_factor_text(tier.min_factor)} 至 "
                  f"{_factor_text(tier.max_factor)}{_caps_text(tier)}")
    suggested = round_yuan((lo + hi) / 2)
    bases = "、".join(b.citation for b in benchmark.matter.penalty_bases.all())
    text = f"{head}：{detail}，幅度 {fmt_yuan(lo)} 至 {fmt_yuan(hi)}。"
    if bases:
        text += f"处罚依据：{bases}。"
    return FineProposal(round_yuan(lo), round_yuan(hi), suggested, text)


def check_fine(tier: BenchmarkTier, amount, *, units=None, illegal_gains=None,
               base_value=None) -> OutsideRange | None:
    """None when the amount lies within the tier's range; otherwise what is wrong, for the case
    to require a written reason and legal review."""
    value = money(amount, field_name="amount", label="罚款金额")
    proposal = propose_fine(tier, units=units, illegal_gains=illegal_gains, base_value=base_value)
    if proposal.min <= value <= proposal.max:
        return None
    if not proposal.fine:
        message = f"该档次为“{FineRule(tier.rule).label}”，罚款 {fmt_yuan(value)} 超出裁量基准。"
    else:
        side = "低于" if value < proposal.min else "高于"
        message = (f"罚款 {fmt_yuan(value)} {side}裁量基准幅度（{fmt_yuan(proposal.min)} 至 {fmt_yuan(proposal.max)}），"
                   "须书面说明理由并经法制审核。")
    return OutsideRange(value, proposal.min, proposal.max, message)


def simple_procedure_limit(party_kind: str) -> Decimal:
    """The largest fine the simple procedure allows (《行政处罚法》第五十一条; settings may lower it)."""
    if party_kind == PartyKind.PERSON:
        value = settings.SIMPLE_PROCEDURE_MAX_FINE_PERSON
    elif party_kind == PartyKind.ORGANISATION:
        value = settings.SIMPLE_PROCEDURE_MAX_FINE_ORG
    else:
        raise ValidationFailed("当事人类型应为自然人或法人（其他组织）。", code="invalid_party_kind", field="party_kind")
    return money(value if not isinstance(value, float) else str(value), field_name="settings", label="简易程序罚款上限")


def simple_procedure_allows(party_kind: str, amount, penalty_kind: str) -> bool:
    """《行政处罚法》第五十一条: on the spot only a warning, or a fine up to the limit for a
    citizen (200 yuan) or an organisation (3,000 yuan)."""
    limit = simple_procedure_limit(party_kind)
    if penalty_kind == PenaltyKind.WARNING:
        return True
    if penalty_kind != PenaltyKind.FINE:
        return False
    value = money(amount, field_name="amount", label="罚款金额")
    return value <= limit


# --- Excel import / export --------------------------------------------------------------------

MATTER_SHEET, TIER_SHEET, EXEMPTION_SHEET = "执法事项", "裁量基准", "免罚清单"
MATTER_COLUMNS = [
    ("code", "事项编码", True), ("name", "事项名称", True), ("category", "类别", True),
    ("violation_bases", "违法依据", True), ("penalty_bases", "处罚依据", True),
    ("statutory_penalty", "法定处罚幅度", False), ("penalty_kinds", "处罚种类", True),
    ("simple_procedure_allowed", "可适用简易程序", True), ("is_active", "启用", False), ("description", "说明", False),
]
TIER_COLUMNS = [
    ("matter", "事项编码", True), ("version", "版本号", True), ("valid_from", "生效日期", True),
    ("valid_to", "失效日期", False), ("document", "发布文件", False), ("order", "档次序号", True),
    ("label", "档次", True), ("party_kind", "适用对象", False), ("conditions", "适用情形", False),
    ("rule", "计罚方式", True), ("min_amount", "最低罚款（元）", False), ("max_amount", "最高罚款（元）", False),
    ("unit_rate", "单价（元/单位）", False), ("unit_rate_max", "单价上限（元/单位）", False),
    ("unit_name", "计量单位", False), ("min_factor", "最低倍数", False), ("max_factor", "最高倍数", False),
    ("base_name", "计罚基数", False),
]
EXEMPTION_COLUMNS = [
    ("matter", "事项编码", True), ("kind", "免罚类型", True), ("conditions", "适用条件", True),
    ("valid_from", "生效日期", True), ("valid_to", "失效日期", False), ("source", "清单文件", False),
]
EXPORT_ONLY = {"状态"}
YES = {"是", "Y", "YES", "TRUE", "1", "可以"}
NO = {"否", "N", "NO", "FALSE", "0", "不可以", ""}
MAX_IMPORT_ROWS = 5000


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # Excel row number (header is row 1); 0 for the file or sheet itself
    field: str  # Chinese column name ("" for the whole row)
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        where = f"“{self.sheet}”工作表" + (f"第 {self.row} 行" if self.row else "")
        return f"{where}{f'【{self.field}】' if self.field else ''}：{self.message}"


@dataclass
class ImportResult:
    matters_created: int = 0
    matters_updated: int = 0
    benchmarks_created: int = 0
    benchmarks_replaced: int = 0
    exemptions_created: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float):
        # openpyxl gives numbers as float; the digits Excel shows are what the user typed.
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        return ""
    return value if isinstance(value, (dt.date, int, Decimal)) else " ".join(str(value).split())


def _headers(sheet_name: str, header: list, columns, result: ImportResult) -> dict[str, int] | None:
    known = {h: f for f, h, _ in columns}
    positions, unknown = {}, []
    for i, title in enumerate(header):
        title = " ".join(str(title or "").split()).rstrip("*")
        if not title or title in EXPORT_ONLY:
            continue
        if title not in known or known[title] in positions:
            unknown.append(title)
        else:
            positions[known[title]] = i
    missing = [h for f, h, required in columns if required and f not in positions]
    message = header_mismatch(missing, unknown)
    if message:
        result.errors.append(RowError(sheet_name, 1, "", message, "wrong_columns"))
        return None
    return positions


def _rows(book, sheet_name: str, columns, result: ImportResult, *, required: bool):
    if sheet_name not in book.sheetnames:
        if required:
            result.errors.append(RowError(sheet_name, 0, "", f"缺少“{sheet_name}”工作表。", "missing_sheet"))
        return []
    rows = book[sheet_name].iter_rows(values_only=True)
    positions = _headers(sheet_name, list(next(rows, []) or []), columns, result)
    if positions is None:
        return []
    data = []
    for number, values in enumerate(rows, start=2):
        raw = {f: _cell(values[i]) if i < len(values) else "" for f, i in positions.items()}
        if any(v not in ("", None) for v in raw.values()):
            data.append((number, raw))
    if len(data) > MAX_IMPORT_ROWS:
        result.errors.append(RowError(sheet_name, 0, "", f"一次最多导入 {MAX_IMPORT_ROWS} 行。", "too_many_rows"))
        return []
    return data


def _header_of(columns, name: str) -> str:
    return next((h for f, h, _ in columns if f == name), "")


def _flag(value, label: str) -> bool:
    text = str(value).strip().upper()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValidationFailed(f"{label}应填“是”或“否”。", code="invalid_flag")


def _citations(text) -> list[dict]:
    parts = [p for p in re.split(r"[；;\n]+", str(text or "")) if p.strip()]
    if not parts:
        raise ValidationFailed("请填写法律依据，如《上海市市容环境卫生管理条例》第二十四条。", code="required")
    return [parse_citation(p) for p in parts]


def _fail(errors: list, sheet: str, row: int, columns, exc: ValidationFailed, default_field: str = "") -> None:
    header = _header_of(columns, exc.field or "") or _header_of(columns, default_field) or exc.field or ""
    errors.append(RowError(sheet, row, header, exc.message, exc.code))


def import_catalogue(fileobj, *, by) -> ImportResult:
    """Create or update matters, draft benchmark versions and no-penalty entries from a
    workbook with the sheets 执法事项, 裁量基准 and 免罚清单 (the export's layout). Every row is
    checked first and each error reported with its sheet, row and column in Chinese; if there
    is any error, nothing is saved. Imported benchmarks are drafts: publishing stays a reviewed
    step, and a published version can never be changed by an import."""
    _require_perm(by, "import_matter", "导入执法事项目录")
    from openpyxl import load_workbook

    result = ImportResult()
    try:
        book = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        result.errors.append(RowError("", 0, "", "无法读取文件，请上传 Excel（.xlsx）格式的文件。", "invalid_file"))
        return result
    try:
        matter_rows = _rows(book, MATTER_SHEET, MATTER_COLUMNS, result, required=True)
        tier_rows = _rows(book, TIER_SHEET, TIER_COLUMNS, result, required=False)
        exemption_rows = _rows(book, EXEMPTION_SHEET, EXEMPTION_COLUMNS, result, required=False)
    finally:
        book.close()
    if result.errors:
        return result
    if not (matter_rows or tier_rows or exemption_rows):
        result.errors.append(RowError("", 0, "", "文件中没有数据行。", "empty_file"))
        return result
    with transaction.atomic():
        plan = _validate_import(matter_rows, tier_rows, exemption_rows, result)
        if not result.errors:
            _save_import(plan, by, result)
        if result.errors:  # belt and braces: a rule that only the write could see
            transaction.set_rollback(True)
    return result


def _validate_import(matter_rows, tier_rows, exemption_rows, result: ImportResult) -> dict:
    errors = result.errors
    existing = {m.code: m for m in Matter.objects.prefetch_related("violation_bases", "penalty_bases")}
    matters, seen = {}, {}
    for row, raw in matter_rows:
        code = str(raw.get("code", "")).strip().upper()
        if not code:
            errors.append(RowError(MATTER_SHEET, row, "事项编码", "事项编码不能为空。", "required"))
            continue
        if code in seen:
            errors.append(RowError(MATTER_SHEET, row, "事项编码", f"与第 {seen[code]} 行的事项编码重复。", "duplicate_row"))
            continue
        seen[code] = row
        values, bases, row_errors = {}, {}, []
        try:
            values = _clean_matter({k: raw.get(k, "") for k in ("name", "category", "description",
                                                                 "statutory_penalty")})
        except ValidationFailed as exc:
            _fail(row_errors, MATTER_SHEET, row, MATTER_COLUMNS, exc)
        try:
            kinds = [k for k in re.split(r"[、，,；;\s]+", str(raw.get("penalty_kinds", ""))) if k]
            values["penalty_kinds"] = _penalty_kinds(kinds)
        except ValidationFailed as exc:
            _fail(row_errors, MATTER_SHEET, row, MATTER_COLUMNS, exc)
        for name, label in (("simple_procedure_allowed", "可适用简易程序"), ("is_active", "启用")):
            if name not in raw:
                continue
            try:
                values[name] = _flag(raw[name] if raw[name] != "" or name != "is_active" else "是", label)
            except ValidationFailed as exc:
                _fail(row_errors, MATTER_SHEET, row, MATTER_COLUMNS, exc, name)
        for name in ("violation_bases", "penalty_bases"):
            try:
                bases[name] = _citations(raw.get(name))
            except ValidationFailed as exc:
                _fail(row_errors, MATTER_SHEET, row, MATTER_COLUMNS, exc, name)
        if not row_errors:
            try:
                _check_simple_flag(values)
            except ValidationFailed as exc:
                _fail(row_errors, MATTER_SHEET, row, MATTER_COLUMNS, exc)
        errors.extend(row_errors)
        matters[code] = {"row": row, "values": values, "bases": bases, "target": existing.get(code)}

    known_codes = set(existing) | set(matters)
    versions: dict[tuple[str, int], dict] = {}
    for row, raw in tier_rows:
        code = str(raw.get("matter", "")).strip().upper()
        if code not in known_codes:
            errors.append(RowError(TIER_SHEET, row, "事项编码", f"事项编码“{code}”不存在（请先在“执法事项”表中列出）。"
                                   if code else "事项编码不能为空。", "unknown_matter"))
            continue
        version = str(raw.get("version", "")).strip()
        if not version.isdigit() or int(version) < 1:
            errors.append(RowError(TIER_SHEET, row, "版本号", f"版本号“{version}”应为正整数。", "invalid_version"))
            continue
        key = (code, int(version))
        try:
            start, end = _period(raw.get("valid_from"), raw.get("valid_to"))
            tier = clean_tier({k: raw.get(k) for k in TIER_FIELDS})
        except ValidationFailed as exc:
            _fail(errors, TIER_SHEET, row, TIER_COLUMNS, exc)
            continue
        group = versions.setdefault(key, {"row": row, "valid_from": start, "valid_to": end,
                                          "document": str(raw.get("document") or ""), "tiers": []})
        if (start, end) != (group["valid_from"], group["valid_to"]):
            errors.append(RowError(TIER_SHEET, row, "生效日期", f"同一版本的有效期应与第 {group['row']} 行一致。",
                                   "inconsistent_version"))
            continue
        if any(t["order"] == tier["order"] for t in group["tiers"]):
            errors.append(RowError(TIER_SHEET, row, "档次序号", f"第 {version} 版已有序号为 {tier['order']} 的档次。",
                                   "duplicate_row"))
            continue
        tier["_row"] = row
        group["tiers"].append(tier)

    stored = {(b.matter.code, b.version): b for b in Benchmark.objects.select_related("matter")
              .prefetch_related("tiers").filter(matter__code__in=[k[0] for k in versions])}
    latest = {}
    for code, version in stored:
        latest[code] = max(latest.get(code, 0), version)
    for key, group in versions.items():
        group["tiers"].sort(key=lambda t: t["order"])
        current = stored.get(key)
        group["target"] = current
        if current is None:
            if key[1] <= latest.get(key[0], 0):
                errors.append(RowError(TIER_SHEET, group["row"], "版本号", f"事项 {key[0]} 的新版本号应大于已有的第 "
                                       f"{latest[key[0]]} 版。", "invalid_version"))
            continue
        if current.status != BenchmarkStatus.DRAFT:
            same = ([{k: getattr(t, k) for k in TIER_FIELDS} for t in current.tiers.all()]
                    == [{k: t[k] for k in TIER_FIELDS} for t in group["tiers"]]
                    and (current.valid_from, current.valid_to) == (group["valid_from"], group["valid_to"]))
            if same:
                group["unchanged"] = True
            else:
                errors.append(RowError(TIER_SHEET, group["row"], "版本号", frozen_message(current), "benchmark_frozen"))

    exemptions = []
    for row, raw in exemption_rows:
        code = str(raw.get("matter", "")).strip().upper()
        if code not in known_codes:
            errors.append(RowError(EXEMPTION_SHEET, row, "事项编码", f"事项编码“{code}”不存在。" if code
                                   else "事项编码不能为空。", "unknown_matter"))
            continue
        try:
            kind = _exemption_kind(raw.get("kind"))
            conditions = _text(raw.get("conditions"), label="适用条件", field_name="conditions", max_length=2000)
            start, end = _period(raw.get("valid_from"), raw.get("valid_to"))
            source = _text(raw.get("source"), label="清单文件", field_name="source", max_length=200, required=False)
        except ValidationFailed as exc:
            _fail(errors, EXEMPTION_SHEET, row, EXEMPTION_COLUMNS, exc)
            continue
        exemptions.append({"code": code, "kind": kind, "conditions": conditions, "valid_from": start,
                           "valid_to": end, "source": source})
    errors.sort(key=lambda e: ([MATTER_SHEET, TIER_SHEET, EXEMPTION_SHEET, ""].index(e.sheet)
                               if e.sheet in (MATTER_SHEET, TIER_SHEET, EXEMPTION_SHEET, "") else 9, e.row))
    return {"matters": matters, "versions": versions, "exemptions": exemptions}


def _bases_for(citations: list[dict], by) -> list[LegalBasis]:
    return [legal_basis(c["law_name"], c["article"], c["clause"], verified=c["verified"], by=None
                        if by is None else by) for c in citations]


def _save_import(plan: dict, by, result: ImportResult) -> None:
    by_code = {}
    for code, item in plan["matters"].items():
        values = item["values"]
        violation = _bases_for(item["bases"]["violation_bases"], by)
        penalty = _bases_for(item["bases"]["penalty_bases"], by)
        matter = item["target"]
        if matter is None:
            matter = Matter(code=code, **values)
            matter.save(audit_action="regulations.matter.import", actor=by)
            matter.violation_bases.set(violation)
            matter.penalty_bases.set(penalty)
            result.matters_created += 1
        else:
            changed = {k: v for k, v in values.items() if getattr(matter, k) != v}
            same_bases = ({b.pk for b in matter.violation_bases.all()} == {b.pk for b in violation}
                          and {b.pk for b in matter.penalty_bases.all()} == {b.pk for b in penalty})
            if changed or not same_bases:
                for k, v in changed.items():
                    setattr(matter, k, v)
                matter.save(audit_action="regulations.matter.import", actor=by)
                matter.violation_bases.set(violation)
                matter.penalty_bases.set(penalty)
                result.matters_updated += 1
            else:
                result.unchanged += 1
        by_code[code] = matter
    for (code, version), group in plan["versions"].items():
        if group.get("unchanged"):
            result.unchanged += 1
            continue
        tiers = [{k: t[k] for k in TIER_FIELDS} for t in group["tiers"]]
        target = group["target"]
        if target is None:
            matter = by_code.get(code) or Matter.objects.get(code=code)
            create_benchmark(matter, by=by, valid_from=group["valid_from"], valid_to=group["valid_to"], tiers=tiers,
                             document=group["document"], version=version)
            result.benchmarks_created += 1
        else:
            update_benchmark(target, by=by, valid_from=group["valid_from"], valid_to=group["valid_to"],
                             document=group["document"], tiers=tiers)
            result.benchmarks_replaced += 1
    for item in plan["exemptions"]:
        matter = by_code.get(item["code"]) or Matter.objects.get(code=item["code"])
        exists = ExemptionEntry.objects.filter(matter=matter, kind=item["kind"], conditions=item["conditions"],
                                               valid_from=item["valid_from"]).exists()
        if exists:
            result.unchanged += 1
            continue
        entry = ExemptionEntry(matter=matter, **{k: item[k] for k in ("kind", "conditions", "valid_from", "valid_to",
                                                                       "source")})
        entry.save(audit_action="regulations.exemption.import", actor=by)
        result.exemptions_created += 1


def _yuan_cell(value):
    return None if value is None else format(value, "f")


def export_catalogue(matters=None) -> bytes:
    """The catalogue as a workbook that `import_catalogue` reads back unchanged: matters,
    every benchmark version's tiers (with its status, for reading), and the no-penalty list."""
    from openpyxl import Workbook

    matters = list((matters if matters is not None else Matter.objects.all())
                   .prefetch_related("violation_bases", "penalty_bases").order_by("code"))
    ids = [m.pk for m in matters]
    book = Workbook()
    sheet = book.active
    sheet.title = MATTER_SHEET
    sheet.append([h for _, h, _ in MATTER_COLUMNS])
    kinds = dict(PenaltyKind.choices)
    for m in matters:
        sheet.append([
            m.code, m.name, m.get_category_display(),
            "；".join(b.citation for b in m.violation_bases.all()),
            "；".join(b.citation for b in m.penalty_bases.all()),
            m.statutory_penalty, "、".join(kinds[k] for k in m.penalty_kinds if k in kinds),
            "是" if m.simple_procedure_allowed else "否", "是" if m.is_active else "否", m.description,
        ])
    tiers = book.create_sheet(TIER_SHEET)
    tiers.append([h for _, h, _ in TIER_COLUMNS] + ["状态"])
    for t in (BenchmarkTier.objects.filter(benchmark__matter__in=ids).select_related("benchmark__matter")
              .order_by("benchmark__matter__code", "benchmark__version", "order")):
        b = t.benchmark
        tiers.append([
            b.matter.code, b.version, b.valid_from, b.valid_to, b.document, t.order, t.label,
            t.get_party_kind_display() if t.party_kind else "", t.conditions, t.get_rule_display(),
            _yuan_cell(t.min_amount), _yuan_cell(t.max_amount), _yuan_cell(t.unit_rate), _yuan_cell(t.unit_rate_max),
            t.unit_name, None if t.min_factor is None else format(t.min_factor.normalize(), "f"),
            None if t.max_factor is None else format(t.max_factor.normalize(), "f"), t.base_name,
            b.get_status_display(),
        ])
    for row in tiers.iter_rows(min_row=1, max_row=tiers.max_row):
        for cell in row[2:4]:
            cell.number_format = "yyyy-mm-dd"
    exemptions = book.create_sheet(EXEMPTION_SHEET)
    exemptions.append([h for _, h, _ in EXEMPTION_COLUMNS])
    for e in ExemptionEntry.objects.filter(matter__in=ids).select_related("matter").order_by("matter__code", "pk"):
        exemptions.append([e.matter.code, e.get_kind_display(), e.conditions, e.valid_from, e.valid_to, e.source])
    notes = book.create_sheet("填写说明")
    for line in [
        ("工作表", "说明"),
        (MATTER_SHEET, "按事项编码新增或更新；法律依据写作《法律法规名称》第X条第X款，多条用“；”分隔，未核实的加“（待核实）”"),
        (MATTER_SHEET, f"类别可选：{'、'.join(MatterCategory.labels)}；处罚种类用“、”分隔：{'、'.join(PenaltyKind.labels)}"),
        (TIER_SHEET, "每行一个裁量阶次；同一事项同一版本号的行组成一个版本。导入的版本均为草稿，须经法制审核后发布；"
                     "已发布的版本不能通过导入修改，请使用新的版本号"),
        (TIER_SHEET, f"计罚方式可选：{'、'.join(FineRule.labels)}；金额以元为单位，最多两位小数；百分之五的倍数填 0.05"),
        (EXEMPTION_SHEET, f"免罚类型可选：{'、'.join(ExemptionKind.labels)}（《行政处罚法》第三十三条）"),
    ]:
        notes.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
