"""Page images of an uploaded file, rendered on the server for the operator's review page.

The upload itself is never shown inline: the browser only gets PNGs we produced from it. They are
drawn in a sandboxed child process (``core.sandbox``): at most ``MAX_PIXELS`` per page, a few
seconds and a few hundred megabytes, whatever the file claims.
"""

from __future__ import annotations

import logging

from flask import current_app

from portal.core import sandbox

log = logging.getLogger(__name__)

MAX_PAGES = 6


class PreviewUnavailable(Exception):
    """The file could not be drawn within the limits."""


class NoSuchPage(Exception):
    """A page number past the pages shown (at most MAX_PAGES)."""


def page_count(data: bytes, content_type: str) -> int:
    if content_type != "application/pdf":
        return 1
    try:
        return int(_run("pdf_pages", data, max_pages=MAX_PAGES))
    except (PreviewUnavailable, ValueError):
        return 1  # the first page's image will say it cannot be drawn


def render_page(data: bytes, content_type: str, page: int) -> bytes:
    """One page as a PNG, in one child process (it also tells a page that does not exist)."""
    if content_type == "application/pdf":
        return _run("pdf_page_png", data, page=page, max_pages=MAX_PAGES)
    if page != 0:
        raise NoSuchPage()
    return _run("image_png", data)


def _run(task: str, data: bytes, **options) -> bytes:
    config = current_app.config
    try:
        return sandbox.run(
            task, data, seconds=config["PREVIEW_SECONDS"], memory_mb=config["PREVIEW_MEMORY_MB"], **options
        )
    except sandbox.SandboxError as exc:
        if exc.returncode == sandbox.NO_SUCH_PAGE:
            raise NoSuchPage() from exc
        log.warning("preview refused: %s", exc)
        raise PreviewUnavailable(str(exc)) from exc
