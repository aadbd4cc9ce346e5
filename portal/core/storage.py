"""Where stored files live: a local directory (the embedded default) or any S3-compatible object store.

``STORAGE_URL`` chooses: unset or ``file:///path`` is a directory; ``s3://bucket/prefix`` is a bucket,
reached with boto3's standard settings (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``) and ``S3_ENDPOINT_URL`` for stores other than AWS (SeaweedFS, MinIO, Garage,
Scaleway, OVHcloud). Files are stored under random keys; the database keeps the original name, the
detected type, the size and the sha256, and a file read back is checked against them. Downloads
stream in chunks: no whole file in memory. A row is committed after its file is written; a failed
transaction deletes its file, and ``sweep_orphans`` (a daily job) removes any file older than a day
that no row names, left by a process killed between the two.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from flask import Flask, current_app

log = logging.getLogger(__name__)

CHUNK = 256 * 1024


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class CorruptFile(Exception):
    """A stored file does not match the size or sha256 its row records (or it is gone)."""


def _checked(chunks: Iterable[bytes], key: str, size: int | None, sha256: str | None) -> Iterator[bytes]:
    """The chunks, the last one held back until the whole file matches its size and sha256: a file
    altered in the store is never sent whole (the download breaks off instead)."""
    digest, seen, held = hashlib.sha256(), 0, None
    for chunk in chunks:
        digest.update(chunk)
        seen += len(chunk)
        if size is not None and seen > size:
            raise CorruptFile(f"{key}: larger than the {size} bytes recorded")
        if held is not None:
            yield held
        held = chunk
    if size is not None and seen != size:
        raise CorruptFile(f"{key}: {seen} bytes, {size} recorded")
    if sha256 is not None and digest.hexdigest() != sha256:
        raise CorruptFile(f"{key}: sha256 differs from the one recorded")
    if held is not None:
        yield held


def _same_size(key: str, stored: int, size: int | None) -> None:
    if size is not None and stored != size:
        raise CorruptFile(f"{key}: {stored} bytes, {size} recorded")


def _check_key(key: str) -> str:
    if not key or not key.isalnum() or not key.isascii() or len(key) > 80:
        raise ValueError("invalid storage key")
    return key


def new_key() -> str:
    return secrets.token_hex(20)


class _Store:
    """What both backends share: reading is streaming, checked against the row's size and sha256."""

    def _open(self, key: str, size: int | None) -> Iterator[bytes]:
        raise NotImplementedError

    def stream(self, key: str, *, size: int | None = None, sha256: str | None = None) -> Iterator[bytes]:
        """The file's chunks; a missing file fails now, a wrong size or sha256 at the end."""
        return _checked(self._open(key, size), key, size, sha256)

    def read(self, key: str, *, size: int | None = None, sha256: str | None = None) -> bytes:
        return b"".join(self.stream(key, size=size, sha256=sha256))


class LocalStorage(_Store):
    """A directory of this machine: the embedded default, for one machine only."""

    def __init__(self, root: Path):
        self.root = root

    def describe(self) -> str:
        return f"file://{self.root}"

    def _path(self, key: str) -> Path:
        key = _check_key(key)
        return self.root / key[:2] / key

    def save(self, data: bytes, key: str | None = None) -> StoredFile:
        key = key or new_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)  # never a half-written file under a key
        return StoredFile(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def _open(self, key: str, size: int | None) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise CorruptFile(f"{key}: missing") from None
        try:
            _same_size(key, os.fstat(handle.fileno()).st_size, size)
        except CorruptFile:
            handle.close()
            raise

        def chunks():
            with handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return chunks()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Only for files never referenced by a committed row (a failed transaction, an orphan)."""
        self._path(key).unlink(missing_ok=True)

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Every key with the time it was written."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/*"):
            if path.is_file() and path.name.isalnum():
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)


class S3Storage(_Store):
    """A bucket of any S3-compatible object store, shared by every web and worker machine."""

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def _name(self, key: str) -> str:
        key = _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def save(self, data: bytes, key: str | None = None) -> StoredFile:
        key = key or new_key()
        digest = hashlib.sha256(data).hexdigest()
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=data, Metadata={"sha256": digest}, ContentLength=len(data)
        )
        return StoredFile(key=key, size=len(data), sha256=digest)

    def _open(self, key: str, size: int | None) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise CorruptFile(f"{key}: missing") from None
            raise
        body = answer["Body"]
        try:
            _same_size(key, answer["ContentLength"], size)
        except CorruptFile:
            body.close()
            raise

        def chunks():
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return chunks()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        """Only for files never referenced by a committed row (a failed transaction, an orphan)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def listing(self) -> Iterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, **({"Prefix": self.prefix + "/"} if self.prefix else {})
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"].rsplit("/", 1)[-1]
                if key.isalnum():
                    yield key, item["LastModified"]


def s3_client(endpoint_url: str | None = None):
    """boto3's client with its standard settings (credentials and region from the environment)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        config=Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
        ),
    )


def from_url(url: str | None, default_root: Path, endpoint_url: str | None = None):
    """The storage a ``STORAGE_URL`` names (None or empty: the local directory ``default_root``)."""
    if not url:
        return LocalStorage(default_root)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(unquote(parsed.path)))
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Storage(parsed.netloc, parsed.path, s3_client(endpoint_url))
    raise ValueError(f"STORAGE_URL must be file:///path or s3://bucket/prefix, not {url!r}")


def init_app(app: Flask) -> None:
    default = Path(app.config.get("UPLOAD_ROOT") or Path(app.instance_path) / "uploads")
    app.extensions["vigie_storage"] = from_url(
        app.config.get("STORAGE_URL"), default, app.config.get("S3_ENDPOINT_URL")
    )


def storage() -> LocalStorage | S3Storage:
    return current_app.extensions["vigie_storage"]


ORPHAN_AGE = timedelta(days=1)


def referenced_keys() -> set[str]:
    """Every key a row names (versions, folder documents, signed mandates)."""
    return {key for key, _size, _sha256 in stored_files()}


def sweep_orphans(now: datetime | None = None) -> int:
    """Delete the files older than a day that no row names; returns how many. Files younger than a
    day may belong to a transaction still running, so they are left for the next sweep."""
    now = now or datetime.now(UTC)
    store = storage()
    candidates = [key for key, written in store.listing() if now - written > ORPHAN_AGE]
    if not candidates:
        return 0
    known = referenced_keys()
    removed = 0
    for key in candidates:
        if key not in known:
            store.delete(key)
            removed += 1
    if removed:
        log.info("storage sweep: %d orphan files removed from %s", removed, store.describe())
    return removed


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    failed: list[str] = field(default_factory=list)


def stored_files() -> list[tuple[str, int | None, str | None]]:
    """(key, size, sha256) of every file a row names; the size and sha256 when the row records them."""
    from sqlalchemy import literal, select, union_all

    from portal.core.extensions import db
    from portal.models import DocumentVersion, FolderDocument, Mandate, ProofFile

    query = union_all(
        # A version whose file the retention job removed names no file any more.
        select(DocumentVersion.storage_key, DocumentVersion.size, DocumentVersion.sha256).where(
            DocumentVersion.file_removed_at.is_(None)
        ),
        select(ProofFile.storage_key, ProofFile.size, ProofFile.sha256).where(ProofFile.storage_key.is_not(None)),
        select(FolderDocument.storage_key, FolderDocument.size, FolderDocument.sha256),
        select(Mandate.signed_storage_key, literal(None), literal(None)).where(Mandate.signed_storage_key.is_not(None)),
    )
    return sorted({(key, size, sha) for key, size, sha in db.session.execute(query)})


def _intact(store, key: str, size: int | None, sha256: str | None) -> bool:
    try:
        store.read(key, size=size, sha256=sha256)
    except CorruptFile:
        return False
    return True


def migrate(source, target, progress=None) -> MigrationReport:
    """Copy every file a row names from ``source`` to ``target`` under the same key. Idempotent and
    resumable: a file already in the target with the right content is left; each copy is read back
    from the target and checked against the row's sha256 (or the source's, when the row has none)."""
    report = MigrationReport()
    files = stored_files()
    for done, (key, size, sha256) in enumerate(files, 1):
        try:
            if _intact(target, key, size, sha256):
                report.already_there += 1
            else:  # absent, or an earlier copy broken off: copied (again)
                data = source.read(key, size=size, sha256=sha256)
                expected = sha256 or hashlib.sha256(data).hexdigest()
                target.save(data, key=key)
                target.read(key, size=len(data), sha256=expected)
                report.copied += 1
        except CorruptFile as exc:
            report.failed.append(str(exc))
        if progress:
            progress(done, len(files), report)
    return report
