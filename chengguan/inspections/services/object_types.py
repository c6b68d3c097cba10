"""Object types (沿街商户, 建筑工地 …) and their inspection checklists: administrators add types
and edit checklists. A checklist item is never deleted — inspection records cite items by id —
so an item left out of a new checklist is retired (is_active=False) instead."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from chengguan.core.errors import ValidationFailed

from ..models import ChecklistItem, ObjectType
from ..tasks import recompute_tiers_task

EDITABLE = {"name", "base_risk", "is_active", "checklist"}


def _require(by, perm: str) -> None:
    if by is not None and not by.has_perm(perm):
        raise PermissionDenied("您没有维护监管对象类型的权限。")


def _text(value, field: str, label: str, max_length: int, *, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationFailed(f"{label}不能为空。", code="required", field=field)
    if len(text) > max_length:
        raise ValidationFailed(f"{label}不能超过 {max_length} 个字。", code="too_long", field=field)
    return text


def _base_risk(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise ValidationFailed("基础风险分应为 0 至 5 的整数。", code="invalid_number", field="base_risk")
    return value


def _unique_name(name: str, exclude_pk=None) -> None:
    if ObjectType.objects.filter(name=name).exclude(pk=exclude_pk).exists():
        raise ValidationFailed(f"对象类型“{name}”已存在。", code="duplicate", field="name")


def _set_checklist(object_type: ObjectType, items, *, by) -> None:
    """items: [{"id"?: existing item, "text", "legal_basis"?}] in the wanted order."""
    if not isinstance(items, (list, tuple)):
        raise ValidationFailed("检查项应为列表。", code="invalid", field="checklist")
    existing = {item.pk: item for item in ChecklistItem.objects.select_for_update().filter(object_type=object_type)}
    seen, texts, rows = set(), set(), []
    for i, entry in enumerate(items):
        field = f"checklist[{i}]"
        text = _text(entry.get("text"), f"{field}.text", f"第 {i + 1} 个检查项的内容", 200)
        if text in texts:
            raise ValidationFailed(f"检查项“{text}”重复。", code="duplicate", field=f"{field}.text")
        texts.add(text)
        basis = _text(entry.get("legal_basis"), f"{field}.legal_basis", f"第 {i + 1} 个检查项的依据", 200,
                      required=False)
        pk = entry.get("id")
        if pk is not None:
            if pk not in existing or pk in seen:
                raise ValidationFailed(f"第 {i + 1} 个检查项（编号 {pk}）不属于“{object_type.name}”。",
                                       code="unknown_checklist_item", field=f"{field}.id")
            seen.add(pk)
        rows.append((existing.get(pk), text, basis))
    for order, (item, text, basis) in enumerate(rows, 1):
        item = item or ChecklistItem(object_type=object_type)
        if item.pk is None or (item.order, item.text, item.legal_basis, item.is_active) != (order, text, basis, True):
            item.order, item.text, item.legal_basis, item.is_active = order, text, basis, True
            item.save(audit_action="checklist.save", actor=by)
    for pk, item in existing.items():
        if pk not in seen and item.is_active:
            item.is_active = False
            item.save(audit_action="checklist.retire", actor=by)


@transaction.atomic
def create_object_type(*, by, code, name, base_risk=1, checklist=()) -> ObjectType:
    _require(by, "inspections.add_objecttype")
    code = _text(code, "code", "代码", 40)
    if ObjectType.objects.filter(code=code).exists():
        raise ValidationFailed(f"代码“{code}”已被使用。", code="duplicate", field="code")
    name = _text(name, "name", "名称", 60)
    _unique_name(name)
    object_type = ObjectType(code=code, name=name, base_risk=_base_risk(base_risk))
    object_type.save(audit_action="objecttype.create", actor=by)
    _set_checklist(object_type, checklist, by=by)
    return object_type


@transaction.atomic
def update_object_type(object_type: ObjectType, *, by, **changes) -> ObjectType:
    """Change name, base risk, active flag and/or replace the checklist (see module doc)."""
    _require(by, "inspections.change_objecttype")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    object_type = ObjectType.objects.select_for_update().get(pk=object_type.pk)
    if "name" in changes:
        object_type.name = _text(changes["name"], "name", "名称", 60)
        _unique_name(object_type.name, exclude_pk=object_type.pk)
    if "base_risk" in changes and _base_risk(changes["base_risk"]) != object_type.base_risk:
        object_type.base_risk = changes["base_risk"]
        # the type's risk is part of every object's tier score: re-tier them after commit
        transaction.on_commit(lambda: recompute_tiers_task.delay(object_type_id=object_type.pk))
    if "is_active" in changes:
        object_type.is_active = bool(changes["is_active"])
    object_type.save(audit_action="objecttype.update", actor=by)
    if "checklist" in changes:
        _set_checklist(object_type, changes["checklist"], by=by)
    return object_type
