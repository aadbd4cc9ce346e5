from flask import Blueprint

bp = Blueprint("documents", __name__)

from portal.documents import preferences, routes  # noqa: E402,F401
