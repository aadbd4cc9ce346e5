"""The supplier's screens: the compliance file and "Mes préférences"."""

from portal.documents.routes import file, preferences  # noqa: F401 - they attach their views
from portal.documents.routes.blueprints import bp

BLUEPRINTS = (bp,)
