"""The demo's notifications: Menuiserie Martin has asked Demolitor SAS to pause its reminders (the
request waits for Demolitor's decision), and Constructor SA's invitation of a company not on
Vigie yet has had its third reminder (the next one is due at J+20)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from stdnum.fr import siret as siret_number

from portal.core import clock
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import FollowUp, Invitation, Membership, Organisation, Partnership, ReminderPause, User

INVITED = ("Plâtrerie Nouvelle", "contact@platrerie-nouvelle.test", "532017399")


def _tenancy(email: str, siren: str) -> tuple[Tenancy, User]:
    user = db.session.scalar(select(User).where(User.email == email))
    membership = db.session.scalar(
        select(Membership)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id, Organisation.siren == siren)
        .options(joinedload(Membership.organisation))
    )
    return Tenancy(membership=membership, memberships=[membership]), user


def seed_notifications() -> None:
    from portal.notifications import follow_ups, pauses
    from portal.partners import partnerships

    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        martin, supplier = _tenancy("fournisseur@vigie.test", "812345676")
        demolitor = db.session.scalar(select(Organisation.id).where(Organisation.siren == "830124590"))
        partnership_id = db.session.scalar(
            select(Partnership.id).where(
                Partnership.requester_id == demolitor,
                Partnership.target_id == martin.organisation.id,
                Partnership.status == "accepted",
            )
        )
        if partnership_id and not db.session.scalar(select(ReminderPause.id)):
            pauses.ask(
                martin,
                supplier,
                partnership_id,
                "sent_elsewhere",
                "Nos attestations vous parviennent déjà par votre plateforme achats jusqu'à la fin du chantier.",
            )

        name, email, siren = INVITED
        if db.session.scalar(select(Organisation.id).where(Organisation.siren == siren)):
            return
        constructor, owner = _tenancy("constructor@vigie.test", "521087437")
        siret = next(siren + f"{nic:05d}" for nic in range(10, 100) if siret_number.is_valid(siren + f"{nic:05d}"))
        partnership = partnerships.invite(constructor, owner, email=email, siret=siret, legal_name=name)
        # Sent a week ago; the sweep of J+2, J+4 and J+6 has reminded it three times.
        start = clock.stored_now() - timedelta(days=7)
        follow_up = db.session.scalar(select(FollowUp).where(FollowUp.partnership_id == partnership.id))
        follow_up.started_at, partnership.requested_at = start, start
        follow_up.next_on = start.date() + timedelta(days=2)
        db.session.get(Invitation, follow_up.invitation_id).created_at = start
        db.session.commit()
        for day in (2, 4, 6):
            follow_ups.sweep((start + timedelta(days=day)).date())
        follow_up.last_sent_at = start + timedelta(days=6, hours=7)
        db.session.commit()
