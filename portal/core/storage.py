"""Where uploaded files live: behind a small interface (a local directory now, an object store later).

Files are stored under random names, outside ``static/``; the database keeps the original name,
the detected type, the size and the sha256.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class LocalStorage:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def save(self, data: bytes) -> StoredFile:
        key = secrets.token_hex(20)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return StoredFile(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Only for files never referenced by a committed row (a failed transaction)."""
        self._path(key).unlink(missing_ok=True)


def init_app(app: Flask) -> None:
    root = Path(app.config.get("UPLOAD_ROOT") or Path(app.instance_path) / "uploads")
    app.extensions["vigie_storage"] = LocalStorage(root)


def storage() -> LocalStorage:
    return current_app.extensions["vigie_storage"]
