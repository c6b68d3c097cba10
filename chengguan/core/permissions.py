"""What each role may do in the core app. Every app declares its own ROLE_PERMISSIONS in
`<app>/permissions.py`; chengguan.core.auth collects them. Codenames follow Django's
"<app_label>.<action>_<model>" so admin, DRF and templates all ask `user.has_perm()`."""

from .choices import RoleCode as R

EVERYONE = frozenset(R)
MANAGERS = frozenset({R.SQUAD_LEADER, R.LEADER, R.ADMIN, R.SUPERVISOR, R.DISPATCHER, R.CASE_REVIEW})

ROLE_PERMISSIONS = {
    "core.view_orgunit": EVERYONE,
    "core.add_orgunit": {R.ADMIN},
    "core.change_orgunit": {R.ADMIN},
    "core.view_grid": EVERYONE,
    "core.add_grid": {R.ADMIN},
    "core.change_grid": {R.ADMIN},
    "core.view_user": EVERYONE,
    "core.add_user": {R.ADMIN},
    "core.change_user": {R.ADMIN},
    "core.view_user_phone": MANAGERS,
    "core.view_auditevent": {R.SUPERVISOR, R.LEADER, R.ADMIN, R.CASE_REVIEW},
    "core.view_holidayoverride": EVERYONE,
    "core.add_holidayoverride": {R.ADMIN},
    "core.change_holidayoverride": {R.ADMIN},
    "core.delete_holidayoverride": {R.ADMIN},
    "core.view_confirmedcalendaryear": EVERYONE,
    "core.add_confirmedcalendaryear": {R.ADMIN},
    "core.view_numberformat": {R.ADMIN},
    "core.add_numberformat": {R.ADMIN},
    "core.change_numberformat": {R.ADMIN},
    "core.view_evidence": EVERYONE,
    "core.add_evidence": EVERYONE,
    "core.view_notification": EVERYONE,
}
