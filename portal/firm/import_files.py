"""The import file itself: the columns, the downloadable templates, and reading a CSV or XLSX file.

CSV with ``;`` or ``,``, in UTF-8 or Windows-1252; XLSX through openpyxl (defusedxml), refusing
formulas and files over 50 MB uncompressed, so a hostile sheet answers at once in bounded memory.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.core.exceptions import InvalidInput
from portal.core.spreadsheets import csv_text

COLUMNS = (
    ("siret", True, _l("SIRET de l'établissement (14 chiffres)")),
    ("raison_sociale", True, _l("Raison sociale")),
    ("debut_exercice", True, _l("Début de l'exercice, JJ/MM/AAAA")),
    ("fin_exercice", False, _l("Fin de l'exercice, JJ/MM/AAAA (vide : 12 mois moins un jour)")),
    ("email_dirigeant", False, _l("E-mail du dirigeant (il sera invité depuis le dossier)")),
    ("nom_dirigeant", False, _l("Nom du dirigeant")),
    ("prenom_dirigeant", False, _l("Prénom du dirigeant")),
    ("collaborateurs", False, _l("E-mails des collaborateurs du cabinet, séparés par des points-virgules")),
    ("arborescence", False, _l("Nom de l'arborescence (vide : la première du cabinet)")),
)


HEADERS = [name for name, _required, _help in COLUMNS]


SAMPLE = (
    ("50100001200127", "Boulangerie des Halles", "01/01/2026", "31/12/2026", "", "", "", "", ""),
    ("50107920600121", "Garage du Centre", "01/07/2025", "", "dirigeant.garage@example.fr", "Morel", "Paul", "", ""),
)


MAX_COLUMNS = 50  # the template has 9; room for a firm's own columns, never a sheet's 16,384
XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024


class ImportFileError(InvalidInput):
    def __init__(self, message):
        super().__init__({"file": message})


def template_csv() -> str:
    return csv_text(HEADERS, SAMPLE)


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Clients"
    sheet.append(HEADERS)
    for row in SAMPLE:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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


def read_rows(filename: str, data: bytes) -> list[dict]:
    """The rows of the file as dicts keyed by our column names, with their line number."""
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
    missing = [name for name, required, _h in COLUMNS if required and name not in header]
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
    positions = {name: header.index(name) for name in HEADERS if name in header}
    rows = []
    for line, values in enumerate(table[1:], start=2):
        row = {name: (values[i] if i < len(values) else "") for name, i in positions.items()}
        rows.append({"line": line, **{name: row.get(name, "") for name in HEADERS}})
    return rows


def parse_date(value: str) -> date | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None
