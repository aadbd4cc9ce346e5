"""What a request may carry, checked before any view: nothing PostgreSQL would choke on.

- ``<int:…>`` in a route is bounded to PostgreSQL's INTEGER: a larger id is a 404, never a 500.
- A NUL character in the query, a form field or the path is refused with a French message
  (PostgreSQL cannot store it; SQLite would hide the problem).
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from portal.core.validators import MAX_NUMBER

NUL_MESSAGE = _l(
    "Un caractère invalide (caractère nul) se trouve dans ce que vous avez envoyé : retirez-le puis réessayez."
)


class BoundedInteger(IntegerConverter):
    """Flask's ``int`` converter, limited to what an INTEGER column holds."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_NUMBER)
        super().__init__(map, *args, **kwargs)


class NulCharacter(BadRequest):
    def __init__(self):
        super().__init__()
        self.explanation = NUL_MESSAGE


def _refuse_nul() -> None:
    values = [request.path, *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += request.form.values()
    if any("\x00" in value for value in values):
        raise NulCharacter()


def init_app(app: Flask) -> None:
    """Before the blueprints: the converter must be in place when their rules are added."""
    app.url_map.converters["int"] = BoundedInteger
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_nul)
