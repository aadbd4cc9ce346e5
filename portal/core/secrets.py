"""Secrets kept in the database (partner-app passwords, platform credentials), encrypted.

Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``. The key is ``ENCRYPTION_KEY`` (a Fernet
key, ``Fernet.generate_key()``) or, when unset, derived from ``SECRET_KEY`` with HKDF. A value is
never decrypted for display: pages only say whether a secret is set.
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet() -> Fernet:
    key = current_app.config.get("ENCRYPTION_KEY")
    if not key:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vigie.secrets").derive(
            current_app.config["SECRET_KEY"].encode()
        )
        key = base64.urlsafe_b64encode(derived)
    return Fernet(key)


def seal(values: dict[str, str]) -> str | None:
    """Encrypt a mapping of secret settings; None when there is nothing to keep."""
    kept = {name: value for name, value in values.items() if value}
    return _fernet().encrypt(json.dumps(kept).encode()).decode() if kept else None


def open_sealed(token: str | None) -> dict[str, str]:
    """For the connectors that use the secrets, never for a page."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the current ENCRYPTION_KEY") from exc


def names_set(token: str | None) -> set[str]:
    return set(open_sealed(token))
