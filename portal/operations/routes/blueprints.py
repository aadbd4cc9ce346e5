"""The operations blueprint, shared by the view modules beside it."""

from flask import Blueprint

bp = Blueprint("operations", __name__, url_prefix="/operations")
