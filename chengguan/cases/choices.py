from django.db import models

from chengguan.regulations.choices import PartyKind, PenaltyKind  # noqa: F401 - shared vocabulary


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", "居民身份证"
    PASSPORT = "passport", "护照"
    HK_MACAO = "hk_macao", "港澳居民来往内地通行证"
    TAIWAN = "taiwan", "台湾居民来往大陆通行证"
    FOREIGN_RESIDENT = "foreign_resident", "外国人永久居留身份证"
    OTHER = "other", "其他证件"


class Procedure(models.TextChoices):
    SIMPLE = "simple", "简易程序"
    ORDINARY = "ordinary", "普通程序"


class Status(models.TextChoices):
    LEAD = "lead", "待立案"
    INVESTIGATING = "investigating", "调查取证"
    REPORTED = "reported", "调查终结"
    NOTIFIED = "notified", "已告知（陈述申辩期）"
    HEARING = "hearing", "听证"
    DELIBERATION = "deliberation", "审核决定"
    DECIDED = "decided", "已决定（待送达）"
    EXECUTING = "executing", "执行中"
    EXECUTED = "executed", "执行完毕（待结案）"
    CLOSED = "closed", "已结案"
    ARCHIVED = "archived", "已归档"


OPEN_STATUSES = frozenset(set(Status) - {Status.CLOSED, Status.ARCHIVED})


class SourceKind(models.TextChoices):
    WORK_ORDER = "work_order", "工单（诉转案）"
    INSPECTION = "inspection", "执法检查"
    CAMERA = "camera", "非现场监控"
    PATROL = "patrol", "巡查发现"
    TRANSFER_IN = "transfer_in", "部门移送"


class OfficerRole(models.TextChoices):
    LEAD = "lead", "主办"
    ASSIST = "assist", "协办"


class RecordKind(models.TextChoices):
    ON_SITE = "on_site", "现场检查笔录"
    INQUIRY = "inquiry", "询问笔录"
    CORRECTION_ORDER = "correction_order", "责令改正通知"
    EDUCATION = "education", "教育记录"
    SAMPLING = "sampling", "抽样取证记录"
    OTHER = "other", "其他记录"


class MeasureKind(models.TextChoices):
    PRESERVATION = "preservation", "先行登记保存"
    SEAL = "seal", "查封"
    SEIZE = "seize", "扣押"


class MeasureOutcome(models.TextChoices):
    RELEASED = "released", "解除"
    CONFISCATED = "confiscated", "没收"
    DESTROYED = "destroyed", "依法销毁"
    TRANSFERRED = "transferred", "移送有关部门"
    RETURNED = "returned", "退还"


class DecisionOutcome(models.TextChoices):
    PENALTY = "penalty", "给予行政处罚"
    NO_PENALTY = "no_penalty", "不予行政处罚"


class NoPenaltyGround(models.TextChoices):
    """《行政处罚法》第三十三条、第五十七条第一款第（二）（三）项."""

    MINOR = "minor", "违法行为轻微并及时改正，没有造成危害后果"
    FIRST_VIOLATION = "first_violation", "初次违法且危害后果轻微并及时改正"
    NO_FAULT = "no_fault", "当事人有证据足以证明没有主观过错"
    NOT_ESTABLISHED = "not_established", "违法事实不能成立"


EXEMPTION_GROUNDS = frozenset({NoPenaltyGround.MINOR, NoPenaltyGround.FIRST_VIOLATION, NoPenaltyGround.NO_FAULT})


class ServiceMethod(models.TextChoices):
    ON_THE_SPOT = "on_the_spot", "当场交付"
    DIRECT = "direct", "直接送达（签收）"
    LEFT = "left", "留置送达"
    MAIL = "mail", "邮寄送达"
    ELECTRONIC = "electronic", "电子送达"
    ANNOUNCEMENT = "announcement", "公告送达"


class Ending(models.TextChoices):
    PAID = "paid", "缴纳罚款"
    ENFORCED = "enforced", "强制执行完毕"
    PERFORMED = "performed", "履行完毕（警告等）"
    NO_PENALTY = "no_penalty", "不予行政处罚"
    WITHDRAWN = "withdrawn", "撤案"
    TRANSFERRED = "transferred", "移送"
    REVOKED = "revoked", "决定被撤销"
    UNENFORCEABLE = "unenforceable", "终结执行"


class TransferKind(models.TextChoices):
    PUBLIC_SECURITY = "public_security", "移送公安机关"
    JUDICIAL = "judicial", "移送司法机关"
    OTHER_AGENCY = "other_agency", "移送其他行政机关"


class ReviewResult(models.TextChoices):
    PASSED = "passed", "通过"
    RETURNED = "returned", "退回"


class ReviewPurpose(models.TextChoices):
    """What a 法制审核 is about (《上海市城市管理综合行政执法重大执法决定法制审核办法》第三条)."""

    DECISION = "decision", "处罚决定"
    TRANSFER = "transfer", "移送涉嫌犯罪案件"


class MeasureApproval(models.TextChoices):
    """Approval of a compulsory measure: beforehand (ACL art. 18), or afterwards for one taken
    on the spot in an emergency (art. 19)."""

    APPROVED = "approved", "已批准"
    PENDING = "pending", "待补办批准"
    DISAPPROVED = "disapproved", "不予批准"


class PaymentMethod(models.TextChoices):
    BANK = "bank", "银行缴纳"
    ELECTRONIC = "electronic", "电子支付"
    ON_THE_SPOT = "on_the_spot", "当场收缴"
    ENFORCED = "enforced", "强制执行划拨"


class PlanKind(models.TextChoices):
    DEFERRAL = "deferral", "暂缓缴纳"
    INSTALMENTS = "instalments", "分期缴纳"


class CourtResult(models.TextChoices):
    PENDING = "pending", "审查中"
    ENFORCED = "enforced", "执行完毕"
    REFUSED = "refused", "裁定不予执行"
    TERMINATED = "terminated", "终结执行"


class AppealKind(models.TextChoices):
    RECONSIDERATION = "reconsideration", "行政复议"
    LITIGATION = "litigation", "行政诉讼"


class AppealOutcome(models.TextChoices):
    PENDING = "pending", "审理中"
    UPHELD = "upheld", "维持"
    REVOKED = "revoked", "撤销"
    CHANGED = "changed", "变更"
    CONFIRMED_ILLEGAL = "confirmed_illegal", "确认违法"
    DISMISSED = "dismissed", "驳回"
    WITHDRAWN = "withdrawn", "撤回申请/起诉"
    VOID = "void", "确认无效"
