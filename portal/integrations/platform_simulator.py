"""Both compliance platforms, simulated: the embedded default in development, and the tests' server.

- ``SimulatorState``: documents per platform and account, with switches to play an outage, a
  malformed answer or a failure after N files. ``save()`` / ``load()`` keep it in a directory
  (``instance/platform-simulator``), so the web process and every worker see the same platforms.
- ``SimulatedPlatform`` answers ``PlatformClient``'s questions in-process from that state.
- ``simulator_app`` serves it over HTTP with the documented API, so the client is tested for real.

What the platforms hold is somebody else's business: the demo world writes its own (``portal.demo``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.wrappers import Request, Response

from portal.integrations.compliance_platforms import (
    PLATFORMS,
    ExternalDocument,
    PlatformDown,
    PlatformError,
    parse_documents,
)


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

    def save(self, directory: Path) -> None:
        """Write the documents and their files (an index, then one file per document)."""
        (directory / "files").mkdir(parents=True, exist_ok=True)
        with self.lock:
            for external_id, data in self.files.items():
                (directory / "files" / _file_name(external_id)).write_bytes(data)
            (directory / "index.json").write_text(json.dumps(self.documents, indent=1, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> SimulatorState:
        """The state ``save()`` wrote; empty platforms when nothing was written there."""
        state = cls()
        index = directory / "index.json"
        if not index.is_file():
            return state
        for platform, accounts in json.loads(index.read_text()).items():
            for account, documents in accounts.items():
                for document in documents:
                    data = (directory / "files" / _file_name(document["id"])).read_bytes()
                    state.add(platform, account, document, data)
        return state

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


def _file_name(external_id: str) -> str:
    return "".join(char if char.isalnum() or char in "-_" else "_" for char in external_id) + ".bin"


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
