"""Who may do what with enforcement cases (see core/permissions.py). Officers open leads and
handle the cases they are named on; the squad leader approves filing, closure, withdrawal,
transfer and compulsory measures in the squad's scope; legal reviewers review (法制审核); the
bureau leader decides, holds collective discussions and approves extensions and payment plans;
the case-review centre (案审中心) archives and records reconsideration/litigation outcomes."""

from chengguan.core.choices import RoleCode as R
from chengguan.core.permissions import EVERYONE

HANDLERS = {R.OFFICER, R.SQUAD_LEADER}

ROLE_PERMISSIONS = {
    "cases.view_case": EVERYONE,
    "cases.add_case": HANDLERS,
    "cases.handle_case": HANDLERS,
    "cases.approve_case": {R.SQUAD_LEADER, R.LEADER},
    "cases.review_case": {R.LEGAL_REVIEWER},
    "cases.decide_case": {R.LEADER},
    "cases.archive_case": {R.CASE_REVIEW, R.SQUAD_LEADER},
    "cases.record_appeal_case": {R.LEGAL_REVIEWER, R.CASE_REVIEW},
    # Whole ID numbers and phone numbers of parties; everyone else sees them masked.
    "cases.view_case_party": {R.OFFICER, R.SQUAD_LEADER, R.LEGAL_REVIEWER},
    # Publication of penalty decisions (公示): the squad leader for the squad's decisions, the
    # case-review centre for the whole bureau.
    "cases.view_disclosure": EVERYONE,
    "cases.publish_disclosure": {R.SQUAD_LEADER, R.CASE_REVIEW},
}
