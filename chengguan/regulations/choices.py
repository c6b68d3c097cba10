from django.db import models


class MatterCategory(models.TextChoices):
    STREET_ORDER = "street_order", "街面秩序"
    APPEARANCE = "appearance", "市容环境"
    CONSTRUCTION = "construction", "违法建筑"
    HOUSING = "housing", "房屋安全"
    ENVIRONMENT = "environment", "环境保护"
    WASTE_SORTING = "waste_sorting", "生活垃圾分类"
    CONSTRUCTION_WASTE = "construction_waste", "建筑垃圾"
    OTHER = "other", "其他"


class PenaltyKind(models.TextChoices):
    """The kinds of administrative penalty (《行政处罚法》第九条)."""

    WARNING = "warning", "警告"
    CRITICISM = "criticism", "通报批评"
    FINE = "fine", "罚款"
    CONFISCATE_GAINS = "confiscate_gains", "没收违法所得"
    CONFISCATE_PROPERTY = "confiscate_property", "没收非法财物"
    SUSPEND_PERMIT = "suspend_permit", "暂扣许可证件"
    DOWNGRADE = "downgrade", "降低资质等级"
    REVOKE_PERMIT = "revoke_permit", "吊销许可证件"
    RESTRICT_BUSINESS = "restrict_business", "限制开展生产经营活动"
    SUSPEND_BUSINESS = "suspend_business", "责令停产停业"
    CLOSE = "close", "责令关闭"
    BAR_OCCUPATION = "bar_occupation", "限制从业"
    DETENTION = "detention", "行政拘留"


class BenchmarkStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    RETIRED = "retired", "已废止"


class FineRule(models.TextChoices):
    FIXED_RANGE = "fixed_range", "固定幅度"
    PER_UNIT = "per_unit", "按计量单位"
    MULTIPLE_OF_GAINS = "multiple_of_gains", "违法所得的倍数"
    # Some statutes fine a share of another base, e.g. 《城乡规划法》第六十四条: 建设工程造价的 5%–10%.
    MULTIPLE_OF_VALUE = "multiple_of_value", "基数（工程造价、货值等）的倍数或比例"
    WARNING_ONLY = "warning_only", "仅警告"
    NO_FINE = "no_fine", "不罚款"


class PartyKind(models.TextChoices):
    PERSON = "person", "自然人"
    ORGANISATION = "organisation", "法人或其他组织"


class ExemptionKind(models.TextChoices):
    """The three rules of 《行政处罚法》第三十三条; kept apart because their effect differs."""

    # Art. 33(1), second sentence: first violation, minor harm, corrected in time — MAY not penalise.
    FIRST_VIOLATION = "first_violation", "首违不罚"
    # Art. 33(1), first sentence: minor, corrected in time, no harm — SHALL not penalise.
    MINOR = "minor", "轻微不罚"
    # Art. 33(2): the party proves it had no subjective fault — SHALL not penalise.
    NO_FAULT = "no_fault", "无主观过错不罚"


TIER_LABELS = ("轻微", "一般", "较重", "严重")
