"""Company data by SIRET, behind one small interface (used by "Ajouter un client", issue 7).

- ``RechercheEntreprises``: the public API Recherche d'entreprises (``GET /search?q=<siret>``, no key,
  7 requests/s per IP, 429 with ``Retry-After``). Timeouts, an explicit User-Agent, the
  ``Retry-After`` honoured once, and a small in-memory cache.
- ``OfflineDirectory``: a bundled data set, the embedded default (no network needed).
"""

from __future__ import annotations

import csv
import functools
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

USER_AGENT = "Vigie/1.0 (portail de conformité open source; contact: support@vigie.test)"
BUNDLED = Path(__file__).resolve().parent.parent / "data" / "companies.json"


class LookupUnavailable(Exception):
    """The provider could not answer now (timeout, 5xx, still rate-limited): continue by hand."""


@dataclass(frozen=True)
class CompanyData:
    siren: str
    siret: str
    name: str
    legal_form: str
    naf_code: str
    address: str
    postal_code: str
    city: str


def _from_result(result: dict, siret: str) -> CompanyData:
    """One result of the API (or of the bundled set, which keeps the API's shape)."""
    place = next(
        (e for e in result.get("matching_etablissements") or [] if e.get("siret") == siret),
        result.get("siege") or {},
    )
    return CompanyData(
        siren=str(result.get("siren", "")),
        siret=siret,
        name=str(result.get("nom_complet") or result.get("nom_raison_sociale") or ""),
        legal_form=str(result.get("nature_juridique") or ""),
        naf_code=str(result.get("activite_principale") or ""),
        address=street_of(str(place.get("adresse") or ""), place.get("code_postal"), place.get("libelle_commune")),
        postal_code=str(place.get("code_postal") or ""),
        city=str(place.get("libelle_commune") or ""),
    )


class RechercheEntreprises:
    def __init__(self, base_url: str, *, timeout: float = 5.0, max_wait: float = 5.0, cache_seconds: int = 3600):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_wait = max_wait
        self.cache_seconds = cache_seconds
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._cache: dict[str, tuple[float, CompanyData | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, siret: str) -> CompanyData | None:
        with self._lock:
            cached = self._cache.get(siret)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        found = self._fetch(siret)
        with self._lock:
            self._cache[siret] = (time.monotonic() + self.cache_seconds, found)
        return found

    def _fetch(self, siret: str, *, retried: bool = False) -> CompanyData | None:
        try:
            response = self.session.get(f"{self.base_url}/search", params={"q": siret}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise LookupUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 and not retried:
            wait = _retry_after(response.headers.get("Retry-After"))
            if wait is None or wait > self.max_wait:
                raise LookupUnavailable("rate limited")
            time.sleep(wait)
            return self._fetch(siret, retried=True)
        if response.status_code != 200:
            raise LookupUnavailable(f"HTTP {response.status_code}")
        try:
            results = response.json().get("results") or []
        except ValueError as exc:
            raise LookupUnavailable("unreadable answer") from exc
        match = next((r for r in results if str(r.get("siren")) == siret[:9]), None)
        return _from_result(match, siret) if match else None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


class OfflineDirectory:
    """The bundled companies (the demo world and a few more), in the API's shape."""

    def __init__(self, path: Path = BUNDLED):
        self.results = json.loads(path.read_text(encoding="utf-8"))

    def lookup(self, siret: str) -> CompanyData | None:
        for result in self.results:
            sirets = {result.get("siege", {}).get("siret")} | {
                e.get("siret") for e in result.get("matching_etablissements") or []
            }
            if siret in sirets:
                return _from_result(result, siret)
        return None


LEGAL_CATEGORIES = Path(__file__).resolve().parent.parent / "data" / "categories_juridiques.csv"


@functools.cache
def _legal_categories() -> dict[str, str]:
    """INSEE's "catégories juridiques": level III (4 digits) and level II (2 digits), bundled."""
    with LEGAL_CATEGORIES.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["libelle"] for row in csv.DictReader(handle, delimiter=";")}


def legal_form_label(code: str) -> str:
    """INSEE's label for a legal category code ("5485" → "Société d'exercice libéral à responsabilité
    limitée (SELARL)"). A code missing from the bundled list gets its level II family and says so;
    an unknown family says the code is unknown rather than guess; text already written stays."""
    code = (code or "").strip()
    if not (len(code) == 4 and code.isdigit()):
        return code
    categories = _legal_categories()
    if code in categories:
        return categories[code]
    family = categories.get(code[:2])
    if family:
        return f"{family} (catégorie INSEE {code})"
    return f"Catégorie juridique INSEE {code} (libellé inconnu)"


def street_of(address: str, postal_code: str, city: str) -> str:
    """The street part of an address: the API's ``adresse`` already ends with the postcode and city,
    which are shown from their own fields ("14 RUE X 35000 RENNES" → "14 RUE X")."""
    address = " ".join((address or "").split())
    tail = " ".join(f"{postal_code or ''} {city or ''}".split())
    if tail and address.casefold().endswith(tail.casefold()):
        address = address[: -len(tail)].rstrip(" ,")
    return address


def full_address(address: str, postal_code: str, city: str) -> str:
    """ "14 RUE X, 35000 RENNES": the postcode and city once, whatever the street part holds."""
    place = " ".join(f"{postal_code or ''} {city or ''}".split())
    return ", ".join(part for part in (street_of(address, postal_code, city), place) if part)


def identity(organisation) -> str:
    """ "MENUISERIE MARTIN (Société à responsabilité limitée (SARL)), SIREN 812345676, 14 RUE X, 69007
    LYON": how a document the portal signs names a company."""
    form = legal_form_label(organisation.legal_form)
    place = full_address(organisation.address, organisation.postal_code, organisation.city)
    return ", ".join(
        part
        for part in (
            f"{organisation.legal_name} ({form})" if form else organisation.legal_name,
            f"SIREN {organisation.siren}",
            place,
        )
        if part
    )


def directory():
    """The company-data provider chosen by configuration (one per app, so the cache is shared)."""
    from flask import current_app

    found = current_app.extensions.get("vigie_company_data")
    if found is None:
        config = current_app.config
        if config["COMPANY_DATA_BACKEND"] == "api":
            found = RechercheEntreprises(config["COMPANY_DATA_API_URL"], timeout=config["COMPANY_DATA_TIMEOUT"])
        else:
            found = OfflineDirectory()
        current_app.extensions["vigie_company_data"] = found
    return found
