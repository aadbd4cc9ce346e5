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
    problem = _NOT_VALID if content_type is None else _problem(data, content_type)
    if problem is not None:
        raise FileRejected(problem)
    return content_type


_NOT_VALID = _l("Ce fichier n'est pas un PDF, un JPEG ou un PNG valide. Envoyez le document dans l'un de ces formats.")
# Far beyond any document to check (A0 is 2384 × 3370 pt), far below what would take minutes to draw.
MAX_PAGE_POINTS = 5000  # about 1.76 m
MAX_PDF_PAGES = 100
MAX_IMAGE_PIXELS = 50_000_000  # a 600 dpi A4 scan is 35 Mpx


def _problem(data: bytes, content_type: str):
    """Why this file is refused (a French message), or None. Reads sizes, never draws anything."""
    try:
        if content_type == "application/pdf":
            from pypdf import PdfReader

            pages = PdfReader(io.BytesIO(data)).pages
            if len(pages) == 0:
                return _NOT_VALID
            if len(pages) > MAX_PDF_PAGES:
                return _l(
                    "Ce PDF compte plus de %(max)d pages : envoyez seulement le document demandé.", max=MAX_PDF_PAGES
                )
            for page in pages:
                unit = float(page.user_unit or 1)
                if max(float(page.mediabox.width), float(page.mediabox.height)) * unit > MAX_PAGE_POINTS:
                    return _l(
                        "Une page de ce PDF mesure plus de 1,7 m de côté : ce n'est pas un document à vérifier. "
                        "Enregistrez-le au format A4 et envoyez-le à nouveau."
                    )
            return None
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return _l(
                    "Cette image est trop grande (plus de 50 millions de pixels) : réduisez-la et envoyez-la à nouveau."
                )
            image.verify()
        return None
    except Exception:  # noqa: BLE001 - any parsing failure means "not a real file of that type"
        return _NOT_VALID


def download_name(label: str, issued_on, content_type: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in label).strip("-")
    return f"{safe}-{issued_on:%Y-%m-%d}.{EXTENSIONS[content_type]}"


def detect_or_none(data: bytes) -> str | None:
    """The real type of a file, or None when it is none we accept (for files we fetch ourselves)."""
    try:
        return detect(data)
    except FileRejected:
        return None
