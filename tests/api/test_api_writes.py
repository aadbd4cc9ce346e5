"""The API's writes: requirements, partnership requests, a supplier's new versions (same rules as the portal)."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.models import DocumentVersion, Invitation, Message, Organisation, Partnership, Requirement
from tests.api.support import BATIE, CONSTRUCTOR, DEMOLITOR, MARTIN, accept_all_requests_to, bearer, make_key
from tests.api.test_api import _problem
from tests.support.documents import pdf


def test_requirements_are_read_and_replaced_for_all_suppliers_or_one_partner(app, client, auth, demo_file):
    secret = make_key(app, CONSTRUCTOR)
    found = client.get("/api/v1/requirements", headers=bearer(secret)).get_json()
    assert found["supplier"] is None and set(found["types"]) == {"RC_PRO", "DECENNALE"}  # the demo's
    assert "KBIS" in found["available_types"]
    saved = client.put("/api/v1/requirements", json={"types": ["RC_PRO"]}, headers=bearer(secret))
    assert saved.status_code == 200 and saved.get_json()["types"] == ["RC_PRO"]
    auth.login("constructor@vigie.test")  # the portal's page says the same
    page = client.get("/partners/requirements").get_data(as_text=True)
    assert 'value="RC_PRO" checked' in page and 'value="DECENNALE" checked' not in page
    _problem(client.put(f"/api/v1/requirements?supplier={MARTIN}", json={"types": []}, headers=bearer(secret)), 404)
    accept_all_requests_to(app, MARTIN)
    one = client.put(f"/api/v1/requirements?supplier={MARTIN}", json={"types": ["QUALIBAT"]}, headers=bearer(secret))
    assert one.status_code == 200 and one.get_json() == {**one.get_json(), "supplier": MARTIN, "types": ["QUALIBAT"]}
    with app.app_context():
        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == MARTIN))
        assert db.session.scalar(select(Requirement).where(Requirement.supplier_id == martin)) is not None


def test_bad_requirements_are_refused_with_nothing_saved_and_need_their_scope(app, client, demo_file):
    secret = make_key(app, CONSTRUCTOR)
    body = _problem(client.put("/api/v1/requirements", json={"types": ["RC_PRO", "NOPE"]}, headers=bearer(secret)), 422)
    assert body["errors"][0]["field"] == "types" and "NOPE" in body["errors"][0]["message"]
    body = _problem(client.put("/api/v1/requirements", json={"types": "RC_PRO"}, headers=bearer(secret)), 422)
    assert body["errors"] == [{"field": "types", "message": "Une liste est attendue."}]
    _problem(
        client.put("/api/v1/requirements", data="{", headers=bearer(secret, **{"Content-Type": "application/json"})),
        400,
    )
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Requirement)) == 2
    auth_page = client.application.test_client()  # the portal's form, changed by hand, says so too
    from tests.support.http import AuthActions, post

    AuthActions(auth_page).login("constructor@vigie.test")
    answer = post(auth_page, "/partners/requirements", {"types": ["RC_PRO", "NOPE"]}, follow_redirects=True)
    assert "Types de document inconnus : NOPE." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Requirement)) == 2
    reader = make_key(app, CONSTRUCTOR, ["suppliers:read"])
    assert client.get("/api/v1/requirements", headers=bearer(reader)).status_code == 200
    _problem(client.put("/api/v1/requirements", json={"types": []}, headers=bearer(reader)), 403)


def test_a_client_asks_a_company_on_vigie_or_invites_one_that_is_not(app, client, demo):
    secret = make_key(app, DEMOLITOR)
    asked = client.post("/api/v1/partnership-requests", json={"siren": BATIE}, headers=bearer(secret))
    assert asked.status_code == 201
    assert asked.get_json() == {**asked.get_json(), "siren": BATIE, "status": "pending", "invited_email": None}
    again = _problem(client.post("/api/v1/partnership-requests", json={"siren": BATIE}, headers=bearer(secret)), 422)
    assert again["errors"] == [{"field": "target", "message": "Une demande est déjà en attente de réponse."}]
    missing = _problem(
        client.post("/api/v1/partnership-requests", json={"siret": "73282932000074"}, headers=bearer(secret)), 422
    )
    assert {e["field"] for e in missing["errors"]} == {"email", "legal_name"}
    invite = {"siret": "73282932000074", "email": "pas-une-adresse", "legal_name": "Entreprise Nouvelle"}
    bad = _problem(client.post("/api/v1/partnership-requests", json=invite, headers=bearer(secret)), 422)
    assert bad["errors"] == [{"field": "email", "message": "Cette adresse e-mail n'est pas valide."}]
    invite["email"] = "direction@nouvelle.test"
    invited = client.post("/api/v1/partnership-requests", json=invite, headers=bearer(secret))
    assert invited.status_code == 201 and invited.get_json()["invited_email"] == "direction@nouvelle.test"
    with app.app_context():
        company = db.session.scalar(select(Organisation).where(Organisation.siren == "732829320"))
        assert company.legal_name == "Entreprise Nouvelle"
        assert db.session.scalar(select(Invitation).where(Invitation.email == "direction@nouvelle.test"))
        assert db.session.scalar(select(Message).where(Message.recipient == "direction@nouvelle.test"))
        assert (
            db.session.scalar(
                select(db.func.count()).select_from(Partnership).where(Partnership.target_id == company.id)
            )
            == 1
        )
    unknown = _problem(client.post("/api/v1/partnership-requests", json={"siren": "12"}, headers=bearer(secret)), 422)
    assert unknown["errors"][0]["field"] == "siren"


def _send(client, secret, code="URSSAF_VIGILANCE", data=None, **fields):
    form = {"file": (io.BytesIO(data if data is not None else pdf(code)), "attestation.pdf"), **fields}
    return client.post(f"/api/v1/me/documents/{code}/versions", data=form, headers=bearer(secret))


def test_a_supplier_sends_a_new_version_with_the_portals_checks_and_reads_what_was_read(app, client, demo_file):
    secret = make_key(app, MARTIN)
    issued = (clock.today() - timedelta(days=2)).isoformat()
    sent = _send(client, secret, issued_on=issued, verification_code="ABCDEFGH12345XY")
    assert sent.status_code == 201, sent.get_data(as_text=True)
    found = sent.get_json()
    assert found["type"] == "URSSAF_VIGILANCE" and found["status"] in ("submitted", "valid")
    assert found["reading"]["detected_type"] == "URSSAF_VIGILANCE" and found["issued_on"] == issued
    with app.app_context():
        version = db.session.get(DocumentVersion, found["id"])
        assert version.uploaded_by_id is not None and version.original_filename == "attestation.pdf"
    future = (clock.today() + timedelta(days=3)).isoformat()
    body = _problem(_send(client, secret, issued_on=future, verification_code="ABCDEFGH12345XY"), 422)
    assert body["errors"] == [{"field": "issued_on", "message": "La date du document ne peut pas être dans le futur."}]
    body = _problem(_send(client, secret, data=b"not a pdf", issued_on=issued, verification_code="ABCD1234"), 422)
    assert body["errors"][0]["field"] == "file"
    body = _problem(client.post("/api/v1/me/documents/URSSAF_VIGILANCE/versions", data={}, headers=bearer(secret)), 422)
    assert {e["field"] for e in body["errors"]} == {"file", "issued_on"}
    _problem(_send(client, secret, code="NOPE", issued_on=issued), 404)
    with app.app_context():
        assert (
            db.session.scalar(
                select(db.func.count()).select_from(DocumentVersion).where(DocumentVersion.id > found["id"])
            )
            == 0
        )
    _problem(_send(client, make_key(app, CONSTRUCTOR), issued_on=issued), 403)
    _problem(_send(client, make_key(app, MARTIN, ["documents:read"]), issued_on=issued), 403)


def test_engagements_are_recorded_and_read_with_their_checkpoints(app, client, demo_file, monkeypatch):
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from portal.models import Engagement

    monkeypatch.setattr(clock, "now", lambda: datetime.combine(date(2026, 12, 2), time(10), ZoneInfo("Europe/Paris")))
    secret = make_key(app, CONSTRUCTOR)
    body = {"reference": "ERP-77", "amount_ht": "48000.00", "starts_on": "2026-06-02"}
    _problem(client.post(f"/api/v1/suppliers/{MARTIN}/engagements", json=body, headers=bearer(secret)), 404)
    accept_all_requests_to(app, MARTIN)
    bad = _problem(
        client.post(
            f"/api/v1/suppliers/{MARTIN}/engagements",
            json={**body, "amount_ht": "12.345", "ends_on": "2026-01-01"},
            headers=bearer(secret),
        ),
        422,
    )
    assert {e["field"]: e["message"] for e in bad["errors"]} == {
        "amount_ht": "Indiquez le montant hors taxes en euros (par exemple 12 500 ou 12 500,50).",
        "ends_on": "La fin ne peut pas précéder la conclusion.",
    }
    not_a_number = _problem(
        client.post(
            f"/api/v1/suppliers/{MARTIN}/engagements", json={**body, "amount_ht": "douze"}, headers=bearer(secret)
        ),
        422,
    )
    assert not_a_number["errors"][0]["message"] == "Un nombre est attendu (12500 ou 12500.50)."
    created = client.post(f"/api/v1/suppliers/{MARTIN}/engagements", json=body, headers=bearer(secret))
    assert created.status_code == 201
    answer = created.get_json()
    assert (answer["amount_ht"], answer["legal_duty"], answer["ends_on"]) == ("48000.00", True, None)
    assert [(c["day"], c["kind"]) for c in answer["checkpoints"]] == [
        ("2026-06-02", "conclusion"),
        ("2026-12-02", "six-monthly"),
        ("2027-06-02", "six-monthly"),
    ]
    listed = client.get(f"/api/v1/suppliers/{MARTIN}/engagements", headers=bearer(secret)).get_json()
    assert [e["reference"] for e in listed["data"]] == ["ERP-77"]
    read_only = make_key(app, CONSTRUCTOR, ["suppliers:read"])
    _problem(client.post(f"/api/v1/suppliers/{MARTIN}/engagements", json=body, headers=bearer(read_only)), 403)
    for other in (BATIE, MARTIN):  # an agency without the partnership; the supplier itself
        key = make_key(app, other)
        _problem(client.get(f"/api/v1/suppliers/{MARTIN}/engagements", headers=bearer(key)), 404)
    _problem(client.get(f"/api/v1/suppliers/{CONSTRUCTOR}/engagements", headers=bearer(make_key(app, MARTIN))), 404)
    with app.app_context():
        assert db.session.query(Engagement).count() == 1
