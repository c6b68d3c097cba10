"""Who may do what with work orders (see core/permissions.py). The command centre
(指挥调度) takes orders in, classifies, places, dispatches and merges them; squads handle and
reply; the command centre and supervisors verify and close; leaders and the command centre
approve extensions and suspensions; supervisors and leaders order supervised handling (督办)."""

from chengguan.core.choices import RoleCode as R
from chengguan.core.permissions import EVERYONE

CENTRE = {R.DISPATCHER, R.ADMIN}

ROLE_PERMISSIONS = {
    "workorders.view_workorder": EVERYONE,
    "workorders.add_workorder": {R.OFFICER, R.SQUAD_LEADER, R.DISPATCHER, R.ADMIN},
    "workorders.intake_workorder": CENTRE,
    "workorders.dispatch_workorder": {R.DISPATCHER, R.SQUAD_LEADER, R.ADMIN},
    "workorders.handle_workorder": {R.OFFICER, R.SQUAD_LEADER},
    "workorders.verify_workorder": {R.DISPATCHER, R.SUPERVISOR},
    "workorders.approve_workorder": {R.DISPATCHER, R.LEADER},
    "workorders.supervise_workorder": {R.SUPERVISOR, R.LEADER},
    "workorders.view_workorder_contact": {R.DISPATCHER, R.SQUAD_LEADER, R.OFFICER},
    "workorders.export_workorder": {R.DISPATCHER, R.SQUAD_LEADER, R.SUPERVISOR, R.LEADER, R.ADMIN},
    "workorders.view_category": EVERYONE,
    "workorders.add_category": {R.ADMIN},
    "workorders.change_category": {R.ADMIN},
    "workorders.view_timelimitrule": EVERYONE,
    "workorders.change_timelimitrule": {R.ADMIN},
    "workorders.add_timelimitrule": {R.ADMIN},
    "workorders.view_addressentry": EVERYONE,
    "workorders.add_addressentry": {R.ADMIN, R.DISPATCHER},
    "workorders.view_intakeclient": {R.ADMIN},
    "workorders.add_intakeclient": {R.ADMIN},
    "workorders.change_intakeclient": {R.ADMIN},
    "workorders.view_classifiermodel": {R.ADMIN, R.DISPATCHER},
    "workorders.train_classifiermodel": {R.ADMIN},
    "workorders.view_stats": {R.DISPATCHER, R.SQUAD_LEADER, R.SUPERVISOR, R.LEADER, R.ADMIN},
}
