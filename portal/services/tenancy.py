"""Which organisation a request acts for. Every scoped query starts from ``current()``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask import g, session
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import Forbidden, NotFound

from portal.extensions import db
from portal.models import Membership, Organisation
from portal.services import audit

SESSION_KEY = "organisation_id"


def sort_key(name: str) -> str:
    """Alphabetical order as a French reader expects it: accents and case ignored."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@dataclass(frozen=True)
class Tenancy:
    membership: Membership
    memberships: list[Membership]

    @property
    def organisation(self) -> Organisation:
        return self.membership.organisation

    @property
    def role(self) -> str:
        return self.membership.role

    def require_role(self, *roles: str) -> None:
        if self.membership.role not in roles:
            raise Forbidden()


def memberships_of(user_id: int) -> list[Membership]:
    rows = db.session.scalars(
        select(Membership)
        .join(Membership.organisation)
        .options(contains_eager(Membership.organisation))
        .where(Membership.user_id == user_id)
    ).all()
    return sorted(rows, key=lambda m: sort_key(m.organisation.legal_name))


def load(user_id: int) -> Tenancy | None:
    """Pick the active membership: the one in the session if still valid, else the first."""
    memberships = memberships_of(user_id)
    if not memberships:
        return None
    wanted = session.get(SESSION_KEY)
    active = next((m for m in memberships if m.organisation_id == wanted), memberships[0])
    session[SESSION_KEY] = active.organisation_id
    return Tenancy(membership=active, memberships=memberships)


def current() -> Tenancy:
    tenancy = g.get("tenancy")
    if tenancy is None:
        raise Forbidden()
    return tenancy


def switch(user_id: int, organisation_id: int) -> Membership:
    """Make another of the user's organisations the active one; 404 if he is not a member."""
    membership = next((m for m in memberships_of(user_id) if m.organisation_id == organisation_id), None)
    if membership is None:
        raise NotFound()
    session[SESSION_KEY] = organisation_id
    audit.record("organisation.switched", user_id=user_id, organisation_id=organisation_id)
    db.session.commit()
    return membership
