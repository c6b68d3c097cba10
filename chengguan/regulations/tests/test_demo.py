"""The demo catalogue seeds through the services: every matter has a published benchmark valid
today whose tiers all compute, unverified bases are marked 待核实, and it seeds only once."""

import pytest
from django.utils import timezone

from chengguan.regulations import demo, services
from chengguan.regulations.choices import BenchmarkStatus, FineRule
from chengguan.regulations.models import Benchmark, ExemptionEntry, LegalBasis, Matter

pytestmark = pytest.mark.django_db
FACTS = {FineRule.PER_UNIT: {"units": "3"}, FineRule.MULTIPLE_OF_GAINS: {"illegal_gains": "1000"},
         FineRule.MULTIPLE_OF_VALUE: {"base_value": "100000"}}


def test_demo_seed():
    counts = demo.seed("small", 1)
    assert counts["执法事项"] == Matter.objects.count() >= 20
    assert counts["免罚清单"] == ExemptionEntry.objects.count() > 0
    today = timezone.localdate()
    for matter in Matter.objects.all():
        benchmark = services.benchmark_for(matter, today)
        assert benchmark is not None, matter.code
        for tier in benchmark.tiers.all():
            proposal = services.propose_fine(tier, **FACTS.get(tier.rule, {}))
            assert proposal.min <= proposal.suggested <= proposal.max
    assert Benchmark.objects.filter(status=BenchmarkStatus.DRAFT).exists()
    assert LegalBasis.objects.filter(verified=False).exists()
    assert all("待核实" in m.description for m in Matter.objects.filter(violation_bases__verified=False))
    assert demo.seed("small", 1) == {"执法事项": 0}  # once only
