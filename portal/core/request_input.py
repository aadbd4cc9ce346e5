"""What a request may carry and what every answer says about itself.

- ``<int:…>`` in a route is bounded to PostgreSQL's INTEGER: a larger id is a 404, never a 500.
- A NUL character in the query, a form field or the path is refused with a French message
  (PostgreSQL cannot store it; SQLite would hide the problem).
- Every answer carries the security headers: a Content-Security-Policy with no inline script
  (htmx is configured by a meta tag), no framing, ``nosniff``, ``Referrer-Policy: same-origin``,
  and HSTS in production. A file answer keeps its own, stricter policy (``core.responses``).
"""

from __future__ import annotations

from itertools import chain

from flask import Flask, Response, current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
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
    # Every value of every key (``values()`` would give only the first of a repeated field), and the keys.
    values = [request.path, *request.args.keys(), *chain.from_iterable(request.args.listvalues())]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += [*request.form.keys(), *chain.from_iterable(request.form.listvalues())]
    if any("\x00" in value for value in values):
        raise NulCharacter()


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["VIGIE_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    """Before the blueprints: the converter must be in place when their rules are added.

    Behind ``TRUSTED_PROXIES`` proxies, the client's address and scheme are read from their
    ``X-Forwarded-For`` / ``X-Forwarded-Proto`` (werkzeug's ProxyFix); otherwise those headers,
    which anyone can send, are ignored."""
    if app.config["TRUSTED_PROXIES"] > 0:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.url_map.converters["int"] = BoundedInteger
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_nul)
    app.after_request(_security_headers)
