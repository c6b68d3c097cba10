import pytest

from chengguan.core.testing import Org, users_by_role


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
