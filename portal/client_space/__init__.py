from flask import Blueprint

bp = Blueprint("client_space", __name__, url_prefix="/space")

from portal.client_space import routes  # noqa: E402,F401
