from flask import Blueprint

bp = Blueprint("operations", __name__, url_prefix="/operations")

from portal.operations import routes  # noqa: E402,F401
