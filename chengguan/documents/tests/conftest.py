import pytest
from django.apps import apps

from chengguan.core.choices import RoleCode
from chengguan.core.testing import make_user
from chengguan.documents import defaults


@pytest.fixture
def document_defaults(db):
    """The default templates and number formats (migration 0002), installed again when a
    transactional test elsewhere flushed them."""
    defaults.install(apps)


@pytest.fixture
def evidence_root(tmp_path, settings):
    """A private evidence store per test, never var/evidence."""
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


@pytest.fixture
def officer(users):
    return users[RoleCode.OFFICER]


@pytest.fixture
def admin_user(db):
    return make_user(RoleCode.ADMIN, None, is_staff=True)
