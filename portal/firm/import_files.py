"""The import file itself: the columns and the downloadable templates (the file is read by
``portal.core.spreadsheets``: CSV or XLSX, bounded)."""

from __future__ import annotations

import io

from flask_babel import lazy_gettext as _l

from portal.core import spreadsheets
from portal.core.spreadsheets import ImportFileError, csv_text, parse_date

__all__ = ["COLUMNS", "HEADERS", "ImportFileError", "parse_date", "read_rows", "template_csv", "template_xlsx"]

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


def read_rows(filename: str, data: bytes) -> list[dict]:
    """The rows of a client import as dicts keyed by our column names, with their line number."""
    return spreadsheets.read_rows(filename, data, COLUMNS)
