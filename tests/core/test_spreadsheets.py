"""Every CSV export neutralises what a spreadsheet would run (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import io

import pytest

from portal.core.spreadsheets import csv_text


@pytest.mark.parametrize(
    "typed",
    ['=HYPERLINK("http://evil.example","clic")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1", "\r=1"],
)
def test_a_cell_a_spreadsheet_would_run_is_shown_as_text(typed):
    rows = list(
        csv.reader(io.StringIO(csv_text(["a", "b"], [[typed, "Menuiserie Martin"]]), newline=""), delimiter=";")
    )
    assert rows[1] == ["'" + typed, "Menuiserie Martin"]


def test_plain_text_numbers_and_the_bom_are_left_alone():
    text = csv_text(["Nom", "Nombre"], [["Boulangerie", -3], ["l'atelier = 2", 7]], bom=True)
    assert text.startswith("\ufeffNom;Nombre")
    assert text.splitlines()[1:] == ["Boulangerie;-3", "l'atelier = 2;7"]
