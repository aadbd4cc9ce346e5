"""A client company's identifiers and fiscal year, as pure rules: SIRET, VAT number, NAF code,
the proposed end of a fiscal year and its checks."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from stdnum.fr import siret as siret_number
from stdnum.fr import tva

from portal.core import clock
from portal.models import (
    FiscalYear,
)

NAF = re.compile(r"^\d{2}\.?\d{2}[A-Z]$")


MAX_FISCAL_MONTHS = 24


def proposed_end(starts_on: date) -> date:
    """12 months after the start, minus one day (1 Jan → 31 Dec; 1 Jul → 30 Jun; 29 Feb → 28 Feb)."""
    return clock.add_months(starts_on - timedelta(days=1), 12)


def settled_end(
    starts_on: date | None, ends_on: date | None, shown_start: date | None, shown_end: date | None
) -> tuple[date | None, bool]:
    """The end to keep when a form showed ``shown_start``..``shown_end`` and came back with these dates.

    Returns ``(end, ask)``. Only the start changed (a browser without JavaScript does not refresh the
    end): an end that was our proposal follows the new start; an end the user had chosen is replaced
    by the new proposal, and ``ask`` says the user must check it before going on. An end typed, or a
    start unchanged, is kept as it is; no end at all gets the proposal.
    """
    if starts_on is None:
        return ends_on, False
    if ends_on is None:
        return proposed_end(starts_on), False
    if shown_start is None or starts_on == shown_start or ends_on != shown_end:
        return ends_on, False
    return proposed_end(starts_on), ends_on != proposed_end(shown_start)


def check_fiscal_year(starts_on: date | None, ends_on: date | None, others: list[FiscalYear] = ()) -> dict:
    errors = {}
    if starts_on is None:
        errors["starts_on"] = _l("Indiquez la date de début de l'exercice (JJ/MM/AAAA).")
    if ends_on is None and starts_on is not None:
        errors["ends_on"] = _l("Indiquez la date de fin de l'exercice (JJ/MM/AAAA).")
    if errors:
        return errors
    if ends_on <= starts_on:
        errors["ends_on"] = _l("La fin de l'exercice doit être après son début.")
    elif ends_on >= clock.add_months(starts_on, MAX_FISCAL_MONTHS):
        errors["ends_on"] = _l("Un exercice dure au plus 24 mois.")
    elif any(o.starts_on <= ends_on and starts_on <= o.ends_on for o in others):
        errors["starts_on"] = _l("Cet exercice chevauche un exercice existant du dossier.")
    return errors


def vat_number(siren: str) -> str:
    """The intra-community VAT number of a French company, checked with python-stdnum."""
    key = (12 + 3 * (int(siren) % 97)) % 97
    return "FR" + tva.validate(f"FR{key:02d}{siren}")


def clean_siret(raw: str) -> str | None:
    siret = "".join((raw or "").split())
    return siret if siret_number.is_valid(siret) else None
