from django.db import migrations

from chengguan.documents.defaults import install


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial"), ("core", "0003_calendar_year_confirmation")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
