import re
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from chengguan.core import audit
from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.core.models import AuditEvent, NumberFormat, NumberSequence
from chengguan.core.numbering import next_number, set_number_format
from chengguan.core.testing import make_user

PENALTY = "闵城管罚字〔{year}〕第{seq:05d}号"


@pytest.fixture
def admin_user(db):
    return make_user(RoleCode.ADMIN, None)


@pytest.fixture
def penalty(admin_user):
    return set_number_format("penalty", "行政处罚决定书", PENALTY, by=admin_user)


def test_numbers_follow_the_format(penalty):
    assert next_number("penalty", year=2024) == "闵城管罚字〔2024〕第00001号"
    assert next_number("penalty", year=2024) == "闵城管罚字〔2024〕第00002号"


def test_each_year_starts_again_at_one(penalty):
    next_number("penalty", year=2024)
    next_number("penalty", year=2024)

    assert next_number("penalty", year=2025) == "闵城管罚字〔2025〕第00001号"
    assert next_number("penalty", year=2024) == "闵城管罚字〔2024〕第00003号"


def test_kinds_count_separately(penalty, admin_user):
    set_number_format("filing", "立案审批表", "闵城管立〔{year}〕{seq}号", by=admin_user)
    next_number("penalty", year=2024)

    assert next_number("filing", year=2024) == "闵城管立〔2024〕1号"


def test_default_year_is_this_year_in_shanghai(penalty):
    assert next_number("penalty") == f"闵城管罚字〔{timezone.localdate().year}〕第00001号"


def test_a_rolled_back_number_is_issued_again(penalty):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number("penalty", year=2024).endswith("第00001号")
        raise RuntimeError("the document could not be saved")

    assert next_number("penalty", year=2024).endswith("第00001号")


def test_unknown_kind_is_refused(db):
    with pytest.raises(ValidationFailed) as refused:
        next_number("no_such_kind", year=2024)

    assert refused.value.code == "unknown_number_kind"


def test_issue_is_recorded_on_the_kinds_own_chain(penalty, admin_user):
    next_number("penalty", year=2024, actor=admin_user)

    event = AuditEvent.objects.get(action="number.issue")
    assert event.chain == "number.penalty"
    assert event.after == {"kind": "penalty", "year": 2024, "seq": 1, "number": "闵城管罚字〔2024〕第00001号"}
    assert event.actor == admin_user
    assert audit.verify().ok


def test_changing_the_format_keeps_counting(penalty, admin_user):
    next_number("penalty", year=2024)
    set_number_format("penalty", "行政处罚决定书", "闵城管罚〔{year}〕{seq:04d}号", by=admin_user)

    assert next_number("penalty", year=2024) == "闵城管罚〔2024〕0002号"
    assert NumberFormat.objects.filter(kind="penalty").count() == 1
    assert AuditEvent.objects.filter(action="number_format.set", actor=admin_user).count() == 2


@pytest.mark.parametrize("pattern", [
    "",
    "闵城管罚字〔{year}〕",          # no sequence number
    "第{seq号",                     # unbalanced brace
    "{case}{seq}",                  # unknown placeholder
    "{}{seq}",                      # positional placeholder
    "{seq.__class__}",              # attribute access
    "{seq:s}",                      # format spec that does not fit a number
    "{seq:.0}",                     # the number disappears
    "罚" * 120 + "{seq}",            # too long
])
def test_invalid_patterns_are_refused(admin_user, pattern):
    with pytest.raises(ValidationFailed) as refused:
        set_number_format("penalty", "行政处罚决定书", pattern, by=admin_user)

    assert refused.value.code == "invalid_pattern"
    assert not NumberFormat.objects.filter(kind="penalty").exists()


@pytest.mark.parametrize("kind", ["", "罚字", "Penalty", "1penalty", "x" * 33])
def test_invalid_kind_codes_are_refused(admin_user, kind):
    with pytest.raises(ValidationFailed) as refused:
        set_number_format(kind, "行政处罚决定书", PENALTY, by=admin_user)

    assert refused.value.code == "invalid_kind"


def test_admin_saves_formats_through_the_service(admin_user, client):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)

    bad = client.post("/admin/core/numberformat/add/", {"kind": "penalty", "name": "行政处罚决定书", "pattern": "无序号"})
    assert bad.status_code == 200 and "必须包含序号占位符" in bad.content.decode()
    assert not NumberFormat.objects.filter(kind="penalty").exists()

    good = client.post("/admin/core/numberformat/add/", {"kind": "penalty", "name": "行政处罚决定书", "pattern": PENALTY})
    assert good.status_code == 302
    assert NumberFormat.objects.get(kind="penalty").pattern == PENALTY
    assert AuditEvent.objects.filter(action="number_format.set", actor=admin_user).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_never_get_the_same_number(require_postgres):
    """8 threads × 25 numbers on PostgreSQL: exactly 1..200, no duplicate, no gap."""
    set_number_format("penalty", "行政处罚决定书", PENALTY, by=make_user(RoleCode.ADMIN, None))
    threads, per_thread = 8, 25
    issued, errors = [], []
    start = threading.Barrier(threads)

    def work():
        try:
            start.wait()
            for _ in range(per_thread):
                with transaction.atomic():
                    issued.append(next_number("penalty", year=2024))
        except Exception as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    seqs = sorted(int(re.search(r"第(\d+)号", number).group(1)) for number in issued)
    assert seqs == list(range(1, threads * per_thread + 1))
    assert NumberSequence.objects.get(kind="penalty", year=2024).last_value == threads * per_thread
    assert AuditEvent.objects.filter(chain="number.penalty").count() == threads * per_thread
    assert audit.verify().ok
