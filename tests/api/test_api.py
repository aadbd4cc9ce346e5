"""The public API: keys, authentication, problem details, the suppliers' resources, tenant isolation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.models import ApiKey, AuditEvent, DocumentVersion, Membership, Organisation, Partnership, User, utcnow
from tests.api.support import (
    BATIE,
    CABINET,
    CONSTRUCTOR,
    DEMOLITOR,
    MARTIN,
    accept_all_requests_to,
    bearer,
    make_key,
)
from tests.support.data import count_queries
from tests.support.http import HTMX, form_values, post


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"].endswith(str(status))
    return body


# --- keys, in "Paramètres → API" -----------------------------------------------------------------


def test_an_owner_creates_a_key_sees_it_once_and_it_is_stored_hashed(app, client, auth, demo):
    auth.login("constructor@vigie.test")
    page = client.get("/settings/api")
    assert page.status_code == 200 and "Aucune clé pour l'instant." in page.get_data(as_text=True)
    values = form_values(page.data, "api-key-form")
    created = client.post(
        "/settings/api", data={**values, "name": "ERP achats", "scopes": ["suppliers:read", "documents:read"]}
    )
    assert created.status_code == 303
    shown = client.get("/settings/api").get_data(as_text=True)
    assert "elle ne sera plus jamais affichée" in shown
    secret = shown.split('<code id="new-key-secret">')[1].split("</code>")[0]
    assert secret.startswith("vk_")
    again = client.get("/settings/api").get_data(as_text=True)
    assert secret not in again and "ERP achats" in again and "jamais" in again  # never used yet
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in key.key_hash
        assert key.scopes == ["suppliers:read", "documents:read"]
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_key.created")) is not None
    assert client.get("/api/v1/suppliers", headers=bearer(secret)).status_code == 200
    assert "jamais" not in client.get("/settings/api").get_data(as_text=True).split('id="api-keys"')[1]


def test_a_key_without_a_name_or_a_right_is_refused_next_to_each_field_and_nothing_is_saved(app, client, auth, demo):
    auth.login("constructor@vigie.test")
    values = form_values(client.get("/settings/api").data, "api-key-form")
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    answer = client.post("/settings/api", data={**values, "name": " ", "expires_on": yesterday})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Donnez un nom à cette clé" in page and "Choisissez au moins un droit." in page
    answer = client.post(
        "/settings/api",
        data={**values, "name": "x", "scopes": ["suppliers:read"], "expires_on": yesterday},
        headers=HTMX,
    )
    assert answer.status_code == 422 and "La date d&#39;expiration doit être dans le futur." in answer.get_data(
        as_text=True
    )
    answer = client.post("/settings/api", data={**values, "name": "x", "scopes": ["everything"]})
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(ApiKey)) is None


def test_a_key_says_the_last_day_its_owner_chose(app, client, auth, demo):
    from babel.dates import format_date

    auth.login("constructor@vigie.test")
    values = form_values(client.get("/settings/api").data, "api-key-form")
    last = clock.today() + timedelta(days=10)
    data = {**values, "name": "ERP", "scopes": ["suppliers:read"], "expires_on": last.isoformat()}
    assert client.post("/settings/api", data=data).status_code == 303
    page = client.get("/settings/api").get_data(as_text=True)
    assert f"Active jusqu'au {format_date(last, 'long', locale='fr')}" in page


def test_only_owners_manage_keys_and_a_revoked_key_stops_at_once(app, client, auth, demo):
    secret = make_key(app, CABINET, ["suppliers:read"])
    auth.login("collaboratrice@vigie.test")  # a collaborator of the same firm
    assert client.get("/settings/api").status_code == 403
    auth.logout()
    auth.login("constructor@vigie.test")
    with app.app_context():
        other_key = db.session.scalar(select(ApiKey.id))
    assert post(client, f"/settings/api/{other_key}/revoke").status_code == 404  # the firm's key
    assert client.get("/api/v1/suppliers", headers=bearer(secret)).status_code == 200
    auth.logout()
    auth.login("cabinet@vigie.test")
    assert post(client, f"/settings/api/{other_key}/revoke").status_code == 303
    assert "Révoquée le" in client.get("/settings/api").get_data(as_text=True)
    _problem(client.get("/api/v1/suppliers", headers=bearer(secret)), 401)


# --- authentication and problem details -----------------------------------------------------------


def test_without_a_valid_key_the_answer_is_a_401_problem_in_french_or_english(app, client, demo):
    secret = make_key(app, CONSTRUCTOR)
    body = _problem(client.get("/api/v1/suppliers"), 401)
    assert body["title"] == "Clé d'API absente ou invalide" and "Authorization: Bearer" in body["detail"]
    english = _problem(client.get("/api/v1/suppliers", headers={"Accept-Language": "en-GB,en;q=0.9"}), 401)
    assert english["title"] == "Missing or invalid API key"
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")  # the right prefix, a wrong secret
    _problem(client.get("/api/v1/suppliers", headers=bearer(forged)), 401)
    _problem(client.get("/api/v1/suppliers", headers=bearer("vk_" + "0" * 12 + "_x")), 401)
    _problem(client.get("/api/v1/suppliers", headers={"Authorization": "Basic abc"}), 401)
    assert client.get("/api/v1/suppliers").headers["WWW-Authenticate"].startswith("Bearer")
    _problem(client.get("/api/v1/no-such-thing", headers=bearer(secret)), 404)


def test_an_expired_key_and_a_key_whose_creator_is_no_longer_owner_or_active_stop_working(app, client, demo):
    expiring = make_key(app, CONSTRUCTOR, expires_on=clock.today() + timedelta(days=1))
    assert client.get("/api/v1/suppliers", headers=bearer(expiring)).status_code == 200
    with app.app_context():
        key = db.session.scalar(select(ApiKey))
        key.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    _problem(client.get("/api/v1/suppliers", headers=bearer(expiring)), 401)
    secret = make_key(app, CONSTRUCTOR)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "constructor@vigie.test"))
        constructor = db.session.scalar(select(Organisation).where(Organisation.siren == CONSTRUCTOR))
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == constructor.id)
        )
        membership.role = "member"
        db.session.commit()
    _problem(client.get("/api/v1/suppliers", headers=bearer(secret)), 401)
    deactivated = make_key(app, DEMOLITOR)  # its creator's account then switched off
    assert client.get("/api/v1/suppliers", headers=bearer(deactivated)).status_code == 200
    with app.app_context():
        creator = db.session.scalar(select(ApiKey).order_by(ApiKey.id.desc())).created_by_id
        db.session.get(User, creator).active = False
        db.session.commit()
    _problem(client.get("/api/v1/suppliers", headers=bearer(deactivated)), 401)


def test_a_key_without_the_scope_gets_403_and_every_use_is_audited(app, client, demo_file):
    secret = make_key(app, CONSTRUCTOR, ["documents:read"])
    body = _problem(client.get("/api/v1/suppliers", headers=bearer(secret)), 403)
    assert "suppliers:read" in body["detail"]
    client.get("/api/v1/suppliers/812345676", headers=bearer(secret, **{"Accept-Language": "en"}))
    with app.app_context():
        uses = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.request")).all()
        assert [(e.details["path"], e.details["status"]) for e in uses] == [
            ("/api/v1/suppliers", 403),
            ("/api/v1/suppliers/812345676", 403),
        ]
        assert db.session.scalar(select(ApiKey.last_used_at)) is not None


def test_a_key_past_its_rate_limit_gets_429_with_retry_after(make_app):
    app = make_app(API_RATE_LIMIT="3 per minute")
    from tests.support.data import seed_world

    seed_world(app, with_documents=False)
    client = app.test_client()
    secret = make_key(app, CONSTRUCTOR)
    answers = [client.get("/api/v1/suppliers", headers=bearer(secret)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "3" and answers[0].headers["RateLimit-Remaining"] == "2"
    body = _problem(answers[3], 429)
    assert int(answers[3].headers["Retry-After"]) >= 1 and "Retry-After" in body["detail"]
    other = make_key(app, MARTIN)  # counted per key
    assert client.get("/api/v1/me/documents", headers=bearer(other)).status_code == 200


# --- resources ------------------------------------------------------------------------------------


def test_suppliers_lists_accepted_partners_with_the_status_the_client_sees(app, client, auth, demo_file):
    secret = make_key(app, CONSTRUCTOR)
    assert client.get("/api/v1/suppliers", headers=bearer(secret)).get_json() == {"data": [], "next_cursor": None}
    accept_all_requests_to(app, MARTIN)
    listed = client.get("/api/v1/suppliers", headers=bearer(secret)).get_json()["data"]
    assert len(listed) == 1
    martin = listed[0]
    # What the dashboard says of Martin for Constructor (expired URSSAF attestation, one expiring document).
    auth.login("constructor@vigie.test")
    dashboard = client.get("/partners/compliance").get_data(as_text=True)
    assert "Menuiserie Martin" in dashboard and "Expiré" in dashboard
    assert martin["siren"] == MARTIN and martin["legal_name"] == "Menuiserie Martin" and martin["status"] == "expired"
    assert martin["expiring_within_days"] == 30 and martin["status_changed_at"].endswith("+00:00")
    with app.app_context():
        expiring = db.session.scalar(select(Partnership.expiring_count).where(Partnership.status == "accepted"))
    assert martin["expiring_documents"] == expiring == 1  # the demo's RC Pro, as the dashboard shows it
    assert client.get("/api/v1/suppliers?status=compliant", headers=bearer(secret)).get_json()["data"] == []
    assert len(client.get("/api/v1/suppliers?siren=812345676", headers=bearer(secret)).get_json()["data"]) == 1
    later = (utcnow() + timedelta(hours=1)).isoformat() + "Z"
    assert client.get(f"/api/v1/suppliers?updated_since={later}", headers=bearer(secret)).get_json()["data"] == []


def test_bad_filters_get_one_french_message_per_field(app, client, demo):
    secret = make_key(app, CONSTRUCTOR)
    body = _problem(
        client.get("/api/v1/suppliers?limit=0&status=ok&siren=12&updated_since=hier&cursor=x", headers=bearer(secret)),
        422,
    )
    fields = {error["field"]: error["message"] for error in body["errors"]}
    assert set(fields) == {"limit", "status", "siren", "updated_since", "cursor"}
    assert "Une date et heure ISO 8601 est attendue" in fields["updated_since"]
    assert (fields["limit"], fields["status"], fields["siren"]) == (
        "Entre 1 et 100.",
        "Valeurs permises : compliant, incomplete, expired, in_review.",
        "9 chiffres.",
    )
    naive = _problem(client.get("/api/v1/suppliers?updated_since=2026-12-01T08:00:00", headers=bearer(secret)), 422)
    assert naive["errors"] == [
        {"field": "updated_since", "message": "Indiquez le fuseau horaire (2026-12-01T08:00:00Z ou +01:00)."}
    ]
    zero = _problem(client.get("/api/v1/suppliers?limit=0", headers=bearer(secret, **{"Accept-Language": "en"})), 422)
    assert zero["errors"] == [{"field": "limit", "message": "Between 1 and 100."}]
    body = _problem(client.get(f"/api/v1/suppliers?cursor={2**70}", headers=bearer(secret)), 422)
    assert [e["field"] for e in body["errors"]] == ["cursor"]
    english = _problem(
        client.get("/api/v1/suppliers?limit=x", headers=bearer(secret, **{"Accept-Language": "en"})), 422
    )
    assert english["errors"] == [{"field": "limit", "message": "An integer is expected."}]


def _siren(n: int) -> str:
    from stdnum import luhn

    head = f"9{n:07d}"
    return head + luhn.calc_check_digit(head)


def _many_suppliers(app, count: int) -> None:
    with app.app_context():
        constructor = db.session.scalar(select(Organisation.id).where(Organisation.siren == CONSTRUCTOR))
        for n in range(count):
            company = Organisation(siren=_siren(n), legal_name=f"Fournisseur {n:03d}", is_supplier=True)
            db.session.add(company)
            db.session.flush()
            db.session.add(
                Partnership(requester_id=constructor, target_id=company.id, status="accepted", decided_at=utcnow())
            )
        db.session.commit()


def test_suppliers_pages_by_cursor_in_constant_statements_and_answers_304_when_unchanged(app, client, demo):
    secret = make_key(app, CONSTRUCTOR)
    _many_suppliers(app, 3)
    first = client.get("/api/v1/suppliers?limit=2", headers=bearer(secret))
    page = first.get_json()
    assert [s["legal_name"] for s in page["data"]] == ["Fournisseur 000", "Fournisseur 001"] and page["next_cursor"]
    rest = client.get(f"/api/v1/suppliers?limit=2&cursor={page['next_cursor']}", headers=bearer(secret)).get_json()
    assert [s["legal_name"] for s in rest["data"]] == ["Fournisseur 002"] and rest["next_cursor"] is None
    etag = first.headers["ETag"]
    again = client.get("/api/v1/suppliers?limit=2", headers=bearer(secret, **{"If-None-Match": etag}))
    assert again.status_code == 304
    with count_queries(app) as few:
        client.get("/api/v1/suppliers?limit=50", headers=bearer(secret))
    _many_suppliers_more(app)
    with count_queries(app) as many:
        assert len(client.get("/api/v1/suppliers?limit=50", headers=bearer(secret)).get_json()["data"]) == 50
    assert len(few) == len(many)


def _many_suppliers_more(app) -> None:
    with app.app_context():
        constructor = db.session.scalar(select(Organisation.id).where(Organisation.siren == CONSTRUCTOR))
        for n in range(3, 60):
            company = Organisation(siren=_siren(n), legal_name=f"Fournisseur {n:03d}", is_supplier=True)
            db.session.add(company)
            db.session.flush()
            db.session.add(Partnership(requester_id=constructor, target_id=company.id, status="accepted"))
        db.session.commit()


def test_one_supplier_shows_each_document_with_its_reading_and_the_issuers_link(app, client, demo_file):
    secret = make_key(app, CONSTRUCTOR)
    _problem(client.get(f"/api/v1/suppliers/{MARTIN}", headers=bearer(secret)), 404)  # not accepted yet
    accept_all_requests_to(app, MARTIN)
    answer = client.get(f"/api/v1/suppliers/{MARTIN}", headers=bearer(secret))
    assert answer.status_code == 200 and answer.headers["ETag"]
    found = answer.get_json()
    documents = {d["type"]: d for d in found["documents"]}
    assert found["status"] == "expired"
    urssaf = documents["URSSAF_VIGILANCE"]
    assert urssaf["state"] == "expired" and urssaf["required"] is True and urssaf["document_id"]
    assert urssaf["reading"]["detected_type"] == "URSSAF_VIGILANCE"
    assert urssaf["verification_links"][0]["issuer"] == "Urssaf"
    assert documents["RC_PRO"]["required_by"] == ["Constructor SA"]
    kbis = documents["KBIS"]
    assert kbis["verification_links"] and kbis["verification_links"][0]["code_in_url"] is True
    with app.app_context():
        version = db.session.get(DocumentVersion, urssaf["document_id"])
        assert version.valid_until.isoformat() == urssaf["valid_until"]
    file = client.get(f"/api/v1/suppliers/{MARTIN}/documents/{urssaf['document_id']}/file", headers=bearer(secret))
    assert file.status_code == 200 and file.data.startswith(b"%PDF")
    assert file.headers["Content-Disposition"].startswith("attachment;")
    with app.app_context():
        hidden = db.session.scalar(
            select(DocumentVersion.id).where(DocumentVersion.status.in_(("refused", "archived", "submitted")))
        )
    _problem(client.get(f"/api/v1/suppliers/{MARTIN}/documents/{hidden}/file", headers=bearer(secret)), 404)
    for odd in ("0", "81234567", "8123456760", "８１２３４５６７６", "99999999999999999999"):
        _problem(client.get(f"/api/v1/suppliers/{odd}", headers=bearer(secret)), 404)
    _problem(client.get(f"/api/v1/suppliers/{MARTIN}/documents/99999999999999999999/file", headers=bearer(secret)), 404)


def test_a_supplier_reads_its_own_file_and_a_client_has_none(app, client, demo_file):
    found = client.get("/api/v1/me/documents", headers=bearer(make_key(app, MARTIN))).get_json()
    assert found["siren"] == MARTIN
    states = {d["type"]: d["state"] for d in found["documents"]}
    assert states["URSSAF_VIGILANCE"] == "expired" and states["LNTE"] == "refused"
    _problem(client.get("/api/v1/me/documents", headers=bearer(make_key(app, CONSTRUCTOR))), 403)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_openapi_file_is_valid_3_1_and_public(client, demo):
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/suppliers", "/api/v1/suppliers/{siren}", "/api/v1/me/documents"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


# --- tenant isolation -----------------------------------------------------------------------------


def test_keys_of_supplier_client_agency_and_firm_never_reach_each_others_data(app, client, demo_file):
    """Every pair: a key of one company asking for another's file, or a file id of another, gets 404."""
    accept_all_requests_to(app, MARTIN)  # Constructor now legitimately reads Martin
    companies = (MARTIN, CONSTRUCTOR, BATIE, CABINET, DEMOLITOR)
    secrets_by = {siren: make_key(app, siren) for siren in companies}
    with app.app_context():
        martin_id = db.session.scalar(select(Organisation.id).where(Organisation.siren == MARTIN))
        valid_ids = db.session.scalars(
            select(DocumentVersion.id).where(
                DocumentVersion.organisation_id == martin_id,
                DocumentVersion.status.in_(("valid", "expiring", "expired")),
            )
        ).all()
    # The demo's relations: Demolitor asked Martin and was accepted, Constructor since the line above;
    # Demolitor keeps a file, so Martin reads it back (the partner page's rule). Only the first two
    # are listed as suppliers: /suppliers lists the partners a company asked for.
    listed_pairs = {(CONSTRUCTOR, MARTIN), (DEMOLITOR, MARTIN)}
    readable_pairs = listed_pairs | {(MARTIN, DEMOLITOR)}
    for asker, secret in secrets_by.items():
        for owner in companies:
            readable = (asker, owner) in readable_pairs
            answer = client.get(f"/api/v1/suppliers/{owner}", headers=bearer(secret))
            assert answer.status_code == (200 if readable else 404), (asker, owner)
            for version_id in valid_ids:
                file = client.get(f"/api/v1/suppliers/{owner}/documents/{version_id}/file", headers=bearer(secret))
                assert file.status_code == (200 if readable and owner == MARTIN else 404), (asker, owner)
            requirements = client.get(f"/api/v1/requirements?supplier={owner}", headers=bearer(secret))
            assert requirements.status_code == (200 if readable else 404), (asker, owner)
        listed = {s["siren"] for s in client.get("/api/v1/suppliers", headers=bearer(secret)).get_json()["data"]}
        assert listed == {owner for pair_asker, owner in listed_pairs if pair_asker == asker}, asker
