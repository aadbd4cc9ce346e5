from flask import Blueprint

bp = Blueprint("firm", __name__, url_prefix="/firm")

from portal.firm import clients, documents, imports, settings, wizard  # noqa: E402,F401
