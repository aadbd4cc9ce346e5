"""Quitus (PDF + public verification) and the collection mandate."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import func, select

from portal.core.clock import today
from portal.core.extensions import db
from portal.models import DocumentVersion, Mandate, Message, Quitus
from tests.support.data import other_company
from tests.support.documents import pdf, png
from tests.support.http import HTMX, post, token_for


def test_quitus_is_a_french_pdf_with_a_code_the_public_page_confirms(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    issued = post(client, "/documents/quitus")
    assert issued.status_code == 303
    response = client.get(issued.headers["Location"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Quitus — attestation d'adhésion à Vigie" in text
    assert "Menuiserie Martin" in text and "812345676" in text
    assert "Attestation de vigilance URSSAF / MSA" in text and "Expiré" in text and "Refusé" in text
    code = re.search(r"Code de vérification : ([A-Z0-9-]+)", text).group(1)
    post(client, "/logout")
    public = client.get(f"/verifier/{code.replace('-', '')}")
    assert public.status_code == 200
    page = public.get_data(as_text=True)
    assert "Quitus authentique et toujours à jour." in page and "812345676" in page
    via_form = client.get(f"/verifier?code={code.lower()}")
    assert via_form.status_code == 303


def test_no_get_issues_a_quitus_and_nobody_reads_another_companys(app, client, auth, demo_file):
    """An <img src="/documents/quitus.pdf"> on another site must not issue one in the supplier's name."""
    auth.login("fournisseur@vigie.test")
    assert client.get("/documents/quitus.pdf").status_code in (404, 405)
    assert client.post("/documents/quitus").status_code == 400  # no CSRF token: refused
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Quitus)) == 0
    location = post(client, "/documents/quitus").headers["Location"]
    assert client.get(location).status_code == 200 and client.get(location).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Quitus)) == 1  # downloading again issues none
    post(client, "/logout")
    other_company(app, "rival@vigie.test", 77, legal_name="Rival SARL", is_supplier=True)
    auth.login("rival@vigie.test")
    assert client.get(location).status_code == 404


def test_quitus_that_no_longer_matches_says_so(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    post(client, "/documents/quitus")
    with app.app_context():
        code = db.session.scalar(select(Quitus.code))
        rc = db.session.scalars(select(DocumentVersion).where(DocumentVersion.original_filename == "kbis.pdf")).one()
        rc.valid_until = today() - timedelta(days=1)
        db.session.commit()
    page = client.get(f"/verifier/{code}").get_data(as_text=True)
    assert "la situation a changé depuis son émission" in page
    assert "Extrait Kbis : Valide (expire bientôt) → Expiré" in page


def test_unknown_quitus_code_is_a_clear_404(client):
    response = client.get("/verifier/NOPENOPENOPE")
    assert response.status_code == 404 and "Aucun quitus ne porte ce code" in response.get_data(as_text=True)


def test_mandate_from_choice_to_active_then_revoked(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    page = client.get("/preferences").get_data(as_text=True)
    assert "Donner mandat de collecte" in page and "Attestation de régularité fiscale" in page
    token = token_for(client, "/preferences")
    none = client.post("/preferences", data={"csrf_token": token})
    assert none.status_code == 422 and "Cochez au moins un type de document." in none.get_data(as_text=True)
    client.post("/preferences", data={"csrf_token": token, "types": ["RC_PRO", "FISCAL", "KBIS"]})
    with app.app_context():
        mandate = db.session.scalar(select(Mandate))
        assert mandate.type_codes == ["FISCAL", "RC_PRO"] and mandate.status == "draft"  # KBIS is not collectable
    prefilled = client.get(f"/preferences/mandates/{mandate.id}.pdf")
    text = " ".join(PdfReader(io.BytesIO(prefilled.data)).pages[0].extract_text().split())
    assert "Mandat de collecte de documents" in text and "Paul Martin" in text and "812345676" in text
    fake = client.post(
        f"/preferences/mandates/{mandate.id}/signed",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(b"not a scan"), "mandat.pdf")},
    )
    assert fake.status_code == 422 and "valide" in fake.get_data(as_text=True)
    signed = client.post(
        f"/preferences/mandates/{mandate.id}/signed",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(png()), "mandat-signe.png")},
    )
    assert signed.status_code == 303
    assert "en attente de vérification" in client.get("/preferences").get_data(as_text=True)
    post(client, "/logout")

    auth.login("operateur@vigie.test")
    assert "Menuiserie Martin" in client.get("/operations/mandates").get_data(as_text=True)
    assert client.get(f"/operations/mandates/{mandate.id}/signed").data.startswith(b"\x89PNG")
    post(client, f"/operations/mandates/{mandate.id}/validate")
    token = token_for(client, f"/operations/mandates/{mandate.id}/collect")
    wrong_type = client.post(
        f"/operations/mandates/{mandate.id}/collect",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "type_code": "KBIS",
            "file": (io.BytesIO(pdf("KBIS")), "kbis.pdf"),
            "issued_on": (today() - timedelta(days=1)).isoformat(),
            "verification_code": "AB12CD34EF",
        },
    )
    assert wrong_type.status_code == 422 and "pas couvert par le mandat" in wrong_type.get_data(as_text=True)
    collected = client.post(
        f"/operations/mandates/{mandate.id}/collect",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "type_code": "FISCAL",
            "file": (io.BytesIO(pdf("FISCAL")), "fiscal.pdf"),
            "issued_on": (today() - timedelta(days=1)).isoformat(),
        },
    )
    assert collected.status_code == 303
    assert "collecté sous mandat" in client.get("/operations/review").get_data(as_text=True)
    post(client, "/logout")

    auth.login("fournisseur@vigie.test")
    assert "collecté sous mandat" in client.get("/documents/online").get_data(as_text=True)
    assert "actif" in client.get("/preferences").get_data(as_text=True)
    # The supplier was told twice: the mandate is active, then a document was collected under it.
    with app.app_context():
        subjects = db.session.scalars(
            select(Message.subject).where(Message.recipient == "fournisseur@vigie.test").order_by(Message.id)
        ).all()
    reference = f"M-{mandate.id:06d}"
    assert f"Mandat de collecte actif : {reference}" in subjects
    assert "Document collecté pour vous : Attestation de régularité fiscale" in subjects
    # Revoking asks first (what stops, what stays), then revokes.
    confirm = client.get(f"/preferences/mandates/{mandate.id}/revoke").get_data(as_text=True)
    assert f"Révoquer le mandat {reference} ?" in confirm and "restent dans votre dossier" in confirm
    assert 'href="/preferences">Annuler</a>' in confirm
    with app.app_context():
        assert db.session.get(Mandate, mandate.id).status == "active"
    post(client, f"/preferences/mandates/{mandate.id}/revoke")
    with app.app_context():
        assert db.session.get(Mandate, mandate.id).status == "revoked"


def test_unsigned_mandates_can_be_cancelled_and_overlaps_are_said(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    post(client, "/preferences", {"types": ["RC_PRO"]})
    again = post(client, "/preferences", {"types": ["RC_PRO", "FISCAL"]})
    body = again.get_data(as_text=True).replace("&#39;", "'")
    assert again.status_code == 422
    assert "Ces documents sont déjà couverts : M-" in body and "(à signer) : Attestation d'assurance RC" in body
    assert re.search(r'value="FISCAL"[^>]*checked', body)  # the choice is kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Mandate)) == 1
    post(client, "/preferences", {"types": ["RC_PRO", "FISCAL"], "confirm_overlap": "1"})
    with app.app_context():
        first, second = db.session.scalars(select(Mandate).order_by(Mandate.id)).all()
    page = client.get("/preferences").get_data(as_text=True)
    assert f"/preferences/mandates/{first.id}/cancel" in page
    assert post(client, f"/preferences/mandates/{first.id}/cancel").status_code == 303
    page = client.get("/preferences").get_data(as_text=True)
    assert f"Mandat M-{first.id:06d} annulé." in page and f'id="mandate-{first.id}"' not in page
    assert f'id="mandate-{second.id}"' in page
    # A mandate already sent signed cannot be cancelled (it is revoked, after confirmation).
    with app.app_context():
        db.session.get(Mandate, second.id).status = "submitted"
        db.session.commit()
    post(client, f"/preferences/mandates/{second.id}/cancel")
    with app.app_context():
        assert db.session.get(Mandate, second.id).status == "submitted"


def test_another_companys_mandate_is_out_of_reach(app, client, auth, demo_file):
    with app.app_context():
        mandate = Mandate(organisation_id=demo_file["orgs"]["Demolitor SAS"], type_codes=["FISCAL"])
        db.session.add(mandate)
        db.session.commit()
        mandate_id = mandate.id
    auth.login("fournisseur@vigie.test")
    assert client.get(f"/preferences/mandates/{mandate_id}.pdf").status_code == 404
    assert client.get(f"/preferences/mandates/{mandate_id}/signed").status_code == 404
    assert post(client, f"/preferences/mandates/{mandate_id}/revoke").status_code == 404
    assert client.get(f"/preferences/mandates/{mandate_id}/revoke").status_code == 404
    assert post(client, f"/preferences/mandates/{mandate_id}/cancel").status_code == 404
    response = client.post(
        f"/preferences/mandates/{mandate_id}/signed",
        content_type="multipart/form-data",
        data={"csrf_token": token_for(client, "/"), "file": (io.BytesIO(png()), "m.png")},
        headers=HTMX,
    )
    assert response.status_code == 404


def _text_boxes(data: bytes, needles: list[str]) -> dict[str, tuple[float, float, float, float]]:
    """Where each text sits on the quitus's page (left, bottom, right, top, in points), read by PDFium."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    textpage = document[0].get_textpage()
    text = textpage.get_text_range()
    boxes = {}
    for needle in needles:
        start = text.find(needle)
        assert start >= 0, needle
        chars = [textpage.get_charbox(i) for i in range(start, start + len(needle)) if not text[i].isspace()]
        boxes[needle] = (
            min(c[0] for c in chars),
            min(c[1] for c in chars),
            max(c[2] for c in chars),
            max(c[3] for c in chars),
        )
    return boxes


def test_quitus_states_stay_inside_their_column(app, client, auth, demo_file):
    """ "Valide (expire bientôt)" and "En cours de vérification" used to run over into the next column."""
    from tests.support.documents import upload

    auth.login("fournisseur@vigie.test")
    upload(client, "LNTE", pdf())  # the refused list is replaced: "En cours de vérification"
    response = client.get(post(client, "/documents/quitus").headers["Location"])
    with app.app_context():
        kbis_until = db.session.scalar(
            select(DocumentVersion.valid_until).where(DocumentVersion.original_filename == "kbis.pdf")
        )
    date_text = f"{kbis_until:%d/%m/%Y}"
    boxes = _text_boxes(
        response.data, ["Valide (expire bientôt)", date_text, "En cours de vérification", "Extrait Kbis"]
    )
    state, until = boxes["Valide (expire bientôt)"], boxes[date_text]
    assert abs(state[1] - until[1]) < 12, "the state and its date are on the same row"
    assert state[2] + 2 < until[0], f"the state runs into the date column: {state} / {until}"
    review = boxes["En cours de vérification"]
    assert review[2] + 2 < until[0]
    assert boxes["Extrait Kbis"][2] + 2 < state[0]


def test_dates_say_1er_in_french_and_the_quitus_stays_french_in_english(app, client, auth, demo_file):
    from datetime import date

    from portal.core.labels import first_of_month, local_date

    assert first_of_month("1 décembre 2026") == "1er décembre 2026"
    assert first_of_month("mardi 1 décembre 2026 à 10:00") == "mardi 1er décembre 2026 à 10:00"
    assert first_of_month("11 décembre 2026") == "11 décembre 2026"
    assert first_of_month("21 mai 2026") == "21 mai 2026"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask_babel import force_locale

        with force_locale("en"):
            assert local_date(date(2026, 12, 1), "long") == "December 1, 2026"
        with force_locale("fr"):
            assert local_date(date(2026, 12, 1), "long") == "1er décembre 2026"
    auth.login("fournisseur@vigie.test")
    post(client, "/language", {"language": "en"})
    location = post(client, "/documents/quitus").headers["Location"]
    with app.app_context():
        quitus = db.session.scalars(select(Quitus).order_by(Quitus.id.desc())).first()
        from datetime import datetime

        quitus.issued_at = datetime(2026, 11, 30, 23, 30)  # 1 December, 00:30 in Paris
        db.session.commit()
    text = " ".join(PdfReader(io.BytesIO(client.get(location).data)).pages[0].extract_text().split())
    assert "Situation au 1er décembre 2026 :" in text


def test_in_english_mandate_types_are_english_and_a_company_name_is_not_a_last_name(client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    post(client, "/language", {"language": "en"})
    preferences = client.get("/preferences").get_data(as_text=True)
    assert "URSSAF / MSA vigilance certificate" in preferences
    assert "Attestation de vigilance URSSAF" not in preferences
    company = client.get(f"/organisations/{demo_file['orgs']['Menuiserie Martin']}").get_data(as_text=True)
    assert '<th scope="col">Name</th>' in company and "Last name" not in company
