"""Which organisation a request acts for. Every scoped query starts from ``current()``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context, session
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import Forbidden, NotFound

from portal.core import audit
from portal.core.extensions import db
from portal.models import AccountLink, ClientFile, Membership, Organisation, User, UserSession, sort_key

SESSION_KEY = "organisation_id"


@dataclass(frozen=True)
class Tenancy:
    membership: Membership
    memberships: list[Membership]
    # The active organisation is the main account of linked accounts ("Accès aux documents").
    has_linked_accounts: bool = False
    # The active organisation is the client of an accounting firm on Vigie ("Espace cabinet").
    has_firm_space: bool = False

    @property
    def organisation(self) -> Organisation:
        return self.membership.organisation

    @property
    def role(self) -> str:
        return self.membership.role

    def require_role(self, *roles: str) -> None:
        if self.membership.role not in roles:
            raise Forbidden()

    def require_operator(self) -> None:
        """The one operator check: an operator's membership of the platform's own organisation."""
        if self.membership.role != "operator" or not self.organisation.is_operator:
            raise Forbidden()


def _is_main():
    return (
        exists()
        .where(AccountLink.main_id == Membership.organisation_id, AccountLink.status == "accepted")
        .correlate(Membership)
    )


def _has_firm_space():
    return (
        exists()
        .where(ClientFile.company_id == Membership.organisation_id, ClientFile.consent == "accepted")
        .correlate(Membership)
    )


def _sorted(rows) -> list[tuple[Membership, bool, bool]]:
    return sorted(
        ((m, bool(main), bool(space)) for m, main, space in rows),
        key=lambda row: sort_key(row[0].organisation.legal_name),
    )


def _memberships(user_id: int) -> list[tuple[Membership, bool, bool]]:
    """The user's memberships with, for each organisation, whether it is a main account (one query)."""
    rows = g.pop("vigie_memberships", None) if has_request_context() else None
    if rows is not None:
        return rows
    return _sorted(
        db.session.execute(
            select(Membership, _is_main(), _has_firm_space())
            .join(Membership.organisation)
            .options(contains_eager(Membership.organisation))
            .where(Membership.user_id == user_id)
        ).all()
    )


# Built once: every page runs it, and building it costs about as much as running it.
USER_WITH_MEMBERSHIPS = (
    select(User, Membership, _is_main(), _has_firm_space())
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(Membership.organisation)
    .options(contains_eager(Membership.organisation))
    .where(User.id == bindparam("user_id"))
)


USER_IN_SESSION = (
    USER_WITH_MEMBERSHIPS.add_columns(UserSession)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.key_hash == bindparam("key_hash"),
        UserSession.ended_at.is_(None),
        UserSession.expires_at > bindparam("now"),
    )
)


def load_user(user_id: int, key_hash: str, now) -> User | None:
    """The logged-in user, his memberships and the server-side session the cookie names, in one
    query (every page needs all three); None when that session was ended or has expired."""
    rows = db.session.execute(USER_IN_SESSION, {"user_id": user_id, "key_hash": key_hash, "now": now}).all()
    if not rows:
        return None
    g.vigie_memberships = _sorted((m, main, space) for _u, m, main, space, _s in rows if m is not None)
    user = rows[0][0]
    user.session_row = rows[0][4]
    return user


def memberships_of(user_id: int) -> list[Membership]:
    return [row[0] for row in _memberships(user_id)]


def load(user_id: int) -> Tenancy | None:
    """Pick the active membership: the one in the session if still valid, else the first."""
    rows = _memberships(user_id)
    if not rows:
        return None
    wanted = session.get(SESSION_KEY)
    active, is_main, has_space = next((row for row in rows if row[0].organisation_id == wanted), rows[0])
    if wanted != active.organisation_id:  # writing the same value would re-sign the cookie on every page
        session[SESSION_KEY] = active.organisation_id
    return Tenancy(
        membership=active,
        memberships=[row[0] for row in rows],
        has_linked_accounts=is_main,
        has_firm_space=has_space,
    )


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


def owned(model, row_id: int, organisation_id: int):
    """The ``model`` row of that id belonging to that organisation, or 404 whatever id is typed."""
    row = db.session.get(model, row_id)
    if row is None or row.organisation_id != organisation_id:
        raise NotFound()
    return row
