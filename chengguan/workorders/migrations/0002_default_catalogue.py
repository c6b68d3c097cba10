from decimal import Decimal

from django.db import migrations

from chengguan.workorders.catalogue import DEFAULT_TIME_LIMITS, DEFAULT_TREE, NUMBER_FORMAT


def install(apps, schema_editor):
    """The default category tree, time limits and order-number format (installation data:
    written directly, before any audit chain exists)."""
    Category = apps.get_model("workorders", "Category")
    TimeLimitRule = apps.get_model("workorders", "TimeLimitRule")
    NumberFormat = apps.get_model("core", "NumberFormat")
    order = 0
    for code, name, keywords, kind, amount, in_remit, children in DEFAULT_TREE:
        order += 1
        parent = Category.objects.create(code=code, name=name, keywords=keywords, limit_kind=kind,
                                         limit_amount=Decimal(amount), in_remit=in_remit, order=order)
        for child_code, child_name, child_keywords, child_kind, child_amount in children:
            order += 1
            Category.objects.create(code=child_code, name=child_name, keywords=child_keywords, parent=parent,
                                    limit_kind=child_kind, limit_amount=Decimal(child_amount), in_remit=in_remit,
                                    order=order)
    for stage, channel, kind, amount, basis in DEFAULT_TIME_LIMITS:
        TimeLimitRule.objects.create(stage=stage, channel=channel, kind=kind, amount=Decimal(amount), basis=basis)
    kind, name, pattern = NUMBER_FORMAT
    NumberFormat.objects.get_or_create(kind=kind, defaults={"name": name, "pattern": pattern})


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_initial"), ("core", "0003_calendar_year_confirmation")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
