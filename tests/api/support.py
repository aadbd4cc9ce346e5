"""Keys and calls for the API tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import API_SCOPES, Membership, Organisation, Partnership, User

MARTIN, CONSTRUCTOR, BATIE, CABINET, DEMOLITOR = "812345676", "521087437", "790456123", "443278908", "830124590"
OWNERS = {
    MARTIN: "fournisseur@vigie.test",
    CONSTRUCTOR: "constructor@vigie.test",
    DEMOLITOR: "constructor@vigie.test",
    BATIE: "agence@vigie.test",
    CABINET: "cabinet@vigie.test",
}


def _owner(siren: str):
    """(tenancy, user) of the company's demo owner, inside an app context."""
    from sqlalchemy.orm import joinedload

    from portal.core.tenancy import Tenancy

    user = db.session.scalar(select(User).where(User.email == OWNERS[siren]))
    membership = db.session.scalar(
        select(Membership)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id, Organisation.siren == siren)
        .options(joinedload(Membership.organisation))
    )
    return Tenancy(membership=membership, memberships=[membership]), user


def make_key(app, siren: str, scopes=API_SCOPES, expires_on: date | None = None, name: str = "ERP") -> str:
    """A key of that company created by its demo owner, through the use-case the page calls."""
    from portal.api import keys

    with app.test_request_context():
        tenancy, user = _owner(siren)
        _key, secret = keys.create(tenancy, user, name=name, scopes=list(scopes), expires_on=expires_on)
    return secret


def bearer(secret: str, **headers) -> dict:
    return {"Authorization": f"Bearer {secret}", **headers}


def accept_all_requests_to(app, siren: str) -> None:
    """The company of that SIREN accepts every pending partnership request (as its owner would)."""
    from portal.partners import partnerships

    with app.test_request_context():
        tenancy, user = _owner(siren)
        pending = db.session.scalars(
            select(Partnership.id).where(
                Partnership.target_id == tenancy.organisation.id, Partnership.status == "pending"
            )
        ).all()
        for partnership_id in pending:
            partnerships.decide(tenancy, user, partnership_id, True)
