"""Retention: a version's file is removed `retention_years` after it stopped being valid; its row,
dates and SHA-256 stay, the removal is audited, and downloads say the file is gone."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.core.storage import storage
from portal.documents import retention
from portal.models import AuditEvent, DocumentType, DocumentVersion
from tests.support.http import form_values, post


def _freeze(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime.combine(day, time(10), tzinfo=ZoneInfo("Europe/Paris")))


def _refused(app) -> DocumentVersion:
    with app.app_context():
        return db.session.scalars(select(DocumentVersion).where(DocumentVersion.status == "refused")).first()


def _sweep(app, monkeypatch, day: date) -> int:
    _freeze(monkeypatch, day)
    with app.app_context():
        return retention.sweep(day)


def test_a_file_is_removed_ten_years_after_it_stopped_being_valid_and_what_it_was_stays(
    app, client, auth, demo_file, monkeypatch
):
    refused = _refused(app)
    with app.app_context():  # refused (so never valid) on 15 March 2026, 11:00 in Paris
        row = db.session.get(DocumentVersion, refused.id)
        row.reviewed_at, row.archived_at = datetime(2026, 3, 15, 10), None
        db.session.commit()
        valid = [v.id for v in db.session.scalars(select(DocumentVersion).where(DocumentVersion.status == "valid"))]
        assert storage().exists(refused.storage_key)
    assert _sweep(app, monkeypatch, date(2036, 3, 15)) == 0  # its last day of retention: kept
    assert _sweep(app, monkeypatch, date(2036, 3, 16)) == 1
    assert _sweep(app, monkeypatch, date(2036, 3, 16)) == 0  # twice the same day: nothing more
    with app.app_context():
        after = db.session.get(DocumentVersion, refused.id)
        assert after.file_removed_at is not None and after.sha256 == refused.sha256 and after.size == refused.size
        assert not storage().exists(refused.storage_key)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.file_removed"))
        assert event.details["version_id"] == refused.id and event.details["sha256"] == refused.sha256
        for version_id in valid:  # a valid version is never touched, whatever its age
            current = db.session.get(DocumentVersion, version_id)
            assert current.file_removed_at is None and storage().exists(current.storage_key)
    auth.login("fournisseur@vigie.test")
    gone = client.get(f"/documents/versions/{refused.id}/download")
    assert gone.status_code == 410
    assert "supprimé à la fin de sa durée de conservation" in gone.get_data(as_text=True)
    archive = zipfile.ZipFile(io.BytesIO(post(client, "/documents/export").get_data()))
    entry = next(v for v in json.loads(archive.read("manifest.json"))["versions"] if v["version_id"] == refused.id)
    assert entry["file"] is None and entry["file_removed_at"] and entry["sha256"] == refused.sha256


def test_an_operator_sets_the_retention_of_a_type(app, client, auth, demo):
    auth.login("operateur@vigie.test")
    listing = client.get("/operations/document-types").get_data(as_text=True)
    type_id = re.search(
        r'href="/operations/document-types/(\d+)">Modifier<span class="sr-only"> [^<]*RC pro', listing, re.I
    )
    type_id = type_id[1] if type_id else re.search(r'href="/operations/document-types/(\d+)"', listing)[1]
    page = client.get(f"/operations/document-types/{type_id}").get_data(as_text=True)
    assert "Conservation des fichiers (années)" in page
    values = form_values(page, "document-type-form")
    checked = re.findall(r'<input[^>]*checked[^>]*name="(\w+)"|<input[^>]*name="(\w+)"[^>]*checked', page)
    values.update({a or b: "y" for a, b in checked})
    values["retention_years"] = "0"
    refused = client.post(f"/operations/document-types/{type_id}", data=values)
    assert refused.status_code == 422 and "Entre 1 et 50 ans." in refused.get_data(as_text=True)
    values["retention_years"] = "6"
    assert client.post(f"/operations/document-types/{type_id}", data=values).status_code == 303
    with app.app_context():
        assert db.session.get(DocumentType, int(type_id)).retention_years == 6
