from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.core import config
from portal.core.extensions import db
from portal.integrations.sms_encoding import encoding_of, is_gsm7
from portal.models import Establishment, Membership, Organisation, User
from tests.support.data import count_queries, valid_siren
from tests.support.http import login


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("06 12 34 56 78", "+33612345678"), ("+33 7 81 23 45 67", "+33781234567"), ("0690 12 34 56", "+590690123456")],
)
def test_mobile_phones_are_stored_in_e164(app, raw, e164):
    with app.app_context():
        assert User(email="a@b.test", mobile_phone=raw).mobile_phone == e164


@pytest.mark.parametrize("raw", ["12", "not a phone", "01 02"])
def test_invalid_phones_are_refused(app, raw):
    with app.app_context(), pytest.raises(ValueError):
        User(email="a@b.test", mobile_phone=raw)


def test_emails_are_unique_whatever_their_case(app):
    with app.app_context():
        db.session.add(User(email="Paul@Martin.test"))
        db.session.commit()
        assert db.session.scalar(select(User.email)) == "paul@martin.test"
        db.session.add(User(email="PAUL@martin.TEST"))
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            db.session.commit()


def test_an_establishment_must_belong_to_its_organisations_siren(app):
    with app.app_context():
        organisation = Organisation(siren="812345676", legal_name="Menuiserie Martin")
        db.session.add(organisation)
        db.session.flush()
        db.session.add(Establishment(organisation_id=organisation.id, siret="81234567600017"))
        db.session.flush()
        db.session.add(Establishment(organisation_id=organisation.id, siret="52108743700013"))
        with pytest.raises(ValueError, match="does not belong"):
            db.session.flush()


def test_sms_sender_is_checked_at_startup(monkeypatch, tmp_path):
    monkeypatch.setenv("SMS_SENDER", "Vigie Portail 2026")
    with pytest.raises(config.ConfigError, match="SMS_SENDER"):
        config.load(str(tmp_path))


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("é" * 160, 1),  # é is in the GSM-7 basic set
        ("ê" + "a" * 69, 1),  # ê is not: UCS-2, 70 per SMS
        ("ê" + "a" * 70, 2),
        ("ê" + "a" * 133, 2),
        ("ê" + "a" * 134, 3),
        ("€" * 80, 1),  # extension characters count twice
        ("€" * 81, 2),
        ("[" + "a" * 159, 2),
    ],
)
def test_sms_segment_counts(text, segments):
    assert encoding_of(text).segments == segments


def test_gsm7_detection():
    assert is_gsm7("Votre contrat est à signer avant le 24/11 : https://vigie.test/s/abc")
    assert not is_gsm7("Relance : contrat à signer – merci")  # the en dash is not GSM-7
    assert not is_gsm7("L’attestation")  # typographic apostrophe


def test_team_page_runs_the_same_queries_for_5_or_50_members(app, demo):
    client = app.test_client()
    login(client, "fournisseur@vigie.test")
    organisation_id = demo["orgs"]["Menuiserie Martin"]
    counts = []
    for total in (5, 50):
        with app.app_context():
            existing = db.session.scalar(
                select(func.count()).select_from(Membership).where(Membership.organisation_id == organisation_id)
            )
            for index in range(existing, total):
                user = User(email=f"staff{index}@martin.test", first_name="Staff", last_name=str(index))
                db.session.add(user)
                db.session.flush()
                db.session.add(Membership(user_id=user.id, organisation_id=organisation_id, role="member"))
            db.session.commit()
        with count_queries(app) as statements:
            page = client.get("/team").get_data(as_text=True)
        assert page.count("@martin.test") >= total - 1
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_siren_helper_builds_valid_numbers():
    from stdnum.fr import siren

    assert siren.is_valid(valid_siren(12345678))
