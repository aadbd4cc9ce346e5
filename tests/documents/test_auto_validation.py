"""Issue 16, automatic validation: off by default; per type, operators switch it on; only a native
PDF whose every fact the reader is sure of and agrees with what was declared; a share still checked."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.core.pdf import new_pdf, paragraph, to_bytes
from portal.documents import auto_validation
from portal.models import DocumentType, DocumentVersion, Partnership
from tests.support.documents import upload
from tests.support.http import form_values, post

CODE = "ABCDEFGH12345XY"


def _attestation(certified, code: str = CODE, name: str = "Menuiserie Martin") -> bytes:
    pdf = new_pdf(title="URSSAF")
    pdf.add_page()
    pdf.set_font("DejaVu", "", 10)
    for line in (
        "Urssaf Rhône-Alpes",
        "Attestation de vigilance",
        f"L'Urssaf atteste que l'entreprise {name} (SARL),",
        "SIREN : 812 345 676",
        f"est à jour de ses obligations à la date du {certified:%d/%m/%Y}.",
        f"Identifiant de sécurité : {code}",
    ):
        paragraph(pdf, line)
    return to_bytes(pdf)


def _newest(app) -> DocumentVersion:
    with app.app_context():
        version = db.session.scalar(select(DocumentVersion).order_by(DocumentVersion.id.desc()))
        db.session.expunge(version)
        return version


def _switch_on(client, auth):
    """The operator ticks "Validation automatique" on the URSSAF type (the form, as a browser posts it)."""
    auth.login("operateur@vigie.test")
    listing = client.get("/operations/document-types").get_data(as_text=True)
    type_id = re.search(r'href="/operations/document-types/(\d+)">Modifier<span class="sr-only"> [^<]*URSSAF', listing)[
        1
    ]
    page = client.get(f"/operations/document-types/{type_id}").get_data(as_text=True)
    assert "Validation automatique" in page
    values = form_values(page, "document-type-form")
    checked = re.findall(r'<input[^>]*checked[^>]*name="(\w+)"|<input[^>]*name="(\w+)"[^>]*checked', page)
    values.update({a or b: "y" for a, b in checked})
    values["validity_rule"] = "months_from_issue"
    values["auto_validate"] = "y"
    assert client.post(f"/operations/document-types/{type_id}", data=values).status_code == 303
    post(client, "/logout")


def test_it_is_off_by_default_and_a_perfect_file_waits_for_an_operator(app, client, auth, demo_file):
    certified = clock.today() - timedelta(days=2)
    auth.login("fournisseur@vigie.test")
    upload(client, "URSSAF_VIGILANCE", _attestation(certified), issued=certified, verification_code=CODE)
    version = _newest(app)
    assert version.status == "submitted" and not version.validated_automatically


def test_switched_on_a_file_read_with_certainty_is_validated_and_said_so_to_partners(
    app, client, auth, demo_file, monkeypatch
):
    app.config["AUTO_VALIDATION_SAMPLE"] = 0.0
    _switch_on(client, auth)
    certified = clock.today() - timedelta(days=2)
    auth.login("fournisseur@vigie.test")
    sent = upload(client, "URSSAF_VIGILANCE", _attestation(certified), issued=certified, verification_code=CODE)
    assert sent.status_code == 303
    pending = html.unescape(client.get("/documents").get_data(as_text=True))
    assert "Document envoyé et validé automatiquement" in pending
    version = _newest(app)
    assert version.status == "valid" and version.validated_automatically and version.reviewed_by_id is None
    with app.app_context():
        older = db.session.scalars(
            select(DocumentVersion.status).where(
                DocumentVersion.document_id == version.document_id, DocumentVersion.id != version.id
            )
        ).all()
        assert older and set(older) == {"archived"}  # the expired one it replaces
        db.session.execute(db.update(Partnership).where(Partnership.status == "pending").values(status="accepted"))
        db.session.commit()
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    partner = html.unescape(client.get(f"/partners/companies/{version.organisation_id}").get_data(as_text=True))
    row = re.search(r'<tr id="partner-doc-URSSAF_VIGILANCE">(.*?)</tr>', partner, re.S).group(1)
    assert "validé automatiquement" in row


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ({"verification_code": "ZZZZZZZZ99999ZZ"}, "code"),  # not the code printed
        ({"issued_delta": 1}, "certified date"),  # not the date printed
        ({"name": "Charpente Dubois"}, "company"),  # another name on the file
    ],
)
def test_anything_unsure_or_different_waits_for_an_operator(app, client, auth, demo_file, typed, why):
    app.config["AUTO_VALIDATION_SAMPLE"] = 0.0
    with app.app_context():
        db.session.execute(
            db.update(DocumentType).where(DocumentType.code == "URSSAF_VIGILANCE").values(auto_validate=True)
        )
        db.session.commit()
    certified = clock.today() - timedelta(days=3)
    issued = certified + timedelta(days=typed.get("issued_delta", 0))
    auth.login("fournisseur@vigie.test")
    data = _attestation(certified, name=typed.get("name", "Menuiserie Martin"))
    upload(client, "URSSAF_VIGILANCE", data, issued=issued, verification_code=typed.get("verification_code", CODE))
    version = _newest(app)
    assert version.status == "submitted" and not version.validated_automatically
    with app.app_context():
        kind = db.session.scalar(select(DocumentType).where(DocumentType.code == "URSSAF_VIGILANCE"))
        assert why in auto_validation.blocking(version.precheck, kind, version, {kind.code})


def test_a_share_drawn_at_random_still_goes_to_an_operator(app, client, auth, demo_file):
    app.config["AUTO_VALIDATION_SAMPLE"] = 1.0  # every one drawn
    with app.app_context():
        db.session.execute(
            db.update(DocumentType).where(DocumentType.code == "URSSAF_VIGILANCE").values(auto_validate=True)
        )
        db.session.commit()
    certified = clock.today() - timedelta(days=2)
    auth.login("fournisseur@vigie.test")
    upload(client, "URSSAF_VIGILANCE", _attestation(certified), issued=certified, verification_code=CODE)
    version = _newest(app)
    assert version.status == "submitted" and auto_validation.SAMPLED in version.precheck["warnings"]
