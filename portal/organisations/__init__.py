from flask import Blueprint

bp = Blueprint("organisations", __name__)

from portal.organisations import routes  # noqa: E402,F401
