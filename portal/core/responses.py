"""File responses: always an attachment, never rendered by the browser."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from flask import Response


def attachment(data: bytes | Iterable[bytes], filename: str, content_type: str, size: int | None = None) -> Response:
    """``data``: the bytes, or chunks streamed as they are read (then ``size`` is their length)."""
    response = Response(data, mimetype=content_type)
    if size is not None:
        response.headers["Content-Length"] = str(size)
    ascii_name = filename.encode("ascii", "ignore").decode() or "document"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
