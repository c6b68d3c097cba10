"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), for third-party reporting
apps. What this follows from the spec:

* the format is the resource's extension: `services.xml` or `services.json` (XML required,
  JSON optional); XML answers start with `<?xml version="1.0" encoding="UTF-8"?>`, all text
  is UTF-8;
* date/times are W3C ISO 8601 with the offset (`2024-05-01T09:30:00+08:00`);
* GET services → `<services><service>` with service_code, service_name, description,
  metadata, type (realtime/batch/blackbox), keywords, group; GET services/{code} → the
  service definition `<service_definition><service_code/><attributes/>` (404 for an
  unknown code);
* POST requests needs `api_key`, `service_code`, and a location (lat + long, or
  address_string / address_id); optional description, email, first_name, last_name, phone,
  media_url, device_id, account_id, attribute[…]. The answer is
  `<service_requests><request>` with service_request_id (or a token), service_notice and
  account_id;
* GET requests filters: service_request_id (comma-separated; when given the others are
  ignored), service_code, start_date, end_date, status (open/closed, comma-separated); with
  no dates the last 90 days; at most 1000 requests;
* each request: service_request_id, status (open/closed), status_notes, service_name,
  service_code, description, agency_responsible, service_notice, requested_datetime,
  updated_datetime, expected_datetime, address, address_id, zipcode, lat, long (WGS-84),
  media_url;
* GET tokens/{token} → service_request_id and token;
* errors: `<errors><error><code/><description/></error></errors>`, in JSON
  `[{"code": 400, "description": "…"}]`, with the same HTTP status; 403 for a missing or
  invalid api_key on POST.

Our choices: orders are created synchronously, so POST answers with the service_request_id
(the order number) and a "token" is simply that number (tokens/{number} resolves at once).
Services are the active leaf categories within the bureau's remit. Public answers never
carry the reporter's data: no name, phone or e-mail, and the description has the reporter's
name and any long digit runs (phone and ID numbers) masked. Creation goes through
`intake.receive(channel="open311")` under the client's system user; only clients of the
Open311 channel may create. `media_url` is not fetched or stored (we keep no third-party
links in the record); `email` is not stored either (no such field)."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.exceptions import AuthenticationFailed

from chengguan.core.errors import ChengguanError
from chengguan.core.fields import mask_name

from ..api.authentication import client_for_key, key_from_headers
from ..choices import OPEN_STATUSES, Channel
from ..models import Category, WorkOrder
from ..services import intake

FORMATS = ("json", "xml")
DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
DIGITS = re.compile(r"\d{7,}")
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


# --- rendering ----------------------------------------------------------------------------------


def _xml_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml(root: str, item: str, rows: list[dict]) -> str:
    top = ET.Element(root)
    for row in rows:
        node = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(node, key)
            if isinstance(value, list):  # only attributes (always empty here) and keywords come as lists
                child.text = ",".join(map(str, value))
            else:
                child.text = _xml_value(value)
    return XML_DECLARATION + ET.tostring(top, encoding="unicode")


def render(fmt: str, root: str, item: str, rows, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return HttpResponse(json.dumps(rows, ensure_ascii=False), status=status,
                            content_type="application/json; charset=utf-8")
    if isinstance(rows, dict):  # service definition: one object, not a list
        top = ET.Element(root)
        for key, value in rows.items():
            child = ET.SubElement(top, key)
            if not isinstance(value, list):
                child.text = _xml_value(value)
        body = XML_DECLARATION + ET.tostring(top, encoding="unicode")
    else:
        body = _xml(root, item, rows)
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt if fmt in FORMATS else "xml", "errors", "error",
                  [{"code": status, "description": description}], status)


def open311_view(view):
    """Format check and the spec's error answers for every endpoint."""

    def wrapped(request, *args, fmt: str, **kwargs):
        if fmt not in FORMATS:
            return error("xml", 400, f"不支持的格式“{fmt}”，请使用 .xml 或 .json。")
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        except ChengguanError as exc:
            return error(fmt, 400, exc.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _iso(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


# --- services -----------------------------------------------------------------------------------


def _services():
    """Active leaf categories within the remit."""
    return (Category.objects.filter(is_active=True, in_remit=True).exclude(children__is_active=True)
            .select_related("parent").order_by("parent__order", "parent__code", "order", "code"))


def _service(category: Category) -> dict:
    group = category.parent.name if category.parent_id else ""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{group}：{category.name}" if group else category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(category.keywords.split()),
        "group": group,
    }


@require_GET
@open311_view
def services(request, fmt):
    return render(fmt, "services", "service", [_service(c) for c in _services()])


@require_GET
@open311_view
def service_definition(request, code, fmt):
    if not _services().filter(code=code).exists():
        raise Open311Error(404, f"服务代码“{code}”不存在。")
    return render(fmt, "service_definition", "", {"service_code": code, "attributes": []})


# --- requests -----------------------------------------------------------------------------------


def _redact(order: WorkOrder) -> str:
    text = order.text
    for secret in (order.reporter_phone, order.reporter_name):
        if secret and len(secret) >= 2:
            text = text.replace(secret, mask_name(secret) if secret == order.reporter_name else "****")
    return DIGITS.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 3), text)


def _public_status(order: WorkOrder) -> str:
    return "open" if order.status in OPEN_STATUSES else "closed"


def _updated(order: WorkOrder) -> dt.datetime:
    moments = [order.received_at, order.accepted_at, order.dispatched_at, order.replied_at, order.verified_at,
               order.closed_at, order.suspended_at]
    return max(m for m in moments if m is not None)


def _request(order: WorkOrder) -> dict:
    category = order.category
    return {
        "service_request_id": order.number,
        "status": _public_status(order),
        "status_notes": order.get_status_display(),
        "service_name": category.name if category else "",
        "service_code": category.code if category else "",
        "description": _redact(order),
        "agency_responsible": order.squad.name if order.squad_id else "",
        "service_notice": "",
        "requested_datetime": _iso(order.received_at),
        "updated_datetime": _iso(_updated(order)),
        "expected_datetime": _iso(order.reply_due_at),
        "address": order.address,
        "address_id": "",
        "zipcode": "",
        "lat": order.lat,
        "long": order.lon,
        "media_url": "",
    }


def _moment(value: str, name: str) -> dt.datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        moment = dt.datetime.combine(day, dt.time.min) if day else None
    if moment is None:
        raise Open311Error(400, f"{name} 格式应为 ISO 8601，如 2024-05-01T00:00:00+08:00。")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _orders():
    return WorkOrder.objects.select_related("category", "squad").order_by("-received_at", "-pk")


def _list(request, fmt):
    params = request.GET
    orders = _orders()
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        orders = orders.filter(number__in=ids[:MAX_REQUESTS])
    else:
        if params.get("service_code"):
            orders = orders.filter(category__code=params["service_code"])
        end = _moment(params["end_date"], "end_date") if params.get("end_date") else None
        start = _moment(params["start_date"], "start_date") if params.get("start_date") else None
        if start is None and end is None:
            start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        if start and end and start > end:
            raise Open311Error(400, "start_date 不能晚于 end_date。")
        if start:
            orders = orders.filter(received_at__gte=start)
        if end:
            orders = orders.filter(received_at__lte=end)
        wanted = {v.strip() for v in params.get("status", "").split(",") if v.strip()}
        if wanted - {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed。")
        if wanted == {"open"}:
            orders = orders.filter(status__in=OPEN_STATUSES)
        elif wanted == {"closed"}:
            orders = orders.exclude(status__in=OPEN_STATUSES)
    return render(fmt, "service_requests", "request", [_request(o) for o in orders[:MAX_REQUESTS]])


def _name(first: str, last: str) -> str:
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in first + last)
    return (f"{last}{first}" if cjk else f"{first} {last}").strip()


def _form(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise Open311Error(400, "请求内容不是有效的 JSON。") from exc
        if not isinstance(data, dict):
            raise Open311Error(400, "请求内容必须是一个对象。")
        return {k: v if isinstance(v, str) else json.dumps(v) if v is not None else "" for k, v in data.items()}
    return request.POST.dict()


def _create(request, fmt):
    form = _form(request)
    try:
        key = key_from_headers(request) or form.get("api_key") or request.GET.get("api_key")
    except AuthenticationFailed:
        key = None
    client = client_for_key(key) if key else None
    if client is None:
        raise Open311Error(403, "缺少 api_key 或 api_key 无效。")
    if client.channel != Channel.OPEN311:
        raise Open311Error(403, "该接入密钥不是 Open311 渠道的密钥。")
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code。")
    if not _services().filter(code=code).exists():
        raise Open311Error(400, f"服务代码“{code}”不存在。")
    lat, lon = form.get("lat", "").strip(), form.get("long", "").strip()
    address = (form.get("address_string") or form.get("address_id") or "").strip()
    if not (lat and lon) and not address:
        raise Open311Error(400, "请提供位置：lat 和 long，或 address_string。")
    if bool(lat) != bool(lon):
        raise Open311Error(400, "lat 和 long 须同时提供。")
    phone = form.get("phone", "").strip()
    received = intake.receive(
        by=client.user, channel=Channel.OPEN311, category=code, text=form.get("description", ""),
        address=address, lon=lon or None, lat=lat or None,
        reporter_name=_name(form.get("first_name", "").strip(), form.get("last_name", "").strip()),
        reporter_phone=phone, wants_reply=bool(phone or form.get("email", "").strip()),
    )
    order = received.order
    notice = f"已受理，工单编号 {order.number}"
    if order.reply_due_at:
        notice += f"，预计 {timezone.localtime(order.reply_due_at):%Y-%m-%d} 前处理反馈"
    row = {"service_request_id": order.number, "service_notice": notice + "。", "account_id": None}
    return render(fmt, "service_requests", "request", [row], status=201)


@csrf_exempt  # machine clients authenticate with api_key, never with a session cookie
@require_http_methods(["GET", "POST"])
@open311_view
def requests(request, fmt):
    return _create(request, fmt) if request.method == "POST" else _list(request, fmt)


@require_GET
@open311_view
def request_detail(request, request_id, fmt):
    order = _orders().filter(number=request_id).first()
    if order is None:
        raise Open311Error(404, f"服务请求“{request_id}”不存在。")
    return render(fmt, "service_requests", "request", [_request(order)])


@require_GET
@open311_view
def token(request, token, fmt):
    """Requests are created at once, so a token is the service_request_id itself."""
    if not WorkOrder.objects.filter(number=token).exists():
        raise Open311Error(404, f"令牌“{token}”不存在。")
    return render(fmt, "service_requests", "request", [{"service_request_id": token, "token": token}])
