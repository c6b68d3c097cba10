"""Administrators' edits of the category tree and the time-limit rules. Codes are the
`category` of the intake API and the Open311 `service_code`, so a code never changes once
made; a category no longer used is deactivated, not deleted."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengguan.core.errors import ValidationFailed

from ..choices import Channel, LimitKind, Stage
from ..models import Category, TimeLimitRule
from . import classification

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_LIMIT = Decimal("9999")
CATEGORY_EDITABLE = {"name", "parent", "keywords", "in_remit", "limit_kind", "limit_amount", "order", "is_active"}
RULE_EDITABLE = {"kind", "amount", "basis"}


def _check_perm(by, perm: str) -> None:
    if by is not None and not by.has_perm(perm):
        raise PermissionDenied("您没有修改分类和时限的权限。")


def _text(value, field: str, label: str, max_length: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{label}必须是文字。", code="invalid", field=field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"请填写{label}。", code="required", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"{label}不能超过 {max_length} 个字。", code="too_long", field=field)
    return value


def _amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationFailed("时限必须是数字。", code="invalid", field=field)
    if amount <= 0 or amount > MAX_LIMIT:
        raise ValidationFailed("时限必须大于 0（最多 9999）。", code="out_of_range", field=field)
    if amount != amount.quantize(Decimal("0.1")):
        raise ValidationFailed("时限最多保留一位小数。", code="invalid", field=field)
    return amount


def _kind(value, field: str) -> str:
    if value not in LimitKind.values:
        raise ValidationFailed("时限单位只能是工作日或工作时。", code="invalid_choice", field=field)
    return value


def _parent(category: Category | None, parent) -> Category | None:
    if parent is None:
        return None
    if not isinstance(parent, Category) or not Category.objects.filter(pk=parent.pk).exists():
        raise ValidationFailed("上级分类不存在。", code="does_not_exist", field="parent")
    node = parent
    while node is not None:  # walking up from the new parent must never meet the category itself
        if category is not None and node.pk == category.pk:
            raise ValidationFailed("不能把分类移到它自己或它的下级分类之下。", code="cycle", field="parent")
        node = node.parent
    return parent


def _refresh_classifier():
    # Now (this process's next intake sees the change) and after commit (in case another
    # request reloaded the categories in between).
    classification.invalidate()
    transaction.on_commit(classification.invalidate)


@transaction.atomic
def create_category(*, by, code: str, name: str, parent: Category | None = None, keywords: str = "",
                    in_remit: bool = True, limit_kind: str = LimitKind.WORKING_DAYS, limit_amount=5,
                    order: int = 0, is_active: bool = True) -> Category:
    _check_perm(by, "workorders.add_category")
    code = _text(code, "code", "代码", 40, required=True)
    if not CODE_RE.match(code):
        raise ValidationFailed("代码只能由小写字母、数字、下划线和连字符组成。", code="invalid", field="code")
    if Category.objects.filter(code=code).exists():
        raise ValidationFailed(f"代码“{code}”已被使用。", code="duplicate", field="code")
    category = Category(
        code=code, name=_text(name, "name", "名称", 60, required=True), parent=_parent(None, parent),
        keywords=_text(keywords, "keywords", "关键词", 300), in_remit=bool(in_remit),
        limit_kind=_kind(limit_kind, "limit_kind"), limit_amount=_amount(limit_amount, "limit_amount"),
        order=order or 0, is_active=bool(is_active),
    )
    category.save(audit_action="workorder.category.create", actor=by)
    _refresh_classifier()
    return category


@transaction.atomic
def update_category(category: Category, *, by, **changes) -> Category:
    _check_perm(by, "workorders.change_category")
    unknown = set(changes) - CATEGORY_EDITABLE
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable",
                               field=sorted(unknown)[0])
    category = Category.objects.select_for_update().get(pk=category.pk)
    if "name" in changes:
        category.name = _text(changes["name"], "name", "名称", 60, required=True)
    if "parent" in changes:
        category.parent = _parent(category, changes["parent"])
    if "keywords" in changes:
        category.keywords = _text(changes["keywords"], "keywords", "关键词", 300)
    if "limit_kind" in changes:
        category.limit_kind = _kind(changes["limit_kind"], "limit_kind")
    if "limit_amount" in changes:
        category.limit_amount = _amount(changes["limit_amount"], "limit_amount")
    for field in ("in_remit", "is_active"):
        if field in changes:
            setattr(category, field, bool(changes[field]))
    if "order" in changes:
        category.order = changes["order"] or 0
    category.save(audit_action="workorder.category.update", actor=by)
    _refresh_classifier()
    return category


@transaction.atomic
def create_time_limit(*, by, stage: str, kind: str, amount, channel: str = "", category: Category | None = None,
                      basis: str = "") -> TimeLimitRule:
    _check_perm(by, "workorders.add_timelimitrule")
    if stage not in Stage.values:
        raise ValidationFailed("请选择环节。", code="invalid_choice", field="stage")
    channel = channel or ""
    if channel and channel not in Channel.values:
        raise ValidationFailed(f"未知的来源渠道“{channel}”。", code="unknown_channel", field="channel")
    if category is not None and not isinstance(category, Category):
        raise ValidationFailed("分类不存在。", code="does_not_exist", field="category")
    if TimeLimitRule.objects.filter(stage=stage, channel=channel, category=category).exists():
        raise ValidationFailed("该环节、渠道和分类的时限规则已存在，请修改原规则。", code="duplicate", field="stage")
    rule = TimeLimitRule(stage=stage, channel=channel, category=category, kind=_kind(kind, "kind"),
                         amount=_amount(amount, "amount"), basis=_text(basis, "basis", "依据", 200))
    rule.save(audit_action="workorder.time_limit.create", actor=by)
    return rule


@transaction.atomic
def update_time_limit(rule: TimeLimitRule, *, by, **changes) -> TimeLimitRule:
    """Only the limit itself changes; a rule for another stage, channel or category is a new rule."""
    _check_perm(by, "workorders.change_timelimitrule")
    unknown = set(changes) - RULE_EDITABLE
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable",
                               field=sorted(unknown)[0])
    rule = TimeLimitRule.objects.select_for_update().get(pk=rule.pk)
    if "kind" in changes:
        rule.kind = _kind(changes["kind"], "kind")
    if "amount" in changes:
        rule.amount = _amount(changes["amount"], "amount")
    if "basis" in changes:
        rule.basis = _text(changes["basis"], "basis", "依据", 200)
    rule.save(audit_action="workorder.time_limit.update", actor=by)
    return rule
