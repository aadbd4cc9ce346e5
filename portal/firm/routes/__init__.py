"""The firm's screens (client files, wizard, documents, imports, settings) and the executive's space."""

from portal.firm.routes import client_space, clients, documents, imports, settings, wizard  # noqa: F401
from portal.firm.routes.blueprints import bp

BLUEPRINTS = (bp, client_space.bp)
