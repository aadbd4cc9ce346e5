"""The firm blueprint, shared by the view modules beside it."""

from flask import Blueprint

bp = Blueprint("firm", __name__, url_prefix="/firm")
