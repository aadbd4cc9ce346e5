"""Operators: review queue, previews, Valider / Refuser, catalogue administration."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.models import AuditEvent, DocumentType, DocumentVersion, Message, RefusalReason
from tests.support.data import drain
from tests.support.documents import pdf, upload
from tests.support.http import HTMX, post, token_for


def _submitted(app) -> list[DocumentVersion]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(DocumentVersion)
                .where(DocumentVersion.status == "submitted")
                .order_by(DocumentVersion.uploaded_at)
            )
        )


def test_queue_lists_submitted_documents_oldest_first_with_filters(app, client, auth, demo_file):
    auth.login("operateur@vigie.test")
    page = client.get("/operations/review").get_data(as_text=True)
    assert "2 documents en attente, les plus anciens d&#39;abord." in page or "2 documents en attente" in page
    table = page[page.index('id="review-queue"') :]
    assert table.index("Attestation mutuelle") < table.index("Attestation de régularité fiscale")
    filtered = client.get("/operations/review?type=FISCAL", headers=HTMX).get_data(as_text=True)
    assert filtered.lstrip().startswith('<div id="review-queue">')
    assert "régularité fiscale" in filtered and "Attestation mutuelle" not in filtered
    assert "Rien à vérifier" in client.get("/operations/review?company=Inconnue").get_data(as_text=True)
    assert "Attestation mutuelle" in client.get("/operations/review?company=812345676").get_data(as_text=True)


def test_review_page_shows_the_file_as_images_and_the_prechecks(app, client, auth, demo_file):
    version = _submitted(app)[0]
    auth.login("operateur@vigie.test")
    page = html.unescape(client.get(f"/operations/review/{version.id}").get_data(as_text=True))
    assert f"/operations/review/{version.id}/pages/0.png" in page
    assert "Entreprise concernée" in page and "✓ l'entreprise (SIREN 812345676)" in page
    image = client.get(f"/operations/review/{version.id}/pages/0.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert client.get(f"/operations/review/{version.id}/pages/9.png").status_code == 404
    original = client.get(f"/operations/review/{version.id}/download")
    assert original.headers["Content-Disposition"].startswith("attachment;")


def test_validating_archives_the_older_version_and_emails_the_supplier(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    upload(client, "LNTE", pdf())
    post(client, "/logout")
    new = _submitted(app)[-1]
    auth.login("operateur@vigie.test")
    token = token_for(client, f"/operations/review/{new.id}")
    response = client.post(f"/operations/review/{new.id}/validate", data={"csrf_token": token, "valid_until": ""})
    assert response.status_code == 303
    assert "validé" in client.get("/operations/review").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(DocumentVersion, new.id).status == "valid"
        message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message.recipient == "fournisseur@vigie.test"
        assert message.subject == "Document validé : Liste nominative des travailleurs étrangers"
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "document.validated"
    again = client.post(f"/operations/review/{new.id}/validate", data={"csrf_token": token})
    assert again.status_code == 422 and "déjà été traité" in again.get_data(as_text=True)


def test_validating_a_new_urssaf_archives_the_expired_one(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    upload(client, "URSSAF_VIGILANCE", pdf("URSSAF_VIGILANCE"), verification_code="ABCDEFGH12345XY")
    post(client, "/logout")
    new = _submitted(app)[-1]
    auth.login("operateur@vigie.test")
    post(client, f"/operations/review/{new.id}/validate")
    with app.app_context():
        statuses = db.session.scalars(
            select(DocumentVersion.status).where(DocumentVersion.document_id == new.document_id)
        ).all()
    assert sorted(statuses) == ["archived", "valid"]


def test_refusing_needs_a_reason_and_tells_the_supplier(app, client, auth, demo_file):
    version = _submitted(app)[0]
    auth.login("operateur@vigie.test")
    token = token_for(client, f"/operations/review/{version.id}")
    missing = client.post(
        f"/operations/review/{version.id}/refuse", data={"csrf_token": token, "reason": "0"}, headers=HTMX
    )
    body = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "<html" not in body
    assert "Choisissez un motif de refus dans la liste." in body
    with app.app_context():
        assert db.session.get(DocumentVersion, version.id).status == "submitted"
        reason = db.session.scalar(select(RefusalReason).where(RefusalReason.label_fr == "Pages manquantes"))
    response = client.post(
        f"/operations/review/{version.id}/refuse",
        data={"csrf_token": token, "reason": reason.id, "comment": "Il manque la page 2."},
    )
    assert response.status_code == 303
    drain(app)
    with app.app_context():
        refused = db.session.get(DocumentVersion, version.id)
        assert (refused.status, refused.refusal_comment) == ("refused", "Il manque la page 2.")
        message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message.subject == "Document refusé : Attestation mutuelle / prévoyance"
        assert "Motif : Pages manquantes — Il manque la page 2." in message.body_text
        assert message.status == "sent"


def test_refused_reason_is_shown_to_the_supplier_in_red(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    upload(client, "LNTE", pdf())
    post(client, "/logout")
    new = _submitted(app)[-1]
    auth.login("operateur@vigie.test")
    with app.app_context():
        reason_id = db.session.scalar(select(RefusalReason.id).where(RefusalReason.label_fr == "Document non signé"))
    post(client, f"/operations/review/{new.id}/refuse", {"reason": reason_id})
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    page = client.get("/documents").get_data(as_text=True)
    assert re.search(r'class="refusal"[^>]*>\s*<strong>Motif du refus :</strong> Document non signé', page)


def test_review_is_for_operators_only(app, client, auth, demo_file):
    version = _submitted(app)[0]
    auth.login("fournisseur@vigie.test")
    for path in (
        "/operations/review",
        f"/operations/review/{version.id}",
        f"/operations/review/{version.id}/pages/0.png",
        f"/operations/review/{version.id}/download",
        "/operations/document-types",
        "/operations/refusal-reasons",
        "/operations/mandates",
    ):
        assert client.get(path).status_code == 403, path
    assert post(client, f"/operations/review/{version.id}/validate").status_code == 403
    assert post(client, f"/operations/review/{version.id}/refuse", {"reason": 1}).status_code == 403
    post(client, "/logout")
    auth.login("operateur@vigie.test")
    assert client.get("/operations/review/999999").status_code == 404


def test_operators_edit_document_types_and_refusal_reasons(app, client, auth, demo_file):
    auth.login("operateur@vigie.test")
    with app.app_context():
        kbis = db.session.scalar(select(DocumentType).where(DocumentType.code == "KBIS"))
    assert "Extrait Kbis" in client.get("/operations/document-types").get_data(as_text=True)
    token = token_for(client, f"/operations/document-types/{kbis.id}")
    bad = client.post(
        f"/operations/document-types/{kbis.id}",
        headers=HTMX,
        data={
            "csrf_token": token,
            "label_fr": "Extrait Kbis",
            "label_en": "Kbis",
            "validity_rule": "months_from_issue",
            "validity_months": "",
        },
    )
    assert bad.status_code == 422 and "Indiquez la durée de validité en mois." in bad.get_data(as_text=True)
    good = client.post(
        f"/operations/document-types/{kbis.id}",
        data={
            "csrf_token": token,
            "label_fr": "Extrait Kbis (moins de 3 mois)",
            "label_en": "Kbis extract",
            "validity_rule": "months_from_issue",
            "validity_months": "3",
            "has_verification_code": "y",
            "active": "y",
            "retention_years": "10",  # the form always sends it (tests/documents/test_retention.py)
        },
    )
    assert good.status_code == 303
    with app.app_context():
        assert db.session.get(DocumentType, kbis.id).label_fr == "Extrait Kbis (moins de 3 mois)"
    token = token_for(client, "/operations/refusal-reasons")
    client.post(
        "/operations/refusal-reasons",
        data={"csrf_token": token, "label_fr": "Cachet manquant", "label_en": "Stamp missing", "active": "y"},
    )
    assert "Cachet manquant" in client.get("/operations/refusal-reasons").get_data(as_text=True)
    empty = client.post("/operations/refusal-reasons", data={"csrf_token": token, "label_fr": ""}, headers=HTMX)
    assert empty.status_code == 422 and "Indiquez le motif." in empty.get_data(as_text=True)
    with app.app_context():
        reason = db.session.scalar(select(RefusalReason).where(RefusalReason.label_fr == "Cachet manquant"))
    token = token_for(client, f"/operations/refusal-reasons/{reason.id}")
    client.post(
        f"/operations/refusal-reasons/{reason.id}",
        data={"csrf_token": token, "label_fr": "Cachet manquant", "label_en": "Stamp missing"},
    )
    with app.app_context():
        assert db.session.get(RefusalReason, reason.id).active is False
    version = _submitted(app)[0]
    assert ">Cachet manquant</option>" not in client.get(f"/operations/review/{version.id}").get_data(as_text=True)


def test_each_decision_opens_the_next_document_of_the_queue(app, client, auth, demo_file):
    first, second = _submitted(app)[:2]
    auth.login("operateur@vigie.test")
    until = (first.issued_on + timedelta(days=300)).isoformat()
    response = post(client, f"/operations/review/{first.id}/validate", {"valid_until": until})
    assert response.headers["Location"] == f"/operations/review/{second.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Document validé : Attestation mutuelle / prévoyance — Menuiserie Martin." in page
    assert 'width="595" height="842"' in page  # the preview's place is kept while the image loads
    with app.app_context():
        reason = db.session.scalar(select(RefusalReason.id).where(RefusalReason.label_fr == "Pages manquantes"))
    last = post(client, f"/operations/review/{second.id}/refuse", {"reason": reason})
    assert last.headers["Location"] == "/operations/review"  # nothing left: the empty queue
    assert "Document refusé : Attestation de régularité fiscale — Menuiserie Martin." in client.get(
        "/operations/review"
    ).get_data(as_text=True)


def test_messages_about_a_company_elide_de_before_a_vowel(app):
    from flask_babel import force_locale

    from portal.core.labels import de

    with app.test_request_context():
        with force_locale("fr"):
            assert de("Atelier Dupont") == "d'Atelier Dupont"
            assert de("Électricité Morel") == "d'Électricité Morel"
            assert de("Batie Construction") == "de Batie Construction"
        with force_locale("en"):
            assert de("Atelier Dupont") == "Atelier Dupont"


def test_the_supplier_is_told_at_once_and_the_operator_sees_each_fact_with_its_evidence(app, client, auth, demo_file):
    """Issue 16: a Kbis sent as an URSSAF attestation, an attestation of another company."""
    from portal.demo import samples

    today = clock.today()
    auth.login("fournisseur@vigie.test")
    kbis = samples.one("KBIS", "812345676", "Menuiserie Martin", today - timedelta(days=3))
    assert upload(client, "URSSAF_VIGILANCE", kbis, verification_code="ABCDEFGH12345XY").status_code == 303
    page = html.unescape(client.get("/documents").get_data(as_text=True))
    assert "Ce fichier ressemble à « Extrait Kbis », pas à « Attestation de vigilance URSSAF / MSA »" in page
    other = samples.one("URSSAF_VIGILANCE", "732829320", "Autre Entreprise", today - timedelta(days=3))
    assert upload(client, "URSSAF_VIGILANCE", other, verification_code="ABCDEFGH12345XY").status_code == 303
    page = html.unescape(client.get("/documents").get_data(as_text=True))
    assert "Ce document concerne une autre entreprise (SIREN 732829320), pas Menuiserie Martin" in page
    post(client, "/logout")
    with app.app_context():
        newest = db.session.scalar(select(DocumentVersion.id).order_by(DocumentVersion.id.desc()))
    auth.login("operateur@vigie.test")
    review = html.unescape(client.get(f"/operations/review/{newest}").get_data(as_text=True))
    subject = re.search(r'<dd id="check-subject">(.*?)</dd>', review, re.S).group(1)
    assert "✗ une autre entreprise (SIREN 732829320)" in subject and "« " in subject  # the words it was read in
    assert re.search(r'<dd id="check-type">✓ Attestation de vigilance URSSAF / MSA</dd>', review)
    assert "absente du document" in re.search(r'<dd id="check-name">(.*?)</dd>', review, re.S).group(1)
    certified = re.search(r'<dd id="check-certified">(.*?)</dd>', review, re.S).group(1)
    assert "à la date du" in certified
    post(client, "/language", {"language": "en"})
    review = html.unescape(client.get(f"/operations/review/{newest}").get_data(as_text=True))
    warnings = re.search(r'<ul class="warnings">(.*?)</ul>', review, re.S).group(1)
    assert "The document is about SIREN 732829320, not the company's (812345676)." in warnings
    assert "Le document concerne" not in warnings


def test_the_client_sees_the_headcount_printed_on_its_suppliers_urssaf_attestation(app, client, auth, demo_file):
    """Issue 16, figures: read from the attestation, shown beside the partnership."""
    from portal.core.pdf import new_pdf, paragraph, to_bytes
    from portal.models import Partnership

    certified = clock.today() - timedelta(days=2)
    pdf_file = new_pdf(title="URSSAF")
    pdf_file.add_page()
    pdf_file.set_font("DejaVu", "", 10)
    for line in (
        "Urssaf Rhône-Alpes",
        "Attestation de vigilance",
        "L'Urssaf atteste que l'entreprise Menuiserie Martin (SARL),",
        "SIREN : 812 345 676",
        f"est à jour de ses obligations à la date du {certified:%d/%m/%Y}.",
        "Effectif salarié déclaré : 3",
        "Identifiant de sécurité : ABCDEFGH12345XY",
    ):
        paragraph(pdf_file, line)
    auth.login("fournisseur@vigie.test")
    upload(client, "URSSAF_VIGILANCE", to_bytes(pdf_file), issued=certified, verification_code="ABCDEFGH12345XY")
    post(client, "/logout")
    with app.app_context():
        newest = db.session.scalar(select(DocumentVersion).order_by(DocumentVersion.id.desc()))
        assert newest.precheck["headcount"] == 3 and newest.precheck["siren_found"] is True
        db.session.execute(db.update(Partnership).where(Partnership.status == "pending").values(status="accepted"))
        db.session.commit()
        version_id, martin = newest.id, newest.organisation_id
    auth.login("operateur@vigie.test")
    review = html.unescape(client.get(f"/operations/review/{version_id}").get_data(as_text=True))
    headcount = re.search(r'<dd id="check-headcount">(.*?)</dd>', review, re.S).group(1)
    assert headcount.startswith("3 salariés") and "« Effectif salarié déclaré : 3 »" in headcount
    post(client, f"/operations/review/{version_id}/validate", {"valid_until": ""})
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    page = html.unescape(client.get(f"/partners/companies/{martin}").get_data(as_text=True))
    figures = re.search(r'<p class="notice" id="declared-figures">(.*?)</p>', page, re.S).group(1)
    assert "Effectif déclaré à l'Urssaf : 3 salariés" in figures and "attestation de vigilance du" in figures


def _attestation(*lines: str) -> bytes:
    from portal.core.pdf import new_pdf, paragraph, to_bytes

    pdf_file = new_pdf(title="Attestation")
    pdf_file.add_page()
    pdf_file.set_font("DejaVu", "", 10)
    for line in lines:
        paragraph(pdf_file, line)
    return to_bytes(pdf_file)


def test_the_operator_checks_each_code_at_its_issuer_in_one_click(app, client, auth, demo_file):
    """Issue 16, codes: a link to the issuer's verification page, the Kbis code kept in its case."""
    certified = clock.today() - timedelta(days=2)
    kbis = _attestation(
        "Greffe du Tribunal de Commerce de Lyon",
        "Extrait Kbis",
        "Code de vérification : 5sLz24kcdR",
        "Dénomination : Menuiserie Martin",
        "Immatriculation au RCS, numéro : 812 345 676 R.C.S. Lyon",
        f"Extrait à jour au {certified:%d/%m/%Y}",
    )
    urssaf = _attestation(
        "Urssaf Rhône-Alpes",
        "Attestation de vigilance",
        "L'Urssaf atteste que l'entreprise Menuiserie Martin (SARL),",
        "SIREN : 812 345 676",
        f"est à jour de ses obligations à la date du {certified:%d/%m/%Y}.",
        "Identifiant de sécurité : ABCDEFGH12345XY",
    )
    msa = _attestation(
        "Mutualité sociale agricole Ain-Rhône",
        "Attestation de vigilance",
        "La MSA atteste que l'entreprise Menuiserie Martin (SARL),",
        "SIREN : 812 345 676",
        f"est à jour de ses obligations à la date du {certified:%d/%m/%Y}.",
        "Code de sécurité : MSA7788991122",
    )
    auth.login("fournisseur@vigie.test")
    ids = {}
    for code, data, typed in (("KBIS", kbis, "5sLz24kcdR"), ("URSSAF_VIGILANCE", urssaf, "ABCDEFGH12345XY")):
        assert upload(client, code, data, issued=certified, verification_code=typed).status_code == 303
        with app.app_context():
            ids[code] = db.session.scalar(select(DocumentVersion.id).order_by(DocumentVersion.id.desc()))
    with app.app_context():
        stored = db.session.get(DocumentVersion, ids["KBIS"])
        assert stored.verification_code == "5sLz24kcdR"  # the greffe's codes are case-sensitive
        assert stored.precheck["verification_code"] == "5sLz24kcdR" and stored.precheck["issuer"] == "greffe"
    post(client, "/logout")
    auth.login("operateur@vigie.test")
    page = html.unescape(client.get(f"/operations/review/{ids['KBIS']}").get_data(as_text=True))
    links = re.search(r'<ul class="issuer-checks" id="issuer-checks">(.*?)</ul>', page, re.S).group(1)
    assert 'href="https://www.infogreffe.fr/controle/verif?codeVerif=5sLz24kcdR"' in links
    assert 'target="_blank" rel="noopener noreferrer"' in links
    assert "Vérifier le code 5sLz24kcdR sur le site Infogreffe" in links
    page = html.unescape(client.get(f"/operations/review/{ids['URSSAF_VIGILANCE']}").get_data(as_text=True))
    links = re.search(r'<ul class="issuer-checks" id="issuer-checks">(.*?)</ul>', page, re.S).group(1)
    assert 'href="https://www.urssaf.fr/accueil/outils-documentation/outils/verification-attestation.html"' in links
    assert "saisissez-y le code <code>ABCDEFGH12345XY</code>" in links
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    assert (
        upload(client, "URSSAF_VIGILANCE", msa, issued=certified, verification_code="MSA7788991122").status_code == 303
    )
    post(client, "/logout")
    with app.app_context():
        newest = db.session.scalar(select(DocumentVersion).order_by(DocumentVersion.id.desc()))
        assert newest.precheck["issuer"] == "msa"
    auth.login("operateur@vigie.test")
    page = html.unescape(client.get(f"/operations/review/{newest.id}").get_data(as_text=True))
    links = re.search(r'<ul class="issuer-checks" id="issuer-checks">(.*?)</ul>', page, re.S).group(1)
    assert "urssaf.fr" not in links  # the Urssaf's page does not know MSA attestations
    assert "Vigie ne connaît pas de page publique de vérification" in links and "MSA7788991122" in links
