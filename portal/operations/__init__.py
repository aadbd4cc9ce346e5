from flask import Blueprint

bp = Blueprint("operations", __name__, url_prefix="/operations")

from portal.operations import catalogue, mandates, options, review, routes  # noqa: E402,F401
