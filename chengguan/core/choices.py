from django.db import models


class OrgUnitKind(models.TextChoices):
    BUREAU = "bureau", "局"
    BRIGADE = "brigade", "大队"
    DEPARTMENT = "department", "处室/科室"
    SQUAD = "squad", "中队"


class RoleCode(models.TextChoices):
    OFFICER = "officer", "执法队员"
    SQUAD_LEADER = "squad_leader", "中队长"
    LEGAL_REVIEWER = "legal_reviewer", "法制员"
    CASE_REVIEW = "case_review", "案审中心"
    DISPATCHER = "dispatcher", "指挥调度"
    SUPERVISOR = "supervisor", "督察"
    LEADER = "leader", "局领导"
    ADMIN = "admin", "系统管理员"


class ScopeLevel(models.TextChoices):
    """How far up the org tree a role's data scope reaches."""

    SQUAD = "squad", "本中队"
    BRIGADE = "brigade", "本大队"
    BUREAU = "bureau", "全局"
