"""Every document kind (文书种类) in one place: its name, its number format and the context
keys its template needs. `render` and `issue` refuse a context that lacks a required key,
naming it, so a template never prints a blank where the law wants a fact.

Keys are dotted paths into the context dict (`party.name` is context["party"]["name"]).
Every context also gets `number` (the document number) and `date` (the document date) from
the service. Amounts are Decimal yuan (stored as strings in the snapshot); dates are
`datetime.date` or ISO strings; lists are lists of dicts or strings.

Optional keys the default templates print when present: party.kind ("person" or
"organisation"), party.id_type / id_number / credit_code / legal_representative / phone,
statement.summary (陈述申辩及采纳情况), hearing_right (事先告知书 adds the hearing paragraph),
payment.code (缴款编号), payment.collected_on_spot and refused_to_sign (当场处罚),
inspection.present, discussion.recorder, service.served_at / proxy / witness / note."""

from dataclasses import dataclass

from chengguan.core.errors import ValidationFailed


@dataclass(frozen=True)
class Kind:
    name: str
    number_prefix: str  # e.g. 闵城管罚决字 → 闵城管罚决字〔2026〕第00001号
    required: tuple[str, ...]

    @property
    def number_pattern(self) -> str:
        return f"{self.number_prefix}〔{{year}}〕第{{seq:05d}}号"


# Every decision that a party can challenge prints the remedies (domain §3: ARL arts. 20, 24;
# ALL art. 46), so it needs the reconsideration body.
REMEDY = ("agency.reconsideration_body",)
PARTY = ("party.name", "party.address")

KINDS: dict[str, Kind] = {
    "filing_approval": Kind("立案审批表", "闵城管立字", (
        "agency.name", "case.cause", "case.source", "case.found_on", *PARTY, "facts",
        "legal_basis.violation", "officers", "opinion")),
    "inspection_record": Kind("现场检查笔录", "闵城管检字", (
        "agency.name", "case.cause", "inspection.started_at", "inspection.ended_at", "inspection.place",
        *PARTY, "officers", "inspection.findings")),
    "inquiry_record": Kind("询问笔录", "闵城管询字", (
        "agency.name", "case.cause", "inquiry.started_at", "inquiry.ended_at", "inquiry.place",
        "inquiry.interviewee.name", "inquiry.interviewee.relation", "officers", "inquiry.qa")),
    "rectification_order": Kind("责令改正通知书", "闵城管责改字", (
        "agency.name", *PARTY, "facts", "legal_basis.violation", "legal_basis.order",
        "correction.requirement", "correction.deadline", *REMEDY)),
    # 《行政处罚法》第五十六条: decide within seven (working) days.
    "preservation_notice": Kind("先行登记保存通知书", "闵城管先保字", (
        "agency.name", *PARTY, "case.cause", "items", "preservation.place", "preservation.deadline")),
    # 《行政强制法》第二十四条: party, reasons, basis, duration, items, remedies, agency, seal, date.
    "seizure_decision": Kind("查封扣押决定书", "闵城管查扣字", (
        "agency.name", *PARTY, "facts", "legal_basis.seizure", "seizure.measure", "seizure.start",
        "seizure.end", "seizure.place", "items", *REMEDY)),
    "investigation_report": Kind("案件调查终结报告", "闵城管终字", (
        "agency.name", "case.number", "case.cause", *PARTY, "facts", "evidence", "legal_basis.violation",
        "legal_basis.penalty", "penalty.circumstances", "penalty.description", "penalty.fine", "officers")),
    # 《行政处罚法》第四十四条: intended penalty, facts, reasons, basis, rights.
    "penalty_notice": Kind("行政处罚事先告知书", "闵城管罚告字", (
        "agency.name", "agency.address", "agency.phone", *PARTY, "facts", "evidence",
        "legal_basis.violation", "legal_basis.penalty", "penalty.description", "penalty.fine",
        "statement.days")),
    # 《行政处罚法》第六十三条、第六十四条: the right to ask for a hearing within five (working) days.
    "hearing_rights_notice": Kind("听证告知书", "闵城管听告字", (
        "agency.name", "agency.address", "agency.phone", *PARTY, "facts", "legal_basis.penalty",
        "penalty.description", "penalty.fine")),
    "hearing_notice": Kind("听证通知书", "闵城管听通字", (
        "agency.name", *PARTY, "case.cause", "hearing.held_at", "hearing.place", "hearing.chair",
        "hearing.public")),
    "hearing_record": Kind("听证笔录", "闵城管听录字", (
        "agency.name", "case.cause", *PARTY, "hearing.held_at", "hearing.place", "hearing.chair",
        "hearing.clerk", "hearing.investigators", "hearing.proceedings")),
    "hearing_report": Kind("听证报告", "闵城管听报字", (
        "agency.name", "case.cause", *PARTY, "hearing.held_at", "hearing.chair", "hearing.summary",
        "hearing.opinion")),
    # 《行政处罚法》第五十八条.
    "legal_review_opinion": Kind("法制审核意见书", "闵城管法审字", (
        "agency.name", "case.number", "case.cause", *PARTY, "review.reviewer", "review.findings",
        "review.conclusion")),
    # 《行政处罚法》第五十七条第二款.
    "collective_discussion": Kind("集体讨论记录", "闵城管集议字", (
        "agency.name", "case.number", "case.cause", *PARTY, "discussion.held_at", "discussion.place",
        "discussion.chair", "discussion.attendees", "discussion.opinions", "discussion.conclusion")),
    # 《行政处罚法》第五十九条 (contents), 第六十七条 (15 days to pay), 第七十二条 (3 % a day).
    "penalty_decision": Kind("行政处罚决定书", "闵城管罚决字", (
        "agency.name", *PARTY, "facts", "evidence", "legal_basis.violation", "legal_basis.penalty",
        "penalty.description", "penalty.fine", "payment.bank", *REMEDY)),
    "no_penalty_decision": Kind("不予行政处罚决定书", "闵城管不罚字", (
        "agency.name", *PARTY, "facts", "evidence", "no_penalty.reason", "legal_basis.exemption", *REMEDY)),
    "service_receipt": Kind("送达回证", "闵城管送字", (
        "agency.name", "served_document.title", "served_document.number", "party.name", "service.place",
        "service.method", "officers")),
    # 《行政强制法》第三十五条: period, manner, amount, right to state and defend.
    "payment_reminder": Kind("催告书", "闵城管催字", (
        "agency.name", "agency.address", "agency.phone", *PARTY, "decision.number", "decision.date",
        "decision.served_on", "penalty.fine", "reminder.surcharge", "reminder.deadline")),
    # 《行政强制法》第五十三条至第五十五条.
    "enforcement_application": Kind("强制执行申请书", "闵城管执申字", (
        "agency.name", "agency.address", "agency.representative", "court.name", *PARTY,
        "decision.number", "decision.date", "decision.served_on", "penalty.description", "penalty.fine",
        "reminder.number", "reminder.served_on", "enforcement.amount", "enforcement.reason")),
    "closure_approval": Kind("结案审批表", "闵城管结字", (
        "agency.name", "case.number", "case.cause", *PARTY, "decision.number", "penalty.description",
        "closure.execution", "closure.reason", "officers")),
    # 《行政处罚法》第五十二条: act, penalty and basis, amount, time, place, remedies, agency,
    # officers' signatures; reconsideration first (《行政复议法》第二十三条).
    "simple_penalty_decision": Kind("当场处罚决定书", "闵城管当罚字", (
        "agency.name", *PARTY, "facts", "occurred_at", "place", "legal_basis.violation",
        "legal_basis.penalty", "penalty.description", "penalty.fine", "payment.bank", "officers", *REMEDY)),
    "file_index": Kind("卷宗目录", "闵城管卷字", (
        "agency.name", "case.number", "case.cause", "party.name", "file.entries")),
}

# What each key means, for the refusal message and for template authors.
KEY_LABELS: dict[str, str] = {
    "agency.name": "执法机关名称",
    "agency.address": "执法机关地址",
    "agency.phone": "执法机关联系电话",
    "agency.representative": "执法机关负责人",
    "agency.reconsideration_body": "行政复议机关",
    "case.number": "案件编号",
    "case.cause": "案由",
    "case.source": "案件来源",
    "case.found_on": "发现日期",
    "party.name": "当事人名称或姓名",
    "party.address": "当事人地址",
    "facts": "违法事实",
    "evidence": "证据",
    "opinion": "承办人意见",
    "officers": "执法人员",
    "legal_basis.violation": "违法依据",
    "legal_basis.penalty": "处罚依据",
    "legal_basis.order": "责令改正依据",
    "legal_basis.seizure": "查封扣押依据",
    "legal_basis.exemption": "不予处罚依据",
    "inspection.started_at": "检查开始时间",
    "inspection.ended_at": "检查结束时间",
    "inspection.place": "检查地点",
    "inspection.findings": "检查情况",
    "inquiry.started_at": "询问开始时间",
    "inquiry.ended_at": "询问结束时间",
    "inquiry.place": "询问地点",
    "inquiry.interviewee.name": "被询问人姓名",
    "inquiry.interviewee.relation": "被询问人与案件关系",
    "inquiry.qa": "询问内容",
    "correction.requirement": "改正要求",
    "correction.deadline": "改正期限",
    "items": "物品清单",
    "preservation.place": "保存地点",
    "preservation.deadline": "处理决定期限",
    "seizure.measure": "强制措施种类",
    "seizure.start": "查封扣押起始日期",
    "seizure.end": "查封扣押截止日期",
    "seizure.place": "查封扣押地点",
    "penalty.circumstances": "裁量情节",
    "penalty.description": "处罚内容",
    "penalty.fine": "罚款金额",
    "statement.days": "陈述申辩期限（工作日）",
    "hearing.held_at": "听证时间",
    "hearing.place": "听证地点",
    "hearing.chair": "听证主持人",
    "hearing.clerk": "听证记录员",
    "hearing.public": "是否公开举行",
    "hearing.investigators": "案件调查人员",
    "hearing.proceedings": "听证过程",
    "hearing.summary": "听证情况",
    "hearing.opinion": "听证主持人意见",
    "review.reviewer": "法制审核人员",
    "review.findings": "审核意见",
    "review.conclusion": "审核结论",
    "discussion.held_at": "讨论时间",
    "discussion.place": "讨论地点",
    "discussion.chair": "主持人",
    "discussion.attendees": "出席人员",
    "discussion.opinions": "讨论意见",
    "discussion.conclusion": "讨论结论",
    "payment.bank": "缴款银行",
    "no_penalty.reason": "不予处罚理由",
    "served_document.title": "送达文书名称",
    "served_document.number": "送达文书编号",
    "service.place": "送达地点",
    "service.method": "送达方式",
    "decision.number": "处罚决定书编号",
    "decision.date": "处罚决定日期",
    "decision.served_on": "处罚决定送达日期",
    "reminder.surcharge": "加处罚款金额",
    "reminder.deadline": "催告履行期限",
    "reminder.number": "催告书编号",
    "reminder.served_on": "催告书送达日期",
    "court.name": "受理法院",
    "enforcement.amount": "申请执行金额",
    "enforcement.reason": "申请执行理由",
    "closure.execution": "执行情况",
    "closure.reason": "结案理由",
    "occurred_at": "违法行为时间",
    "place": "违法行为地点",
    "file.entries": "卷内文件",
}


def kind_spec(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValidationFailed(f"未知的文书种类“{kind}”。", field="kind", code="unknown_document_kind") from None


def number_kind(kind: str) -> str:
    """The numbering kind (chengguan.core.numbering) of a document kind."""
    return f"doc_{kind}"


KIND_CHOICES = [(code, spec.name) for code, spec in KINDS.items()]
