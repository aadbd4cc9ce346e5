"""The operators' screens: review, mandates, catalogue, options, deliveries."""

from portal.operations.routes import catalogue, deliveries, mandates, options, review, users  # noqa: F401
from portal.operations.routes.blueprints import bp

BLUEPRINTS = (bp,)
