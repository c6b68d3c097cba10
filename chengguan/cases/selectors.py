"""Read-only queries of the case screens: the scoped list with keyset pages, the case page,
the approval queues and the deadline board. Every query starts from
`Case.objects.restrict(user, "view")`; lists filter and sort on the indexed columns (squad,
status, next_deadline, id — see Case.Meta.indexes) and never count the whole table: a page
or a section takes one row more than it shows to know whether there is more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, prefetch_related_objects
from django.db.models.functions import TruncDate
from django.utils import timezone

from chengguan.core.calendar import add_working_days, deadline_rule
from chengguan.core.choices import RoleCode
from chengguan.core.fields import mask_name
from chengguan.core.models import OrgUnit, User
from chengguan.core.selectors import squads_in_scope as _squads_in_scope
from chengguan.documents.services import documents_of
from chengguan.regulations.choices import PartyKind

from .choices import (
    AppealOutcome,
    CourtResult,
    MeasureApproval,
    MeasureKind,
    ReviewPurpose,
    ReviewResult,
    Status,
)
from .models import (
    NO_DEADLINE,
    Case,
    CaseOfficer,
    CaseParty,
    CaseRecord,
    CaseStep,
    CollectiveDiscussion,
    LegalReview,
    Measure,
    Review,
)
from .services import clock, paperwork, parties, rules, workflow

S = Status
PAGE_SIZE = 50
SECTION_SIZE = 50
BOARD_SIZE = 50
# "Due soon" on the list, the board and the case page: within this many working days.
# The decision-period queue shows cases whose 90 days (APL art. 60) end within this many days.
EXTENSION_NOTICE_DAYS = 15
BEFORE_DECISION = sorted(workflow.BEFORE_DECISION)
LIST_COLUMNS = ("id", "number", "procedure", "status", "source_kind", "address", "act_date", "created_at",
                "next_deadline", "next_deadline_name", "decided_fine", "filed_at", "squad__name", "matter__code", "matter__name")


def today() -> dt.date:
    return clock.today()


def soon_limit(on: dt.date) -> dt.date:
    return add_working_days(on, settings.CASE_DUE_SOON_WORKING_DAYS)


def tone(due: dt.date | None, on: dt.date, soon: dt.date) -> str:
    """Bootstrap colour of a deadline: overdue "danger", due soon "warning", else "success"."""
    if due is None or due == NO_DEADLINE:
        return ""
    if due < on:
        return "danger"
    if due <= soon:
        return "warning"
    return "success"


def squads_in_scope(user):
    return _squads_in_scope(user).filter(is_active=True).defer("jurisdiction")


def squad_of(user) -> OrgUnit | None:
    return user.org_unit.squad() if user.org_unit_id else None


def _party_names(user):
    """Parties of list rows: names only, no encrypted columns decrypted."""
    return Prefetch("case_parties", queryset=CaseParty.objects.select_related("party")
                    .only("id", "case_id", "party__id", "party__kind", "party__name"))


def decorate(cases, user, on: dt.date | None = None) -> list[Case]:
    """Attach `tone` and `party_names` (masked as the user may see them) to list rows."""
    on = on or today()
    soon = soon_limit(on)
    whole = parties.may_see_identity(user)
    rows = list(cases)
    for case in rows:
        case.tone = tone(case.next_deadline, on, soon) if case.is_open else ""
        case.party_names = [link.party.name if whole or link.party.kind != PartyKind.PERSON
                            else mask_name(link.party.name) for link in case.case_parties.all()]
    return rows


# --- the list -------------------------------------------------------------------------------

def case_list(user):
    return (Case.objects.restrict(user, "view").select_related("squad", "matter").only(*LIST_COLUMNS)
            .prefetch_related(_party_names(user)))


SEARCH_CAP = 1000


def party_search(user, text: str) -> Q:
    """Cases by number or party name. A person's name is searched only by those who may see
    it whole (cases.view_case_party); organisations' names are public registry data.

    A whole case number takes its unique index. Otherwise the few matching cases are found
    first (one narrow pass over the numbers and one over the parties) so that the page query
    stays on the primary key instead of filtering the whole deadline index; a text found in
    more than SEARCH_CAP cases is common enough for the deadline-ordered scan to fill a page
    at once. (A pg_trgm index on number and party name would make every search indexed.)"""
    scoped = Case.objects.restrict(user, "view")
    exact = list(scoped.filter(number=text).values_list("pk", flat=True)[:1])
    if exact:
        return Q(pk__in=exact)
    found = CaseParty.objects.filter(party__name__contains=text)
    if not parties.may_see_identity(user):
        found = found.filter(party__kind=PartyKind.ORGANISATION)
    by_number = list(scoped.exclude(number="").filter(number__contains=text)
                     .values_list("pk", flat=True)[:SEARCH_CAP + 1])
    by_party = list(found.values_list("case_id", flat=True)[:SEARCH_CAP + 1])
    if len(by_number) > SEARCH_CAP or len(by_party) > SEARCH_CAP:
        return Q(number__contains=text) | Q(pk__in=found.values("case_id"))
    return Q(pk__in={*by_number, *by_party})


@dataclass
class KeysetPage:
    """One page of a list sorted by (next_deadline, id): cursors instead of page numbers, so
    page 1,000 costs what page 1 costs and nothing counts the filtered set."""

    rows: list
    next_cursor: str | None = None
    prev_cursor: str | None = None
    is_first: bool = True


def cursor_of(case: Case) -> str:
    return f"{case.next_deadline.isoformat()}_{case.pk}"


def parse_cursor(text: str | None) -> tuple[dt.date, int] | None:
    if not text:
        return None
    day, _, pk = text.partition("_")
    try:
        return dt.date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def keyset_page(queryset, *, after: str | None = None, before: str | None = None,
                size: int = PAGE_SIZE) -> KeysetPage:
    # `next_deadline >= d` first: it bounds the index range; the OR only trims the ties.
    back = parse_cursor(before)
    if back is not None:
        day, pk = back
        rows = list(queryset.filter(next_deadline__lte=day).filter(Q(next_deadline__lt=day) | Q(pk__lt=pk))
                    .order_by("-next_deadline", "-pk")[:size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(rows, next_cursor=cursor_of(rows[-1]) if rows else None,
                          prev_cursor=cursor_of(rows[0]) if rows and more_before else None,
                          is_first=not more_before)
    start = parse_cursor(after)
    if start is not None:
        day, pk = start
        queryset = queryset.filter(next_deadline__gte=day).filter(Q(next_deadline__gt=day) | Q(pk__gt=pk))
    rows = list(queryset.order_by("next_deadline", "pk")[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, next_cursor=cursor_of(rows[-1]) if rows and more else None,
                      prev_cursor=cursor_of(rows[0]) if rows and start is not None else None,
                      is_first=start is None)


# --- the case page ------------------------------------------------------------------------------

def case_for_page(user, pk: int) -> Case | None:
    return (Case.objects.restrict(user, "view")
            .select_related("squad", "grid", "matter", "tier", "benchmark", "exemption", "created_by", "filed_by",
                            "decided_by", "closed_by", "archived_by", "hearing_chair")
            .defer("squad__jurisdiction", "grid__boundary")
            .prefetch_related(
                Prefetch("steps", queryset=CaseStep.objects.select_related("actor")),
                Prefetch("case_officers", queryset=CaseOfficer.objects.select_related("officer")),
                Prefetch("case_parties", queryset=CaseParty.objects.select_related("party")),
                Prefetch("records", queryset=CaseRecord.objects.select_related("recorded_by")
                         .prefetch_related("evidence")),
                Prefetch("legal_reviews", queryset=LegalReview.objects.select_related("reviewer")),
                "measures", "extensions", "payments", "reminders", "court_applications", "appeals", "evidence",
                "discussions")
            .filter(pk=pk).first())


@dataclass(frozen=True)
class ShownDeadline:
    name: str
    basis: str
    due: dt.date
    overdue: bool
    tone: str


def open_deadlines(case: Case, on: dt.date | None = None) -> list[ShownDeadline]:
    """Every open deadline of the case (rules.deadlines) with its colour."""
    on = on or today()
    soon = soon_limit(on)
    return [ShownDeadline(d.name, d.basis, d.due, d.overdue, tone(d.due, on, soon))
            for d in rules.deadlines(case, on)]


def shown_parties(case: Case, user) -> list[dict]:
    return [parties.shown(link.party, user) for link in case.case_parties.all()]


def step_label(action: str) -> str:
    try:
        return workflow.label(action)
    except KeyError:
        return action


def documents(case: Case) -> list:
    """Every document issued for the case or one of its rows (records, measures, reviews…), in
    the order of the bound file, voided ones included, then the 卷宗目录 once archived."""
    found = paperwork.case_documents(case, live=False) + list(documents_of(case).filter(kind="file_index"))
    prefetch_related_objects(found, "issued_by", "docx", "pdf")
    return found


def case_file(case: Case):
    """The bound case-file PDF (卷宗) of an archived case."""
    return paperwork.case_file(case) if case.status == Status.ARCHIVED else None


def open_measures(case: Case, kinds=None):
    measures = case.measures.filter(ended_on__isnull=True).order_by("due_on", "pk")
    return measures.filter(kind__in=kinds) if kinds else measures


def seizures(case: Case):
    """Seizures that may still be extended (ACL art. 25): sealed or seized, not yet extended."""
    return open_measures(case, [MeasureKind.SEAL, MeasureKind.SEIZE]).filter(extended=False)


def measures_awaiting_approval(case: Case):
    """Emergency measures waiting for the squad leader's approval (ACL art. 19)."""
    return case.measures.filter(approval=MeasureApproval.PENDING).order_by("started_at", "pk")


def pending_applications(case: Case):
    return case.court_applications.filter(result=CourtResult.PENDING)


def pending_appeals(case: Case):
    return case.appeals.filter(outcome=AppealOutcome.PENDING)


def squad_members(squad):
    """Officers and squad leaders of the squad, who may be named on its cases."""
    from chengguan.workorders.selectors import squad_members as members

    return members(squad)


def staff_in_scope(user, roles) -> list[User]:
    units = OrgUnit.objects.restrict(user).values("pk")
    return list(User.objects.filter(is_active=True, org_unit__in=units, roles__code__in=roles).distinct()
                .select_related("org_unit").defer("org_unit__jurisdiction").order_by("org_unit__path", "real_name"))


def hearing_chairs(case: Case, user) -> list[User]:
    """Who may chair the hearing: staff in scope who are not the case's officers (APL art. 64(4))."""
    officers = {link.officer_id for link in case.case_officers.all()}
    people = staff_in_scope(user, [RoleCode.LEGAL_REVIEWER, RoleCode.CASE_REVIEW, RoleCode.SQUAD_LEADER,
                                   RoleCode.LEADER])
    return [p for p in people if p.pk not in officers]


def discussion_members(user) -> list[User]:
    return staff_in_scope(user, [RoleCode.LEADER, RoleCode.LEGAL_REVIEWER, RoleCode.CASE_REVIEW])


# --- approval queues ----------------------------------------------------------------------------

@dataclass
class Section:
    key: str
    title: str
    hint: str
    verb: str  # the action the queue leads to (the case page opens its form)
    icon: str
    rows: list = field(default_factory=list)
    more: bool = False


def _take(queryset, size=SECTION_SIZE) -> tuple[list, bool]:
    rows = list(queryset[:size + 1])
    return rows[:size], len(rows) > size


def statement_closed_q(on: dt.date) -> Q:
    """Cases whose statement and hearing rights are spent (SQL form of rules.statement_closed)."""
    periods_over = (Q(notice_served_on__isnull=False, hearing_requested_on__isnull=True, statement_due__lt=on)
                    & (Q(hearing_eligible=False) | Q(hearing_request_due__lt=on)))
    return Q(statement_waived=True) | Q(hearing_held_on__isnull=False) | periods_over


def ready_for_decision_q(on: dt.date) -> Q:
    return Q(status=S.DELIBERATION) | (Q(status=S.NOTIFIED) & statement_closed_q(on))


def needs_legal_review_q() -> Q:
    """SQL form of rules.legal_review_reasons without a passed review of the current report."""
    passed = LegalReview.objects.filter(case=OuterRef("pk"), purpose=ReviewPurpose.DECISION, result=ReviewResult.PASSED,
                                        reviewed_at__gte=OuterRef("reported_at"))
    reasons = Q() if settings.CASE_LEGAL_REVIEW_ALL else (
        Q(hearing_eligible=True) | Q(outside_benchmark=True) | Q(mitigated=True) | Q(complex_case=True))
    return reasons & ~Exists(passed)


def needs_discussion_q() -> Q:
    """SQL form of rules.discussion_required without rules.discussion_held (on a queryset
    annotated with `reported_on`, see `_queue_cases`)."""
    held = CollectiveDiscussion.objects.filter(case=OuterRef("pk"), held_on__gte=OuterRef("reported_on"))
    return (Q(complex_case=True) | Q(hearing_eligible=True)) & ~Exists(held)


def _queue_cases(user):
    # rules.discussion_held compares with reported_at.date() of the stored (UTC) time
    return (case_list(user).annotate(reported_on=TruncDate("reported_at", tzinfo=dt.UTC))
            .order_by("next_deadline", "pk"))


def queues(user) -> list[Section]:
    """What waits for the user's role, one section per step the role may take."""
    on = today()
    cases = _queue_cases(user)
    sections = []

    def add(key, title, hint, verb, icon, queryset):
        rows, more = _take(queryset)
        sections.append(Section(key, title, hint, verb, icon, decorate(rows, user, on), more))

    if user.has_perm("cases.approve_case"):
        add("file", "待立案审批", "线索待审批立案：确定执法事项、当事人和两名以上持证承办人员（《行政处罚法》第四十二条）。",
            "file", "folder-plus", cases.filter(status=S.LEAD))
        add("close", "待结案审批", "已执行完毕（缴清罚款、强制执行完毕或不予处罚已送达）的案件。", "close", "check2-square",
            cases.filter(status=S.EXECUTED))
    if user.has_perm("cases.review_case"):
        add("legal_review", "待法制审核", "陈述申辩（听证）期限已过或当事人已放弃，须经法制审核才能决定的案件（《行政处罚法》第五十八条）。",
            "legal_review", "shield-check", cases.filter(ready_for_decision_q(on) & needs_legal_review_q()))
    if user.has_perm("cases.decide_case"):
        add("collective_discussion", "待集体讨论", "情节复杂或重大违法、经听证程序的案件，由负责人集体讨论决定（《行政处罚法》第五十七条第二款）。",
            "collective_discussion", "people", cases.filter(ready_for_decision_q(on) & needs_discussion_q()))
        ready = (ready_for_decision_q(on) & ~needs_legal_review_q() & ~needs_discussion_q()) \
            | Q(status=S.REPORTED, penalty_kinds=[])
        add("decide", "待作出决定", "法制审核、集体讨论等前置程序已完成的案件；拟不予处罚的可直接决定。", "decide", "hammer",
            cases.filter(ready))
        sections.append(_extension_section(user, on))
    if user.has_perm("cases.approve_case"):
        sections.append(_emergency_measure_section(user, on))
        sections.append(_measure_section(user, on))
    if user.has_perm("cases.archive_case"):
        add("archive", "待归档", "已结案、卷宗待归档的案件。", "archive", "archive", cases.filter(status=S.CLOSED))
    if user.has_perm("cases.record_appeal_case"):
        sections.append(_appeal_section(user, on))
    return sections


def _extension_section(user, on: dt.date) -> Section:
    """Cases whose decision period (90 days from filing plus extensions, APL art. 60) ends
    within EXTENSION_NOTICE_DAYS: the leader may approve an extension before it runs out."""
    first_possible = clock.now() - dt.timedelta(days=deadline_rule("apl_decision").amount - EXTENSION_NOTICE_DAYS)
    candidates = (_queue_cases(user).filter(status__in=BEFORE_DECISION, filed_at__lte=first_possible)
                  .order_by("filed_at", "pk")[:SECTION_SIZE * 4])
    rows = []
    for case in candidates:
        due = rules.decision_due(case)
        if due is not None and on <= due <= on + dt.timedelta(days=EXTENSION_NOTICE_DAYS):
            case.decision_due = due
            rows.append(case)
    rows.sort(key=lambda c: (c.decision_due, c.pk))
    return Section("extend_deadline", "办案期限临近（可批准延长）",
                   f"办案期限（自立案之日起 {deadline_rule('apl_decision').amount} 日，含已批准的延长）将在 "
                   f"{EXTENSION_NOTICE_DAYS} 日内届满、尚未作出决定的案件（《行政处罚法》第六十条）。", "extend_deadline", "hourglass-split",
                   decorate(rows[:SECTION_SIZE], user, on), len(rows) > SECTION_SIZE)


def _measure_section(user, on: dt.date) -> Section:
    measures = (Measure.objects.filter(case__in=Case.objects.restrict(user, "view").values("pk"),
                                       ended_on__isnull=True)
                .select_related("case", "case__squad").defer("case__squad__jurisdiction").order_by("due_on", "pk"))
    rows, more = _take(measures)
    soon = soon_limit(on)
    for measure in rows:
        measure.tone = tone(measure.due_on, on, soon)
    return Section("measures", "强制措施待处理", "先行登记保存应在七日内作出处理决定；查封、扣押期限不超过三十日，"
                   "情况复杂的经批准可延长一次（《行政处罚法》第五十六条，《行政强制法》第二十五条）。",
                   "end_measure", "lock", rows, more)


def _emergency_measure_section(user, on: dt.date) -> Section:
    measures = (Measure.objects.filter(case__in=Case.objects.restrict(user, "view").values("pk"),
                                       approval=MeasureApproval.PENDING)
                .select_related("case", "case__squad").defer("case__squad__jurisdiction").order_by("started_at", "pk"))
    rows, more = _take(measures)
    soon = soon_limit(on)
    for measure in rows:
        measure.approval_due = timezone.localtime(measure.approval_due_at)
        measure.tone = tone(measure.approval_due.date(), on, soon)
    return Section("emergency_measures", "紧急强制措施待补办批准", "紧急情况下当场实施的查封、扣押，应当在二十四小时内报告"
                   "并补办批准手续；不予批准的，立即解除（《行政强制法》第十九条）。", "approve_measure", "exclamation-octagon",
                   rows, more)


def _appeal_section(user, on: dt.date) -> Section:
    appeals = (Review.objects.filter(case__in=Case.objects.restrict(user, "view").values("pk"),
                                     outcome=AppealOutcome.PENDING)
               .select_related("case", "case__squad").defer("case__squad__jurisdiction").order_by("started_on", "pk"))
    rows, more = _take(appeals)
    return Section("appeals", "复议/诉讼待登记结果", "审理中的行政复议、行政诉讼；结果出来后登记。", "record_appeal_outcome",
                   "bank", rows, more)


QUEUE_PERMS = ("cases.approve_case", "cases.review_case", "cases.decide_case", "cases.archive_case",
               "cases.record_appeal_case")


def has_queues(user) -> bool:
    return any(user.has_perm(p) for p in QUEUE_PERMS)


# --- deadline board -----------------------------------------------------------------------------

@dataclass
class Group:
    key: str
    title: str
    tone: str
    rows: list
    more: bool


def deadline_board(user, squad_id: int | None = None) -> list[Group]:
    """Open cases by their nearest deadline: overdue, today, the rest of this week, later."""
    on = today()
    week_end = on + dt.timedelta(days=6 - on.weekday())
    cases = case_list(user).filter(next_deadline__lt=NO_DEADLINE)
    if squad_id is not None:
        cases = cases.filter(squad_id=squad_id)
    spans = [
        ("overdue", "已超期", "danger", Q(next_deadline__lt=on)),
        ("today", "今日到期", "warning", Q(next_deadline=on)),
        ("week", "本周到期", "warning", Q(next_deadline__gt=on, next_deadline__lte=week_end)),
        ("later", "以后到期", "success", Q(next_deadline__gt=week_end)),
    ]
    groups = []
    for key, title, colour, span in spans:
        rows, more = _take(cases.filter(span).order_by("next_deadline", "pk"), BOARD_SIZE)
        rows = decorate(rows, user, on)
        for case in rows:
            case.days_left = (case.next_deadline - on).days
        groups.append(Group(key, title, colour, rows, more))
    return groups
