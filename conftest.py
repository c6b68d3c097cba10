import os

import pytest

from chengguan.core.testing import Org, users_by_role


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Production hashing costs ~0.3 s per password; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_process_caches():
    """Per-process caches of database content (classifier, category tree, time limits) must
    not carry one test's rows into the next."""
    from chengguan.workorders.services import classification, clocks

    classification.invalidate()
    clocks.invalidate()


@pytest.fixture
def installation_data(transactional_db):
    """What the data migrations install (the work-order category tree, time limits and number
    format). A test that runs with `transaction=True` may find it gone: the live-server and
    multi-connection tests before it flush the database, and serialized_rollback does not
    bring it back for every connection. Missing data is installed again."""
    import importlib

    from django.apps import apps

    from chengguan.workorders.models import Category

    if not Category.objects.exists():
        importlib.import_module("chengguan.workorders.migrations.0002_default_catalogue").install(apps, None)


@pytest.fixture
def org(db):
    return Org()


@pytest.fixture
def users(org):
    return users_by_role(org)


@pytest.fixture
def require_postgres(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL：在 DATABASE_URL=postgres://… 下运行（CI 会在 PostgreSQL 上再跑一遍全部测试）")


def pytest_sessionfinish(session, exitstatus):
    """CI's PostgreSQL and browser runs must run every test: there a skip is a failure."""
    if not os.environ.get("CG_FORBID_SKIPS"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CG_FORBID_SKIPS: {len(skipped)} 个测试被跳过，本轮运行不允许跳过。", red=True)
        session.exitstatus = 1
