from __future__ import annotations

from sqlalchemy import func, select
from stdnum.fr import siren, siret

from portal.core.extensions import db
from portal.demo.seed import ACCOUNTS, seed_demo
from portal.models import Establishment, Membership, Organisation, User
from tests.support.http import post


def test_demo_seed_is_idempotent_and_uses_valid_identifiers(app):
    with app.app_context():
        seed_demo()
        seed_demo()
        # The six demo companies, and Plâtrerie Nouvelle, invited by Constructor SA (not on Vigie yet).
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 7
        assert db.session.scalar(select(func.count()).select_from(User)) == len(ACCOUNTS)
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 8
        for organisation in db.session.scalars(select(Organisation)):
            assert siren.is_valid(organisation.siren)
        for establishment in db.session.scalars(select(Establishment)):
            assert siret.is_valid(establishment.siret)
            assert establishment.siret.startswith(db.session.get(Organisation, establishment.organisation_id).siren)


def test_every_demo_account_logs_in(app, client, auth):
    with app.app_context():
        seed_demo()
    for email, *_ in ACCOUNTS:
        assert auth.login(email).status_code == 303, email
        post(client, "/logout")


def test_invalid_siren_is_refused_by_the_model(app):
    import pytest
    from stdnum.exceptions import ValidationError

    with app.app_context(), pytest.raises(ValidationError):
        Organisation(siren="123456789", legal_name="Bad")


def test_the_demo_shows_a_pending_pause_and_an_invitation_at_its_third_reminder(app, client, auth):
    from portal.models import FollowUp, ReminderPause

    with app.app_context():
        seed_demo()
        seed_demo()
        [pause] = db.session.scalars(select(ReminderPause)).all()
        [follow_up] = db.session.scalars(select(FollowUp)).all()
        assert pause.status == "pending" and pause.reason == "sent_elsewhere"
        assert follow_up.sent_count == 3 and follow_up.stopped_at is None
    auth.login("constructor@vigie.test")
    page = client.get("/notifications/follow-ups").get_data(as_text=True)
    assert "contact@platrerie-nouvelle.test" in page and "3e relance envoyée le" in page and "prochaine le" in page
    auth.logout()
    auth.login("fournisseur@vigie.test")
    row = client.get("/notifications/inviters").get_data(as_text=True)
    assert "Demolitor SAS" in row and "En attente de la décision du client" in row
