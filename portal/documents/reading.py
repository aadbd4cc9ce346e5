"""One document read from its bytes, as ``flask read-document`` prints it (JSON for the outside world).

The same reader as the upload, the platform sync and the review page (``prechecks`` → ``reader``).
"""

from __future__ import annotations

from portal.core import uploads
from portal.documents import prechecks
from portal.documents.catalogue import DOCUMENT_TYPES

RULES = {code: (rule, months, has_code) for code, _fr, _en, _i, rule, months, has_code, _c, _a in DOCUMENT_TYPES}
READ_SECONDS = 20.0  # the hardening budget of a file read outside a request


def read_file(data: bytes, type_code: str | None, siren: str | None, name: str | None) -> dict:
    """``{"kind", "ocr", "detected_type", "subject_siren", "siren_match", "name_match", "certified_on",
    "valid_until", "verification_code", "headcount", "warnings", "evidence"}``; unknown facts are None,
    ``siren_match`` is None without ``siren``."""
    content_type = uploads.detect_or_none(data)
    rule, months, has_code = RULES.get(type_code or "", (None, None, True))
    if content_type is None:
        found = prechecks.Precheck(kind="unreadable", warnings=["Ce fichier n'est ni un PDF, ni un JPEG, ni un PNG."])
    else:
        try:
            found = prechecks.run(
                data,
                content_type,
                siren or "",
                rule,
                months,
                has_code,
                seconds=READ_SECONDS,
                expected_type=type_code,
                name=name,
            )
        except prechecks.TooSlow:
            found = prechecks.Precheck(kind="unreadable", warnings=[prechecks.TOO_LONG])
    return {
        "kind": found.kind,
        "ocr": found.ocr,
        "detected_type": found.detected_type,
        "subject_siren": found.subject_siren,
        "siren_match": found.siren_found if siren else None,
        "name_match": found.name_match if name else None,
        "certified_on": found.certified_on,
        "valid_until": found.proposed_valid_until,
        "verification_code": found.verification_code,
        "headcount": found.headcount,
        "warnings": found.warnings,
        "evidence": found.evidence,
    }
