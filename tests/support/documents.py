"""Helpers for the compliance-file tests: files of each kind, and an upload the way a browser sends it."""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image

from portal.core.clock import today
from portal.demo import samples
from tests.support.http import token_for

SIREN = "812345676"


def pdf(type_code: str = "LNTE", issued: date | None = None) -> bytes:
    return samples.one(type_code, SIREN, "Menuiserie Martin", issued or today() - timedelta(days=2))


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(
    client, code: str, data: bytes, *, name: str = "scan.pdf", issued: date | None = None, headers=None, **fields
):
    token = token_for(client, f"/documents/{code}/update")
    form = {
        "csrf_token": token,
        "file": (io.BytesIO(data), name),
        "issued_on": (issued or today() - timedelta(days=2)).isoformat(),
        **fields,
    }
    return client.post(
        f"/documents/{code}/update", data=form, content_type="multipart/form-data", headers=headers or {}
    )
