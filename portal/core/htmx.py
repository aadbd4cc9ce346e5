"""Small helpers for htmx responses, on top of flask-htmx.

- ``render()``: a full page for a normal request, the fragment for an htmx one (not boosted);
  flashes ride along out-of-band; ``Vary: HX-Request`` always.
- ``redirect_to()``: a 303 for browsers, ``HX-Redirect`` for htmx (never a 302 to htmx).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Response, get_flashed_messages, make_response, redirect, render_template

from portal.core.extensions import htmx


def wants_fragment() -> bool:
    return bool(htmx) and not htmx.boosted


def _vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def render(
    page: str, fragment: str | None = None, /, *, status: int = 200, trigger: dict | str | None = None, **context
) -> Response:
    if not isinstance(status, int):
        raise TypeError(f"render() status is the HTTP status, got {status!r}")
    if fragment and wants_fragment():
        body = render_template(fragment, **context) + flashes_oob()
    else:
        body = render_template(page, **context)
    response = make_response(body, status)
    if trigger:
        set_trigger(response, trigger)
    return _vary(response)


def flashes_oob() -> str:
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return ""
    return render_template("_flashes.html", flash_messages=messages, oob=True)


def set_trigger(response: Response, trigger: dict | str) -> Response:
    response.headers["HX-Trigger"] = trigger if isinstance(trigger, str) else json.dumps(trigger)
    return response


def redirect_to(url: str) -> Response:
    if htmx:
        response = Response(status=200)
        response.headers["HX-Redirect"] = url
        return _vary(response)
    return _vary(redirect(url, code=303))


def local_target(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``: never an open redirect.

    Browsers drop tabs and line breaks from a URL and read ``\\`` as ``/``, so ``/%09/evil.example``
    (a tab) would lead to ``//evil.example``: a target holding any control character or backslash,
    a scheme or a host is refused, whatever its shape.
    """
    if not target or "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
