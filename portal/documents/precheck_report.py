"""``flask precheck-report DIR``: how often the document reader is right, wrong or unsure.

For each file of a corpus whose ``manifest.json`` says by hand what it holds (``portal.demo.corpus``),
per group (development, held out), type and fact: **right**, **wrong** (a value that is not the
expected one) and **unknown** (None) are counted apart. Wrong SIRENs accepted: the file is read
again with each other company's number printed on it given as the company's SIREN; one "match" is
one wrong SIREN accepted. Time per document is measured too. Nothing expected is computed here.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from portal.documents import prechecks, reader
from portal.documents.catalogue import DOCUMENT_TYPES

RULES = {code: (rule, months, has_code) for code, _fr, _en, _i, rule, months, has_code, _c, _a in DOCUMENT_TYPES}
FACTS = ("detected_type", "subject_siren", "certified_on", "valid_until", "verification_code", "headcount")


def _read(text: str, rule_of: str, siren: str, ocr: bool, qr: list[str], **extra) -> reader.Reading:
    rule, months, has_code = RULES[rule_of]
    return reader.read(text, siren=siren, rule=rule, months=months, has_code=has_code, ocr=ocr, qr_texts=qr, **extra)


def _outcome(found, expected) -> str:
    if found is None:
        return "unknown"
    return "right" if found == expected else "wrong"


def measure(directory: Path) -> dict:
    """``{"groups": {group: {type: {fact: {"right", "wrong", "unknown", "files"}}}}, "wrong_siren_accepted",
    "type_warnings": [warned, expected], "silent_wrong": files with a wrong fact and no warning,
    "files", "median_ms"}``."""
    manifest = json.loads((directory / "manifest.json").read_text())
    groups: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(int))))
    wrong_siren = 0
    automatic = automatic_wrong = 0
    type_warned = type_expected = silent_wrong = 0
    timings = []
    for filename, expected in sorted(manifest.items()):
        data = (directory / filename).read_bytes()
        started = time.perf_counter()
        text = prechecks.extract_text(data)
        ocr = len(text.strip()) < 20 and prechecks.ocr_available()
        if ocr:  # a scan: read by OCR, as the upload reads it
            text = prechecks.ocr_text(data)
        chosen = expected["chosen_type"]
        # As the upload decides it (never from the manifest): the type chosen, or the type recognised.
        looks_kbis = chosen in prechecks.QR_TYPES or reader.detect_type(reader.fold(text)) in prechecks.QR_TYPES
        qr = prechecks.qr_texts(data) if not ocr and looks_kbis else []
        found = _read(text, chosen, expected["siren"], ocr, qr, expected_type=chosen)
        timings.append((time.perf_counter() - started) * 1000)
        truly = _read(text, expected["type"], expected["siren"], ocr, qr)  # the facts, by the true type's rule
        tally = groups[expected["group"]][expected["type"]]
        wrong_here = False
        for fact in FACTS:
            want = (
                expected["type"]
                if fact == "detected_type"
                else expected.get("siren" if fact == "subject_siren" else fact)
            )
            if want is None:
                continue  # the document does not print it: not measured
            got = getattr(found if fact == "detected_type" else truly, fact)
            outcome = _outcome(got, want)
            tally[fact][outcome] += 1
            tally[fact]["files"] += 1
            wrong_here |= outcome == "wrong"
        for other in expected["other_sirens"]:
            if reader.read(text, siren=other, ocr=ocr).siren_match is True:
                wrong_siren += 1
        if not ocr:
            eligible = _automatic(text, expected, chosen, qr)
            automatic += eligible
            automatic_wrong += eligible and (wrong_here or expected["type_warning"])
        if expected["type_warning"]:
            type_expected += 1
            type_warned += any("ressemble à" in w for w in found.warnings)
        if wrong_here and not found.warnings:
            silent_wrong += 1
    return {
        "groups": {
            g: {t: {f: dict(c) for f, c in facts.items()} for t, facts in types.items()} for g, types in groups.items()
        },
        "wrong_siren_accepted": wrong_siren,
        "type_warnings": [type_warned, type_expected],
        "silent_wrong": silent_wrong,
        "automatic": [automatic, automatic_wrong],
        "files": len(manifest),
        "median_ms": round(statistics.median(timings), 1) if timings else None,
    }


def _automatic(text: str, expected: dict, chosen: str, qr: list[str]) -> bool:
    """Would this file be validated automatically if its type allowed it, declared by a careful
    supplier (the dates and code it prints, its own name)?"""
    from types import SimpleNamespace

    from portal.documents import auto_validation

    rule, months, has_code = RULES[chosen]
    check = prechecks.analyse_text(
        text, expected["siren"], rule, months, has_code, expected_type=chosen, name=expected["name"], qr_texts=qr
    ).as_dict()
    declared = SimpleNamespace(
        issued_on=date.fromisoformat(expected["certified_on"] or expected["valid_until"]),
        valid_until=date.fromisoformat(expected["valid_until"]) if expected["valid_until"] else None,
        verification_code=expected["verification_code"],
    )
    kind = SimpleNamespace(code=chosen, validity_rule=rule, has_verification_code=has_code)
    accepted = {chosen} | {code for code, *_rest, alternative in DOCUMENT_TYPES if alternative == chosen}
    return not auto_validation.blocking(check, kind, declared, accepted)


def lines(report: dict) -> list[str]:
    """The report as the command prints it."""
    out = [f"{report['files']} files, median {report['median_ms']} ms per document"]
    for group, types in sorted(report["groups"].items()):
        out.append(f"[{group}]")
        for type_code, facts in sorted(types.items()):
            for fact, counts in facts.items():
                files = counts["files"]
                out.append(
                    f"  {type_code:<18} {fact:<18} right {counts.get('right', 0) / files:6.1%}  "
                    f"wrong {counts.get('wrong', 0) / files:6.1%}  unknown {counts.get('unknown', 0) / files:6.1%}"
                    f"  ({files} files)"
                )
    warned, expected = report["type_warnings"]
    out.append(f"wrong SIREN accepted: {report['wrong_siren_accepted']}")
    out.append(f"documents of another type warned: {warned} of {expected}")
    out.append(f"files with a wrong fact and no warning: {report['silent_wrong']}")
    eligible, wrong = report["automatic"]
    out.append(f"would be validated automatically: {eligible} of {report['files']}, of which wrong: {wrong}")
    return out
