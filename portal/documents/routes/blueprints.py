"""The documents blueprint, shared by the view modules beside it."""

from flask import Blueprint

bp = Blueprint("documents", __name__)
