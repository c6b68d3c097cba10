"""Who may do what with regulated objects and inspections (see core/permissions.py)."""

from chengguan.core.choices import RoleCode as R
from chengguan.core.permissions import EVERYONE

PLANNERS = {R.SQUAD_LEADER, R.LEADER, R.ADMIN, R.SUPERVISOR}

ROLE_PERMISSIONS = {
    "inspections.view_regulatedobject": EVERYONE,
    "inspections.add_regulatedobject": {R.OFFICER, R.SQUAD_LEADER, R.ADMIN},
    "inspections.change_regulatedobject": {R.OFFICER, R.SQUAD_LEADER, R.ADMIN},
    "inspections.import_regulatedobject": {R.SQUAD_LEADER, R.ADMIN},
    "inspections.merge_regulatedobject": {R.SQUAD_LEADER, R.ADMIN},
    "inspections.view_regulatedobject_contact": {R.OFFICER, R.SQUAD_LEADER, R.LEADER, R.ADMIN, R.DISPATCHER},
    "inspections.view_objecttype": EVERYONE,
    "inspections.change_objecttype": {R.ADMIN},
    "inspections.add_objecttype": {R.ADMIN},
    "inspections.view_tierrule": EVERYONE,
    "inspections.change_tierrule": {R.ADMIN},
    "inspections.recompute_tiers": {R.SQUAD_LEADER, R.ADMIN, R.LEADER},
    "inspections.view_inspectorconflict": PLANNERS,
    "inspections.add_inspectorconflict": EVERYONE,
    "inspections.view_drawplan": EVERYONE,
    "inspections.add_drawplan": PLANNERS,
    "inspections.change_drawplan": PLANNERS,
    "inspections.view_inspectiontask": EVERYONE,
    "inspections.add_inspectiontask": {R.SQUAD_LEADER, R.ADMIN},
    "inspections.change_inspectiontask": {R.SQUAD_LEADER, R.ADMIN},
    "inspections.view_inspectionrecord": EVERYONE,
    "inspections.add_inspectionrecord": {R.OFFICER, R.SQUAD_LEADER},
    "inspections.publish_inspectionrecord": PLANNERS,
}
