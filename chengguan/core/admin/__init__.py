# One module per area; each registers its own models with the admin site.
from . import calendar, org, records  # noqa: F401
