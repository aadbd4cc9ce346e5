"""Automatic pre-checks on an uploaded document, shown to the operator (warnings, never a block).

For a PDF with text: does the company's SIREN appear, which date does the document certify,
what validity follows, and which verification code does it carry. Scans (images, or PDFs
without text) get no pre-check and say so.

The text is read in a sandboxed child process (``core.sandbox``) within a time budget and from
the first ``MAX_TEXT_PAGES`` pages only: a file built to take minutes costs seconds.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from portal.core import clock, sandbox

log = logging.getLogger(__name__)

MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
}  # fmt: skip
DATE = r"(\d{1,2}(?:er)?[\s\u00a0]+[a-zéèûô]+[\s\u00a0]+\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2})"
CERTIFIED_PATTERNS = (
    rf"à la date du\s+{DATE}",
    rf"situation (?:arrêtée )?au\s+{DATE}",
    rf"à jour (?:de ses obligations )?au\s+{DATE}",
    rf"en date du\s+{DATE}",
    rf"date de délivrance\s*:?\s*{DATE}",
    rf"(?:délivrée?|établie?|éditée?)\s+le\s+{DATE}",
    rf"fait à [^\n,]+,?\s+le\s+{DATE}",
)
PERIOD_PATTERNS = (
    rf"du\s+{DATE}\s+au\s+{DATE}",
    rf"période de validité\s*:?\s*{DATE}\s*[-–]\s*{DATE}",
)
END_PATTERNS = (rf"valable jusqu'au\s+{DATE}", rf"date d'échéance\s*:?\s*{DATE}", rf"expire le\s+{DATE}")
CODE_PATTERNS = (
    r"(?:identifiant|code) de s[ée]curit[ée]\s*:?\s*([A-Z0-9]{8,20})",
    r"code de v[ée]rification\s*:?\s*([A-Za-z0-9]{10})",
)


@dataclass
class Precheck:
    kind: str  # "text", "scan" or "unreadable"
    siren_found: bool | None = None
    certified_on: str | None = None
    proposed_valid_until: str | None = None
    verification_code: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# A date a compliance document can certify: outside these years it is a typo or a trap, not a date.
PLAUSIBLE_YEARS = range(1950, 2101)


def parse_date(text: str) -> date | None:
    """The date written in ``text`` (ISO, dd/mm/yyyy, "1er mars 2026"); None when absent or implausible."""
    found = _parse_date(text)
    return found if found is not None and found.year in PLAUSIBLE_YEARS else None


def _parse_date(text: str) -> date | None:
    text = text.replace("\u00a0", " ").strip().lower()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        match = re.fullmatch(r"(\d{1,2})(?:er)?\s+([a-zéèûô]+)\s+(\d{4})", text)
        if match and match[2] in MONTHS:
            return date(int(match[3]), MONTHS[match[2]], int(match[1]))
    except ValueError:
        return None
    return None


def validity_end(rule: str, months: int | None, issued_on: date, printed_end: date | None = None) -> date | None:
    """The last day a document is valid, from its type's rule."""
    if rule == "months_from_issue" and months:
        return clock.add_months(issued_on, months) - timedelta(days=1)
    if rule == "end_of_year":
        return date(issued_on.year, 12, 31)
    return printed_end


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


def _first(patterns, text: str):
    for pattern in patterns:
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match:
            return match
    return None


def analyse_text(text: str, siren: str, rule: str, months: int | None, has_code: bool) -> Precheck:
    result = Precheck(kind="text")
    compact = re.sub(r"[\s\u00a0.]", "", text)
    result.siren_found = siren in compact
    if not result.siren_found:
        result.warnings.append("Le SIREN de l'entreprise n'apparaît pas dans le document.")
    certified = end = None
    period = _first(PERIOD_PATTERNS, text)
    if rule == "printed_end_date" and period:
        certified, end = parse_date(period[1]), parse_date(period[2])
    else:
        match = _first(CERTIFIED_PATTERNS, text)
        certified = parse_date(match[1]) if match else None
        if rule == "printed_end_date":
            end_match = _first(END_PATTERNS, text)
            end = parse_date(end_match[1]) if end_match else None
    if certified:
        result.certified_on = certified.isoformat()
    else:
        result.warnings.append("Date certifiée introuvable dans le texte.")
    proposed = validity_end(rule, months, certified, end) if certified else end
    if proposed:
        result.proposed_valid_until = proposed.isoformat()
    if has_code:
        code = _first(CODE_PATTERNS, text)
        result.verification_code = code[1] if code else None
        if not code:
            result.warnings.append("Code de vérification introuvable dans le texte.")
    return result


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
) -> Precheck:
    """The pre-check of a file; raises TooSlow when its text takes more than ``seconds`` to read."""
    if content_type != "application/pdf":
        return Precheck(kind="scan", warnings=["Image scannée : pas de vérification automatique."])
    try:
        text = extract_text(data, seconds=seconds, memory_mb=memory_mb)
    except TooSlow:
        raise
    except Exception as exc:  # noqa: BLE001 - a PDF pypdf cannot read is reported, not fatal
        log.warning("pre-check could not read a PDF: %s", exc)
        return Precheck(kind="unreadable", warnings=["Texte illisible : pas de vérification automatique."])
    if len(text.strip()) < 20:
        return Precheck(kind="scan", warnings=["PDF scanné (sans texte) : pas de vérification automatique."])
    return analyse_text(text, siren, rule, months, has_code)


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
