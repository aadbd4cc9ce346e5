"""Agencies' screens: "Gérer les contrats" and the reminder wizard; the employee's page."""

from portal.contracts.routes import contracts, employee_space, reminders  # noqa: F401 - they attach their views
from portal.contracts.routes.blueprints import bp

BLUEPRINTS = (bp, employee_space.bp)
