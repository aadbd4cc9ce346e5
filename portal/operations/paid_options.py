"""Paid options that a platform operator switches on or off per company (audited)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from werkzeug.exceptions import NotFound

from portal.core import audit
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import Organisation, User


def companies(tenancy: Tenancy, search: str = "") -> list[Organisation]:
    """The agencies (who use the reminders) and any company that has the option, or a search."""
    tenancy.require_operator()
    query = select(Organisation).where(Organisation.is_operator.is_(False))
    text = search.strip()
    if text:
        query = query.where(or_(func.lower(Organisation.legal_name).contains(text.lower()), Organisation.siren == text))
    else:
        query = query.where(or_(Organisation.is_agency.is_(True), Organisation.reminders_enabled.is_(True)))
    return list(db.session.scalars(query.order_by(Organisation.legal_name).limit(100)))


def company(tenancy: Tenancy, organisation_id: int) -> Organisation:
    """A company whose options an operator manages, or 404."""
    tenancy.require_operator()
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.is_operator:
        raise NotFound()
    return organisation


def set_reminders(tenancy: Tenancy, user: User, organisation_id: int, enabled: bool) -> Organisation:
    """ "Relances par Mail ou SMS" on or off for one company."""
    organisation = company(tenancy, organisation_id)
    if organisation.reminders_enabled != enabled:
        organisation.reminders_enabled = enabled
        audit.record(
            "option.reminders_" + ("enabled" if enabled else "disabled"),
            user_id=user.id,
            organisation_id=tenancy.organisation.id,
            company_id=organisation.id,
        )
        db.session.commit()
    return organisation
