# One module per area; each registers its own models with the admin site.
from . import org  # noqa: F401
