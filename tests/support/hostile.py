"""Hostile files, built the way an attacker would, for the hardening tests and their figures."""

from __future__ import annotations

import io


def huge_page_pdf(side_pt: int = 14400) -> bytes:
    """A tiny PDF whose one page is ``side_pt`` points square (14,400 pt: 5 m; drawn at the
    review page's scale it would be a 21,600 × 21,600 image, 1.8 GB of pixels)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=side_pt, height=side_pt)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def text_bomb_pdf(pages: int = 20, operators: int = 20_000) -> bytes:
    """``pages`` pages that all share one content stream of ``operators`` text operators: small
    on disk (the stream is compressed and stored once), long to read page after page."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    body = ["BT /F1 1 Tf"]
    body += [f"{i % 500} {i % 700} Td (x{i}) Tj" for i in range(operators)]
    body.append("ET")
    stream = DecodedStreamObject()
    stream.set_data("\n".join(body).encode())
    stream = stream.flate_encode()
    stream_ref = writer._add_object(stream)
    for _ in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Contents")] = stream_ref
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
