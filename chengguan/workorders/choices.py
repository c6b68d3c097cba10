from django.db import models


class Channel(models.TextChoices):
    """Where an order came from (issue: intake channels)."""

    HOTLINE_12345 = "12345", "12345 市民热线"
    HOTLINE_12319 = "12319", "12319 城建热线"
    HOTLINE_962000 = "962000", "962000 热线"
    PATROL = "patrol", "网格/巡查发现"
    WORKSTATION = "workstation", "社区工作室"
    SUGGESTION = "suggestion", "人民建议"
    LEADERSHIP = "leadership", "领导交办"
    MEDIA = "media", "媒体曝光"
    CAMERA = "camera", "非现场告警"
    TRANSFER = "transfer", "部门移送"
    PUBLIC_WEB = "public", "市民网上反映"
    OPEN311 = "open311", "Open311 接口"


class Status(models.TextChoices):
    RECEIVED = "received", "待签收"
    ACCEPTED = "accepted", "待派遣"
    DISPATCHED = "dispatched", "已派遣"
    HANDLING = "handling", "处置中"
    REPLIED = "replied", "待核查"
    VERIFIED = "verified", "待结案"
    CLOSED = "closed", "已结案"
    RETURNED = "returned", "已退单"
    SUSPENDED = "suspended", "已挂起"
    MERGED = "merged", "已并单"
    REJECTED = "rejected", "非本部门职责"


OPEN_STATUSES = frozenset({Status.RECEIVED, Status.ACCEPTED, Status.DISPATCHED, Status.HANDLING, Status.REPLIED,
                           Status.VERIFIED, Status.RETURNED, Status.SUSPENDED})


class LocatedBy(models.TextChoices):
    COORDINATES = "coordinates", "上报坐标"
    ADDRESS = "address", "地址匹配"
    DISPATCHER = "dispatcher", "调度员指定"
    NONE = "", "未定位"


class ClassifiedBy(models.TextChoices):
    MODEL = "model", "自动分类"
    PERSON = "person", "人工分类"
    NONE = "", "未分类"


class Result(models.TextChoices):
    RESOLVED = "resolved", "已解决"
    UNRESOLVED = "unresolved", "无法解决"
    NOT_OUR_REMIT = "not_our_remit", "非本部门职责"
    CONVERTED = "converted", "已转立案"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class LimitKind(models.TextChoices):
    WORKING_HOURS = "working_hours", "工作时"
    WORKING_DAYS = "working_days", "工作日"


class Stage(models.TextChoices):
    """The clocks an order runs against."""

    ACCEPT = "accept", "签收"
    DISPATCH = "dispatch", "派遣"
    REPLY = "reply", "处置反馈"
    VERIFY = "verify", "核查"


class RequestKind(models.TextChoices):
    EXTENSION = "extension", "延期"
    SUSPENSION = "suspension", "挂起"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class RepeatStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    MERGED = "merged", "已并单"
    DISMISSED = "dismissed", "非重复"
