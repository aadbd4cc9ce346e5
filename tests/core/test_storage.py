"""Files in a local directory or in a real S3 server (SeaweedFS): the same behaviour, checked on read."""

from __future__ import annotations

import hashlib
import html
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core import storage as storage_module
from portal.core.extensions import db
from portal.core.storage import CorruptFile, LocalStorage, S3Storage, from_url
from portal.models import DocumentVersion
from tests.support.documents import pdf, upload
from tests.support.http import post


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch):
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    settings = request.getfixturevalue("s3_settings")
    return from_url(settings["STORAGE_URL"], tmp_path, settings["S3_ENDPOINT_URL"])


def test_a_file_is_stored_under_a_random_key_and_checked_when_read_back(store):
    data = b"%PDF-1.7 " + bytes(range(256)) * 4000  # ~1 MB: several chunks
    stored = store.save(data)
    assert stored.key.isalnum() and len(stored.key) == 40 and stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read(stored.key, size=stored.size, sha256=stored.sha256) == data
    chunks = list(store.stream(stored.key, size=stored.size, sha256=stored.sha256))
    assert len(chunks) > 1 and b"".join(chunks) == data  # streamed, never one whole read
    assert store.save(data).key != stored.key
    with pytest.raises(CorruptFile, match="sha256"):
        store.read(stored.key, size=stored.size, sha256="0" * 64)
    with pytest.raises(CorruptFile, match="bytes"):
        store.stream(stored.key, size=stored.size + 1)  # a size that differs fails before anything is sent
    altered = bytearray(data)
    altered[-1] ^= 1
    store.save(bytes(altered), key=stored.key)  # one byte changed in the store, same size
    sent = []
    with pytest.raises(CorruptFile, match="sha256"):
        for chunk in store.stream(stored.key, size=stored.size, sha256=stored.sha256):
            sent.append(chunk)
    assert 0 < len(b"".join(sent)) < len(data)  # the last chunk is held back: never the whole altered file
    store.delete(stored.key)
    assert not store.exists(stored.key)
    with pytest.raises(CorruptFile, match="missing"):
        store.stream(stored.key)  # fails before anything is sent
    for bad in ("../etc/passwd", "a/b", "", "é" * 10):
        with pytest.raises(ValueError):
            store.read(bad)


def test_the_storage_url_chooses_the_backend(tmp_path):
    assert isinstance(from_url(None, tmp_path), LocalStorage)
    assert from_url(f"file://{tmp_path}/x", tmp_path).root == tmp_path / "x"
    s3 = from_url("s3://my-bucket/vigie/prod", tmp_path, "http://127.0.0.1:1")
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix) == ("my-bucket", "vigie/prod")
    with pytest.raises(ValueError, match="STORAGE_URL"):
        from_url("ftp://x", tmp_path)


def test_the_daily_sweep_removes_only_files_no_row_names_older_than_a_day(make_app, s3_settings, monkeypatch):
    from tests.support.data import seed_world

    app = make_app(**s3_settings)
    seed_world(app, with_documents=True)
    with app.app_context():
        store = storage_module.storage()
        kept = set(db.session.scalars(select(DocumentVersion.storage_key)))
        orphan = store.save(b"left by a process killed before its commit").key
        assert storage_module.sweep_orphans() == 0  # younger than a day: maybe a transaction still running
        later = datetime.now(UTC) + timedelta(days=2)
        assert storage_module.sweep_orphans(later) == 1
        assert not store.exists(orphan) and all(store.exists(key) for key in kept)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the store is the subject, not the database
def test_on_s3_the_supplier_uploads_and_downloads_and_the_operator_reviews_with_no_local_file(
    make_app, s3_settings, tmp_path
):
    from tests.support.data import seed_world
    from tests.support.http import AuthActions

    app = make_app(**s3_settings)
    seed_world(app, with_documents=True)
    client = app.test_client()
    auth = AuthActions(client)
    auth.login("fournisseur@vigie.test")
    data = pdf("LNTE")
    assert upload(client, "LNTE", data).status_code == 303
    with app.app_context():
        version = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id.desc())).first()
        assert storage_module.storage().exists(version.storage_key)
    assert not (Path(app.instance_path) / "uploads").exists()  # nothing written to this machine's disk
    download = client.get(f"/documents/versions/{version.id}/download")
    assert download.status_code == 200 and download.data == data
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Length"] == str(len(data))
    post(client, "/logout")
    auth.login("operateur@vigie.test")
    page = html.unescape(client.get(f"/operations/review/{version.id}").get_data(as_text=True))
    assert f"/operations/review/{version.id}/pages/0.png" in page
    image = client.get(f"/operations/review/{version.id}/pages/0.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the store is the subject, not the database
def test_a_file_altered_in_the_store_is_never_served(make_app, s3_settings, object_store):
    from tests.support.data import seed_world
    from tests.support.http import AuthActions

    app = make_app(**s3_settings)
    seed_world(app, with_documents=True)
    client = app.test_client()
    AuthActions(client).login("fournisseur@vigie.test")
    assert upload(client, "LNTE", pdf("LNTE")).status_code == 303
    with app.app_context():
        version = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id.desc())).first()
        store = storage_module.storage()
        store.client.put_object(Bucket=store.bucket, Key=store._name(version.storage_key), Body=io.BytesIO(b"x" * 10))
    answer = client.get(f"/documents/versions/{version.id}/download")
    assert answer.status_code == 500 and b"x" * 10 not in answer.data
    assert "introuvable ou endommagé" in html.unescape(answer.get_data(as_text=True))
    store.delete(version.storage_key)
    missing = client.get(f"/documents/versions/{version.id}/download")
    assert missing.status_code == 500 and "introuvable ou endommagé" in html.unescape(missing.get_data(as_text=True))


def test_storage_migrate_copies_every_file_to_the_bucket_resumably_and_the_app_then_serves_them(
    make_app, s3_settings, tmp_path
):
    """An installation moves from its local directory to S3: run twice (resumable), then switched."""
    from tests.support.data import seed_world
    from tests.support.http import AuthActions

    local_root = tmp_path / "uploads-before"
    app = make_app(UPLOAD_ROOT=str(local_root))
    seed_world(app, with_documents=True)
    with app.app_context():
        rows = {v.id: (v.storage_key, v.sha256) for v in db.session.scalars(select(DocumentVersion))}
    assert len(rows) >= 5
    app.config["S3_ENDPOINT_URL"] = s3_settings["S3_ENDPOINT_URL"]
    runner = app.test_cli_runner()
    first = runner.invoke(args=["storage-migrate", "--to", s3_settings["STORAGE_URL"]])
    assert first.exit_code == 0, first.output
    assert f"{len(rows)} copied, 0 already there, 0 failed" in first.output
    again = runner.invoke(args=["storage-migrate", "--to", s3_settings["STORAGE_URL"]])
    assert f"0 copied, {len(rows)} already there, 0 failed" in again.output  # idempotent, resumable
    moved = make_app(**s3_settings)
    client = moved.test_client()
    AuthActions(client).login("fournisseur@vigie.test")
    with moved.app_context():
        target = storage_module.storage()
        for key, sha in rows.values():
            assert hashlib.sha256(target.read(key)).hexdigest() == sha
        from portal.models import Organisation

        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == "812345676"))
        version_id = db.session.scalar(select(DocumentVersion.id).where(DocumentVersion.organisation_id == martin))
    answer = client.get(f"/documents/versions/{version_id}/download")
    assert answer.status_code == 200 and hashlib.sha256(answer.data).hexdigest() == rows[version_id][1]
