"""External compliance platforms (Attestation Légale, Actradis) behind one small interface.

- ``PlatformClient`` speaks the JSON API described in ``compliance_platform_openapi.yaml``:
  ``GET {base}/companies/{account}/documents`` lists a company's documents (external id, type,
  the date it certifies, issue and end dates); ``GET {base}/documents/{id}/file`` returns the file.
  Bearer-token authentication, timeouts, retries with exponential backoff on connection errors,
  timeouts, 429 and 5xx; a clear ``PlatformDown`` when the platform stays down and
  ``PlatformError`` when it answers something we cannot trust (malformed JSON, refused credentials).
- ``SimulatedPlatform`` answers the same questions in-process from a ``SimulatorState`` (the
  embedded default); ``simulator_app`` serves that state over HTTP with the documented API, so the
  client is tested for real against both simulated platforms.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import requests
from werkzeug.wrappers import Request, Response

PLATFORMS = {"attestation_legale": "Attestation Légale", "actradis": "Actradis"}
OPENAPI = "compliance_platform_openapi.yaml"


class PlatformDown(Exception):
    """The platform did not answer after the retries (timeout, refused, 429, 5xx)."""


class PlatformError(Exception):
    """The platform answered, but not something we can use (credentials refused, malformed)."""


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
                raise PlatformError(f"credentials refused (HTTP {response.status_code})")
            if response.status_code != 200:
                raise PlatformError(f"HTTP {response.status_code}: {response.text[:200]}")
            return response
        raise PlatformDown(f"no answer after {self.retries + 1} tries ({problem})")

    def list_documents(self, account: str) -> list[ExternalDocument]:
        response = self._get(f"/companies/{account}/documents")
        try:
            payload = response.json()
        except ValueError as exc:
            raise PlatformError(f"malformed answer: not JSON: {response.text[:100]!r}") from exc
        return parse_documents(payload)

    def fetch(self, external_id: str) -> bytes:
        return self._get(f"/documents/{external_id}/file").content


# --- The simulator -------------------------------------------------------------------------------


@dataclass
class SimulatorState:
    """Documents per platform and account; switches to play an outage or a bad answer."""

    documents: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    malformed: set[str] = field(default_factory=set)
    # Fail once this many files were served (an outage in the middle of a run).
    fail_after_files: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, platform: str, account: str, document: dict, data: bytes) -> None:
        with self.lock:
            self.documents.setdefault(platform, {}).setdefault(account, []).append(document)
            self.files[document["id"]] = data

    def list_payload(self, platform: str, account: str) -> dict:
        if platform in self.down:
            raise PlatformDown(f"{platform} is down")
        if platform in self.malformed:
            return {"documents": [{"id": "x", "type": "URSSAF_VIGILANCE", "issued_on": "hier"}]}
        return {"documents": list(self.documents.get(platform, {}).get(account, []))}

    def file(self, platform: str, external_id: str) -> bytes | None:
        with self.lock:
            if platform in self.down:
                raise PlatformDown(f"{platform} is down")
            left = self.fail_after_files.get(platform)
            if left is not None:
                if left <= 0:
                    self.down.add(platform)
                    raise PlatformDown(f"{platform} went down")
                self.fail_after_files[platform] = left - 1
            return self.files.get(external_id)


class SimulatedPlatform:
    """The interface of ``PlatformClient``, answered in-process from the simulator's state."""

    def __init__(self, state: SimulatorState, platform: str):
        self.state = state
        self.platform = platform

    def list_documents(self, account: str) -> list[ExternalDocument]:
        return parse_documents(self.state.list_payload(self.platform, account))

    def fetch(self, external_id: str) -> bytes:
        data = self.state.file(self.platform, external_id)
        if data is None:
            raise PlatformError(f"HTTP 404: document {external_id} unknown")
        return data


def simulator_app(state: SimulatorState, api_key: str):
    """A WSGI app serving ``/{platform}/api/v1/...`` for both simulated platforms."""

    def _json(body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status, content_type="application/json")

    @Request.application
    def app(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {api_key}":
            return _json({"detail": "Unauthorized"}, 401)
        parts = request.path.strip("/").split("/")
        if len(parts) < 5 or parts[0] not in PLATFORMS or parts[1:3] != ["api", "v1"]:
            return _json({"detail": "Not found"}, 404)
        platform, rest = parts[0], parts[3:]
        try:
            if len(rest) == 3 and rest[0] == "companies" and rest[2] == "documents":
                return _json(state.list_payload(platform, rest[1]))
            if len(rest) == 3 and rest[0] == "documents" and rest[2] == "file":
                data = state.file(platform, rest[1])
                if data is None:
                    return _json({"detail": "Document not found"}, 404)
                return Response(data, 200, content_type="application/pdf")
        except PlatformDown:
            return _json({"detail": "Service unavailable"}, 503)
        return _json({"detail": "Not found"}, 404)

    return app


def demo_state(today: date) -> SimulatorState:
    """The demo world's platforms: Menuiserie Martin's account at Attestation Légale holds a newer
    URSSAF attestation than Vigie's and an older Kbis; Demolitor's at Actradis an URSSAF one."""
    from portal.demo import samples

    state = SimulatorState()
    martin, demolitor = ("812345676", "Menuiserie Martin"), ("830124590", "Demolitor SAS")
    entries = (
        ("attestation_legale", martin, "AL-URSSAF-2026-118", "URSSAF_VIGILANCE", today - timedelta(days=12)),
        ("attestation_legale", martin, "AL-KBIS-2026-031", "KBIS", today - timedelta(days=150)),
        ("actradis", demolitor, "ACT-URSSAF-77", "URSSAF_VIGILANCE", today - timedelta(days=20)),
    )
    for platform, (siren, name), external_id, code, issued in entries:
        verification = f"{external_id[-3:]}VIGIE{siren[-4:]}"
        data = samples.one(code, siren, name, issued, code=verification if code == "URSSAF_VIGILANCE" else None)
        state.add(
            platform,
            siren,
            {
                "id": external_id,
                "type": code,
                "issued_on": issued.isoformat(),
                "certified_on": issued.isoformat(),
                "valid_until": (issued + timedelta(days=180)).isoformat() if code == "URSSAF_VIGILANCE" else None,
                "filename": f"{code.lower()}-{issued:%Y-%m-%d}.pdf",
                "verification_code": verification if code == "URSSAF_VIGILANCE" else None,
            },
            data,
        )
    return state
