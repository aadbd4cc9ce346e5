"""The document reader, measured on a corpus written the way other hands write attestations
(``portal.demo.corpus``: hand-written expectations, traps in every role), and fact by fact."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from portal.demo import corpus
from portal.documents import prechecks, reader
from portal.documents.precheck_report import measure

ROOT = Path(__file__).resolve().parents[2]
# One xdist worker reads the corpus (its fixtures are module-wide): `make test` runs --dist loadgroup.
pytestmark = pytest.mark.xdist_group("reader")


@pytest.fixture(scope="module")
def attestations(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("attestations")
    written = corpus.generate(directory, 12)
    assert len(written) == 12 * (len(corpus.DEVELOPMENT) + len(corpus.HELD_OUT))
    return directory


@pytest.fixture(scope="module")
def report(attestations) -> dict:
    return measure(attestations)


def test_every_fact_is_right_in_95_percent_and_wrong_in_at_most_1_percent(report):
    assert set(report["groups"]) == {"development", "held_out"}
    for group, types in report["groups"].items():
        for type_code, facts in types.items():
            for fact, counts in facts.items():
                right, wrong = counts.get("right", 0) / counts["files"], counts.get("wrong", 0) / counts["files"]
                assert right >= 0.95, f"{group} {type_code} {fact}: right in {right:.0%}"
                assert wrong <= 0.01, f"{group} {type_code} {fact}: wrong in {wrong:.0%}"


def test_no_other_company_number_is_ever_accepted_and_every_wrong_type_is_said(report):
    assert report["wrong_siren_accepted"] == 0
    warned, expected = report["type_warnings"]
    assert expected > 0 and warned == expected
    assert report["silent_wrong"] == 0
    assert report["median_ms"] < 300
    eligible, wrong = report["automatic"]
    assert eligible > 0 and wrong == 0  # what automatic validation would let through, never a wrong one


def test_the_report_counts_wrong_apart_from_unknown(tmp_path):
    """A corpus whose manifest is wrong on purpose: the report says "wrong", never "right"."""
    corpus.generate(tmp_path, 2)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    first = next(name for name, e in manifest.items() if e["type"] == "URSSAF_VIGILANCE")
    manifest[first]["certified_on"] = "2001-01-01"
    manifest[first]["siren"] = manifest[first]["other_sirens"][0]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    found = measure(tmp_path)["groups"]["development"]["URSSAF_VIGILANCE"]
    assert found["certified_on"]["wrong"] == 1 and found["subject_siren"]["wrong"] == 1


def test_precheck_report_command_prints_right_wrong_and_unknown(attestations):
    result = subprocess.run(
        [Path(sys.executable).parent / "flask", "--app", "wsgi", "precheck-report", str(attestations)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "[held_out]" in result.stdout and "wrong SIREN accepted: 0" in result.stdout
    assert "URSSAF_VIGILANCE   certified_on       right 100.0%  wrong   0.0%  unknown   0.0%" in result.stdout


def test_read_document_prints_one_json_object(attestations):
    manifest = json.loads((attestations / "manifest.json").read_text())
    name, expected = next((n, e) for n, e in manifest.items() if e["template"] == "kbis_officers")
    command = [Path(sys.executable).parent / "flask", "--app", "wsgi", "read-document", str(attestations / name)]
    mine = subprocess.run([*command, "--type", "KBIS", "--siren", expected["siren"]], **_run()).stdout
    found = json.loads(mine)
    assert found["detected_type"] == "KBIS" and found["siren_match"] is True and found["kind"] == "text"
    assert found["certified_on"] == expected["certified_on"] and found["valid_until"] == expected["valid_until"]
    assert found["verification_code"] == expected["verification_code"] and found["ocr"] is False
    assert "à jour au" in found["evidence"]["certified_on"]
    auditor = json.loads(subprocess.run([*command, "--siren", expected["other_sirens"][0]], **_run()).stdout)
    assert auditor["siren_match"] is False
    assert json.loads(subprocess.run(command, **_run()).stdout)["siren_match"] is None


def _run() -> dict:
    return {"cwd": ROOT, "capture_output": True, "text": True, "check": True}


# --- Fact by fact -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("certified", "months", "end"),
    [
        (date(2026, 10, 15), 6, date(2027, 4, 15)),  # the issue's examples (art. 641 CPC)
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 11, 22), 3, date(2027, 2, 22)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
    ],
)
def test_validity_is_the_same_day_n_months_later_clamped_to_the_month_end(certified, months, end):
    assert reader.validity_end("months_from_issue", months, certified) == end
    assert prechecks.validity_end("months_from_issue", months, certified) == end


def test_other_rules():
    assert reader.validity_end("end_of_year", None, date(2026, 3, 1)) == date(2026, 12, 31)
    assert reader.validity_end("printed_end_date", None, date(2026, 3, 1), date(2027, 2, 28)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1er octobre 2026", date(2026, 10, 1)),
        ("jeudi 15 octobre 2026", date(2026, 10, 15)),
        ("15/10/2026", date(2026, 10, 15)),
        ("03.02.2026", date(2026, 2, 3)),
        ("2026-08-31", date(2026, 8, 31)),
        ("31 février 2026", None),
        ("15 brumaire 2026", None),
        ("15/12/9999", None),
    ],
)
def test_french_dates(text, expected):
    assert prechecks.parse_date(text) == expected


MARTIN = "812345676"


def test_a_siren_inside_a_longer_number_is_not_a_siren():
    text = f"Attestation de vigilance. Référence de dossier 4{MARTIN}1234 — à jour à la date du 01/10/2026."
    found = reader.read(text, siren=MARTIN, rule="months_from_issue", months=6)
    assert found.siren_match is False and found.subject_siren is None


@pytest.mark.parametrize(
    ("line", "role"),
    [
        (f"Urssaf Rhône-Alpes — SIRET {MARTIN}00017", "de l'organisme qui délivre le document"),
        (f"Commissaire aux comptes : Audit Conseil, RCS Lyon {MARTIN}", "d'un commissaire aux comptes"),
        (f"Président : Holding Martin SAS, SIREN {MARTIN}", "d'un dirigeant, associé ou société mère"),
        (f"Votre courtier : Cabinet Dumas, ORIAS 07001234, SIREN {MARTIN}", "d'un courtier ou intermédiaire"),
    ],
)
def test_the_company_number_printed_only_in_another_role_is_not_a_match_and_the_role_is_named(line, role):
    text = f"Attestation de vigilance\nL'Urssaf atteste que l'entreprise Autre SARL, SIREN 732 829 320,\n{line}"
    found = reader.read(text, siren=MARTIN, rule="months_from_issue", months=6)
    assert found.subject_siren == "732829320" and found.siren_match is False
    assert found.warnings[0] == f"Le document concerne le SIREN 732829320, pas celui de l'entreprise ({MARTIN})."
    alone = reader.read(f"Attestation de vigilance\n{line}", siren=MARTIN, rule="months_from_issue", months=6)
    assert alone.siren_match is False
    assert any(role in warning for warning in alone.warnings)


def test_the_situation_date_never_comes_from_the_issue_date_and_cannot_follow_it():
    issued_only = reader.read(
        f"Attestation de vigilance\nL'entreprise X, SIREN {MARTIN}\nDélivrée le 12/10/2026", rule="months_from_issue"
    )
    assert issued_only.certified_on is None
    assert "Seule la date de délivrance figure" in issued_only.warnings[0]
    impossible = reader.read(
        f"Attestation de vigilance\nSIREN {MARTIN}\nDélivrée le 01/10/2026\nà jour à la date du 15/10/2026",
        rule="months_from_issue",
        months=6,
    )
    assert impossible.certified_on is None and any("postérieure" in w for w in impossible.warnings)


def test_text_is_normalised_before_reading():
    text = "Le directeur certiﬁe que l\u2019entreprise X, SIREN\u00a0812\u00a0345\u00a0676, est à jour de ses obli-"
    text += "\ngations"
    assert "certifie que l'entreprise X, SIREN 812 345 676, est à jour de ses obligations" in reader.normalise(text)


def test_a_code_on_the_next_line_and_under_other_labels_is_read():
    for label in ("Code sécurité :", "Code d'authentification", "Code de contrôle :", "Code de vérification"):
        found = reader.read(f"Attestation de vigilance\nSIREN {MARTIN}\n{label}\nAB12CD34EF56GH78", has_code=True)
        assert found.verification_code == "AB12CD34EF56GH78", label
        assert "AB12CD34EF56GH78" in found.evidence["verification_code"]


def test_a_kbis_uploaded_as_an_urssaf_attestation_is_said_so():
    text = f"Greffe du tribunal de commerce de Lyon\nExtrait Kbis\nImmatriculation au RCS, numéro {MARTIN}"
    found = reader.read(text, expected_type="URSSAF_VIGILANCE", siren=MARTIN)
    assert found.detected_type == "KBIS"
    assert "Ce document ressemble à un extrait Kbis, pas au type choisi." in found.warnings


def test_the_company_name_is_compared_without_case_accents_or_legal_form():
    text = f"Attestation de vigilance\nL'entreprise MENUISERIE MARTIN SARL, SIREN {MARTIN}"
    assert reader.read(text, name="Menuiserie Martin").name_match is True
    assert reader.read(text, name="Ménuiserie  martin (SAS)").name_match is True
    assert reader.read(text, name="Charpente Dubois").name_match is False


def test_mismatch_and_missing_siren_are_warnings():
    text = "Urssaf atteste que l'entreprise Autre SARL, SIREN 111 111 118, est à jour à la date du 01/10/2026."
    result = prechecks.analyse_text(text, "812345676", "months_from_issue", 6, True).as_dict()
    assert result["siren_found"] is False and result["subject_siren"] == "111111118"
    assert result["certified_on"] == "2026-10-01" and result["proposed_valid_until"] == "2027-04-01"
    assert "Code de vérification introuvable dans le texte." in result["warnings"]
    warnings = prechecks.compare(result, date(2026, 9, 1), date(2027, 2, 28), None)
    assert warnings[0] == "Date saisie 01/09/2026, le document indique 01/10/2026."


@pytest.mark.parametrize("written", ["15/12/9999", "01/01/0001", "31 décembre 9999"])
def test_an_implausible_year_is_no_date_and_no_crash(written):
    text = f"Entreprise 812 345 676 — situation au {written}. Attestation de vigilance."
    result = prechecks.analyse_text(text, "812345676", "months_from_issue", 6, has_code=False)
    assert result.certified_on is None and result.proposed_valid_until is None
    assert "Date certifiée introuvable dans le texte." in result.warnings


# --- Scans, read by OCR ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> dict:
    import os

    if not prechecks.ocr_available():
        if os.environ.get("VIGIE_REQUIRE_OCR") == "1":
            pytest.fail("Tesseract is required (apt-get install tesseract-ocr tesseract-ocr-fra)", pytrace=False)
        pytest.skip("Tesseract not installed: scans are said not read")
    directory = tmp_path_factory.mktemp("scans")
    written = corpus.generate(directory, 2)
    corpus.scans(directory, written, every=2)  # one scan per template
    manifest = json.loads((directory / "manifest.json").read_text())
    for name in [n for n, e in manifest.items() if e["group"] != "scan"]:
        (directory / name).unlink()
        del manifest[name]
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return measure(directory)


def test_scans_are_read_by_ocr_right_in_80_percent_and_never_with_a_wrong_siren(scanned):
    facts = [counts for types in scanned["groups"].values() for facts in types.values() for counts in facts.values()]
    right = sum(c.get("right", 0) for c in facts) / sum(c["files"] for c in facts)
    wrong = sum(c.get("wrong", 0) for c in facts)
    assert right >= 0.80 and wrong == 0, (right, wrong)
    assert scanned["wrong_siren_accepted"] == 0 and scanned["silent_wrong"] == 0
    codes = [
        c for types in scanned["groups"].values() for f, c in types.get("KBIS", {}).items() if f == "verification_code"
    ]
    assert all(c.get("right", 0) == 0 for c in codes)  # a code read by OCR is never kept


def test_an_uploaded_scan_is_marked_read_by_ocr(tmp_path):
    if not prechecks.ocr_available():
        pytest.skip("Tesseract not installed")
    written = corpus.generate(tmp_path, 1)
    urssaf = next(e for e in written if e.template == "urssaf_plain")
    scan = corpus.scans(tmp_path, [urssaf], every=1)[0]
    found = prechecks.run(
        (tmp_path / scan.filename).read_bytes(), "application/pdf", urssaf.siren, "months_from_issue", 6, True
    )
    assert found.kind == "scan" and found.ocr is True and found.siren_found is True
    assert found.certified_on == urssaf.certified_on and found.verification_code is None
    assert found.warnings[0] == "Lu par OCR : chaque information lue est à vérifier sur le document."
    assert set(found.confidence.values()) == {"low"}


def test_the_kbis_qr_code_gives_confirms_or_contradicts_the_code(attestations):
    manifest = json.loads((attestations / "manifest.json").read_text())
    only_qr = next(n for n, e in manifest.items() if e["template"] == "kbis_plain_words")
    data = (attestations / only_qr).read_bytes()
    qr = prechecks.qr_texts(data)
    assert len(qr) == 1 and "verification?code=" in qr[0]
    found = prechecks.run(data, "application/pdf", manifest[only_qr]["siren"], "months_from_issue", 3, True)
    assert found.verification_code == manifest[only_qr]["verification_code"]
    assert found.evidence["verification_code"].startswith("QR code : ")
    text = "Extrait Kbis\nRCS Lyon 812 345 676\nCode de vérification : ABCDE12345"
    agreed = reader.read(text, has_code=True, qr_texts=["https://greffe.example/verification?code=ABCDE12345"])
    assert (
        agreed.verification_code == "ABCDE12345" and "confirmé par le QR code" in agreed.evidence["verification_code"]
    )
    differs = reader.read(text, has_code=True, qr_texts=["https://greffe.example/verification?code=ZZZZZ99999"])
    assert differs.verification_code is None
    assert "Le code imprimé diffère de celui du QR code : aucun n'est retenu." in differs.warnings


@pytest.fixture(scope="module")
def written_warnings(attestations) -> set[str]:
    """What the reader says of the corpus read right, as another company's, as another type, as a scan."""
    from portal.documents import auto_validation

    manifest = json.loads((attestations / "manifest.json").read_text())
    written = {prechecks.TOO_LONG, reader.OCR_WARNING, auto_validation.SAMPLED}
    for filename, expected in sorted(manifest.items()):
        text = prechecks.extract_text((attestations / filename).read_bytes())
        for siren, kind, name in (
            (expected["siren"], expected["chosen_type"], "Menuiserie Martin"),
            ("732829320", "URSSAF_VIGILANCE", None),
            (expected["siren"], "KBIS", None),
        ):
            for ocr in (False, True):
                found = reader.read(text, expected_type=kind, siren=siren, name=name, has_code=True, ocr=ocr)
                written.update(found.warnings)
    result = {"certified_on": "2026-10-31", "proposed_valid_until": "2027-04-30", "verification_code": "ABC123"}
    written.update(prechecks.compare(result, date(2026, 10, 30), date(2027, 4, 29), "XYZ987"))
    written.update(reader.read("Extrait Kbis " * 3, qr_texts=["https://x/?code=OTHER1234"], has_code=True).warnings)
    written.update(reader.read("Attestation de vigilance", siren="812345676", name="Martin").warnings)
    return written


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # only the locale matters
def test_every_warning_the_reader_writes_is_shown_in_english_on_an_english_page(app, written_warnings):
    """The reader writes French (stored, printed by read-document); pages say it in their language."""
    from flask_babel import force_locale

    from portal.documents import warning_text

    written = written_warnings
    assert len(written) >= 15  # the corpus provokes most of what the reader can say
    unknown = sorted(w for w in written if not warning_text.known(w))
    assert unknown == []
    with app.test_request_context():
        with force_locale("en"):
            english = {w: warning_text.shown(w) for w in written}
        with force_locale("fr"):
            assert all(warning_text.shown(w) == w for w in written)  # the French sentence is the msgid
    still_french = [said for said in english.values() if said in written]
    assert still_french == []
    assert english["Le SIREN de l'entreprise n'apparaît pas dans le document."] == (
        "The company's SIREN does not appear in the document."
    )
