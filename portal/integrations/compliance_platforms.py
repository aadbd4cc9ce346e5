"""External compliance platforms (Attestation Légale, Actradis) behind one small interface.

- ``PlatformClient`` speaks the JSON API described in ``compliance_platform_openapi.yaml``:
  ``GET {base}/companies/{account}/documents`` lists a company's documents (external id, type,
  the date it certifies, issue and end dates); ``GET {base}/documents/{id}/file`` returns the file.
  Bearer-token authentication, timeouts, retries with exponential backoff on connection errors,
  timeouts, 429 and 5xx; a clear ``PlatformDown`` when the platform stays down and
  ``PlatformError`` when it answers something we cannot trust (malformed JSON, refused credentials).

The development stand-in for both platforms is ``platform_simulator`` beside this module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import requests

PLATFORMS = {"attestation_legale": "Attestation Légale", "actradis": "Actradis"}
OPENAPI = "compliance_platform_openapi.yaml"


class PlatformDown(Exception):
    """The platform did not answer after the retries (timeout, refused, 429, 5xx)."""


class PlatformError(Exception):
    """The platform answered, but not something we can use (credentials refused, malformed)."""


class CredentialsRefused(PlatformError):
    """The platform refused the connection's API key (401/403)."""


@dataclass(frozen=True)
class ExternalDocument:
    external_id: str
    type_code: str
    issued_on: date
    certified_on: date | None = None
    valid_until: date | None = None
    filename: str = "document.pdf"
    verification_code: str | None = None


def _date(value, name: str, *, required: bool = False) -> date | None:
    if value in (None, ""):
        if required:
            raise PlatformError(f"malformed answer: {name} missing")
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PlatformError(f"malformed answer: {name}={value!r} is not a date") from exc


def parse_documents(payload) -> list[ExternalDocument]:
    """The ``documents`` of a list answer, checked field by field."""
    if not isinstance(payload, dict) or not isinstance(payload.get("documents"), list):
        raise PlatformError("malformed answer: no documents list")
    found = []
    for item in payload["documents"]:
        if not isinstance(item, dict) or not item.get("id") or not item.get("type"):
            raise PlatformError(f"malformed answer: document without id or type: {str(item)[:100]}")
        found.append(
            ExternalDocument(
                external_id=str(item["id"])[:100],
                type_code=str(item["type"]),
                issued_on=_date(item.get("issued_on"), "issued_on", required=True),
                certified_on=_date(item.get("certified_on"), "certified_on"),
                valid_until=_date(item.get("valid_until"), "valid_until"),
                filename=str(item.get("filename") or f"{item['type']}.pdf")[:255],
                verification_code=item.get("verification_code") or None,
            )
        )
    return found


class PlatformClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep=time.sleep,
        session=None,
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.session = session or requests.Session()

    def _get(self, path: str) -> requests.Response:
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.session.get(
                    self.base_url + path,
                    headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code in (401, 403):
                raise CredentialsRefused(f"credentials refused (HTTP {response.status_code})")
            if response.status_code != 200:
                raise PlatformError(f"HTTP {response.status_code}: {response.text[:200]}")
            return response
        raise PlatformDown(f"no answer after {self.retries + 1} tries ({problem})")

    def list_documents(self, account: str) -> list[ExternalDocument]:
        response = self._get(f"/companies/{quote(account, safe='')}/documents")
        try:
            payload = response.json()
        except ValueError as exc:
            raise PlatformError(f"malformed answer: not JSON: {response.text[:100]!r}") from exc
        return parse_documents(payload)

    def fetch(self, external_id: str) -> bytes:
        return self._get(f"/documents/{quote(external_id, safe='')}/file").content
