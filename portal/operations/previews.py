"""Page images of an uploaded file, rendered on the server for the operator's review page.

The upload itself is never shown inline: the browser only gets PNGs we produced from it.
"""

from __future__ import annotations

import io

from PIL import Image

MAX_PAGES = 6


def page_count(data: bytes, content_type: str) -> int:
    if content_type != "application/pdf":
        return 1
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return min(len(document), MAX_PAGES)
    finally:
        document.close()


def render_page(data: bytes, content_type: str, page: int) -> bytes:
    if content_type == "application/pdf":
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        try:
            image = document[page].render(scale=1.5).to_pil()
        finally:
            document.close()
    else:
        image = Image.open(io.BytesIO(data))
        image.thumbnail((1600, 1600))
    output = io.BytesIO()
    image.convert("RGB").save(output, format="PNG", optimize=True)
    return output.getvalue()
