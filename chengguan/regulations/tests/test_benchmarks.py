"""Benchmark versions: drafts are editable, published versions are frozen (a refused edit
changes nothing), validity periods of published versions never overlap, and the version
applied on a date is the published one valid that day."""

import datetime as dt
from decimal import Decimal

import pytest

from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.models import AuditEvent
from chengguan.regulations import services
from chengguan.regulations.choices import BenchmarkStatus, FineRule
from chengguan.regulations.models import Benchmark, BenchmarkTier

from .conftest import V1_FROM, tier_of, tiers_fixed

pytestmark = pytest.mark.django_db


def state(benchmark):
    return (list(Benchmark.objects.filter(pk=benchmark.pk).values()),
            list(BenchmarkTier.objects.filter(benchmark=benchmark).order_by("pk").values()),
            AuditEvent.objects.count())


def test_draft_gets_next_version_and_can_be_edited(matter):
    first = services.create_benchmark(matter, by=None, valid_from=V1_FROM, tiers=tiers_fixed())
    second = services.create_benchmark(matter, by=None, valid_from=dt.date(2025, 1, 1))
    assert (first.version, second.version, first.status) == (1, 2, BenchmarkStatus.DRAFT)
    services.update_benchmark(first, by=None, note="征求意见稿", tiers=tiers_fixed()[:1])
    first.refresh_from_db()
    assert first.note == "征求意见稿" and first.tiers.count() == 1
    services.update_tier(first.tiers.get(), by=None, max_amount="80")
    assert first.tiers.get().max_amount == Decimal("80.00")


@pytest.mark.parametrize("attempt", [
    lambda b: services.update_benchmark(b, by=None, note="改一下"),
    lambda b: services.update_benchmark(b, by=None, tiers=[]),
    lambda b: services.update_tier(tier_of(b, "一般"), by=None, max_amount="350"),
    lambda b: services.publish_benchmark(b, by=None),
    lambda b: services.delete_draft(b, by=None),
], ids=["period-note", "replace-tiers", "tier-amount", "publish-again", "delete"])
def test_published_version_is_frozen(published, attempt):
    before = state(published)
    with pytest.raises(BusinessRuleError) as exc:
        attempt(published)
    assert exc.value.code == "benchmark_frozen"
    assert "已发布，不能修改" in exc.value.message and "新版本" in exc.value.message
    assert state(published) == before


def test_frozen_even_outside_the_services(published):
    """The admin, a shell or a bug cannot change a decided basis either."""
    before = state(published)
    tier = tier_of(published, "一般")
    tier.max_amount = Decimal("999")
    with pytest.raises(BusinessRuleError):
        tier.save()
    with pytest.raises(BusinessRuleError):
        tier.delete()
    with pytest.raises(BusinessRuleError):
        BenchmarkTier(benchmark=published, label="新增", rule=FineRule.NO_FINE).save()
    published.valid_from = dt.date(2020, 1, 1)
    with pytest.raises(BusinessRuleError):
        published.save()
    assert state(published) == before


def test_new_version_is_drafted_from_a_published_one(published):
    draft = services.draft_new_version(published, by=None, valid_from=dt.date(2025, 7, 1))
    assert draft.version == 2 and draft.status == BenchmarkStatus.DRAFT
    assert [t.label for t in draft.tiers.all()] == ["轻微", "一般", "严重"]
    services.update_tier(tier_of(draft, "一般"), by=None, max_amount="250")
    assert tier_of(published, "一般").max_amount == Decimal("300.00")


def test_publishing_supersedes_an_open_ended_version_and_dates_pick_the_version(published):
    draft = services.draft_new_version(published, by=None, valid_from=dt.date(2025, 7, 1))
    services.publish_benchmark(draft, by=None)
    published.refresh_from_db()
    assert published.valid_to == dt.date(2025, 6, 30)  # closed the day before
    assert services.benchmark_for(published.matter, dt.date(2023, 12, 31)) is None
    assert services.benchmark_for(published.matter, V1_FROM) == published
    assert services.benchmark_for(published.matter, dt.date(2025, 6, 30)) == published
    assert services.benchmark_for(published.matter, dt.date(2025, 7, 1)) == draft
    assert services.benchmark_for(published.matter, dt.date(2030, 1, 1)) == draft


def test_overlapping_published_versions_are_refused(matter):
    first = services.create_benchmark(matter, by=None, valid_from=V1_FROM, valid_to=dt.date(2024, 12, 31),
                                      tiers=tiers_fixed())
    services.publish_benchmark(first, by=None)
    overlapping = services.create_benchmark(matter, by=None, valid_from=dt.date(2024, 6, 1), tiers=tiers_fixed())
    before = state(overlapping), state(first)
    with pytest.raises(BusinessRuleError) as exc:
        services.publish_benchmark(overlapping, by=None)
    assert exc.value.code == "benchmark_overlap" and "第 1 版" in exc.value.message
    assert (state(overlapping), state(first)) == before
    # a version starting after the first one ended is fine
    services.update_benchmark(overlapping, by=None, valid_from=dt.date(2025, 1, 1))
    assert services.publish_benchmark(overlapping, by=None).status == BenchmarkStatus.PUBLISHED


def test_drafts_and_retired_versions_are_not_applied(published):
    draft = services.create_benchmark(published.matter, by=None, valid_from=dt.date(2026, 1, 1), tiers=tiers_fixed())
    assert services.benchmark_for(published.matter, dt.date(2026, 2, 1)) == published  # the draft does not apply
    services.retire_benchmark(published, by=None, reason="上位法修订")
    assert services.benchmark_for(published.matter, dt.date(2025, 1, 1)) is None
    published.refresh_from_db()
    assert published.status == BenchmarkStatus.RETIRED and published.retire_reason == "上位法修订"
    assert draft.status == BenchmarkStatus.DRAFT
    with pytest.raises(BusinessRuleError):
        services.update_tier(tier_of(published, "一般"), by=None, max_amount="1")


def test_publish_needs_tiers_and_a_valid_period(matter):
    empty = services.create_benchmark(matter, by=None, valid_from=V1_FROM)
    with pytest.raises(BusinessRuleError) as exc:
        services.publish_benchmark(empty, by=None)
    assert exc.value.code == "no_tiers"
    with pytest.raises(ValidationFailed) as exc:
        services.create_benchmark(matter, by=None, valid_from=V1_FROM, valid_to=dt.date(2023, 1, 1))
    assert exc.value.code == "invalid_period"


@pytest.mark.parametrize("tier, code, field", [
    ({"label": "一般", "rule": "fixed_range", "min_amount": "300", "max_amount": "100"}, "invalid_range", "min_amount"),
    ({"label": "一般", "rule": "fixed_range", "min_amount": "50"}, "required", "max_amount"),
    ({"label": "一般", "rule": "per_unit", "unit_rate": "10"}, "required", "unit_name"),
    ({"label": "一般", "rule": "multiple_of_gains", "min_factor": "3", "max_factor": "1"}, "invalid_range",
     "min_factor"),
    ({"label": "一般", "rule": "multiple_of_value", "min_factor": "0.05", "max_factor": "0.1"}, "required",
     "base_name"),
    ({"label": "一般", "rule": "warning_only", "max_amount": "100"}, "invalid_rule", "max_amount"),
    ({"label": "一般", "rule": "fixed_range", "min_amount": 50.5, "max_amount": "100"}, "float_not_allowed",
     "min_amount"),
    ({"label": "一般", "rule": "fixed_range", "min_amount": "50.555", "max_amount": "100"}, "too_many_decimals",
     "min_amount"),
    ({"label": "一般", "rule": "按心情"}, "invalid_rule", "rule"),
])
def test_bad_tiers_are_refused_and_nothing_is_saved(matter, tier, code, field):
    before = Benchmark.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.create_benchmark(matter, by=None, valid_from=V1_FROM, tiers=[tier])
    assert (exc.value.code, exc.value.field) == (code, field)
    assert exc.value.message.startswith("第 1 档：")
    assert (Benchmark.objects.count(), AuditEvent.objects.count()) == before


def test_simple_procedure_flag_needs_warning_or_fine(db):
    with pytest.raises(ValidationFailed) as exc:
        services.create_matter(by=None, code="T-9", name="责令关闭事项", category="环境保护", penalty_kinds=["责令关闭"],
                               simple_procedure_allowed=True)
    assert exc.value.code == "simple_procedure_kind" and "第五十一条" in exc.value.message
