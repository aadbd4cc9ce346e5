"""The supplier's documents: orange tab, « Mettre à jour », refusal reasons, online files, downloads."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.core.clock import today
from portal.core.extensions import db
from portal.models import AuditEvent, Document, DocumentType, DocumentVersion, Organisation
from tests.support.data import count_queries
from tests.support.documents import pdf, png, upload
from tests.support.http import HTMX, post, token_for


def _badge(page: str) -> int:
    return int(re.search(r'id="pending-count"[^>]*>(\d+)<', page).group(1))


def test_orange_tab_lists_what_needs_updating_most_urgent_first(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    page = client.get("/documents").get_data(as_text=True)
    assert "Documents en attente de mise à jour" in page
    assert _badge(page) == 3
    order = [page.index(label) for label in ('id="pending-URSSAF_VIGILANCE"', 'id="pending-LNTE"', 'id="pending-KBIS"')]
    assert order == sorted(order)
    assert "Expiré" in page and "expire dans 10 jours" in page
    assert page.count("Mettre à jour") >= 3
    assert 'id="pending-RC_PRO"' not in page


def test_refused_version_shows_its_reason_in_red_with_who_and_when(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    page = client.get("/documents").get_data(as_text=True)
    item = page[page.index('id="pending-LNTE"') :]
    item = item[: item.index("</article>")]
    assert 'class="refusal"' in item
    assert "Motif du refus :</strong> Document illisible" in item
    assert "Le scan est flou" in item and "refusé par Nadia Rousseau le" in item


def test_update_form_opens_in_place_and_as_a_page(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    fragment = client.get("/documents/KBIS/update", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<article class="pending-item')
    assert 'name="verification_code"' in fragment and 'name="valid_until"' not in fragment
    page = client.get("/documents/RC_PRO/update").get_data(as_text=True)
    assert "<html" in page and 'name="valid_until"' in page and 'name="verification_code"' not in page


def test_uploading_the_refused_lnte_takes_it_out_of_the_tab(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    response = upload(client, "LNTE", pdf(), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "En cours de vérification" in body and "<html" not in body
    assert re.search(r'id="pending-count"[^>]*hx-swap-oob="true"[^>]*>2<', body)
    assert response.headers["HX-Trigger"] == "document-uploaded"
    page = client.get("/documents").get_data(as_text=True)
    assert _badge(page) == 2 and 'id="pending-LNTE"' not in page
    with app.app_context():
        version = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id.desc())).first()
        assert version.status == "submitted" and version.content_type == "application/pdf"
        assert len(version.sha256) == 64 and version.size > 1000
        assert version.precheck["kind"] == "text" and version.precheck["siren_found"] is True
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "document.submitted"


def test_upload_without_javascript_redirects_with_a_message(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    response = upload(client, "LNTE", pdf())
    assert response.status_code == 303 and response.headers["Location"] == "/documents"
    assert "Document envoyé : Liste nominative des travailleurs étrangers. Il est en cours de vérification." in (
        client.get("/documents").get_data(as_text=True)
    )


def test_kbis_needs_its_verification_code(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    response = upload(client, "KBIS", pdf("KBIS"), headers=HTMX)
    assert response.status_code == 422
    assert "Recopiez le code de vérification" in response.get_data(as_text=True)
    assert upload(client, "KBIS", pdf("KBIS"), verification_code="AB12CD34EF").status_code == 303


def test_insurance_needs_its_printed_end_date(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    missing = upload(client, "RC_PRO", pdf("RC_PRO"))
    assert missing.status_code == 422
    assert "Indiquez la date de fin de validité imprimée" in missing.get_data(as_text=True)
    before = upload(client, "RC_PRO", pdf("RC_PRO"), valid_until=(today() - timedelta(days=30)).isoformat())
    assert "La fin de validité doit être après la date du document." in before.get_data(as_text=True)
    good = upload(client, "RC_PRO", pdf("RC_PRO"), valid_until=(today() + timedelta(days=300)).isoformat())
    assert good.status_code == 303


def _versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DocumentVersion))


def _stored_files(app) -> int:
    root = app.extensions["vigie_storage"].root
    return sum(1 for path in root.rglob("*") if path.is_file()) if root.exists() else 0


def test_a_too_big_file_is_refused_and_nothing_is_stored(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    before, files_before = _versions(app), _stored_files(app)
    big = pdf() + b"%" * (10 * 1024 * 1024)
    response = upload(client, "LNTE", big, headers=HTMX)
    assert response.status_code == 422
    assert "Le fichier dépasse 10 Mo" in response.get_data(as_text=True)
    assert (_versions(app), _stored_files(app)) == (before, files_before)


def test_a_fake_pdf_is_refused_by_its_content(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    before = _versions(app)
    for data in (b"<html><script>alert(1)</script></html>", b"%PDF-1.7 but not really a pdf"):
        response = upload(client, "LNTE", data, name="attestation.pdf", headers=HTMX)
        assert response.status_code == 422
        assert "n&#39;est pas un PDF, un JPEG ou un PNG valide" in response.get_data(
            as_text=True
        ) or "n'est pas un PDF, un JPEG ou un PNG valide" in response.get_data(as_text=True)
    assert _versions(app) == before


def test_images_are_accepted_and_get_no_precheck(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    assert upload(client, "LNTE", png(), name="photo.png").status_code == 303
    with app.app_context():
        version = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id.desc())).first()
        assert version.content_type == "image/png"
        assert version.precheck["kind"] == "scan"
        assert "pas de vérification automatique" in version.precheck["warnings"][0]


def test_future_and_already_expired_documents_are_refused(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    future = upload(client, "LNTE", pdf(), issued=today() + timedelta(days=3))
    assert "ne peut pas être dans le futur" in future.get_data(as_text=True)
    old = upload(client, "LNTE", pdf(), issued=today() - timedelta(days=400))
    assert "Ce document a expiré le" in old.get_data(as_text=True)


def test_missing_file_and_date_get_messages_next_to_the_fields(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    token = token_for(client, "/documents/LNTE/update")
    response = client.post(
        "/documents/LNTE/update", data={"csrf_token": token}, headers=HTMX, content_type="multipart/form-data"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in body and "Choisissez le fichier à envoyer." in body
    assert 'id="issued_on-error"' in body


def test_online_files_show_every_document_with_its_history(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    upload(client, "LNTE", pdf())
    page = client.get("/documents/online").get_data(as_text=True)
    for label in (
        "Attestation de vigilance URSSAF",
        "Extrait Kbis",
        "Certificat Qualibat",
        "Attestation d&#39;assurance RC professionnelle",
        "Attestation mutuelle",
    ):
        assert label.replace("&#39;", "'") in page or label in page
    row = page[page.index('id="online-LNTE"') :]
    row = row[: row.index("</tr>")]
    assert "2 versions" in row and "Refusé" in row and "En cours de vérification" in row
    assert "Facultatif" in page and "Ajouter un document" in page


def test_optional_document_of_any_type_can_be_added(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    token = token_for(client, "/documents/add")
    form = {
        "csrf_token": token,
        "type_code": "CIBTP",
        "file": (io.BytesIO(pdf("CIBTP")), "cibtp.pdf"),
        "issued_on": (today() - timedelta(days=5)).isoformat(),
        "valid_until": (today() + timedelta(days=200)).isoformat(),
    }
    response = client.post("/documents/add", data=form, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"] == "/documents/online"
    assert 'id="online-CIBTP"' in client.get("/documents/online").get_data(as_text=True)
    bad = client.post(
        "/documents/add", data={"csrf_token": token, "type_code": ""}, content_type="multipart/form-data", headers=HTMX
    )
    assert bad.status_code == 422 and "Choisissez le type." in bad.get_data(as_text=True)


def test_downloads_are_attachments_never_inline(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    with app.app_context():
        version_id = db.session.scalar(select(DocumentVersion.id).limit(1))
    response = client.get(f"/documents/versions/{version_id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data.startswith(b"%PDF-")


def test_another_companys_user_gets_404_on_every_document_route(app, client, auth, demo_file):
    with app.app_context():
        version_id = db.session.scalar(select(DocumentVersion.id).limit(1))
        rival = db.session.scalar(select(Organisation).where(Organisation.legal_name == "Demolitor SAS"))
        rival.is_supplier = True
        db.session.commit()
    auth.login("constructor@vigie.test")
    post(client, "/organisations/switch", {"organisation_id": rival.id})
    assert client.get(f"/documents/versions/{version_id}/download").status_code == 404
    assert client.get("/documents/NOPE/update").status_code == 404
    page = client.get("/documents").get_data(as_text=True)
    assert "Menuiserie" not in page and _badge(page) == 1  # Demolitor has its Kbis and URSSAF, lacks the LNTE
    assert "Le scan est flou" not in client.get("/documents/online").get_data(as_text=True)


def test_non_suppliers_have_no_documents_space(client, auth, demo_file):
    auth.login("agence@vigie.test")
    assert client.get("/documents").status_code == 403
    assert "Mes documents" not in client.get("/").get_data(as_text=True)


def _bulk_file(app, total: int) -> None:
    """Give Menuiserie Martin ``total`` versions spread over its documents."""
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.siren == "812345676"))
        types = db.session.scalars(select(DocumentType)).all()
        existing = db.session.scalar(
            select(func.count()).select_from(DocumentVersion).where(DocumentVersion.organisation_id == organisation.id)
        )
        documents = {}
        for index in range(existing, total):
            kind = types[index % len(types)]
            document = documents.get(kind.id) or db.session.scalar(
                select(Document).where(
                    Document.organisation_id == organisation.id, Document.document_type_id == kind.id
                )
            )
            if document is None:
                document = Document(organisation_id=organisation.id, document_type_id=kind.id)
                db.session.add(document)
                db.session.flush()
            documents[kind.id] = document
            db.session.add(
                DocumentVersion(
                    document_id=document.id,
                    organisation_id=organisation.id,
                    status="archived",
                    storage_key="x" * 40,
                    original_filename="old.pdf",
                    content_type="application/pdf",
                    size=1,
                    sha256="0" * 64,
                    issued_on=today() - timedelta(days=800 + index),
                    valid_until=today() - timedelta(days=600 + index),
                )
            )
        db.session.commit()


def test_document_pages_run_the_same_queries_for_5_or_200_documents(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    counts = {"/documents": [], "/documents/online": []}
    for total in (5, 200):
        _bulk_file(app, total)
        for path in counts:
            with count_queries(app) as statements:
                assert client.get(path).status_code == 200
            counts[path].append(len(statements))
    assert counts["/documents"][0] == counts["/documents"][1]
    assert counts["/documents/online"][0] == counts["/documents/online"][1]


def test_a_huge_request_gets_a_french_413(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    response = upload(client, "LNTE", b"%PDF-" + b"0" * (13 * 1024 * 1024), headers=HTMX)
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)


def test_a_document_dated_year_9999_is_filed_with_a_warning_not_a_500(app, client, auth, demo_file):
    from portal.core.pdf import new_pdf, paragraph, to_bytes

    document = new_pdf(title="URSSAF")
    document.add_page()
    document.set_font("DejaVu", "", 11)
    paragraph(document, "Attestation de vigilance — SIREN 812 345 676 — situation au 15/12/9999.")
    auth.login("fournisseur@vigie.test")
    answer = upload(client, "URSSAF_VIGILANCE", to_bytes(document), verification_code="ABCDEFGHIJKLMNO")
    assert answer.status_code == 303
    with app.app_context():
        version = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id.desc())).first()
        assert version.precheck["certified_on"] is None
        assert "Date certifiée introuvable dans le texte." in version.precheck["warnings"]


def _field_names(page: str) -> set[str]:
    start = page.index('id="add-form"') if 'id="add-form"' in page else page.index('class="form upload-form"')
    form = page[start : page.index("</form>", start)]
    return set(re.findall(r'<(?:input|select)[^>]*name="([a-z_]+)"', form)) - {"csrf_token"}


def test_the_upload_form_asks_only_what_the_type_prints(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    lnte = client.get("/documents/LNTE/update").get_data(as_text=True)
    assert _field_names(lnte) == {"file", "issued_on"}
    rc_pro = client.get("/documents/RC_PRO/update").get_data(as_text=True)
    assert _field_names(rc_pro) == {"file", "issued_on", "valid_until"}
    assert "La date « valable jusqu" in rc_pro
    urssaf = client.get("/documents/URSSAF_VIGILANCE/update").get_data(as_text=True)
    assert _field_names(urssaf) == {"file", "issued_on", "verification_code"}
    assert "figure en bas de l" in urssaf and "code de sécurité" in urssaf
    kbis = client.get("/documents/KBIS/update").get_data(as_text=True)
    assert "en bas de chaque page de l" in kbis
    assert 'id="sync-warning"' not in urssaf  # no sync is on for Menuiserie Martin
    # The browser refuses a file over the limit before sending it: it is told the limit.
    assert 'data-max-bytes="10485760"' in lnte and "10 Mo maximum" in lnte


def test_adding_a_document_asks_the_type_first_then_only_its_fields(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    first = client.get("/documents/add").get_data(as_text=True)
    assert _field_names(first) == {"type_code"} and "Continuer" in first
    assert _field_names(client.get("/documents/add?type_code=CIBTP").get_data(as_text=True)) == {
        "type_code",
        "file",
        "issued_on",
        "valid_until",
    }
    kbis = client.get("/documents/add?type_code=KBIS", headers=HTMX).get_data(as_text=True)
    assert kbis.lstrip().startswith('<form id="add-form"')
    assert _field_names(kbis) == {"type_code", "file", "issued_on", "verification_code"}
    assert _field_names(client.get("/documents/add?type_code=NOPE").get_data(as_text=True)) == {"type_code"}


def test_after_an_error_the_form_says_to_choose_the_file_again(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    future = today() + timedelta(days=3)
    response = upload(client, "LNTE", pdf(), issued=future, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "ne peut pas être dans le futur" in body
    assert "Choisissez à nouveau le fichier" in body
    # A new attempt answers with the new form: the old error is gone.
    again = upload(client, "LNTE", b"not a pdf", headers=HTMX).get_data(as_text=True)
    assert "ne peut pas être dans le futur" not in again


def test_a_file_over_the_request_limit_gets_a_page_that_leads_back_to_the_form(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    response = upload(client, "RC_PRO", b"%PDF-" + b"0" * (13 * 1024 * 1024))
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "dépasse la limite de Vigie (10 Mo par document)" in page
    assert 'href="/documents/RC_PRO/update">Retour au formulaire</a>' in page
    # Any other POST past the limit (no form at that address) offers the home page only.
    other = client.post("/documents/quitus", data=b"x" * (13 * 1024 * 1024), content_type="text/plain")
    assert other.status_code == 413 and "Retour au formulaire" not in other.get_data(as_text=True)
