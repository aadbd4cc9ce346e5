"""Pre-checks measured on the generated attestations (URSSAF, MSA, Kbis, insurance; several layouts)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from portal.demo import samples
from portal.documents import prechecks
from portal.documents.precheck_report import measure

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def attestations(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("attestations")
    written = samples.generate(directory, 60)
    assert len(written) == 60 and any(sample.pages > 1 for sample in written)
    return directory


def test_prechecks_find_siren_date_and_validity_on_at_least_95_percent(attestations):
    report = measure(attestations)
    assert set(report) == {"URSSAF_VIGILANCE", "KBIS", "RC_PRO", "DECENNALE"}
    for type_code, row in report.items():
        for fact in ("siren", "certified_date", "validity"):
            assert row[fact] >= 0.95, f"{type_code}: {fact} found in only {row[fact]:.0%}"
        if "verification_code" in row:
            assert row["verification_code"] >= 0.95


def test_precheck_report_command_prints_the_shares(attestations):
    result = subprocess.run(
        [Path(sys.executable).parent / "flask", "--app", "wsgi", "precheck-report", str(attestations)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "URSSAF_VIGILANCE" in result.stdout and "overall certified_date: 100.0%" in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1er octobre 2026", date(2026, 10, 1)),
        ("15/10/2026", date(2026, 10, 15)),
        ("03.02.2026", date(2026, 2, 3)),
        ("2026-08-31", date(2026, 8, 31)),
        ("31 février 2026", None),
        ("15 brumaire 2026", None),
    ],
)
def test_french_dates(text, expected):
    assert prechecks.parse_date(text) == expected


def test_validity_rules():
    assert prechecks.validity_end("months_from_issue", 6, date(2026, 8, 31)) == date(2027, 2, 27)
    assert prechecks.validity_end("months_from_issue", 3, date(2026, 11, 22)) == date(2027, 2, 21)
    assert prechecks.validity_end("end_of_year", None, date(2026, 3, 1)) == date(2026, 12, 31)
    assert prechecks.validity_end("printed_end_date", None, date(2026, 3, 1), date(2027, 2, 28)) == date(2027, 2, 28)


def test_mismatch_and_missing_siren_are_warnings():
    text = "Urssaf atteste que l'entreprise Autre SARL, SIREN 111 111 118, est à jour à la date du 01/10/2026."
    result = prechecks.analyse_text(text, "812345676", "months_from_issue", 6, True).as_dict()
    assert result["siren_found"] is False
    assert result["certified_on"] == "2026-10-01" and result["proposed_valid_until"] == "2027-03-31"
    assert "Le SIREN de l'entreprise n'apparaît pas dans le document." in result["warnings"]
    assert "Code de vérification introuvable dans le texte." in result["warnings"]
    warnings = prechecks.compare(result, date(2026, 9, 1), date(2027, 2, 28), None)
    assert warnings[0] == "Date saisie 01/09/2026, le document indique 01/10/2026."


@pytest.mark.parametrize("written", ["15/12/9999", "01/01/0001", "31 décembre 9999"])
def test_an_implausible_year_is_no_date_and_no_crash(written):
    text = f"Entreprise 812 345 676 — situation au {written}. Attestation de vigilance."
    result = prechecks.analyse_text(text, "812345676", "months_from_issue", 6, has_code=False)
    assert result.certified_on is None and result.proposed_valid_until is None
    assert "Date certifiée introuvable dans le texte." in result.warnings
