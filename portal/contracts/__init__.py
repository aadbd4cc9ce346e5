from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

from portal.contracts import reminders, routes  # noqa: E402,F401
