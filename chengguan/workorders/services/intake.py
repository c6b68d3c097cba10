"""Intake: every channel lands here (hotline API, Excel import, Open311, the citizen form,
officers' own discoveries). One path for one order or a batch:

validate everything (any error: nothing is saved) → idempotency on (channel, external ticket)
→ classify → route (coordinates → grid → squad; else the address list; else the dispatcher)
→ start the clocks → look for repeats and hotspots → numbers → one audited bulk insert.

A resent ticket returns the order it created the first time. Concurrent resends are
serialised by a transaction-scoped advisory lock per ticket on PostgreSQL; elsewhere the
unique constraint catches the race and the batch is retried once, finding the first copy."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chengguan.core.errors import ValidationFailed
from chengguan.core.geo import CRS_CHOICES, place_fields
from chengguan.core.models import Evidence
from chengguan.core.numbering import next_numbers

from ..choices import Channel, ClassifiedBy, LocatedBy, Stage, Status
from ..models import Category, RepeatCandidate, WorkOrder, WorkOrderStep
from . import addresses, classification, clocks, repeats

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_BACKDATE = dt.timedelta(days=366)


@dataclass
class Received:
    order: WorkOrder
    created: bool


def _text(item: dict, field: str, label: str, max_length: int, *, required: bool = False) -> str:
    value = item.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{label}必须是文字。", code="invalid", field=field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"请填写{label}。", code="required", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"{label}不能超过 {max_length} 个字（现有 {len(value)} 个）。", code="too_long",
                               field=field)
    return value


def _received_at(value, now: dt.datetime) -> dt.datetime:
    if value in (None, ""):
        return now
    moment = value if isinstance(value, dt.datetime) else parse_datetime(str(value)) if isinstance(value, str) else None
    if moment is None:
        raise ValidationFailed("受理时间格式应为 2024-05-01T09:30:00+08:00。", code="invalid_datetime",
                               field="received_at")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > now + CLOCK_SKEW:
        raise ValidationFailed("受理时间不能晚于当前时间。", code="in_future", field="received_at")
    if moment < now - MAX_BACKDATE:
        raise ValidationFailed("受理时间不能早于一年前。", code="too_old", field="received_at")
    return moment


def clean(item: dict, categories: dict[str, Category], now: dt.datetime) -> dict:
    """Check one submitted order; returns the values to build it from."""
    if not isinstance(item, dict):
        raise ValidationFailed("每条工单必须是一个对象。", code="invalid")
    channel = item.get("channel")
    if channel not in Channel.values:
        raise ValidationFailed(f"未知的来源渠道“{channel}”。", code="unknown_channel", field="channel")
    values = {
        "channel": channel,
        "external_ticket": _text(item, "external_ticket", "外部工单号", 64),
        "title": _text(item, "title", "标题", 200),
        "text": _text(item, "text", "诉求内容", settings.WORKORDER_MAX_TEXT, required=True),
        "address": _text(item, "address", "地址", 255),
        "reporter_name": _text(item, "reporter_name", "反映人", 50),
        "reporter_phone": _text(item, "reporter_phone", "联系电话", 20),
        "received_at": _received_at(item.get("received_at"), now),
        "wants_reply": item.get("wants_reply", True),
    }
    if values["reporter_phone"] and not PHONE_RE.match(values["reporter_phone"]):
        raise ValidationFailed("联系电话格式不正确。", code="invalid_phone", field="reporter_phone")
    if not isinstance(values["wants_reply"], bool):
        raise ValidationFailed("“需要回复”只能是 true 或 false。", code="invalid", field="wants_reply")
    code = item.get("category")
    if code not in (None, ""):
        category = categories.get(code)
        if category is None:
            raise ValidationFailed(f"未知的分类“{code}”。", code="unknown_category", field="category")
        values["category"] = category
    lon, lat = item.get("lon"), item.get("lat")
    if (lon is None) != (lat is None):
        raise ValidationFailed("经度和纬度须同时提供。", code="required", field="lat" if lat is None else "lon")
    crs = item.get("crs") or "wgs84"
    if crs not in CRS_CHOICES:
        raise ValidationFailed("坐标系只能是 wgs84 或 gcj02。", code="invalid_choice", field="crs")
    if lon is not None:
        values["place"] = place_fields(lon, lat, crs=crs, allow_outside=True)
    photos = item.get("photos") or []
    if any(not isinstance(p, Evidence) for p in photos):
        raise ValidationFailed("照片无效。", code="invalid", field="photos")
    values["photos"] = list(photos)
    created_by = item.get("created_by")
    values["created_by"] = created_by
    return values


def _clean_all(items: list[dict], categories: dict[str, Category], now: dt.datetime) -> list[dict]:
    if not items:
        raise ValidationFailed("没有提交工单。", code="empty")
    if len(items) > settings.WORKORDER_INTAKE_BATCH:
        raise ValidationFailed(f"一次最多提交 {settings.WORKORDER_INTAKE_BATCH} 条工单。", code="too_many")
    cleaned, errors = [], []
    for index, item in enumerate(items):
        try:
            cleaned.append(clean(item, categories, now))
        except ValidationFailed as exc:
            prefix = f"orders[{index}]" if len(items) > 1 else ""
            field = f"{prefix}.{exc.field}" if prefix and exc.field else (exc.field or prefix or None)
            errors.append({"field": field, "code": exc.code, "message": exc.message})
    if errors:
        first = errors[0]
        message = first["message"] if len(errors) == 1 else f"{len(errors)} 处错误，第一处：{first['message']}"
        raise ValidationFailed(message, code=first["code"], field=first["field"], errors=errors)
    return cleaned


def _lock_tickets(keys: list[tuple[str, str]]) -> None:
    """Serialise concurrent submissions of the same tickets until this transaction ends."""
    if connection.vendor != "postgresql" or not keys:
        return
    ids = sorted({int.from_bytes(hashlib.blake2b(f"{c}\x1f{t}".encode(), digest_size=8).digest(), "big",
                                 signed=True) for c, t in keys})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", [ids])


def _build(values: dict, prediction, table: clocks.RuleTable) -> WorkOrder:
    place = values.pop("place", None)
    category = values.pop("category", None)
    values.pop("photos")
    order = WorkOrder(**values, status=Status.RECEIVED)
    if place:
        for field, value in place.items():
            setattr(order, field, value)
        order.located_by = LocatedBy.COORDINATES
    predicted, confidence = prediction
    order.predicted_category, order.confidence = predicted, confidence
    if category is not None:
        order.category, order.classified_by = category, ClassifiedBy.PERSON
    elif predicted is not None and confidence is not None and confidence >= settings.WORKORDER_MIN_CONFIDENCE:
        order.category, order.classified_by = predicted, ClassifiedBy.MODEL
    order.needs_review = order.category is None
    order.fingerprint = repeats.fingerprint(order.title, order.text)
    order.reply_due_at = clocks.limit_for(Stage.REPLY, order, table).due(order.received_at)
    clocks.start_clock(order, Stage.ACCEPT, order.received_at, table)
    return order


def _route_by_address(drafts: list[WorkOrder]) -> None:
    """Orders without coordinates but with an address: the district's address list."""
    pending = [o for o in drafts if o.lon is None and o.address]
    if not pending:
        return
    for order, match in zip(pending, addresses.match_many([o.address for o in pending]), strict=True):
        if match is None:
            continue
        for field, value in place_fields(match.entry.lon, match.entry.lat, allow_outside=True).items():
            setattr(order, field, value)
        order.located_by = LocatedBy.ADDRESS


def receive_many(items: list[dict], *, by) -> list[Received]:
    """Take in a batch of orders (all valid or none saved); results in the order given."""
    now = timezone.now()
    _, categories = classification.current()
    cleaned = _clean_all(items, categories, now)
    for values in cleaned:
        values["created_by"] = values["created_by"] or by
    try:
        return _receive(cleaned, by=by, now=now)
    except IntegrityError:
        # Another request stored one of these tickets between our check and our insert
        # (only without advisory locks): this time the check finds it.
        return _receive(cleaned, by=by, now=now)


def _receive(cleaned: list[dict], *, by, now) -> list[Received]:
    keys = [(v["channel"], v["external_ticket"]) for v in cleaned if v["external_ticket"]]
    with transaction.atomic():
        _lock_tickets(keys)
        existing = {}
        if keys:
            found = WorkOrder.objects.filter(channel__in={c for c, _ in keys},
                                             external_ticket__in={t for _, t in keys})
            existing = {(o.channel, o.external_ticket): o for o in found}
        new_values, slots = [], []
        for values in cleaned:
            key = (values["channel"], values["external_ticket"])
            if values["external_ticket"] and key in existing:
                slots.append(existing[key])
                continue
            if values["external_ticket"]:
                existing[key] = len(new_values)  # a ticket repeated within the batch: once
            slots.append(len(new_values))
            new_values.append(values)
        created = _create(new_values, by=by, now=now) if new_values else []
    results, seen = [], set()
    for slot in slots:
        if isinstance(slot, WorkOrder):
            results.append(Received(slot, False))
        else:
            results.append(Received(created[slot], slot not in seen))
            seen.add(slot)
    return results


def _create(values_list: list[dict], *, by, now) -> list[WorkOrder]:
    photos = [v["photos"] for v in values_list]
    predictions = classification.predict([classification.order_text(v["title"], v["text"]) for v in values_list])
    table = clocks.rule_table()
    drafts = [_build(dict(values), prediction, table) for values, prediction in zip(values_list, predictions,
                                                                                     strict=True)]
    _route_by_address(drafts)
    matches = repeats.find_repeats(drafts)
    hotspots = repeats.hotspot_counts(drafts)
    for order, found, count in zip(drafts, matches, hotspots, strict=True):
        order.has_repeat_candidates = bool(found)
        if count >= settings.WORKORDER_HOTSPOT_COUNT:  # the count includes the order itself
            order.supervised = True
            order.supervised_reason = (f"同一地点 {settings.WORKORDER_REPEAT_WINDOW_DAYS} 天内第 {count} 次反映，"
                                       "建议督办")
    for order, number in zip(drafts, next_numbers("workorder", len(drafts), actor=by), strict=True):
        order.number = number
    orders = WorkOrder.objects.bulk_create(drafts, audit_action="workorder.receive", actor=by)
    WorkOrderStep.objects.bulk_create(
        [WorkOrderStep(order=o, action="receive", to_status=o.status, actor=by, at=now,
                       note=o.get_channel_display()) for o in orders],
        audit_action="workorder.step.receive", actor=by)
    candidates = [RepeatCandidate(order=order, original=match.original, score=round(match.score, 3),
                                  distance_m=match.distance_m, reason=match.reason[:300])
                  for order, found in zip(orders, matches, strict=True) for match in found]
    if candidates:
        RepeatCandidate.objects.bulk_create(candidates, audit_action="workorder.repeat.detect", actor=by)
    for order, order_photos in zip(orders, photos, strict=True):
        if order_photos:
            order.photos.set(order_photos)
    return orders


def receive(*, by, **item) -> Received:
    """Take in one order (see `receive_many`)."""
    return receive_many([item], by=by)[0]
