"""Who may do what with documents (see core/permissions.py). Templates are legal instruments:
legal reviewers and administrators edit them. Issued documents are read here by those who
oversee cases; the cases app serves each case's documents within its own data scope."""

from chengguan.core.choices import RoleCode as R
from chengguan.core.permissions import EVERYONE

EDITORS = frozenset({R.LEGAL_REVIEWER, R.ADMIN})
OVERSIGHT = frozenset({R.LEGAL_REVIEWER, R.CASE_REVIEW, R.SUPERVISOR, R.LEADER, R.ADMIN})

ROLE_PERMISSIONS = {
    "documents.view_documenttemplate": EVERYONE,
    "documents.add_documenttemplate": EDITORS,
    "documents.change_documenttemplate": EDITORS,
    "documents.view_issueddocument": OVERSIGHT,
}
