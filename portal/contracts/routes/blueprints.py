"""The contracts blueprint, shared by the view modules beside it."""

from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")
