from django.db import migrations

# Case numbers (立案编号) and the pre-numbered on-the-spot decision forms (APL art. 52);
# administrators change the patterns under 文书编号格式.
NUMBER_FORMATS = [
    ("case", "行政处罚案件编号", "城管立字〔{year}〕第{seq:05d}号"),
    ("simple_case", "当场行政处罚决定书编号", "城管当罚字〔{year}〕第{seq:06d}号"),
]


def install(apps, schema_editor):
    NumberFormat = apps.get_model("core", "NumberFormat")
    for kind, name, pattern in NUMBER_FORMATS:
        NumberFormat.objects.get_or_create(kind=kind, defaults={"name": name, "pattern": pattern})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("core", "0003_calendar_year_confirmation")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
