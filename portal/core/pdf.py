"""PDF building with fpdf2 and the bundled DejaVu fonts (full Unicode: accents, œ, ’, €)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent.parent / "fonts"


def new_pdf(title: str = "", author: str = "Vigie") -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_font("DejaVu", size=11)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("Vigie")
    pdf.set_auto_page_break(auto=True, margin=18)
    return pdf


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


def titled_page(pdf: FPDF, title: str, size: int = 16) -> None:
    """A new page starting with a bold title, then body text at 11 pt."""
    pdf.add_page()
    pdf.set_font("DejaVu", "B", size)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.ln(4)


def paragraph(pdf: FPDF, text: str, *, height: float = 6, after: float = 0) -> None:
    """Wrapped text across the page width, then an optional gap."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
    if after:
        pdf.ln(after)
