"""Automatic pre-checks on an uploaded document, shown to the operator (warnings, never a block).

For a PDF with text: does the company's SIREN appear, which date does the document certify,
what validity follows, and which verification code does it carry. Scans (images, or PDFs
without text) get no pre-check and say so.

The text is read in a sandboxed child process (``core.sandbox``) within a time budget and from
the first ``MAX_TEXT_PAGES`` pages only: a file built to take minutes costs seconds.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date

from portal.core import sandbox
from portal.documents import reader

log = logging.getLogger(__name__)


@dataclass
class Precheck:
    kind: str  # "text", "scan" or "unreadable"
    # True only when the company is the document's subject (not the issuer's, an auditor's…);
    # False when another company is, or its number is printed only in another role; None: unsure.
    siren_found: bool | None = None
    certified_on: str | None = None
    proposed_valid_until: str | None = None
    verification_code: str | None = None
    warnings: list[str] = field(default_factory=list)
    detected_type: str | None = None
    subject_siren: str | None = None
    name_match: bool | None = None
    evidence: dict = field(default_factory=dict)  # fact -> the words it was read from
    confidence: dict = field(default_factory=dict)
    ocr: bool = False  # the text was read from the image by Tesseract ("lu par OCR")
    headcount: int | None = None  # printed on an URSSAF attestation
    payroll: int | None = None
    issuer: str | None = None  # "urssaf", "msa", "greffe": where the code is checked

    def as_dict(self) -> dict:
        return asdict(self)


def parse_date(text: str) -> date | None:
    """The date written in ``text`` ("31/10/2026", "31.10.2026", "1er octobre 2026", ISO); None when
    absent or implausible."""
    found = reader.labelled_dates(reader.fold(reader.normalise(text)))
    return found[0].value if len(found) == 1 else None


def validity_end(rule: str, months: int | None, issued_on: date, printed_end: date | None = None) -> date | None:
    """The end of a document's validity from its type's rule (``reader.validity_end``: art. 641 CPC)."""
    return reader.validity_end(rule, months, issued_on, printed_end)


OCR_SECONDS = 60.0  # a scan read outside a request (the command, the job)
MAX_TEXT_PAGES = 10  # an attestation is one to three pages; the rest is never read
TOO_LONG = "Analyse trop longue : pas de vérification automatique."


class TooSlow(Exception):
    """Reading the text did not fit in the time given."""


def extract_text(data: bytes, *, seconds: float | None = None, memory_mb: int = 768) -> str:
    """The text of the first pages. ``seconds``: read in the sandbox within that time (an upload);
    None: read here, for files Vigie made itself (the demo's samples, the measured corpus)."""
    if seconds is None:
        return sandbox.pdf_text(data, MAX_TEXT_PAGES).decode()
    try:
        raw = sandbox.run("pdf_text", data, seconds=seconds, memory_mb=memory_mb, max_pages=MAX_TEXT_PAGES)
    except sandbox.SandboxError as exc:
        if exc.timed_out:
            raise TooSlow(str(exc)) from exc
        raise
    return raw.decode("utf-8", errors="replace")


def analyse_text(
    text: str,
    siren: str,
    rule: str,
    months: int | None,
    has_code: bool,
    *,
    expected_type: str | None = None,
    name: str | None = None,
    ocr: bool = False,
    qr_texts: list[str] = (),
) -> Precheck:
    """What the document reader finds in the text, as the pre-check report operators read."""
    found = reader.read(
        text,
        expected_type=expected_type,
        siren=siren or None,
        name=name,
        rule=rule,
        months=months,
        has_code=has_code,
        ocr=ocr,
        qr_texts=qr_texts,
    )
    return Precheck(
        kind=found.kind,
        ocr=ocr,
        siren_found=found.siren_match,
        certified_on=found.certified_on,
        proposed_valid_until=found.valid_until,
        verification_code=found.verification_code,
        warnings=found.warnings,
        detected_type=found.detected_type,
        subject_siren=found.subject_siren,
        name_match=found.name_match,
        evidence=found.evidence,
        confidence=found.confidence,
        headcount=found.headcount,
        payroll=found.payroll,
        issuer=found.issuer,
    )


def run(
    data: bytes,
    content_type: str,
    siren: str,
    rule: str,
    months: int | None,
    has_code: bool,
    *,
    seconds: float | None = None,
    memory_mb: int = 768,
    expected_type: str | None = None,
    name: str | None = None,
) -> Precheck:
    """The pre-check of a file; raises TooSlow when its text takes more than ``seconds`` to read.
    A scan (an image, a PDF without text) is read by OCR when Tesseract is installed."""
    facts = {"expected_type": expected_type, "name": name}
    if content_type != "application/pdf":
        unread = "Image scannée : pas de vérification automatique."
        return _scan(data, unread, siren, rule, months, has_code, seconds, memory_mb, facts)
    try:
        text = extract_text(data, seconds=seconds, memory_mb=memory_mb)
    except TooSlow:
        raise
    except Exception as exc:  # noqa: BLE001 - a PDF pypdf cannot read is reported, not fatal
        log.warning("pre-check could not read a PDF: %s", exc)
        return Precheck(kind="unreadable", warnings=["Texte illisible : pas de vérification automatique."])
    if len(text.strip()) < 20:
        unread = "PDF scanné (sans texte) : pas de vérification automatique."
        return _scan(data, unread, siren, rule, months, has_code, seconds, memory_mb, facts)
    looks = expected_type in QR_TYPES or reader.detect_type(reader.fold(reader.normalise(text))) in QR_TYPES
    qr = qr_texts(data, seconds) if has_code and looks else []
    return analyse_text(text, siren, rule, months, has_code, qr_texts=qr, **facts)


QR_TYPES = ("KBIS",)  # an extract carries its verification code in a QR code too
QR_SECONDS = 10.0


def qr_texts(data: bytes, seconds: float | None = None) -> list[str]:
    """The QR codes printed on a PDF's first pages (zxing-cpp over pypdfium2's drawing); none when
    they cannot be read within the time. ``seconds``: in the sandbox (an upload); None: read here,
    as ``extract_text`` does, for files Vigie made itself."""
    if seconds is None:
        return json.loads(sandbox.pdf_qr(data))
    try:
        return json.loads(sandbox.run("pdf_qr", data, seconds=min(seconds, QR_SECONDS)))
    except (sandbox.SandboxError, ValueError) as exc:
        log.warning("QR codes not read: %s", exc)
        return []


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_text(data: bytes, seconds: float = OCR_SECONDS) -> str:
    """The text of a scan read by Tesseract, in the sandbox."""
    return sandbox.run("ocr_text", data, seconds=seconds, memory_mb=1024).decode("utf-8", errors="replace")


def _scan(data, unread, siren, rule, months, has_code, seconds, memory_mb, facts) -> Precheck:
    """A scan read by OCR (every fact of low confidence, said "lu par OCR"), or said not read."""
    if not ocr_available():
        return Precheck(kind="scan", warnings=[unread + " (OCR non installé)"])
    try:
        text = ocr_text(data, seconds or OCR_SECONDS)
    except sandbox.SandboxError as exc:
        if exc.timed_out and seconds is not None:
            raise TooSlow(str(exc)) from exc
        log.warning("OCR failed: %s", exc)
        return Precheck(kind="scan", warnings=[unread])
    if len(text.strip()) < 20:
        return Precheck(kind="scan", warnings=[unread])
    return analyse_text(text, siren, rule, months, has_code, ocr=True, **facts)


def compare(result: dict, issued_on: date, valid_until: date | None, code: str | None) -> list[str]:
    """Mismatches between what the supplier typed and what the document says (warnings)."""
    warnings = []
    if result.get("certified_on") and result["certified_on"] != issued_on.isoformat():
        warnings.append(f"Date saisie {issued_on:%d/%m/%Y}, le document indique {_fr(result['certified_on'])}.")
    proposed = result.get("proposed_valid_until")
    if proposed and valid_until and proposed != valid_until.isoformat():
        warnings.append(f"Validité saisie jusqu'au {valid_until:%d/%m/%Y}, le document indique {_fr(proposed)}.")
    if result.get("verification_code") and code and result["verification_code"].upper() != code.upper():
        warnings.append("Le code de vérification saisi diffère de celui du document.")
    return warnings


def _fr(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")
