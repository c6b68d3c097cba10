"""Context for base.html: the module navigation, unread-message badge and certificate banner."""

from django.urls import NoReverseMatch, reverse

from .choices import RoleCode
from .models import Notification
from .selectors import certificate_warning, inbox_url

# The modules of DESIGN.md in menu order: (slug, label, icon, URL name). A module that is not
# built yet has no URL name of its own and falls back to its placeholder page
# (core:module, texts in core.views.MODULES); when an app defines "<slug>:index" the menu uses
# it without further change.
MODULE_MENU = [
    ("workorders", "工单", "inbox-fill", "workorders:index"),
    ("cases", "执法案件", "briefcase", "cases:index"),
    ("inspections", "检查与监管对象", "clipboard-check", "inspections:index"),
    ("duty", "勤务", "person-walking", "duty:index"),
    ("offsite", "非现场执法", "camera-video", "offsite:index"),
    ("oversight", "督察考核", "award", "oversight:index"),
]
ANALYTICS_MENU = [
    ("analytics", "统计分析", "bar-chart-line", "analytics:index"),
    ("map", "一张图", "map", "core:map"),
]
PUBLIC_MENU = ("public", "公示", "megaphone", "public:index")


def _url(slug: str, url_name: str) -> str:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return reverse("core:module", args=[slug])


def _admin_url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _item(slug, label, icon, url_name, current):
    url = _url(slug, url_name)
    return {"slug": slug, "label": label, "icon": icon, "url": url, "active": current.startswith(url)}


def _system_menu(user, current):
    items = [
        ("org", "组织机构", "diagram-3", reverse("core:org_tree")),
        ("grids", "单元网格", "grid-3x3", reverse("core:grid_list")),
        ("staff", "工作人员", "people", reverse("core:staff_list")),
        ("regulations", "执法事项与裁量基准", "journal-text", _url("regulations", "regulations:index")),
    ]
    if user.is_staff:  # the Django admin only admits is_staff accounts
        if user.has_perm("core.change_holidayoverride"):
            items.append(("calendar", "节假日调整", "calendar3",
                          _admin_url("admin:core_holidayoverride_changelist")))
        if user.has_perm("core.view_auditevent"):
            items.append(("audit", "审计日志", "shield-check", _admin_url("admin:core_auditevent_changelist")))
        items.append(("admin", "管理后台", "gear", reverse("admin:index")))
    items.append(("api", "API 文档", "code-slash", reverse("api-docs")))
    return [
        {"slug": slug, "label": label, "icon": icon, "url": url, "active": current.startswith(url)}
        for slug, label, icon, url in items if url
    ]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = request.path
    dashboard = reverse("core:dashboard")
    analytics = [_item(*entry, current) for entry in ANALYTICS_MENU]
    system = _system_menu(user, current)
    return {
        "nav_dashboard": {"url": dashboard, "active": current == dashboard},
        "nav_modules": [_item(*entry, current) for entry in MODULE_MENU],
        "nav_analytics": analytics,
        "nav_analytics_active": any(i["active"] for i in analytics),
        "nav_public": _item(*PUBLIC_MENU, current),
        "nav_system": system,
        "nav_system_active": any(i["active"] for i in system),
        "unread_count": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        "inbox_url": inbox_url(),
        "certificate_warning": certificate_warning(user),
        "user_roles": [label for code, label in RoleCode.choices if code in user.role_codes],
    }
