"""Which organisation a request acts for. Every scoped query starts from ``current()``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask import g, has_request_context, session
from sqlalchemy import exists, select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import Forbidden, NotFound

from portal.extensions import db
from portal.models import AccountLink, Membership, Organisation, User
from portal.services import audit

SESSION_KEY = "organisation_id"


def sort_key(name: str) -> str:
    """Alphabetical order as a French reader expects it: accents and case ignored."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@dataclass(frozen=True)
class Tenancy:
    membership: Membership
    memberships: list[Membership]
    # The active organisation is the main account of linked accounts ("Accès aux documents").
    has_linked_accounts: bool = False

    @property
    def organisation(self) -> Organisation:
        return self.membership.organisation

    @property
    def role(self) -> str:
        return self.membership.role

    def require_role(self, *roles: str) -> None:
        if self.membership.role not in roles:
            raise Forbidden()


def _is_main():
    return (
        exists()
        .where(AccountLink.main_id == Membership.organisation_id, AccountLink.status == "accepted")
        .correlate(Membership)
    )


def _sorted(rows) -> list[tuple[Membership, bool]]:
    return sorted(((m, bool(main)) for m, main in rows), key=lambda row: sort_key(row[0].organisation.legal_name))


def _memberships(user_id: int) -> list[tuple[Membership, bool]]:
    """The user's memberships with, for each organisation, whether it is a main account (one query)."""
    rows = g.pop("vigie_memberships", None) if has_request_context() else None
    if rows is not None:
        return rows
    return _sorted(
        db.session.execute(
            select(Membership, _is_main())
            .join(Membership.organisation)
            .options(contains_eager(Membership.organisation))
            .where(Membership.user_id == user_id)
        ).all()
    )


def load_user(user_id: int) -> User | None:
    """The logged-in user and his memberships in one query (every page needs both)."""
    rows = db.session.execute(
        select(User, Membership, _is_main())
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Membership.organisation)
        .options(contains_eager(Membership.organisation))
        .where(User.id == user_id)
    ).all()
    if not rows:
        return None
    g.vigie_memberships = _sorted((m, main) for _u, m, main in rows if m is not None)
    return rows[0][0]


def memberships_of(user_id: int) -> list[Membership]:
    return [membership for membership, _main in _memberships(user_id)]


def load(user_id: int) -> Tenancy | None:
    """Pick the active membership: the one in the session if still valid, else the first."""
    rows = _memberships(user_id)
    if not rows:
        return None
    wanted = session.get(SESSION_KEY)
    active, is_main = next(((m, main) for m, main in rows if m.organisation_id == wanted), rows[0])
    if wanted != active.organisation_id:  # writing the same value would re-sign the cookie on every page
        session[SESSION_KEY] = active.organisation_id
    return Tenancy(membership=active, memberships=[m for m, _main in rows], has_linked_accounts=is_main)


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
