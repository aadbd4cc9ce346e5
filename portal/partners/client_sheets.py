"""An agency's or a firm's client sheets: a client company and the email of its contact.

Creating a sheet asks the company to connect (or invites it when it is not on Vigie yet).
Changing a sheet's email to one another sheet already uses proposes to link the two accounts
("Rattacher"); creating a sheet with a shared email does not, as users of other platforms know it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from werkzeug.exceptions import Forbidden, NotFound

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.integrations import company_data
from portal.models import LIVE_LINK, AccountLink, ClientSheet, Organisation, User, normalise_email, sort_key, utcnow
from portal.partners import partnerships


class SheetError(InvalidInput):
    """A sheet that cannot be saved as typed."""


@dataclass(frozen=True)
class SheetRow:
    sheet: ClientSheet
    company: Organisation
    # The live link the company is part of, seen from this company: "main" or "secondary".
    link_role: str | None
    link_status: str | None
    shares_email: bool

    @property
    def can_link(self) -> bool:
        """ "À rattacher": its email was changed to one another sheet uses (creating a sheet with a
        shared email proposes nothing), and it is in no live link. The badge counts exactly these."""
        return self.link_role is None and self.shares_email and self.sheet.link_proposed_at is not None

    @property
    def may_join(self) -> bool:
        """Can be picked in the link dialog: shares the email and is in no live link yet."""
        return self.link_role is None and self.shares_email


def require_back_office(tenancy: Tenancy) -> None:
    organisation = tenancy.organisation
    if not (organisation.is_agency or organisation.is_accounting_firm):
        raise Forbidden()
    tenancy.require_role("owner", "member", "collaborator")


def _rows(owner_id: int, *conditions) -> list[SheetRow]:
    """Sheets with their company and link state, in one query."""
    as_secondary = aliased(AccountLink)
    other = aliased(ClientSheet)
    is_main = (
        exists()
        .where(AccountLink.main_id == ClientSheet.company_id, AccountLink.status.in_(LIVE_LINK))
        .correlate(ClientSheet)
    )
    main_status = (
        select(func.max(AccountLink.status))
        .where(AccountLink.main_id == ClientSheet.company_id, AccountLink.status.in_(LIVE_LINK))
        .correlate(ClientSheet)
        .scalar_subquery()
    )
    shares = (
        exists()
        .where(
            other.owner_id == ClientSheet.owner_id,
            other.contact_email == ClientSheet.contact_email,
            other.id != ClientSheet.id,
        )
        .correlate(ClientSheet)
    )
    rows = db.session.execute(
        select(ClientSheet, Organisation, as_secondary.status, is_main, main_status, shares)
        .join(Organisation, Organisation.id == ClientSheet.company_id)
        .outerjoin(
            as_secondary,
            and_(as_secondary.secondary_id == ClientSheet.company_id, as_secondary.status.in_(LIVE_LINK)),
        )
        .where(ClientSheet.owner_id == owner_id, *conditions)
    ).all()
    result = []
    for sheet, company, secondary_status, main, main_state, shared in rows:
        role = "secondary" if secondary_status else "main" if main else None
        result.append(SheetRow(sheet, company, role, secondary_status or main_state, bool(shared)))
    return sorted(result, key=lambda row: sort_key(row.company.legal_name))


def sheets_of(tenancy: Tenancy) -> list[SheetRow]:
    require_back_office(tenancy)
    return _rows(tenancy.organisation.id)


def to_link(tenancy: Tenancy) -> list[SheetRow]:
    """ "Clients à rattacher": sheets whose email change proposed a link that is not made yet."""
    require_back_office(tenancy)
    return [row for row in _rows(tenancy.organisation.id, ClientSheet.link_proposed_at.is_not(None)) if row.can_link]


def found_name(siret: str) -> str | None:
    """The company's name in the company data set (bundled or live), as the firm's wizard fills it."""
    try:
        data = company_data.directory().lookup(siret)
    except company_data.LookupUnavailable:
        return None
    return data.name if data else None


def get(tenancy: Tenancy, sheet_id: int) -> SheetRow:
    """One of the active organisation's sheets, or 404 whatever id is guessed."""
    require_back_office(tenancy)
    rows = _rows(tenancy.organisation.id, ClientSheet.id == sheet_id)
    if not rows:
        raise NotFound()
    return rows[0]


def group_of(tenancy: Tenancy, sheet: ClientSheet) -> list[SheetRow]:
    """The sheets sharing this sheet's email: the companies one person runs."""
    return _rows(tenancy.organisation.id, ClientSheet.contact_email == sheet.contact_email)


@dataclass(frozen=True)
class LinkPlan:
    """ "Récapitulatif des comptes qui seront rattachés": the main account and those under it."""

    main: Organisation | None
    linked: list[SheetRow]


def default_choice(group: list[SheetRow], sheet_id: int) -> tuple[int, list[int]]:
    """What the dialog proposes first: another sheet of the group as main account (the one whose
    email this sheet now shares), and every company that can still be linked."""
    this = next(r for r in group if r.sheet.id == sheet_id)
    others = [r for r in group if r.sheet.id != sheet_id]
    main = (others[0] if others else this).company.id
    return main, [r.company.id for r in group if r.may_join or r.sheet.id == sheet_id]


def plan(group: list[SheetRow], main_id: int | None, company_ids: list[int]) -> LinkPlan:
    chosen = set(company_ids)
    main = next((r.company for r in group if r.company.id == main_id), None)
    return LinkPlan(main, [r for r in group if r.company.id in chosen and r.company.id != main_id])


def create(tenancy: Tenancy, user: User, *, siret: str, legal_name: str, email: str) -> ClientSheet:
    require_back_office(tenancy)
    owner = tenancy.organisation
    siret = partnerships.valid_siret(siret)
    email = normalise_email(email)
    company = db.session.scalar(select(Organisation).where(Organisation.siren == siret[:9]))
    if company is not None and company.id == owner.id:
        raise SheetError({"siret": _l("C'est le SIRET de votre propre entreprise.")})
    if company is not None and company.is_operator:
        raise SheetError({"siret": _l("Ce SIRET ne peut pas être celui d'un client.")})
    if company is not None and db.session.scalar(
        select(ClientSheet.id).where(ClientSheet.owner_id == owner.id, ClientSheet.company_id == company.id)
    ):
        raise SheetError({"siret": _l("Une fiche existe déjà pour cette entreprise.")})
    if company is None:
        legal_name = legal_name.strip() or found_name(siret) or ""
        if not legal_name:
            raise SheetError(
                {
                    "legal_name": _l(
                        "Cette entreprise n'est pas encore sur Vigie et ce SIRET n'est pas dans la base des "
                        "entreprises : indiquez sa raison sociale."
                    )
                }
            )
        partnership = partnerships.invite_company(
            owner, user, email=email, siret=siret, legal_name=legal_name, kind="client"
        )
        company_id = partnership.target_id
    else:
        partnerships.ask_unless_related(owner, company, user)
        company_id = company.id
    sheet = ClientSheet(owner_id=owner.id, company_id=company_id, contact_email=email, created_by_id=user.id)
    db.session.add(sheet)
    db.session.flush()
    audit.record("client_sheet.created", user_id=user.id, organisation_id=owner.id, sheet_id=sheet.id, email=email)
    db.session.commit()
    return sheet


def update_email(tenancy: Tenancy, user: User, sheet_id: int, email: str) -> list[SheetRow]:
    """Change the contact email; returns the other sheets it now shares the email with."""
    row = get(tenancy, sheet_id)
    sheet = row.sheet
    email = normalise_email(email)
    if email == sheet.contact_email:
        return [r for r in group_of(tenancy, sheet) if r.sheet.id != sheet.id]
    previous = sheet.contact_email
    sheet.contact_email = email
    sheet.updated_at = utcnow()
    db.session.flush()
    mates = [r for r in group_of(tenancy, sheet) if r.sheet.id != sheet.id]
    sheet.link_proposed_at = utcnow() if mates else None
    audit.record(
        "client_sheet.email_changed",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        sheet_id=sheet.id,
        previous=previous,
        email=email,
    )
    db.session.commit()
    return mates
