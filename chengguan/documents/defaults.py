"""The default template of every kind (files in default_templates/, named by kind code) and
its number format, installed by migration 0002 and by the tests' `document_defaults` fixture
(transactional tests elsewhere may have flushed what the migration wrote)."""

from pathlib import Path

from .kinds import KINDS, number_kind

TEMPLATE_DIR = Path(__file__).resolve().parent / "default_templates"


def default_body(kind: str) -> str:
    return (TEMPLATE_DIR / f"{kind}.html").read_text(encoding="utf-8")


def install(apps, schema_editor=None) -> None:
    """Version 1 of each kind's template, active, and its number format, unless present
    (installation data: written directly, before any audit chain exists)."""
    from django.utils import timezone

    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    NumberFormat = apps.get_model("core", "NumberFormat")
    now = timezone.now()
    for kind, spec in KINDS.items():
        if not DocumentTemplate.objects.filter(kind=kind).exists():
            DocumentTemplate.objects.create(kind=kind, name=spec.name, version=1, status="active",
                                            body=default_body(kind), note="系统默认模板", activated_at=now)
        NumberFormat.objects.get_or_create(kind=number_kind(kind),
                                           defaults={"name": spec.name, "pattern": spec.number_pattern})
