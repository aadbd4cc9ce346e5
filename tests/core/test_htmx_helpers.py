from __future__ import annotations

import json

import pytest
from flask import flash

from portal.core.htmx import redirect_to, render


def _render(app, headers, **kwargs):
    with app.test_request_context("/", headers=headers):
        flash("Enregistré.", "success")
        return render(
            "errors/error.html", "errors/_error.html", status=kwargs.pop("status", 200), title="T", text="X", **kwargs
        )


def test_fragment_only_for_htmx_requests_that_are_not_boosted(app):
    page = _render(app, {})
    assert "<html" in page.get_data(as_text=True)
    fragment = _render(app, {"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body
    assert 'hx-swap-oob="true"' in body and "Enregistré." in body
    boosted = _render(app, {"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


def test_trigger_header_and_status(app):
    response = _render(app, {"HX-Request": "true"}, status=422, trigger={"document-uploaded": {"id": 3}})
    assert response.status_code == 422
    assert json.loads(response.headers["HX-Trigger"]) == {"document-uploaded": {"id": 3}}
    with pytest.raises(TypeError):
        _render(app, {}, status="failed")


def test_redirect_is_303_for_browsers_and_hx_redirect_for_htmx(app):
    with app.test_request_context("/"):
        plain = redirect_to("/team")
    with app.test_request_context("/", headers={"HX-Request": "true"}):
        htmx = redirect_to("/team")
    assert plain.status_code == 303 and plain.headers["Location"] == "/team"
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == "/team"
