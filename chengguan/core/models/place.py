from django.db import models


class Located(models.Model):
    """Mixin for every record that happens somewhere (DESIGN principle 4): WGS-84 lon/lat, the
    grid and squad responsible, and the H3 cell (settings.H3_RESOLUTION) for hotspot analysis
    that works the same on SQLite and PostgreSQL. Fill it with `core.geo.place_fields()`."""

    lon = models.FloatField("经度 (WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度 (WGS-84)", null=True, blank=True)
    grid = models.ForeignKey(
        "core.Grid", verbose_name="网格", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    squad = models.ForeignKey(
        "core.OrgUnit", verbose_name="责任中队", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    h3 = models.CharField("H3 索引", max_length=16, blank=True, db_index=True)

    class Meta:
        abstract = True
