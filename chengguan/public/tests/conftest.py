"""Fixtures shared with the cases tests: the portal's decision pages need real cases walked
through the ordinary procedure (cases.tests.conftest.Flow)."""

from chengguan.cases.tests.conftest import (  # noqa: F401 - fixtures
    clock_at,
    flow,
    matters,
    numbering,
    staff,
)
