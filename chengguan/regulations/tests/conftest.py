"""A small catalogue for the regulations tests: one matter with a published version (three
fixed-range tiers, split by party for the upper one) and a helper to build drafts."""

import datetime as dt

import pytest

from chengguan.regulations import services
from chengguan.regulations.choices import FineRule, PartyKind

V1_FROM = dt.date(2024, 1, 1)


def tiers_fixed():
    return [
        {"label": "轻微", "rule": FineRule.FIXED_RANGE, "min_amount": "50", "max_amount": "100"},
        {"label": "一般", "rule": FineRule.FIXED_RANGE, "min_amount": "100", "max_amount": "300"},
        {"label": "严重", "rule": FineRule.FIXED_RANGE, "min_amount": "300", "max_amount": "500",
         "party_kind": PartyKind.ORGANISATION},
    ]


@pytest.fixture
def matter(db):
    basis = services.legal_basis("上海市市容环境卫生管理条例", "第二十五条", "第（五）项", by=None)
    return services.create_matter(by=None, code="T-001", name="跨门营业", category="街面秩序",
                                  violation_bases=[basis], penalty_bases=[basis], penalty_kinds=["罚款"],
                                  simple_procedure_allowed=True, statutory_penalty="处五十元以上五百元以下罚款")


@pytest.fixture
def published(matter):
    benchmark = services.create_benchmark(matter, by=None, valid_from=V1_FROM, tiers=tiers_fixed())
    return services.publish_benchmark(benchmark, by=None)


def tier_of(benchmark, label):
    return benchmark.tiers.get(label=label)


def make_tier(matter, **rule):
    """A draft benchmark with one tier of the given rule; returns the tier."""
    benchmark = services.create_benchmark(matter, by=None, valid_from=V1_FROM, tiers=[{"label": "一般", **rule}])
    return benchmark.tiers.get()
