"""The regulated-object registry (执法对象监管库): create, change, deactivate, find and merge
duplicates, Excel import/export, conflicts of interest (回避) and an object's history.

Identity: within one object type an object is known by its 统一社会信用代码 or, for a person,
by the keyed digest of the ID number (`id_digest`), so duplicates are found without decrypting.
A registered code cannot be registered twice while the first object is active."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import math
import re
import unicodedata
from collections.abc import Callable

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from chengguan.core import audit, geo
from chengguan.core.errors import BusinessRuleError, ChengguanError, ValidationFailed
from chengguan.core.fields import mask_id_number, mask_phone
from chengguan.core.imports import ImportResult, RowError, header_mismatch
from chengguan.core.models import Grid, OrgUnit
from chengguan.core.scope import scope_units_for
from chengguan.core.validators import validate_credit_code, validate_id_number

from ..choices import CreditGrade, TaskStatus
from ..models import (
    DrawSelection,
    InspectionRecord,
    InspectionTask,
    InspectorConflict,
    ObjectType,
    RegulatedObject,
)
from . import records

# --- field rules ------------------------------------------------------------------------------

LABELS = {
    "pk": "对象编号", "object_type": "对象类型", "name": "名称", "credit_code": "统一社会信用代码",
    "id_number": "身份证件号码", "address": "地址", "lon": "经度", "lat": "纬度", "crs": "坐标系",
    "contact_name": "联系人", "contact_phone": "联系电话", "risk_level": "风险等级分",
    "credit_grade": "信用等级", "licences": "证照",
}
EDITABLE = {
    "object_type", "name", "address", "lon", "lat", "crs", "credit_code", "id_number", "contact_name",
    "contact_phone", "licences", "risk_level", "credit_grade",
}
MAX_LENGTH = {"name": 200, "address": 255, "contact_name": 50}
PHONE_RE = re.compile(r"\+?\d[\d-]{5,18}\d")
CRS_NAMES = {"WGS84": "wgs84", "GCJ02": "gcj02"}
MASK_CHAR = "*"


def id_digest(number: str) -> str:
    """Keyed digest of a normalised ID number: equal IDs give equal digests, and the digest
    reveals nothing without the key."""
    if not number:
        return ""
    key = (settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def _text(value) -> str:
    """Collapse whitespace, including the full-width space U+3000; other characters (such as
    the full-width brackets of company names) stay as written."""
    return " ".join(("" if value is None else str(value)).split())


def _code(value) -> str:
    """Identifiers typed in full-width forms (ＡＢＣ１２３) become ASCII; spaces are dropped."""
    return "".join(unicodedata.normalize("NFKC", "" if value is None else str(value)).split()).upper()


def _fail(field_name: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, field=field_name, code=code)


def _clean_text(values: dict, name: str, *, required: bool) -> str:
    text = _text(values.get(name, ""))
    if required and not text:
        raise _fail(name, f"{LABELS[name]}不能为空。", "required")
    if len(text) > MAX_LENGTH[name]:
        raise _fail(name, f"{LABELS[name]}不能超过 {MAX_LENGTH[name]} 个字。", "too_long")
    return text


def _clean_object_type(value) -> ObjectType:
    if isinstance(value, ObjectType):
        ot = value
    else:
        ot = ObjectType.objects.filter(Q(name=_text(value)) | Q(code=_text(value))).first() if value else None
        if ot is None:
            raise _fail("object_type", f"对象类型“{_text(value)}”不存在。" if value else "对象类型不能为空。",
                        "invalid_object_type" if value else "required")
    if not ot.is_active:
        raise _fail("object_type", f"对象类型“{ot.name}”已停用。", "invalid_object_type")
    return ot


def _clean_phone(value) -> str:
    phone = _code(value)
    if phone and not PHONE_RE.fullmatch(phone):
        raise _fail("contact_phone", f"联系电话“{phone}”格式不正确（应为手机号或带区号的固定电话）。", "invalid_phone")
    return phone


def _clean_risk(value) -> int:
    text = _code(value)
    if not text:
        raise _fail("risk_level", "风险等级分不能为空（0 至 5 的整数）。", "required")
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not number.is_integer() or not 0 <= number <= 5:
        raise _fail("risk_level", f"风险等级分应为 0 至 5 的整数，实际为“{text}”。", "invalid_risk_level")
    return int(number)


GRADE_NAMES = {_code(label): grade for grade, label in CreditGrade.choices} | {g: g for g in CreditGrade.values}


def _clean_grade(value) -> str:
    text = _code(value)
    if not text:
        raise _fail("credit_grade", "信用等级不能为空（A、B、C、D 之一）。", "required")
    if text not in GRADE_NAMES:
        raise _fail("credit_grade", f"信用等级应为 A、B、C、D 之一，实际为“{_text(value)}”。", "invalid_credit_grade")
    return GRADE_NAMES[text]


def _clean_licences(value) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        raise _fail("licences", "证照应为列表。", "invalid_licence")
    cleaned = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict) or set(item) - {"name", "number", "valid_to"}:
            raise _fail("licences", f"第 {i} 项证照只能包含名称、编号和有效期。", "invalid_licence")
        name, number = _text(item.get("name")), _text(item.get("number"))
        if not name or not number:
            raise _fail("licences", f"第 {i} 项证照缺少名称或编号。", "invalid_licence")
        valid_to = item.get("valid_to") or ""
        if isinstance(valid_to, dt.datetime):
            valid_to = valid_to.date()
        if isinstance(valid_to, dt.date):
            valid_to = valid_to.isoformat()
        if valid_to:
            try:
                valid_to = dt.date.fromisoformat(str(valid_to)).isoformat()
            except ValueError:
                raise _fail("licences", f"第 {i} 项证照的有效期“{valid_to}”不是有效日期（如 2027-01-31）。",
                            "invalid_licence") from None
        cleaned.append({"name": name[:60], "number": number[:64], "valid_to": valid_to})
    return cleaned


def _clean_identifiers(values: dict) -> tuple[str, str]:
    credit = _code(values.get("credit_code"))
    number = _code(values.get("id_number"))
    if credit:
        credit = validate_credit_code(credit, field="credit_code")
    if number:
        number = validate_id_number(number, field="id_number")
    if not credit and not number:
        raise _fail("credit_code", "统一社会信用代码与身份证件号码至少填写一项。", "identifier_required")
    return credit, number


# Order in which field errors are reported (the template's column order).
CLEANERS: list[tuple[str, Callable[[dict], object]]] = [
    ("object_type", lambda v: _clean_object_type(v.get("object_type"))),
    ("name", lambda v: _clean_text(v, "name", required=True)),
    ("identifiers", _clean_identifiers),
    ("address", lambda v: _clean_text(v, "address", required=True)),
    ("contact_name", lambda v: _clean_text(v, "contact_name", required=False)),
    ("contact_phone", lambda v: _clean_phone(v.get("contact_phone"))),
    ("licences", lambda v: _clean_licences(v.get("licences"))),
    ("risk_level", lambda v: _clean_risk(v.get("risk_level", 0))),
    ("credit_grade", lambda v: _clean_grade(v.get("credit_grade", ""))),
]


def clean_fields(values: dict, *, skip=()) -> tuple[dict, list[ValidationFailed]]:
    """Every field rule except the location; returns the model values and every error (the
    import reports them all, the single-object services raise the first)."""
    cleaned, errors = {}, []
    for name, cleaner in CLEANERS:
        if name in skip:
            continue
        try:
            result = cleaner(values)
        except ValidationFailed as exc:
            errors.append(exc)
            continue
        if name == "identifiers":
            cleaned["credit_code"], cleaned["id_number"] = result
            cleaned["id_digest"] = id_digest(result[1])
        else:
            cleaned[name] = result
    return cleaned, errors


def _clean_crs(value) -> str:
    name = _code(value).replace("-", "").replace("_", "")
    if not name:
        return "wgs84"
    if name not in CRS_NAMES:
        raise _fail("crs", f"坐标系只能是 WGS-84 或 GCJ-02，实际为“{_text(value)}”。", "invalid_crs")
    return CRS_NAMES[name]


def _place(lon, lat, crs) -> dict:
    if lon in (None, "") or lat in (None, ""):
        raise _fail("lon" if lon in (None, "") else "lat", "请填写对象位置的经度和纬度。", "required")
    return geo.place_fields(lon, lat, crs=_clean_crs(crs))


# --- scope and permissions --------------------------------------------------------------------

def _require_perm(by, codename: str, what: str) -> None:
    if by is not None and not by.has_perm(f"inspections.{codename}"):
        raise PermissionDenied(f"您没有{what}的权限。")


def _in_scope(by, squad_id) -> bool:
    if by is None:
        return True
    units = scope_units_for(by)
    return units is None or squad_id in units


def _require_in_scope(by, squad) -> None:
    if not _in_scope(by, squad.pk if squad else None):
        raise BusinessRuleError(f"该位置属于{squad or '未划定'}辖区，不在您的管辖范围内。", code="out_of_scope", field="lon")


def _locked(by, action: str, pks) -> dict[int, RegulatedObject]:
    """Lock the objects, as seen by `by` (404 for any outside their scope, as for a view)."""
    qs = RegulatedObject.objects.all() if by is None else RegulatedObject.objects.restrict(by, action)
    found = {o.pk: o for o in qs.select_for_update().filter(pk__in=list(pks))}
    if len(found) != len(set(pks)):
        raise Http404("未找到该监管对象，或不在您的管辖范围内。")
    return found


def _check_identity(object_type, credit_code: str, digest: str, exclude_pk=None) -> None:
    """An active object of the same type may not share the credit code or ID."""
    same_type = RegulatedObject.objects.filter(object_type=object_type, is_active=True).exclude(pk=exclude_pk)
    for name, lookup, shown in (("credit_code", {"credit_code": credit_code}, f"统一社会信用代码“{credit_code}”"),
                                ("id_number", {"id_digest": digest}, "该身份证件号码")):
        other = same_type.filter(**lookup).values_list("pk", flat=True).first() if next(iter(lookup.values())) else None
        if other:
            raise _fail(name, f"{shown}已登记为同类监管对象（对象编号 {other}），请修改该对象或将两者合并。",
                        "duplicate_object")


def _assign_tier(obj, by) -> None:
    from . import tiering

    tiering.assign_tier(obj, by=by, save=False)


def _record_reason(action: str, obj, by, **details) -> None:
    audit.record(action, obj, after=details, actor=by)


# --- single-object verbs ----------------------------------------------------------------------

@transaction.atomic
def create_object(*, by, object_type, name, address, lon=None, lat=None, crs="wgs84", credit_code="",
                  id_number="", contact_name="", contact_phone="", licences=(), risk_level=0,
                  credit_grade="B") -> RegulatedObject:
    _require_perm(by, "add_regulatedobject", "登记监管对象")
    values, errors = clean_fields({
        "object_type": object_type, "name": name, "address": address, "credit_code": credit_code,
        "id_number": id_number, "contact_name": contact_name, "contact_phone": contact_phone,
        "licences": licences, "risk_level": risk_level, "credit_grade": credit_grade,
    })
    if errors:
        raise errors[0]
    place = _place(lon, lat, crs)
    _require_in_scope(by, place["squad"])
    _check_identity(values["object_type"], values["credit_code"], values["id_digest"])
    obj = RegulatedObject(**values, **place)
    _assign_tier(obj, by)
    obj.save(audit_action="regobj.create", actor=by)
    return obj


@transaction.atomic
def update_object(obj: RegulatedObject, *, by, **changes) -> RegulatedObject:
    """Change the given fields; location fields (lon, lat, optional crs) re-place the object.
    Saves (and audits) only when something changed."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(f"不可修改的字段：{'、'.join(sorted(unknown))}。", code="not_editable")
    obj = _locked(by, "change", [obj.pk])[obj.pk]
    if not obj.is_active:
        raise BusinessRuleError("该对象已停止监管或已被合并，不能修改。", code="object_inactive")
    current = {f: getattr(obj, f) for f in EDITABLE - {"lon", "lat", "crs"}}
    values, errors = clean_fields({**current, **changes})
    if errors:
        raise errors[0]
    if {"lon", "lat"} & set(changes):
        place = _place(changes.get("lon", obj.lon), changes.get("lat", obj.lat), changes.get("crs", "wgs84"))
        _require_in_scope(by, place["squad"])
        values.update(place)
    if values["credit_code"] != obj.credit_code or values["id_digest"] != obj.id_digest \
            or values["object_type"] != obj.object_type:
        _check_identity(values["object_type"], values["credit_code"], values["id_digest"], exclude_pk=obj.pk)
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if not changed:
        return obj
    for key in changed:
        setattr(obj, key, values[key])
    _assign_tier(obj, by)
    obj.save(audit_action="regobj.update", actor=by)
    return obj


@transaction.atomic
def deactivate_object(obj: RegulatedObject, *, by, reason: str) -> RegulatedObject:
    """Stop supervising an object (closed, moved away); its history stays."""
    reason = _text(reason)
    if not reason:
        raise ValidationFailed("请填写停止监管的原因。", field="reason", code="required")
    obj = _locked(by, "change", [obj.pk])[obj.pk]
    if not obj.is_active:
        raise BusinessRuleError("该对象已停止监管。", code="object_inactive")
    obj.is_active = False
    obj.save(audit_action="regobj.deactivate", actor=by)
    _record_reason("regobj.deactivate.reason", obj, by, reason=reason)
    records.cancel_pending_tasks(obj.tasks.all(), by=by, note=f"对象已停止监管：{reason}")
    return obj


@transaction.atomic
def declare_conflict(*, by, inspector, regulated_object, reason: str) -> InspectorConflict:
    """Record an inspector's interest in an object (回避, APL art. 43). Inspectors declare their
    own; planners may record one for anybody."""
    reason = _text(reason)
    if not reason:
        raise ValidationFailed("请填写回避事由。", field="reason", code="required")
    if len(reason) > 200:
        raise ValidationFailed("回避事由不能超过 200 个字。", field="reason", code="too_long")
    if by is not None and by.pk != inspector.pk and not by.has_perm("inspections.change_drawplan"):
        raise PermissionDenied("只能申报本人的回避事项。")
    if InspectorConflict.objects.filter(inspector=inspector, regulated_object=regulated_object).exists():
        raise ValidationFailed(f"{inspector.get_full_name() or inspector}已申报对“{regulated_object}”回避。",
                               field="regulated_object", code="duplicate")
    conflict = InspectorConflict(inspector=inspector, regulated_object=regulated_object, reason=reason)
    conflict.save(audit_action="conflict.declare", actor=by)
    return conflict


# --- duplicates and merge ---------------------------------------------------------------------

def normalise_key(text: str) -> str:
    """Name/address comparison key: width-folded, lower-case, without spaces and punctuation."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in folded if ch.isalnum())


def find_duplicates(obj: RegulatedObject) -> list[RegulatedObject]:
    """Active objects of the same type with the same credit code, the same ID, or the same
    normalised name and address (looked for among the objects of the same squad)."""
    same_type = RegulatedObject.objects.filter(is_active=True, object_type_id=obj.object_type_id).exclude(pk=obj.pk)
    ids = Q(pk__in=[])
    if obj.credit_code:
        ids |= Q(credit_code=obj.credit_code)
    if obj.id_digest:
        ids |= Q(id_digest=obj.id_digest)
    pks = set(same_type.filter(ids).values_list("pk", flat=True))
    key = (normalise_key(obj.name), normalise_key(obj.address))
    for pk, name, address in same_type.filter(squad_id=obj.squad_id).values_list("pk", "name", "address"):
        if (normalise_key(name), normalise_key(address)) == key:
            pks.add(pk)
    return list(RegulatedObject.objects.filter(pk__in=pks).select_related("object_type", "squad", "grid"))


MERGE_FILL = ("credit_code", "id_number", "id_digest", "contact_name", "contact_phone")


@transaction.atomic
def merge_objects(keep: RegulatedObject, duplicates, *, by, reason: str) -> RegulatedObject:
    """Merge duplicates into `keep`: their tasks, inspection records and conflicts move to
    `keep`; blank fields of `keep` are filled from them; they become inactive with
    `merged_into`. Draw selections are not touched: a committed draw stays as drawn."""
    reason = _text(reason)
    if not reason:
        raise ValidationFailed("请填写合并理由。", field="reason", code="required")
    dup_pks = [d.pk for d in duplicates]
    if not dup_pks:
        raise ValidationFailed("请选择要合并的重复对象。", field="duplicates", code="required")
    if keep.pk in dup_pks:
        raise ValidationFailed("保留的对象不能同时作为被合并的对象。", field="duplicates", code="invalid")
    locked = _locked(by, "merge", [keep.pk, *dup_pks])
    keep, dups = locked[keep.pk], [locked[pk] for pk in sorted(set(dup_pks))]
    for o in (keep, *dups):
        if not o.is_active:
            raise BusinessRuleError(f"“{o}”（对象编号 {o.pk}）已停止监管或已被合并。", code="object_inactive")
        if o.object_type_id != keep.object_type_id:
            raise BusinessRuleError(f"“{o}”与保留对象类型不同，不能合并。", code="type_mismatch")

    for model in (InspectionTask, InspectionRecord):
        for row in model.objects.select_for_update().filter(regulated_object__in=dups):
            row.regulated_object = keep
            row.save(audit_action="regobj.merge", actor=by)
    kept_inspectors = set(keep.conflicts.values_list("inspector_id", flat=True))
    for conflict in InspectorConflict.objects.select_for_update().filter(regulated_object__in=dups):
        if conflict.inspector_id not in kept_inspectors:  # else `keep` already has the same one
            kept_inspectors.add(conflict.inspector_id)
            conflict.regulated_object = keep
            conflict.save(audit_action="regobj.merge", actor=by)
    # objects merged earlier into a duplicate now point at the survivor directly
    for earlier in RegulatedObject.objects.select_for_update().filter(merged_into__in=dups):
        earlier.merged_into = keep
        earlier.save(audit_action="regobj.merge", actor=by)

    numbers = {lic["number"] for lic in keep.licences}
    for dup in dups:
        for name in MERGE_FILL:
            if not getattr(keep, name) and getattr(dup, name):
                setattr(keep, name, getattr(dup, name))
        keep.licences = keep.licences + [lic for lic in dup.licences if lic["number"] not in numbers]
        numbers.update(lic["number"] for lic in dup.licences)
        if dup.last_inspected_on and (not keep.last_inspected_on or dup.last_inspected_on > keep.last_inspected_on):
            keep.last_inspected_on = dup.last_inspected_on
        dup.is_active, dup.merged_into = False, keep
        dup.save(audit_action="regobj.merged_into", actor=by)
    _assign_tier(keep, by)
    keep.save(audit_action="regobj.merge", actor=by)
    _record_reason("regobj.merge.reason", keep, by, reason=reason, merged=[d.pk for d in dups])
    return keep


# --- history ----------------------------------------------------------------------------------

def _link(name: str, pk) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the screens of that record are not installed
        return ""


def _lineage(obj) -> list[int]:
    """The object and every object merged into it (directly or through another)."""
    pks, frontier = [obj.pk], [obj.pk]
    while frontier:
        frontier = list(RegulatedObject.objects.filter(merged_into__in=frontier).values_list("pk", flat=True))
        pks += frontier
    return pks


def object_history(obj: RegulatedObject) -> list[dict]:
    """What happened to an object, newest first: inspections, tasks, draw selections (also of
    the duplicates merged into it), deactivation and merges. Each entry: time, kind, text,
    link (empty where no screen exists)."""
    entries = []
    for rec in InspectionRecord.objects.filter(regulated_object=obj).order_by():
        text = rec.get_outcome_display() + (f"：{rec.findings[:80]}" if rec.findings else "")
        entries.append({"time": rec.inspected_at, "kind": "inspection", "text": f"现场检查，{text}",
                        "link": _link("inspections:record_detail", rec.pk)})
    done = dict(InspectionRecord.objects.filter(task__regulated_object=obj).values_list("task_id", "pk"))
    for task in InspectionTask.objects.filter(regulated_object=obj).order_by():
        if task.pk in done:
            link = _link("inspections:record_detail", done[task.pk])
        else:
            link = _link("inspections:task_inspect", task.pk) if task.status == TaskStatus.PENDING else ""
        entries.append({
            "time": task.created_at, "kind": "task",
            "text": f"{task.get_source_display()}任务，应检日期 {task.due_date:%Y-%m-%d}，{task.get_status_display()}",
            "link": link,
        })
    selections = DrawSelection.objects.filter(regulated_object__in=_lineage(obj)).select_related("plan", "regulated_object")
    for sel in selections.order_by():
        merged = "" if sel.regulated_object_id == obj.pk else f"（原对象编号 {sel.regulated_object_id}）"
        entries.append({
            "time": sel.plan.drawn_at or sel.plan.created_at, "kind": "draw",
            "text": f"被双随机抽查计划“{sel.plan.name}”抽中，第 {sel.rank} 位{merged}",
            "link": _link("inspections:plan_detail", sel.plan_id),
        })
    events = audit.AuditEvent.objects.filter(
        object_type=audit.object_type(obj), object_id=str(obj.pk),
        action__in=["regobj.deactivate.reason", "regobj.merge.reason"],
    )
    for event in events:
        data = event.after or {}
        if event.action == "regobj.merge.reason":
            text = f"合并重复对象（对象编号 {'、'.join(map(str, data.get('merged', [])))}）：{data.get('reason', '')}"
        else:
            text = f"停止监管：{data.get('reason', '')}"
        entries.append({"time": event.created_at, "kind": "registry", "text": text, "link": ""})
    entries.sort(key=lambda e: e["time"], reverse=True)
    return entries


# --- Excel import and export ------------------------------------------------------------------

# Template columns in order: (field, header, required column)
COLUMNS = [
    ("pk", "对象编号", False),
    ("object_type", "对象类型", True),
    ("name", "名称", True),
    ("credit_code", "统一社会信用代码", True),
    ("id_number", "身份证件号码", True),
    ("address", "地址", True),
    ("lon", "经度", True),
    ("lat", "纬度", True),
    ("crs", "坐标系", False),
    ("contact_name", "联系人", True),
    ("contact_phone", "联系电话", True),
    ("risk_level", "风险等级分", True),
    ("credit_grade", "信用等级", True),
]
# Shown in exports for reading, ignored by the import (the system computes them).
EXPORT_ONLY = ["责任中队", "网格", "监管等级", "下次应检日期"]
HEADER = {f: h for f, h, _ in COLUMNS}
MAX_IMPORT_ROWS = 50_000
# Digits beyond this are lost when Excel stores a code as a number (a double keeps ~15 digits).
EXACT_DIGITS = 15


def export_columns(user) -> list[tuple[str, Callable]]:
    """(header, getter) pairs for `core.exports.xlsx_response`; the same headers as the import
    template, so an export imports back unchanged. The queryset should `select_related(
    "object_type", "squad", "grid")`. Phones are masked unless the user may see contacts; ID
    numbers are always masked (an import recognises its own masked values as unchanged)."""
    show_phone = user.has_perm("inspections.view_regulatedobject_contact")
    return [
        ("对象编号", lambda o: o.pk),
        ("对象类型", lambda o: o.object_type.name),
        ("名称", lambda o: o.name),
        ("统一社会信用代码", lambda o: o.credit_code),
        ("身份证件号码", lambda o: mask_id_number(o.id_number)),
        ("地址", lambda o: o.address),
        ("经度", lambda o: o.lon),
        ("纬度", lambda o: o.lat),
        ("坐标系", lambda o: "WGS-84"),
        ("联系人", lambda o: o.contact_name),
        ("联系电话", (lambda o: o.contact_phone) if show_phone else (lambda o: mask_phone(o.contact_phone))),
        ("风险等级分", lambda o: o.risk_level),
        ("信用等级", lambda o: o.credit_grade),
        ("责任中队", lambda o: o.squad.name if o.squad_id else ""),
        ("网格", lambda o: o.grid.name if o.grid_id else ""),
        ("监管等级", lambda o: o.get_tier_display()),
        ("下次应检日期", lambda o: o.next_inspection_due),
    ]


def import_template() -> bytes:
    """An empty import workbook: the header row and a sheet explaining each column."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "监管对象"
    sheet.append([h for _, h, _ in COLUMNS])
    for column in sheet.columns:  # codes and phones as text, so Excel keeps every digit
        column[0].number_format = "@"
    notes = book.create_sheet("填写说明")
    types = "、".join(ObjectType.objects.filter(is_active=True).values_list("name", flat=True))
    for row in [
        ("列名", "说明"),
        ("对象编号", "留空为新增；填写则修改该编号的对象（导出文件自带）"),
        ("对象类型", f"必填，可选：{types}"),
        ("名称", "必填"),
        ("统一社会信用代码", "与身份证件号码至少填写一项；已登记的代码将更新原对象；请设为文本格式"),
        ("身份证件号码", "个人（无信用代码时）填写 18 位居民身份证号码"),
        ("地址", "必填"),
        ("经度 / 纬度", "必填，须位于本区网格内"),
        ("坐标系", "WGS-84（默认）或 GCJ-02（高德、腾讯地图坐标）"),
        ("联系人 / 联系电话", "选填"),
        ("风险等级分", "0–5 的整数"),
        ("信用等级", "A、B、C、D"),
    ]:
        notes.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value) -> str:
    """An Excel cell as text: integral floats lose their '.0', dates become ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text(value)


def _header_key(value) -> str:
    return _code(value).rstrip("*")


class _Row:
    """One data row being validated: its cleaned values and errors."""

    def __init__(self, number: int, raw: dict):
        self.number, self.raw = number, raw
        self.errors: list[RowError] = []
        self.values: dict = {}
        self.target: RegulatedObject | None = None
        self.place: dict | None = None

    def error(self, field_name: str, message: str, code: str) -> None:
        self.errors.append(RowError(self.number, HEADER.get(field_name, LABELS.get(field_name, field_name)),
                                    message, code))

    def add(self, exc: ChengguanError) -> None:
        self.error(exc.field or "", exc.message, exc.code)


def _read_sheet(fileobj, result: ImportResult) -> tuple[list[str], list[tuple[int, list]]] | None:
    from openpyxl import load_workbook

    try:
        book = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        result.errors.append(RowError(0, "", "无法读取文件，请上传 Excel（.xlsx）格式的文件。", "invalid_file"))
        return None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = list(next(rows, []) or [])
        data = []
        for number, values in enumerate(rows, start=2):
            if any(v not in (None, "") and _cell(v) for v in values):
                data.append((number, list(values)))
                if len(data) > MAX_IMPORT_ROWS:
                    result.errors.append(RowError(0, "", f"一次最多导入 {MAX_IMPORT_ROWS} 行，请分批导入。",
                                                  "too_many_rows"))
                    return None
    finally:
        book.close()
    return header, data


def _columns(header: list, result: ImportResult) -> dict[str, int] | None:
    """field → column position; one error naming every unknown, repeated or missing column."""
    known = {_header_key(h): f for f, h, _ in COLUMNS}
    ignored = {_header_key(h) for h in EXPORT_ONLY}
    positions, unknown, repeated = {}, [], []
    for i, title in enumerate(header):
        key = _header_key(title)
        if not key or key in ignored:
            continue
        if key not in known:
            unknown.append(_text(title))
        elif known[key] in positions:
            repeated.append(_text(title))
        else:
            positions[known[key]] = i
    missing = [h for f, h, required in COLUMNS if required and f not in positions]
    message = header_mismatch(missing, unknown, repeated)
    if message is None:
        return positions
    result.errors.append(RowError(1, "", message, "wrong_columns"))
    return None


def _lookup_targets(rows: list[_Row], by) -> None:
    """Find (and lock) the object each row updates: by 对象编号, else the same type's credit
    code, else its ID digest. Sets row.target or records an error."""
    pks = {r.values["pk"] for r in rows if r.values.get("pk")}
    codes = {r.values["credit_code"] for r in rows if r.values.get("credit_code")}
    digests = {r.values["id_digest"] for r in rows if r.values.get("id_digest")}
    by_pk, by_key = {}, {}
    for chunk in _chunks(sorted(pks)):
        by_pk.update(RegulatedObject.objects.select_for_update().in_bulk(chunk))
    for name, values in (("credit_code", codes), ("id_digest", digests)):
        for chunk in _chunks(sorted(values)):
            for obj in RegulatedObject.objects.select_for_update().filter(is_active=True, **{f"{name}__in": chunk}):
                by_key.setdefault((name, obj.object_type_id, getattr(obj, name)), []).append(obj)
    for row in rows:
        v = row.values
        if v.get("pk"):
            obj = by_pk.get(v["pk"])
            if obj is None or not _in_scope(by, obj.squad_id):
                row.error("pk", f"对象编号 {v['pk']} 不存在或不在您的管辖范围内。", "not_found")
                continue
            if not obj.is_active:
                row.error("pk", f"对象编号 {v['pk']} 已停止监管或已被合并，不能更新。", "object_inactive")
                continue
            row.target = obj
            continue
        if "object_type" not in v:
            continue
        for name, column in (("credit_code", "credit_code"), ("id_digest", "id_number")):
            if not v.get(name):
                continue
            found = by_key.get((name, v["object_type"].pk, v[name]), [])
            if len(found) > 1:
                row.error(column, f"有多个同类在管对象使用该{LABELS[column]}（对象编号 "
                          f"{'、'.join(str(o.pk) for o in found)}），请先合并重复对象或填写对象编号。", "ambiguous")
            elif found and not _in_scope(by, found[0].squad_id):
                row.error(column, f"该{LABELS[column]}已登记为您管辖范围以外的对象（对象编号 {found[0].pk}），无权修改。",
                          "out_of_scope")
            elif found:
                row.target = found[0]
            break


def _chunks(values, size: int = 900):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _unmask(row: _Row, name: str, mask: Callable[[str], str]) -> None:
    """A masked value (from an export) stands for the stored one; anything else masked is an error."""
    raw = row.raw.get(name, "")
    if MASK_CHAR not in raw:
        return
    stored = getattr(row.target, name) if row.target else ""
    if stored and mask(stored) == raw:
        row.raw[name] = stored
    else:
        row.error(name, f"{LABELS[name]}“{raw}”是脱敏显示值，请填写完整号码。", "masked_value")


def _validate_row(row: _Row, types: dict[str, ObjectType]) -> None:
    raw = row.raw
    if raw.get("pk"):
        try:
            row.values["pk"] = int(raw["pk"])
        except ValueError:
            row.error("pk", f"对象编号“{raw['pk']}”应为整数。", "invalid")
    type_name = raw.get("object_type", "")
    ot = types.get(type_name)
    if ot is None:
        row.error("object_type", f"对象类型“{type_name}”不存在或已停用。" if type_name else "对象类型不能为空。",
                  "invalid_object_type" if type_name else "required")
    else:
        row.values["object_type"] = ot
    try:
        credit = _code(raw.get("credit_code"))
        row.values["credit_code"] = validate_credit_code(credit) if credit else ""
    except ValidationFailed as exc:
        row.add(exc)
    number = _code(raw.get("id_number"))
    if number and MASK_CHAR not in number:
        try:
            row.values["id_digest"] = id_digest(validate_id_number(number))
        except ValidationFailed as exc:
            row.add(exc)


def _coordinates(rows: list[_Row]) -> None:
    """Parse, convert and locate every row's point in one batch (geo.locate_many)."""
    ready, lons, lats = [], [], []
    for row in rows:
        try:
            crs = _clean_crs(row.raw.get("crs"))
            lon, lat = (row.raw.get(k, "") for k in ("lon", "lat"))
            if not lon or not lat:
                raise _fail("lon" if not lon else "lat", "请填写对象位置的经度和纬度。", "required")
            lon, lat = geo.validate_coordinates(_code(lon), _code(lat))
            if crs == "gcj02":
                lon, lat = geo.gcj02_to_wgs84(lon, lat)
        except ValidationFailed as exc:
            row.add(exc)
            continue
        ready.append(row)
        lons.append(lon)
        lats.append(lat)
    if not ready:
        return
    grid_ids, squad_ids = geo.locate_many(np.array(lons), np.array(lats))
    grids = Grid.objects.in_bulk(set(grid_ids[grid_ids >= 0].tolist()))
    squads = OrgUnit.objects.in_bulk(set(squad_ids[squad_ids >= 0].tolist()))
    for row, lon, lat, grid_id, squad_id in zip(ready, lons, lats, grid_ids.tolist(), squad_ids.tolist(), strict=True):
        if grid_id < 0:
            row.error("lon", f"坐标 ({lon:.6f}, {lat:.6f}) 不在任何网格内，请核对经纬度和坐标系。", "outside_grids")
            continue
        row.place = {"lon": lon, "lat": lat, "grid": grids[grid_id], "squad": squads[squad_id]}


def _changes(obj: RegulatedObject, values: dict, place: dict) -> dict:
    changes = {k: v for k, v in values.items() if k != "object_type" and getattr(obj, k) != v}
    if obj.object_type_id != values["object_type"].pk:  # compare ids: no query per row
        changes["object_type"] = values["object_type"]
    if obj.lon is None or obj.lat is None or abs(obj.lon - place["lon"]) > 1e-9 or abs(obj.lat - place["lat"]) > 1e-9:
        changes.update(place, h3=geo.h3_cell(place["lon"], place["lat"]))
    return changes


def import_objects(fileobj, *, by) -> ImportResult:
    """Create or update objects from an Excel file (the template's columns). Every row is
    validated first and every error reported with its row and column; if there is any
    error nothing is saved."""
    _require_perm(by, "import_regulatedobject", "导入监管对象")
    result = ImportResult()
    sheet = _read_sheet(fileobj, result)
    if sheet is None:
        return result
    header, data = sheet
    positions = _columns(header, result)
    if positions is None:
        return result
    if not data:
        result.errors.append(RowError(0, "", "文件中没有数据行。", "empty_file"))
        return result
    # One transaction: the objects to update stay locked from validation to the write.
    with transaction.atomic():
        rows = _validate_rows(data, positions, by)
        order = {h: i for i, (_, h, _) in enumerate(COLUMNS)}
        result.errors = sorted((e for row in rows for e in row.errors), key=lambda e: (e.row, order.get(e.field, -1)))
        if not result.errors:
            _save_import(rows, by, result)
    return result


def _validate_rows(data, positions: dict[str, int], by) -> list[_Row]:
    types = {}
    for ot in ObjectType.objects.filter(is_active=True).select_related("tier_rule"):
        types[ot.name] = types[ot.code] = ot
    rows = []
    for number, values in data:
        raw = {f: _cell(values[i]) if i < len(values) else "" for f, i in positions.items()}
        row = _Row(number, raw)
        for name in ("credit_code", "id_number"):  # a code stored as a number has lost digits
            cell = values[positions[name]] if positions[name] < len(values) else None
            if isinstance(cell, float) and abs(cell) >= 10 ** EXACT_DIGITS:
                row.error(name, f"{LABELS[name]}被 Excel 存成了数值，末几位已丢失；请把该列设为文本格式后重新填写。",
                          "number_precision")
                raw[name] = ""
        _validate_row(row, types)
        rows.append(row)
    _lookup_targets(rows, by)
    _coordinates(rows)

    seen: dict = {}
    for row in rows:
        _unmask(row, "id_number", mask_id_number)
        _unmask(row, "contact_phone", mask_phone)
        cleaned, errors = clean_fields({**row.raw, "object_type": row.values.get("object_type")},
                                       skip=("object_type", "licences"))
        for exc in errors:
            if not any(e.field == HEADER.get(exc.field) for e in row.errors):  # one message per cell
                row.add(exc)
        if row.errors:
            continue
        if not _in_scope(by, row.place["squad"].pk):
            row.error("lon", f"该位置属于{row.place['squad']}辖区，不在您的管辖范围内。", "out_of_scope")
            continue
        ot = row.values["object_type"]
        keys = [("pk", row.target.pk)] if row.target else []
        keys += [(k, ot.pk, cleaned[k]) for k in ("credit_code", "id_digest") if cleaned[k]]
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            row.error("credit_code" if cleaned["credit_code"] else "id_number",
                      f"与第 {first} 行是同一对象，请合并为一行。", "duplicate_row")
            continue
        seen.update((k, row.number) for k in keys)
        row.values.update(cleaned, object_type=ot)
    return rows


IMPORTED = ("object_type", "name", "credit_code", "id_number", "id_digest", "address", "contact_name",
            "contact_phone", "risk_level", "credit_grade")
TIER_INPUTS = {"object_type", "risk_level", "credit_grade"}


def _save_import(rows: list[_Row], by, result: ImportResult) -> None:
    """Create the new objects with one audited bulk insert, and write the changed ones with one
    audited bulk update; objects whose tier inputs changed are then re-tiered in bulk."""
    from . import tiering

    new, changed, retier, fields = [], [], [], set()
    now = timezone.now()
    for row in rows:
        values = {k: row.values[k] for k in IMPORTED}
        if row.target is None:
            obj = RegulatedObject(**values, **row.place, h3=geo.h3_cell(row.place["lon"], row.place["lat"]))
            _assign_tier(obj, by)
            new.append(obj)
            continue
        obj = row.target
        changes = _changes(obj, values, row.place)
        if not changes:
            result.unchanged += 1
            continue
        for key, value in changes.items():
            setattr(obj, key, value)
        obj.updated_at = now  # bulk_update skips auto_now
        fields.update(changes)
        changed.append(obj)
        if TIER_INPUTS & set(changes):
            retier.append(obj.pk)
    RegulatedObject.objects.bulk_create(new, batch_size=1000, audit_action="regobj.import", actor=by)
    if changed:
        RegulatedObject.objects.bulk_update_audited(changed, [*sorted(fields), "updated_at"],
                                                    action="regobj.import", actor=by, batch_size=500)
    if retier:
        tiering.recompute_tiers(RegulatedObject.objects.filter(pk__in=retier), by=by)
    result.created, result.updated = len(new), len(changed)


