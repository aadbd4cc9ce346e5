"""What a supplier says of itself that changes what the law asks of it (D8222-7)."""

from __future__ import annotations

from portal.core import audit
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.documents import partner_status
from portal.models import User


def set_established_abroad(tenancy: Tenancy, user: User, abroad: bool) -> bool:
    """Established abroad without an establishment in France, or not; every client's view follows."""
    tenancy.require_role("owner", "member")
    organisation = tenancy.organisation
    if organisation.established_abroad == abroad:
        return False
    organisation.established_abroad = abroad
    audit.record("organisation.established_abroad", user_id=user.id, organisation_id=organisation.id, abroad=abroad)
    partner_status.refresh_supplier(organisation.id)
    db.session.commit()
    return True
