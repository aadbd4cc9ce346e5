"""Partners' screens: connection requests and requirements, client sheets, linked accounts."""

from portal.partners.routes import clients, linked, partners

BLUEPRINTS = (partners.bp, clients.bp, linked.bp)
