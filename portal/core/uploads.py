"""Checks on an uploaded file: size, and type by content (never by name or declared type)."""

from __future__ import annotations

import io

from flask import current_app
from flask_babel import lazy_gettext as _l

SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


class FileRejected(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def detect(data: bytes) -> str:
    """The real type of an upload (PDF, PNG or JPEG, parsed to be sure), or FileRejected."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if not data:
        raise FileRejected(_l("Le fichier est vide."))
    if len(data) > limit:
        raise FileRejected(
            _l(
                "Le fichier dépasse %(mb)s Mo : réduisez-le ou scannez-le en qualité moindre.",
                mb=limit // (1024 * 1024),
            )
        )
    content_type = next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)
    if content_type is None or not _parses(data, content_type):
        raise FileRejected(
            _l("Ce fichier n'est pas un PDF, un JPEG ou un PNG valide. Envoyez le document dans l'un de ces formats.")
        )
    return content_type


def _parses(data: bytes, content_type: str) -> bool:
    try:
        if content_type == "application/pdf":
            from pypdf import PdfReader

            return len(PdfReader(io.BytesIO(data)).pages) > 0
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        return True
    except Exception:  # noqa: BLE001 - any parsing failure means "not a real file of that type"
        return False


def download_name(label: str, issued_on, content_type: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in label).strip("-")
    return f"{safe}-{issued_on:%Y-%m-%d}.{EXTENSIONS[content_type]}"


def detect_or_none(data: bytes) -> str | None:
    """The real type of a file, or None when it is none we accept (for files we fetch ourselves)."""
    try:
        return detect(data)
    except FileRejected:
        return None
