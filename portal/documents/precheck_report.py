"""``flask precheck-report DIR``: how often the pre-checks find what a document says."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from portal.documents import prechecks
from portal.documents.catalogue import DOCUMENT_TYPES

RULES = {code: (rule, months, has_code) for code, _fr, _en, _i, rule, months, has_code, _c, _a in DOCUMENT_TYPES}


def measure(directory: Path) -> dict[str, dict[str, float]]:
    """Per type: share of files where SIREN, certified date and validity were found (and right,
    when ``manifest.json`` says what each file holds)."""
    manifest_path = directory / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path in sorted(directory.glob("*.pdf")):
        expected = manifest.get(path.name, {})
        type_code = expected.get("type") or path.name.split("-")[0]
        rule, months, has_code = RULES.get(type_code, ("printed_end_date", None, False))
        siren = expected.get("siren", "")
        result = prechecks.run(path.read_bytes(), "application/pdf", siren, rule, months, has_code).as_dict()
        tally = counts[type_code]
        tally["files"] += 1
        tally["siren"] += bool(result["siren_found"])
        tally["certified_date"] += _hit(result["certified_on"], expected.get("certified_on"))
        tally["validity"] += _hit(result["proposed_valid_until"], expected.get("valid_until"))
        if has_code:
            tally["code_files"] += 1
            tally["verification_code"] += _hit(result["verification_code"], expected.get("verification_code"))
    report = {}
    for type_code, tally in sorted(counts.items()):
        files = tally["files"]
        report[type_code] = {
            "files": files,
            "siren": tally["siren"] / files,
            "certified_date": tally["certified_date"] / files,
            "validity": tally["validity"] / files,
        }
        if tally["code_files"]:
            report[type_code]["verification_code"] = tally["verification_code"] / tally["code_files"]
    return report


def _hit(found, expected) -> bool:
    if found is None:
        return False
    return expected is None or found == expected
