"""Talking to the app as a browser does: CSRF tokens, logging in, posting forms."""

from __future__ import annotations

import re

DEMO_PASSWORD = "vigie-demo"
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}


def csrf_from(html: bytes | str) -> str:
    if isinstance(html, bytes):
        html = html.decode()
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


def token_for(client, path: str = "/login") -> str:
    return csrf_from(client.get(path).data)


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
