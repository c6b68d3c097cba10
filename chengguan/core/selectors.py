"""Read queries for the core UI (dashboard, org tree, lists, map layers). Every query goes
through `restrict(user)`, so a page never shows what the user's scope does not cover."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .choices import OrgUnitKind
from .models import AuditEvent, Grid, Notification, OrgUnit, User

CERT_WARNING_DAYS = 30  # a certificate "expires soon" within this many days


# --- certificates ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateStatus:
    code: str  # valid | expiring | expired | not_yet_valid | none
    label: str
    tone: str  # Bootstrap contextual colour
    days_left: int | None = None


def certificate_status(user: User, today: dt.date | None = None) -> CertificateStatus:
    today = today or timezone.localdate()
    if not (user.certificate_number and user.certificate_valid_from and user.certificate_valid_to):
        return CertificateStatus("none", "无证", "secondary")
    if user.certificate_valid_to < today:
        return CertificateStatus("expired", "已过期", "danger", (user.certificate_valid_to - today).days)
    if user.certificate_valid_from > today:
        return CertificateStatus("not_yet_valid", "未生效", "secondary")
    days_left = (user.certificate_valid_to - today).days
    if days_left <= CERT_WARNING_DAYS:
        return CertificateStatus("expiring", "即将到期", "warning", days_left)
    return CertificateStatus("valid", "有效", "success", days_left)


def certificate_warning(user: User) -> str:
    """The banner text for the logged-in user's own certificate, or ""."""
    status = certificate_status(user)
    if status.code == "expired":
        return "您的执法证已过期，不能作为执法人员办案。请尽快办理换证。"
    if status.code == "expiring":
        when = "今天" if status.days_left == 0 else f"{status.days_left} 天后"
        return (f"您的执法证将于 {user.certificate_valid_to:%Y年%m月%d日}（{when}）到期，"
                "到期后不能作为执法人员办案，请及时办理换证。")
    return ""


def _valid_certificate_q(today: dt.date) -> Q:
    return Q(certificate_valid_from__lte=today, certificate_valid_to__gte=today) & ~Q(certificate_number="")


# --- dashboard ------------------------------------------------------------------------------
# A card is a dict: key, label, value, icon (Bootstrap Icons name), url (or None), tone, note.
# Other apps add cards with @dashboard_card (import their module in AppConfig.ready); a
# provider returns None when the card does not apply to the user.

CardProvider = Callable[[User, dt.date], dict | None]
CARD_PROVIDERS: list[CardProvider] = []


def dashboard_card(provider: CardProvider) -> CardProvider:
    CARD_PROVIDERS.append(provider)
    return provider


def card(key: str, label: str, value: int, icon: str, url: str | None = None, tone: str = "primary",
         note: str = "") -> dict:
    return {"key": key, "label": label, "value": value, "icon": icon, "url": url, "tone": tone, "note": note}


def dashboard_counts(user: User) -> list[dict]:
    today = timezone.localdate()
    return [c for c in (provider(user, today) for provider in CARD_PROVIDERS) if c is not None]


@dashboard_card
def _squads_card(user, today):
    value = OrgUnit.objects.restrict(user).filter(kind=OrgUnitKind.SQUAD, is_active=True).count()
    return card("squads", "中队", value, "diagram-3", reverse("core:org_tree"))


@dashboard_card
def _grids_card(user, today):
    value = Grid.objects.restrict(user).filter(is_active=True).count()
    return card("grids", "单元网格", value, "grid-3x3", reverse("core:grid_list"))


@dashboard_card
def _staff_card(user, today):
    value = User.objects.restrict(user).filter(is_active=True).count()
    return card("staff", "在岗人员", value, "people", reverse("core:staff_list"))


@dashboard_card
def _certified_card(user, today):
    value = User.objects.restrict(user).filter(_valid_certificate_q(today), is_active=True).count()
    return card("certified", "持有效执法证", value, "person-badge", reverse("core:staff_list"), "success")


@dashboard_card
def _expiring_card(user, today):
    until = today + dt.timedelta(days=CERT_WARNING_DAYS)
    value = (User.objects.restrict(user)
             .filter(_valid_certificate_q(today), is_active=True, certificate_valid_to__lte=until).count())
    url = reverse("core:staff_list") + f"?certificate_expires_before={until + dt.timedelta(days=1):%Y-%m-%d}"
    return card("certificates_expiring", "执法证即将到期", value, "hourglass-split", url,
                "warning" if value else "secondary", note=f"{CERT_WARNING_DAYS} 天内")


@dashboard_card
def _unread_card(user, today):
    value = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    return card("unread", "未读消息", value, "envelope", inbox_url(), "danger" if value else "secondary")


@dashboard_card
def _audit_card(user, today):
    if not user.has_perm("core.view_auditevent"):
        return None
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    value = AuditEvent.objects.filter(created_at__gte=start).count()
    url = reverse("admin:core_auditevent_changelist") if user.is_staff else None
    return card("audit_today", "今日审计事件", value, "shield-check", url, "info")


def inbox_url() -> str | None:
    try:
        return reverse("core:inbox")
    except NoReverseMatch:  # the inbox page ships separately; until then the badge has no link
        return None


def staff_per_squad(user: User) -> list[tuple[str, int]]:
    """(squad name, active staff in the squad and its sub-units) for the squads in scope."""
    squads = list(OrgUnit.objects.restrict(user).filter(kind=OrgUnitKind.SQUAD, is_active=True)
                  .order_by("path").values_list("path", "name"))
    counts = dict(User.objects.restrict(user).filter(is_active=True, org_unit__isnull=False).order_by()
                  .values("org_unit__path").annotate(n=Count("pk")).values_list("org_unit__path", "n"))
    return [(name, sum(n for p, n in counts.items() if p.startswith(path))) for path, name in squads]


# --- org tree, grids, staff -----------------------------------------------------------------

def org_tree(user: User) -> list[OrgUnit]:
    """Units in scope in tree order, each with `level` (indent relative to the scope root),
    `staff_count` and `grid_count`."""
    units = list(OrgUnit.objects.restrict(user).order_by("path"))
    ids = [u.pk for u in units]
    # two grouped counts, not one query joining staff × grids (which multiplies the rows)
    staff = dict(User.objects.filter(org_unit__in=ids, is_active=True).order_by()
                 .values("org_unit").annotate(n=Count("pk")).values_list("org_unit", "n"))
    grids = dict(Grid.objects.filter(squad__in=ids, is_active=True).order_by()
                 .values("squad").annotate(n=Count("pk")).values_list("squad", "n"))
    top = min((u.depth for u in units), default=0)
    for unit in units:
        unit.level = unit.depth - top
        unit.staff_count = staff.get(unit.pk, 0)
        unit.grid_count = grids.get(unit.pk, 0)
    return units


def grid_list(user: User):
    return Grid.objects.restrict(user).select_related("squad").order_by("code")


def staff_list(user: User):
    return (User.objects.restrict(user).select_related("org_unit").prefetch_related("roles")
            .order_by("org_unit__path", "staff_number", "username"))


def squads_in_scope(user: User):
    return OrgUnit.objects.restrict(user).filter(kind=OrgUnitKind.SQUAD).order_by("path")


def units_in_scope(user: User):
    return OrgUnit.objects.restrict(user).order_by("path")


# --- map layers -----------------------------------------------------------------------------

def _bounds(geometry: dict) -> tuple[float, float, float, float]:
    def points(coords):
        if coords and isinstance(coords[0], (int, float)):
            yield coords
        else:
            for part in coords:
                yield from points(part)

    xs, ys = zip(*((p[0], p[1]) for p in points(geometry["coordinates"])), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def squad_features(user: User) -> list[dict]:
    squads = (squads_in_scope(user).filter(is_active=True, jurisdiction__isnull=False)
              .annotate(grid_count=Count("grids", filter=Q(grids__is_active=True))))
    return [
        {"type": "Feature", "geometry": s.jurisdiction,
         "properties": {"id": s.pk, "code": s.code, "name": s.name, "grid_count": s.grid_count}}
        for s in squads
    ]


# (version, grid ids, bounds array) of the active grids; the version is the grid table's row count
# and latest change, so any create or update through the services refreshes it.
_grid_bounds_cache: tuple = (None, None, None)


def _grid_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Ids and bounding boxes (n × 4) of all active grids, cached per process: the boundary is
    JSON without a spatial index, and reading thousands of polygons on every map move is what
    makes a district map slow."""
    global _grid_bounds_cache
    agg = Grid.objects.aggregate(n=Count("pk"), latest=Max("updated_at"))
    version = (agg["n"], agg["latest"])
    if _grid_bounds_cache[0] != version:
        rows = list(Grid.objects.filter(is_active=True).order_by().values_list("pk", "boundary"))
        ids = np.array([pk for pk, _ in rows], dtype=np.int64)
        bounds = np.array([_bounds(b) for _, b in rows], dtype=float).reshape(-1, 4)
        _grid_bounds_cache = (version, ids, bounds)
    return _grid_bounds_cache[1], _grid_bounds_cache[2]


def grid_ids_in_bbox(bbox: tuple[float, float, float, float]) -> list[int]:
    ids, b = _grid_bounds()
    hit = (b[:, 0] <= bbox[2]) & (bbox[0] <= b[:, 2]) & (b[:, 1] <= bbox[3]) & (bbox[1] <= b[:, 3])
    return ids[hit].tolist()


def grid_features(user: User, bbox: tuple[float, float, float, float] | None = None) -> list[dict]:
    """Active grids in scope as GeoJSON features; with `bbox` (min lon, min lat, max lon,
    max lat) only those whose bounding box meets it, so the map loads just the grids on screen."""
    grids = grid_list(user).filter(is_active=True)
    if bbox:
        grids = grids.filter(pk__in=grid_ids_in_bbox(bbox))
    rows = grids.values_list("pk", "code", "name", "community", "boundary", "squad_id", "squad__name")
    return [
        {"type": "Feature", "geometry": boundary,
         "properties": {"id": pk, "code": code, "name": name, "community": community,
                        "squad_id": squad_id, "squad": squad_name,
                        "url": reverse("core:grid_detail", args=[pk])}}
        for pk, code, name, community, boundary, squad_id, squad_name in rows
    ]
