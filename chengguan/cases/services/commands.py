"""The case commands — every verb of the procedure that acts on one case — as one table: name →
the service call that runs it with the validated input (the API's command serializers shape
that input). The API's command endpoints and the web forms both go through `run`, so a verb is
wired to its service in one place. Verbs on a case's measure, court application or appeal take
that row from the input."""

from __future__ import annotations

from collections.abc import Callable

from ..models import Case
from . import execution, workflow


def _on_case(service: Callable) -> Callable:
    return lambda case, by, data: service(case, by=by, **data)


def _on_row(service: Callable, key: str) -> Callable:
    return lambda case, by, data: service(data.pop(key), by=by, **data)


COMMANDS: dict[str, Callable] = {
    **{name: _on_case(getattr(workflow, name)) for name in (
        "file", "assign_officers", "add_record", "add_measure", "add_emergency_measure", "report", "notify",
        "record_statement", "waive_statement", "request_hearing", "schedule_hearing", "hold_hearing", "legal_review",
        "transfer_review", "collective_discussion", "extend_deadline", "decide", "serve", "close", "withdraw",
        "transfer")},
    **{name: _on_case(getattr(execution, name)) for name in (
        "record_payment", "approve_payment_plan", "remind", "apply_to_court", "record_appeal")},
    "add_party": lambda case, by, data: workflow.add_party(case, by=by, values=data),
    "archive": lambda case, by, data: workflow.archive(case, by=by),
    "extend_measure": _on_row(workflow.extend_measure, "measure"),
    "end_measure": _on_row(workflow.end_measure, "measure"),
    "approve_measure": _on_row(workflow.approve_measure, "measure"),
    "record_enforcement": _on_row(execution.record_enforcement, "application"),
    "record_appeal_outcome": _on_row(execution.record_appeal_outcome, "appeal"),
}


def run(name: str, case: Case, *, by, data: dict):
    """Run command `name` on `case` for `by` with the validated `data` (not changed)."""
    return COMMANDS[name](case, by, dict(data))
