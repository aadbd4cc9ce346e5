"""A firm's client file once it exists: its page, its fiscal years, its executive's invitation.

Also the rules the wizard and the import share about a file's company and executive: one file per
SIREN and firm, and an executive who may not take over a company already run on Vigie by others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.accounts import invitations
from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.firm import access, partner_apps, tree_templates, trees
from portal.firm.identifiers import check_fiscal_year, proposed_end
from portal.models import (
    ClientFile,
    ClientFileAccess,
    FiscalYear,
    FolderDocument,
    Invitation,
    Membership,
    Organisation,
    ThemeGrant,
    TreeTemplate,
    User,
    normalise_email,
    utcnow,
)
from portal.notifications import follow_ups


def file_for_siren(firm_id: int, siren: str) -> ClientFile | None:
    return db.session.scalar(
        select(ClientFile)
        .join(Organisation, Organisation.id == ClientFile.company_id)
        .where(ClientFile.firm_id == firm_id, Organisation.siren == siren)
    )


def shared_theme_ids(firm_id: int) -> list[int]:
    return [t.id for t in tree_templates.themes_of(firm_id) if t.shared]


def _company_members(siren: str) -> set[str] | None:
    """The emails of the people already running the company on Vigie (None: not on Vigie)."""
    company_id = db.session.scalar(select(Organisation.id).where(Organisation.siren == siren))
    if company_id is None:
        return None
    return set(
        db.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == company_id)
        )
    )


def check_executive_email(siren: str, email: str) -> None:
    """A firm never hands a company already on Vigie to someone who does not run it."""
    members = _company_members(siren)
    if members and email not in members:
        raise InvalidInput(
            {
                "email": _l(
                    "Cette entreprise a déjà des utilisateurs sur Vigie : invitez l'un d'eux (l'adresse de son compte)."
                )
            }
        )


def invite_executive_now(
    client_file: ClientFile, firm_org: Organisation, actor: User, company: Organisation
) -> Invitation:
    """Create and email the executive's invitation (caller commits)."""
    invitation = invitations.new_invitation(
        company.id,
        client_file.executive_email,
        actor,
        role="owner",
        first_name=client_file.executive_first_name,
        last_name=client_file.executive_last_name,
    )
    client_file.executive_invitation_id = invitation.id
    invitations.send_invitation(invitation, company, actor, firm=firm_org)
    follow_ups.start(firm_org, invitation=invitation)
    audit.record(
        "client_file.executive_invited",
        user_id=actor.id,
        organisation_id=firm_org.id,
        client_file_id=client_file.id,
        invitation_id=invitation.id,
    )
    return invitation


@dataclass(frozen=True)
class FileView:
    file: ClientFile
    company: Organisation
    years: list[FiscalYear]
    template: TreeTemplate | None
    invitation: Invitation | None
    collaborators: list[User]
    apps: list
    grant: ThemeGrant | None
    new_uploads: int


def view(tenancy: Tenancy, user: User, file_id: int) -> FileView:
    client_file = access.get_file(tenancy, user.id, file_id)
    company = db.session.get(Organisation, client_file.company_id)
    years = list(
        db.session.scalars(
            select(FiscalYear).where(FiscalYear.client_file_id == file_id).order_by(FiscalYear.starts_on)
        )
    )
    template = db.session.get(TreeTemplate, client_file.template_id) if client_file.template_id else None
    invitation = (
        db.session.get(Invitation, client_file.executive_invitation_id) if client_file.executive_invitation_id else None
    )
    collaborators = list(
        db.session.scalars(
            select(User)
            .join(ClientFileAccess, ClientFileAccess.user_id == User.id)
            .where(ClientFileAccess.client_file_id == file_id)
            .order_by(User.last_name, User.first_name)
        )
    )
    grant = db.session.scalar(
        select(ThemeGrant).where(
            ThemeGrant.client_file_id == file_id, ThemeGrant.email == (client_file.executive_email or "-")
        )
    )
    new_uploads = db.session.scalar(
        select(func.count()).where(FolderDocument.client_file_id == file_id, FolderDocument.new_to_firm)
    )
    return FileView(
        client_file,
        company,
        years,
        template,
        invitation,
        collaborators,
        partner_apps.apps_of_client(file_id),
        grant,
        new_uploads,
    )


def add_fiscal_year(
    tenancy: Tenancy, user: User, file_id: int, starts_on: date | None, ends_on: date | None
) -> FiscalYear:
    client_file = access.get_file(tenancy, user.id, file_id)
    if starts_on is not None and ends_on is None:
        ends_on = proposed_end(starts_on)
    others = list(db.session.scalars(select(FiscalYear).where(FiscalYear.client_file_id == file_id)))
    errors = check_fiscal_year(starts_on, ends_on, others)
    if errors:
        raise InvalidInput(errors)
    year = FiscalYear(client_file_id=file_id, starts_on=starts_on, ends_on=ends_on)
    db.session.add(year)
    db.session.flush()
    trees.enqueue_build(client_file)
    audit.record(
        "client_file.fiscal_year_added",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        client_file_id=file_id,
        fiscal_year_id=year.id,
    )
    db.session.commit()
    return year


def invite_executive(tenancy: Tenancy, user: User, file_id: int, values: dict | None = None) -> Invitation:
    """ "Inviter le dirigeant" from the file's settings, or send his open invitation again."""
    client_file = access.get_file(tenancy, user.id, file_id)
    company = db.session.get(Organisation, client_file.company_id)
    current = (
        db.session.get(Invitation, client_file.executive_invitation_id) if client_file.executive_invitation_id else None
    )
    if values is None and current is not None and current.is_open:
        current.expires_at = invitations.invitation_expiry()
        invitations.send_invitation(current, company, user, firm=tenancy.organisation)
        audit.record(
            "client_file.executive_reinvited",
            user_id=user.id,
            organisation_id=tenancy.organisation.id,
            client_file_id=file_id,
            invitation_id=current.id,
        )
        db.session.commit()
        return current
    if current is not None and current.accepted_at is not None:
        raise InvalidInput({"email": _l("Le dirigeant a déjà accepté son invitation.")})
    values = values or {}
    email = (values.get("email") or client_file.executive_email or "").strip()
    try:
        email = normalise_email(checked_email(email))
    except ValueError:
        raise InvalidInput({"email": _l("Indiquez une adresse e-mail valide pour le dirigeant.")}) from None
    check_executive_email(company.siren, email)
    if current is not None:
        current.revoked_at = utcnow()
        follow_ups.stop_for(invitation_id=current.id, reason="stopped")
    client_file.executive_email = email
    client_file.executive_first_name = (values.get("first_name") or client_file.executive_first_name).strip()[:100]
    client_file.executive_last_name = (values.get("last_name") or client_file.executive_last_name).strip()[:100]
    grant = db.session.scalar(select(ThemeGrant).where(ThemeGrant.client_file_id == file_id, ThemeGrant.email == email))
    if grant is None:
        db.session.add(ThemeGrant(client_file_id=file_id, email=email, theme_ids=shared_theme_ids(client_file.firm_id)))
    invitation = invite_executive_now(client_file, tenancy.organisation, user, company)
    db.session.commit()
    return invitation
