"""E-signature providers: the state of a signature request, behind one small interface.

- ``YousignClient`` speaks Yousign's public API v3 as documented on developers.yousign.com:
  ``GET /signature_requests/{id}`` with ``Authorization: Bearer <key>`` answers the request with
  its ``status`` (draft, approval, rejected, ongoing, declined, expired, deleted, canceled, done);
  webhooks carry ``X-Yousign-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``.
- ``SimulatedYousign`` answers the same questions in-process for development; ``simulator_app``
  serves the same answers over HTTP in Yousign's shape, so the client is tested for real.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import requests
from werkzeug.wrappers import Request, Response

FINAL_STATUSES = ("done", "declined", "expired", "canceled", "deleted", "rejected")


class ProviderDown(Exception):
    """The provider could not answer (timeout, connection refused, 5xx, 429): try again later."""


class UnknownRequest(Exception):
    """The provider does not know this signature request (404)."""


class YousignClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0, session=None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()

    def status(self, request_id: str) -> str:
        try:
            response = self.session.get(
                f"{self.base_url}/signature_requests/{request_id}",
                headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise ProviderDown(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            raise UnknownRequest(request_id)
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderDown(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise ProviderDown(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            return str(response.json()["status"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderDown(f"unreadable answer: {response.text[:200]}") from exc

    def signing_link(self, request_id: str) -> str | None:
        """Where the employee signs: Yousign gives each signer a link (None when it cannot be had)."""
        try:
            response = self.session.get(
                f"{self.base_url}/signature_requests/{request_id}/signers",
                headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
                timeout=self.timeout,
            )
            if response.status_code != 200:
                return None
            return _signer_link(response.json())
        except (requests.RequestException, ValueError):
            return None


def signature_header(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_is_authentic(secret: str | None, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature_header(secret, body), header)


def _signer_link(signers) -> str | None:
    """The link of the first signer still to sign, in a GET /signature_requests/{id}/signers answer."""
    for signer in signers if isinstance(signers, list) else []:
        if isinstance(signer, dict) and signer.get("status") != "signed" and signer.get("signature_link"):
            return str(signer["signature_link"])
    return None


class SimulatorState:
    """What the simulated provider says. Demo ids ``sim-NNNNN``: every third is signed, the next
    third declined, the rest still ongoing; ``set`` overrides one; ``down`` makes it fail."""

    def __init__(self):
        self.overrides: dict[str, str] = {}
        self.down = False
        self.calls = 0
        self._lock = threading.Lock()

    def set(self, request_id: str, status: str) -> None:
        self.overrides[request_id] = status

    def status(self, request_id: str) -> str | None:
        with self._lock:
            self.calls += 1
        if self.down:
            raise ProviderDown("simulated outage")
        if request_id in self.overrides:
            return self.overrides[request_id]
        if not request_id.startswith("sim-") or not request_id[4:].isdigit():
            return None
        number = int(request_id[4:])
        return ("done", "declined", "ongoing")[(number // 25) % 3]


class SimulatedYousign:
    def __init__(self, state: SimulatorState):
        self.state = state

    def status(self, request_id: str) -> str:
        status = self.state.status(request_id)
        if status is None:
            raise UnknownRequest(request_id)
        return status

    def signing_link(self, request_id: str) -> str | None:
        """The simulator signs on a local page (``employee_space.simulated_sign``): no link here."""
        return None


def simulator_app(state: SimulatorState, api_key: str):
    """A WSGI app answering ``GET /v3/signature_requests/<id>`` as Yousign documents it."""

    @Request.application
    def app(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {api_key}":
            return Response(json.dumps({"detail": "Unauthorized"}), 401, content_type="application/json")
        prefix = "/v3/signature_requests/"
        if request.method != "GET" or not request.path.startswith(prefix):
            return Response(json.dumps({"detail": "Not found"}), 404, content_type="application/json")
        request_id = request.path[len(prefix) :]
        signers = request_id.endswith("/signers")
        request_id = request_id.removesuffix("/signers")
        try:
            status = state.status(request_id)
        except ProviderDown:
            return Response(json.dumps({"detail": "Service unavailable"}), 503, content_type="application/json")
        if status is None:
            return Response(json.dumps({"detail": "Signature request not found"}), 404, content_type="application/json")
        if signers:
            signer = {"id": f"signer-{request_id}", "status": "signed" if status == "done" else "notified"}
            signer["signature_link"] = f"https://yousign.app/signatures/{request_id}?s=simulated"
            return Response(json.dumps([signer]), 200, content_type="application/json")
        body = {"id": request_id, "status": status, "name": f"Contrat {request_id}", "delivery_mode": "email"}
        return Response(json.dumps(body), 200, content_type="application/json")

    return app
