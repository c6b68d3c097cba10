"""Fixtures for the cases tests: a small catalogue (a street matter that allows the simple
procedure, a construction matter with large fines), officers of squad A, a movable clock and
`Flow`, which walks a case through the ordinary procedure step by step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from chengguan.cases.choices import RecordKind, ServiceMethod
from chengguan.cases.services import clock, workflow
from chengguan.core.choices import RoleCode
from chengguan.core.models import NumberFormat
from chengguan.core.testing import make_user
from chengguan.core.validators import id_check_char, uscc_check_char
from chengguan.documents import defaults as document_defaults
from chengguan.regulations import services as catalogue
from chengguan.regulations.choices import ExemptionKind, FineRule, PartyKind

R = RoleCode
IN_SQUAD_A = {"lon": 121.405, "lat": 31.105}
IN_SQUAD_B = {"lon": 121.425, "lat": 31.105}


def id_number(serial: int) -> str:
    first17 = f"31011219850101{serial:03d}"
    return first17 + id_check_char(first17)


def credit_code(n: int) -> str:
    first17 = f"91310112{n:09d}"
    return first17 + uscc_check_char(first17)


def person(serial: int = 1, **extra) -> dict:
    return {"kind": PartyKind.PERSON, "name": "张三丰", "id_number": id_number(serial), "phone": "13812345678",
            "address": "上海市闵行区江川路1号", **extra}


def company(n: int = 1, **extra) -> dict:
    return {"kind": PartyKind.ORGANISATION, "name": "上海某某餐饮有限公司", "credit_code": credit_code(n),
            "legal_representative": "李四", "address": "上海市闵行区沪闵路2号", **extra}


class Clock:
    """Moves `cases.services.clock` (the only "now" the case services read)."""

    def __init__(self, monkeypatch):
        self.moment = timezone.now()
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.moment)

    def advance(self, days: int) -> None:
        self.moment += dt.timedelta(days=days)


@pytest.fixture(autouse=True)
def evidence_root(tmp_path, settings):
    """Every step issues its documents into the evidence store: a private one per test, never
    var/evidence."""
    root = tmp_path / "evidence"
    root.mkdir()
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}}
    return root


@pytest.fixture
def clock_at(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def numbering(db):
    """The case number format, and the document templates and number formats the steps issue
    their documents with (installed again when a transactional test flushed them); an
    on-the-spot case takes the number of its decision form (闵城管当罚字…)."""
    NumberFormat.objects.get_or_create(kind="case", defaults={"name": "案件编号", "pattern": "测立字〔{year}〕第{seq:05d}号"})
    document_defaults.install(apps)


@pytest.fixture
def matters(db):
    """street: 50–100 / 100–300 (simple procedure allowed); works: 1,000–10,000 / 10,000–100,000."""
    basis = catalogue.legal_basis("上海市市容环境卫生管理条例", "第二十五条", "第（五）项", by=None)
    street = catalogue.create_matter(by=None, code="T-STREET", name="跨门营业", category="街面秩序",
                                     violation_bases=[basis], penalty_bases=[basis], penalty_kinds=["罚款", "警告"],
                                     simple_procedure_allowed=True, statutory_penalty="处五十元以上五百元以下罚款")
    catalogue.publish_benchmark(catalogue.create_benchmark(street, by=None, valid_from=dt.date(2024, 1, 1), tiers=[
        {"label": "轻微", "rule": FineRule.FIXED_RANGE, "min_amount": "50", "max_amount": "100"},
        {"label": "一般", "rule": FineRule.FIXED_RANGE, "min_amount": "100", "max_amount": "300"},
    ]), by=None)
    catalogue.create_exemption(street, by=None, kind=ExemptionKind.FIRST_VIOLATION, conditions="首次且及时改正",
                               valid_from=dt.date(2024, 1, 1))
    works_basis = catalogue.legal_basis("中华人民共和国城乡规划法", "第六十四条", "", by=None)
    works = catalogue.create_matter(by=None, code="T-WORKS", name="未取得规划许可证建设", category="违法建筑",
                                    violation_bases=[works_basis], penalty_bases=[works_basis],
                                    penalty_kinds=["罚款"], simple_procedure_allowed=False)
    catalogue.publish_benchmark(catalogue.create_benchmark(works, by=None, valid_from=dt.date(2024, 1, 1), tiers=[
        {"label": "一般", "rule": FineRule.FIXED_RANGE, "min_amount": "1000", "max_amount": "10000"},
        {"label": "严重", "rule": FineRule.FIXED_RANGE, "min_amount": "10000", "max_amount": "100000"},
    ]), by=None)
    return {"street": street, "works": works}


def tier(matter, label):
    return catalogue.benchmark_for(matter, dt.date(2025, 1, 1)).tiers.get(label=label)


@pytest.fixture
def staff(org, users):
    """users by role plus a second officer of squad A, a squad-B officer, a qualified legal
    reviewer, two more leaders for collective discussion and an expired-certificate officer."""
    more = {
        "officer2": make_user(R.OFFICER, org.squad_a, real_name="王二"),
        "officer_b": make_user(R.OFFICER, org.squad_b, real_name="赵六"),
        "officer_b2": make_user(R.OFFICER, org.squad_b, real_name="钱七"),
        "expired": make_user(R.OFFICER, org.squad_a, real_name="过期", certified=False),
        "leader2": make_user(R.LEADER, org.bureau), "leader3": make_user(R.LEADER, org.bureau),
    }
    users[R.LEGAL_REVIEWER].has_legal_qualification = True
    users[R.LEGAL_REVIEWER].save()
    return {**users, **more}


class Flow:
    """A case of squad A walked to the state named by each property (each makes a new case)."""

    def __init__(self, staff, matters, clock_at, party=None, matter="street"):
        self.s, self.m, self.clock = staff, matters, clock_at
        self.party = party or person()
        self.matter_key = matter

    @property
    def officer(self):
        return self.s[R.OFFICER]

    @property
    def leader(self):
        return self.s[R.LEADER]

    def lead(self, **extra):
        fields = {"source_kind": "patrol", "facts": "当事人在店门外摆放货架经营。", "address": "江川路1号",
                  "matter": self.m[self.matter_key], "act_date": self.clock.today - dt.timedelta(days=3),
                  "party_list": [self.party], **IN_SQUAD_A, **extra}
        return workflow.open_lead(by=self.officer, **fields)

    def filed(self, **extra):
        return workflow.file(self.lead(**extra), by=self.s[R.SQUAD_LEADER], officers=[self.officer, self.s["officer2"]])

    def reported(self, fine="200", label="一般", **extra):
        case = self.filed()
        workflow.add_record(case, by=self.officer, kind=RecordKind.ON_SITE, content="现场检查：货架占用人行道约3平方米。",
                            place="江川路1号")
        return workflow.report(case, by=self.officer, report_text="事实清楚，证据确凿。", penalty_kinds=["fine"],
                               tier=tier(self.m[self.matter_key], label), fine=fine, **extra)

    def notified(self, **extra):
        return workflow.notify(self.reported(**extra), by=self.officer)

    def deliberating(self, **extra):
        return workflow.waive_statement(self.notified(**extra), by=self.officer, note="当事人书面放弃陈述申辩")

    def decided(self, **extra):
        return workflow.decide(self.deliberating(**extra), by=self.leader, outcome="penalty")

    def executing(self, **extra):
        return workflow.serve(self.decided(**extra), by=self.officer, method=ServiceMethod.DIRECT)


@pytest.fixture
def flow(staff, matters, clock_at, numbering):
    return Flow(staff, matters, clock_at)
