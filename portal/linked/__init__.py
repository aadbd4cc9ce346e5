from flask import Blueprint

bp = Blueprint("linked", __name__, url_prefix="/linked")

from portal.linked import routes  # noqa: E402,F401
