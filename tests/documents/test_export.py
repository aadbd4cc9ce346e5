"""'Exporter mon dossier': every version the supplier ever sent, with a manifest readable without
Vigie; every hash in the manifest matches its file."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import AuditEvent, DocumentVersion, Organisation
from tests.support.http import post


def test_the_supplier_exports_every_version_it_ever_sent(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    assert "Exporter mon dossier" in client.get("/documents").get_data(as_text=True)
    answer = post(client, "/documents/export")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert "dossier-812345676-" in answer.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.get_data()))
    manifest = json.loads(archive.read("manifest.json"))
    with app.app_context():
        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == "812345676"))
        stored = {
            v.id: (v.status, v.sha256)
            for v in db.session.scalars(select(DocumentVersion).where(DocumentVersion.organisation_id == martin))
        }
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "documents.exported")) is not None
    assert {v["version_id"]: (v["state"], v["sha256"]) for v in manifest["versions"]} == stored
    assert {"valid", "refused"} <= {state for state, _ in stored.values()}
    for entry in manifest["versions"]:
        data = archive.read(entry["file"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["size"]
    refused = next(v for v in manifest["versions"] if v["state"] == "refused")
    assert refused["refusal_reason"] and refused["decided_at"]
    assert manifest["company"] == {"siren": "812345676", "legal_name": "Menuiserie Martin"}


def test_only_the_supplier_itself_exports_its_file(app, client, auth, demo_file):
    auth.login("constructor@vigie.test")
    assert post(client, "/documents/export").status_code == 403
