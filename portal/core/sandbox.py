"""Work on untrusted files in a child process with a time and memory limit.

Reading a PDF's text or drawing one of its pages can be made arbitrarily slow or large by the
file itself (a page 5 m wide, one content stream of 20,000 operators shared by every page). Such
work runs here, in ``python -I portal/core/sandbox.py <task>``: the file on stdin, the answer on
stdout, CPU time and address space capped by the kernel (``setrlimit``), wall time by a timeout.
A file that breaks the limits costs its child process, never the web worker.
"""

from __future__ import annotations

import io
import json
import math
import resource
import subprocess
import sys

# A page drawn for the review queue: at most this many pixels (about a 2000 × 2000 image).
MAX_PIXELS = 4_000_000
MAX_SIDE = 2400
SCALE = 1.5  # 108 dpi for an ordinary A4 page


class SandboxError(Exception):
    """The child failed, or broke its time or memory limit (``timed_out`` says which)."""

    def __init__(self, message: str, *, timed_out: bool = False, returncode: int | None = None):
        super().__init__(message)
        self.timed_out = timed_out
        self.returncode = returncode


def run(task: str, data: bytes, *, seconds: float, memory_mb: int = 768, **options) -> bytes:
    """Run ``task`` on ``data`` in a child process; its output, or SandboxError."""

    limits = {"cpu": max(1, math.ceil(seconds)), "memory_mb": memory_mb}
    # Run as a plain script (-I: nothing from the environment): no Flask, no app, no database.
    command = [sys.executable, "-I", __file__, task, json.dumps(options), json.dumps(limits)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"{task}: more than {seconds} s", timed_out=True) from exc
    if done.returncode != 0:
        # SIGXCPU / SIGKILL: the CPU limit; MemoryError: the address-space limit.
        timed_out = done.returncode in (-24, -9)
        raise SandboxError(
            f"{task}: exit {done.returncode}: {done.stderr[-300:].decode(errors='replace')}",
            timed_out=timed_out,
            returncode=done.returncode,
        )
    return done.stdout


def render_scale(width_pt: float, height_pt: float) -> float:
    """The scale that draws a page of that size within MAX_PIXELS and MAX_SIDE."""
    width_pt, height_pt = max(width_pt, 1.0), max(height_pt, 1.0)
    by_area = math.sqrt(MAX_PIXELS / (width_pt * height_pt))
    by_side = MAX_SIDE / max(width_pt, height_pt)
    return min(SCALE, by_area, by_side)


# --- what runs in the child ------------------------------------------------------------------


def pdf_text(data: bytes, max_pages: int = 10) -> bytes:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    texts = []
    for index, page in enumerate(reader.pages):
        if index >= max_pages:
            break
        texts.append(page.extract_text() or "")
    return "\n".join(texts).encode()


def _pdf_pages(data: bytes, max_pages: int = 6) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return str(min(len(document), max_pages)).encode()
    finally:
        document.close()


NO_SUCH_PAGE = 3  # the child's exit code for a page number past the pages shown


def _pdf_page_png(data: bytes, page: int = 0, max_pages: int = 6) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        if not 0 <= page < min(len(document), max_pages):
            sys.exit(NO_SUCH_PAGE)
        sheet = document[page]
        width, height = sheet.get_size()
        image = sheet.render(scale=render_scale(width, height)).to_pil()
    finally:
        document.close()
    return _png(image)


def _image_png(data: bytes) -> bytes:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 50_000_000  # beyond: DecompressionBombError, never decoded
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (1600, 1600))  # JPEG: decode at a reduced size directly
    image.thumbnail((1600, 1600))
    return _png(image)


OCR_SCALE = 200 / 72  # 200 dpi: Tesseract reads a printed attestation well from there
OCR_MAX_PAGES = 3
OCR_MAX_PIXELS = 9_000_000


def _pdf_images(data: bytes, max_pages: int, scale: float):
    """The first pages of a PDF drawn in grey at ``scale``, within OCR_MAX_PIXELS each."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        for index in range(min(len(document), max_pages)):
            sheet = document[index]
            width, height = sheet.get_size()
            fitted = min(scale, math.sqrt(OCR_MAX_PIXELS / max(width * height, 1.0)))
            yield sheet.render(scale=fitted).to_pil().convert("L")
    finally:
        document.close()


def _ocr(image) -> str:
    import pytesseract

    return pytesseract.image_to_string(image.convert("L"), lang="fra")


def ocr_text(data: bytes, max_pages: int = OCR_MAX_PAGES) -> bytes:
    """The text of a scan (a PDF without text, a JPEG or a PNG) read by Tesseract, page by page."""
    if data[:5] == b"%PDF-":
        return "\n".join(_ocr(page) for page in _pdf_images(data, max_pages, OCR_SCALE)).encode()
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 50_000_000  # beyond: DecompressionBombError, never decoded
    image = Image.open(io.BytesIO(data))
    image.thumbnail((3000, 3000))
    return _ocr(image).encode()


QR_SCALE = 3.0  # 216 dpi: a Kbis QR code is a few centimetres wide
QR_MAX_PAGES = 2


def pdf_qr(data: bytes, max_pages: int = QR_MAX_PAGES) -> bytes:
    """The texts of the QR codes printed on the first pages, as JSON."""
    import zxingcpp

    found = []
    for page in _pdf_images(data, max_pages, QR_SCALE):
        found += [code.text for code in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)]
    return json.dumps(found).encode()


def _png(image) -> bytes:
    output = io.BytesIO()
    image.convert("RGB").save(output, format="PNG", optimize=True)
    return output.getvalue()


TASKS = {
    "pdf_text": pdf_text,
    "pdf_pages": _pdf_pages,
    "pdf_page_png": _pdf_page_png,
    "image_png": _image_png,
    "ocr_text": ocr_text,
    "pdf_qr": pdf_qr,
}


def _main(argv: list[str]) -> int:
    task, options, limits = argv[0], json.loads(argv[1]), json.loads(argv[2])
    # The child caps itself before it reads a byte of the file.
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu"], limits["cpu"] + 1))
    memory = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sys.stdout.buffer.write(TASKS[task](sys.stdin.buffer.read(), **options))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
