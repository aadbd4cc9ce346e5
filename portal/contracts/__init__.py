from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

from portal.contracts import routes  # noqa: E402,F401
