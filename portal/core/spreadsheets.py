"""CSV for French spreadsheets (semicolons), every cell safe to open: one helper for every export.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula
by Excel and LibreOffice (``=HYPERLINK(…)``, ``+cmd|' /C calc'!A0``): such text cells get a leading
``'`` (OWASP's rule for CSV injection), so what a user typed is shown, never run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet would run, neutralised; numbers and other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Iterable, rows: Iterable[Iterable], *, bom: bool = False) -> str:
    """``header`` then ``rows``, semicolon-separated; ``bom`` for Excel to read UTF-8."""
    output = io.StringIO()
    if bom:
        output.write("\ufeff")
    writer = csv.writer(output, delimiter=";")
    writer.writerow([safe_cell(value) for value in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return output.getvalue()
