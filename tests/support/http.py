"""Talking to the app as a browser does: CSRF tokens, logging in, posting forms."""

from __future__ import annotations

import re
from html.parser import HTMLParser

DEMO_PASSWORD = "vigie-demo"
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}


def csrf_from(html: bytes | str) -> str:
    if isinstance(html, bytes):
        html = html.decode()
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


class _Inputs(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif self.inside and tag == "input" and attrs.get("name") and attrs.get("type") not in ("checkbox", "radio"):
            self.values[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_values(html: bytes | str, form_id: str) -> dict:
    """The text and hidden inputs of a form as a browser would send them untouched."""
    parser = _Inputs(form_id)
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser.values


def token_for(client, path: str = "/login") -> str:
    return csrf_from(client.get(path, follow_redirects=True).data)


def login(client, email: str, password: str = DEMO_PASSWORD, **extra):
    token = token_for(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, **extra)


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST a form the way a browser does: with the CSRF token of the page."""
    return client.post(path, data={"csrf_token": token_for(client, "/"), **(data or {})}, **kwargs)


class AuthActions:
    """``auth.login(email)`` / ``auth.logout()`` for the test's client (Flask's tutorial does the same)."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = DEMO_PASSWORD, **extra):
        return login(self._client, email, password, **extra)

    def logout(self):
        return post(self._client, "/logout")
