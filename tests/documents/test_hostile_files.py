"""Files built to hurt: each answers within seconds, in bounded memory, with a French message."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from portal.core.extensions import db
from portal.core.storage import storage
from portal.documents import versions
from portal.models import DocumentType, DocumentVersion, OutboxJob, utcnow
from tests.support.data import drain
from tests.support.documents import pdf, upload
from tests.support.hostile import huge_page_pdf, text_bomb_pdf
from tests.support.http import post

pytestmark = pytest.mark.slow


def _stored_files(app) -> list[Path]:
    with app.app_context():
        root = storage().root
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_a_page_five_metres_wide_is_refused_at_upload_and_nothing_is_stored(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    before = _stored_files(app)
    started = time.monotonic()
    response = upload(client, "LNTE", huge_page_pdf(), headers={"HX-Request": "true"})
    assert time.monotonic() - started < 5
    assert response.status_code == 422
    assert "mesure plus de 1,7 m de côté" in _text(response)
    assert _stored_files(app) == before
    with app.app_context():
        assert db.session.scalar(select(DocumentVersion).where(DocumentVersion.status == "submitted")) is None


def test_an_a0_poster_still_passes_the_page_size_check(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    response = upload(client, "LNTE", huge_page_pdf(side_pt=3370))
    assert response.status_code == 303


def test_an_image_of_sixty_megapixels_is_refused_without_being_decoded(app, client, auth, demo):
    buffer = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(buffer, format="PNG")  # 60 Mpx, a few kilobytes
    auth.login("fournisseur@vigie.test")
    response = upload(client, "LNTE", buffer.getvalue(), name="scan.png", headers={"HX-Request": "true"})
    assert response.status_code == 422 and "plus de 50 millions de pixels" in _text(response)


def _file_version(app, data: bytes) -> int:
    """A version stored as it is (a file accepted before the upload checks existed)."""
    from portal.models import Organisation

    with app.test_request_context():
        martin = db.session.scalar(select(Organisation).where(Organisation.siren == "812345676"))
        kind = db.session.scalar(select(DocumentType).where(DocumentType.code == "LNTE"))
        stored = storage().save(data)
        version = DocumentVersion(
            document_id=versions.document_for(martin.id, kind.id).id,
            organisation_id=martin.id,
            status="submitted",
            storage_key=stored.key,
            original_filename="ancien.pdf",
            content_type="application/pdf",
            size=stored.size,
            sha256=stored.sha256,
            issued_on=utcnow().date(),
            precheck={"kind": "unreadable", "warnings": []},
        )
        db.session.add(version)
        db.session.commit()
        return version.id


def test_an_old_page_bomb_in_the_review_queue_is_drawn_small_and_fast(app, client, auth, demo):
    version_id = _file_version(app, huge_page_pdf())
    auth.login("operateur@vigie.test")
    started = time.monotonic()
    image = client.get(f"/operations/review/{version_id}/pages/0.png")
    assert time.monotonic() - started < 10
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    width, height = Image.open(io.BytesIO(image.data)).size
    assert width * height <= 4_000_000  # instead of 21,600 × 21,600


def test_a_preview_past_its_limits_says_so_instead_of_hanging(app, client, auth, demo):
    version_id = _file_version(app, pdf())
    app.config["PREVIEW_SECONDS"] = 0.01
    auth.login("operateur@vigie.test")
    image = client.get(f"/operations/review/{version_id}/pages/0.png")
    assert image.status_code == 200 and image.headers["Content-Type"].startswith("image/svg+xml")
    assert "Aperçu impossible" in _text(image)


def test_a_text_bomb_is_answered_at_once_and_analysed_by_a_job(app, client, auth, demo):
    auth.login("fournisseur@vigie.test")
    started = time.monotonic()
    response = upload(client, "LNTE", text_bomb_pdf())
    elapsed = time.monotonic() - started
    assert response.status_code == 303
    assert elapsed < app.config["PRECHECK_REQUEST_SECONDS"] + 3
    with app.app_context():
        version = db.session.scalar(select(DocumentVersion).where(DocumentVersion.status == "submitted"))
        assert version.precheck["kind"] == "analysing"
        job = db.session.scalar(select(OutboxJob).where(OutboxJob.job == "finish_precheck"))
        assert job.args == {"version_id": version.id}
    post(client, "/logout")
    auth.login("operateur@vigie.test")
    assert "Analyse en cours" in _text(client.get("/operations/review"))
    assert "Analyse en cours" in _text(client.get(f"/operations/review/{version.id}"))
    app.config["PRECHECK_JOB_SECONDS"] = 2  # the job's budget, too small for this file as well
    drain(app)
    with app.app_context():
        done = db.session.get(DocumentVersion, version.id)
        assert done.precheck["kind"] == "unreadable"
        assert done.precheck["warnings"] == ["Analyse trop longue : pas de vérification automatique."]
    page = _text(client.get(f"/operations/review/{version.id}"))
    assert "Analyse en cours" not in page and "Analyse trop longue" in page


def test_the_job_fills_in_the_precheck_of_a_slow_but_honest_file(app, client, auth, demo):
    app.config["PRECHECK_REQUEST_SECONDS"] = 0.01  # as if the machine were very busy
    auth.login("fournisseur@vigie.test")
    assert upload(client, "LNTE", pdf()).status_code == 303
    drain(app)
    with app.app_context():
        version = db.session.scalar(select(DocumentVersion).where(DocumentVersion.status == "submitted"))
        assert version.precheck["kind"] == "text" and version.precheck["siren_found"] is True
        versions.finish_precheck(version.id)  # run twice: nothing changes
        assert db.session.get(DocumentVersion, version.id).precheck["siren_found"] is True


def test_a_request_killed_during_the_checks_leaves_no_file_behind(app, client, auth, demo, monkeypatch):
    def killed(*_args, **_kwargs):
        raise SystemExit(1)  # what gunicorn's timeout does to a worker in the middle of a request

    monkeypatch.setattr(versions, "automatic_checks", killed)
    auth.login("fournisseur@vigie.test")
    before = _stored_files(app)
    with pytest.raises(SystemExit):
        upload(client, "LNTE", pdf())
    assert _stored_files(app) == before
    with app.app_context():
        assert db.session.scalar(select(DocumentVersion).where(DocumentVersion.uploaded_at > utcnow())) is None
