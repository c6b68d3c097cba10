from django.db import migrations

# 《行政处罚法》第五十二条: the on-the-spot decision is one pre-numbered form, so the case, the
# 当场处罚决定书 and the party's copy carry one number: the form's (doc_simple_penalty_decision).
# The cases app's separate "simple_case" sequence (cases 0002) is retired: its format goes, so
# administrators see one 当场处罚决定书 format under 文书编号格式. A format the bureau had
# customised for its forms is kept on the form (unless the form's own format was changed too);
# the form's sequence then continues after every number the old one issued, so no number is
# issued twice. The old sequence rows stay as the record of what was issued.

OLD_KIND, OLD_DEFAULT = "simple_case", "城管当罚字〔{year}〕第{seq:06d}号"
FORM_KIND, FORM_NAME, FORM_DEFAULT = "doc_simple_penalty_decision", "当场处罚决定书", "闵城管当罚字〔{year}〕第{seq:05d}号"


def merge(apps, schema_editor):
    NumberFormat = apps.get_model("core", "NumberFormat")
    NumberSequence = apps.get_model("core", "NumberSequence")
    old = NumberFormat.objects.filter(kind=OLD_KIND).first()
    if old is None:
        return
    form, _ = NumberFormat.objects.get_or_create(kind=FORM_KIND, defaults={"name": FORM_NAME, "pattern": FORM_DEFAULT})
    if old.pattern != OLD_DEFAULT and form.pattern == FORM_DEFAULT:
        form.pattern = old.pattern
        form.save(update_fields=["pattern"])
    if form.pattern == old.pattern:
        for issued in NumberSequence.objects.filter(kind=OLD_KIND):
            sequence, _ = NumberSequence.objects.get_or_create(kind=FORM_KIND, year=issued.year)
            if sequence.last_value < issued.last_value:
                sequence.last_value = issued.last_value
                sequence.save(update_fields=["last_value"])
    old.delete()


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_default_templates"), ("cases", "0002_number_formats"),
                    ("core", "0003_calendar_year_confirmation")]

    operations = [migrations.RunPython(merge, migrations.RunPython.noop)]
