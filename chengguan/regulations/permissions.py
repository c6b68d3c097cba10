"""Who may do what with the violation catalogue (see core/permissions.py). Everyone reads it
(officers choose matters and tiers in cases); legal reviewers and administrators draft, edit
and publish it, since a benchmark is a legal instrument (《行政处罚法》第三十四条)."""

from chengguan.core.choices import RoleCode as R
from chengguan.core.permissions import EVERYONE

EDITORS = frozenset({R.LEGAL_REVIEWER, R.ADMIN})

ROLE_PERMISSIONS = {
    "regulations.view_legalbasis": EVERYONE,
    "regulations.add_legalbasis": EDITORS,
    "regulations.change_legalbasis": EDITORS,
    "regulations.view_matter": EVERYONE,
    "regulations.add_matter": EDITORS,
    "regulations.change_matter": EDITORS,
    "regulations.import_matter": EDITORS,
    "regulations.view_benchmark": EVERYONE,
    "regulations.add_benchmark": EDITORS,
    "regulations.change_benchmark": EDITORS,
    "regulations.publish_benchmark": EDITORS,
    "regulations.view_benchmarktier": EVERYONE,
    "regulations.add_benchmarktier": EDITORS,
    "regulations.change_benchmarktier": EDITORS,
    "regulations.view_exemptionentry": EVERYONE,
    "regulations.add_exemptionentry": EDITORS,
    "regulations.change_exemptionentry": EDITORS,
}
