"""Spreadsheets in and out.

Out: CSV for French spreadsheets (semicolons), every cell safe to open. A cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by Excel and LibreOffice
(``=HYPERLINK(…)``, ``+cmd|' /C calc'!A0``): such text cells get a leading ``'`` (OWASP's rule for
CSV injection), so what a user typed is shown, never run.

In: an import file (``read_rows``), CSV with ``;`` or ``,`` in UTF-8 or Windows-1252, or XLSX
through openpyxl (defusedxml), refusing formulas and files over 50 MB uncompressed, so a hostile
sheet answers at once in bounded memory.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.core.exceptions import InvalidInput

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


# --- reading an import file -----------------------------------------------------------------------

MAX_COLUMNS = 50  # room for a user's own columns, never a sheet's 16,384
XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
# (name, required, help): the columns an import expects.
Columns = Sequence[tuple[str, bool, object]]


class ImportFileError(InvalidInput):
    def __init__(self, message):
        super().__init__({"file": message})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > XLSX_MAX_UNCOMPRESSED:
                raise ImportFileError(_l("Ce classeur est trop volumineux une fois décompressé (50 Mo au plus)."))
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - anything unreadable is "not a workbook"
        raise ImportFileError(
            _l("Ce classeur XLSX est illisible. Enregistrez-le à nouveau depuis votre tableur.")
        ) from None
    sheet = book.worksheets[0]
    max_rows = current_app.config["IMPORT_MAX_ROWS"] + 1  # the header
    # The sheet's declared size costs nothing to read; past the limits it is refused before any row
    # is read (a few bytes can declare A1:XFD1048576, which openpyxl would pad cell by cell).
    if (sheet.max_row or 0) > max_rows or (sheet.max_column or 0) > MAX_COLUMNS:
        book.close()
        raise ImportFileError(
            _l(
                "Ce classeur déclare %(rows)s lignes et %(columns)s colonnes : %(max_rows)s lignes et "
                "%(max_columns)s colonnes au plus.",
                rows=sheet.max_row,
                columns=sheet.max_column,
                max_rows=max_rows - 1,
                max_columns=MAX_COLUMNS,
            )
        )
    sheet.reset_dimensions()  # read the cells that are there, never a declared emptiness
    rows = []
    for row in sheet.iter_rows(max_col=MAX_COLUMNS):
        if len(rows) >= max_rows:
            book.close()
            raise ImportFileError(_l("Le fichier dépasse %(rows)s lignes : découpez-le.", rows=max_rows - 1))
        for cell in row:
            if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                raise ImportFileError(
                    _l(
                        "Le classeur contient des formules (cellule %(cell)s) : copiez-collez les valeurs seules.",
                        cell=cell.coordinate,
                    )
                )
        rows.append([_cell(cell.value) for cell in row])
    book.close()
    return rows


# Files people send by mistake: PDF, images, an old binary .xls (OLE2).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NOT_TABLES = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")


def _read_csv(data: bytes) -> list[list[str]]:
    """CSV text in UTF-8 or Windows-1252; anything else (binary, control characters) is refused."""
    not_a_table = ImportFileError(_l("Ce fichier n'est ni un CSV ni un classeur XLSX."))
    if data.startswith(NOT_TABLES):
        raise not_a_table
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise not_a_table
    if CONTROL.search(text):
        raise not_a_table
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    return [[value.strip() for value in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def read_rows(filename: str, data: bytes, columns: Columns) -> list[dict]:
    """The rows of the file as dicts keyed by the columns' names, with their line number."""
    if not data:
        raise ImportFileError(_l("Le fichier est vide."))
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        raise ImportFileError(
            _l("Le fichier dépasse %(mb)s Mo : découpez-le.", mb=current_app.config["IMPORT_MAX_BYTES"] // 1048576)
        )
    table = _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(data)
    table = [row for row in table if any(value for value in row)]
    if not table:
        raise ImportFileError(_l("Le fichier ne contient aucune ligne."))
    header = [value.strip().lower().replace(" ", "_").replace("é", "e") for value in table[0]]
    names = [name for name, _required, _help in columns]
    missing = [name for name, required, _h in columns if required and name not in header]
    if missing:
        raise ImportFileError(
            _l(
                "Colonnes manquantes : %(columns)s. Partez du modèle téléchargeable.",
                columns=", ".join(missing),
            )
        )
    if len(table) - 1 > current_app.config["IMPORT_MAX_ROWS"]:
        raise ImportFileError(
            _l("Le fichier dépasse %(rows)s lignes : découpez-le.", rows=current_app.config["IMPORT_MAX_ROWS"])
        )
    positions = {name: header.index(name) for name in names if name in header}
    rows = []
    for line, values in enumerate(table[1:], start=2):
        row = {name: (values[i] if i < len(values) else "") for name, i in positions.items()}
        rows.append({"line": line, **{name: row.get(name, "") for name in names}})
    return rows


def parse_date(value: str) -> date | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None
