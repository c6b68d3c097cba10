from django.db import models


class CreditGrade(models.TextChoices):
    """SAMR-style credit-risk classes (domain §9): A low … D high risk."""

    A = "A", "A（低风险）"
    B = "B", "B（一般风险）"
    C = "C", "C（较高风险）"
    D = "D", "D（高风险）"


class Tier(models.IntegerChoices):
    """分级分类 tier: 1 gets the most frequent inspections, 4 the least."""

    ONE = 1, "一级（重点监管）"
    TWO = 2, "二级"
    THREE = 3, "三级"
    FOUR = 4, "四级（一般监管）"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    COMMITTED = "committed", "已冻结待抽取"
    DRAWN = "drawn", "已抽取"
    PUBLISHED = "published", "已公示"
    SUPERSEDED = "superseded", "已重抽作废"


class TaskSource(models.TextChoices):
    SCHEDULE = "schedule", "分级分类计划"
    DRAW = "draw", "双随机抽查"
    REINSPECTION = "reinspection", "整改复查"
    MANUAL = "manual", "专项检查"


class TaskStatus(models.TextChoices):
    PENDING = "pending", "待检查"
    DONE = "done", "已检查"
    CANCELLED = "cancelled", "已取消"


class CheckResult(models.TextChoices):
    PASS = "pass", "符合"
    FAIL = "fail", "不符合"
    NOT_APPLICABLE = "na", "不适用"


class InspectionOutcome(models.TextChoices):
    COMPLIANT = "compliant", "未发现问题"
    ORDER_TO_CORRECT = "order_to_correct", "责令改正"
    OPEN_CASE = "open_case", "立案查处"
