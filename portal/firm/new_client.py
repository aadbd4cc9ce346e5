""" "Sauvegarder" at the end of the wizard: a finished draft becomes a client file.

In one transaction: the company (found by SIREN or created), the file, its first fiscal year, its
apps, its collaborators and the executive's invitation; then the folder tree is queued. A failure
leaves nothing half-created.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from stdnum.fr import siren as siren_number

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.firm import access, consent, partner_apps, trees
from portal.firm.client_files import check_executive_email, file_for_siren, invite_executive_now
from portal.firm.client_wizard import chosen_template_id, draft_of, missing_step
from portal.firm.identifiers import vat_number
from portal.models import (
    AuditEvent,
    ClientFile,
    ClientFileAccess,
    ClientFileDraft,
    Establishment,
    FiscalYear,
    Organisation,
    ThemeGrant,
    User,
)


def _company(siret: str, company: dict) -> Organisation:
    """The client company: found by SIREN (its own data is left alone) or created."""
    siren = siret[:9]
    found = db.session.scalar(select(Organisation).where(Organisation.siren == siren))
    if found is None:
        found = Organisation(
            siren=siren_number.compact(siren),
            legal_name=company["name"],
            legal_form=company.get("legal_form", "")[:100],
            address=company.get("address", "")[:300],
            postal_code=company.get("postal_code", "")[:10],
            city=company.get("city", "")[:100],
            naf_code=company.get("naf_code", "")[:6],
            is_client=True,
        )
        db.session.add(found)
        db.session.flush()
    if not db.session.scalar(select(Establishment.id).where(Establishment.siret == siret)):
        db.session.add(
            Establishment(
                organisation_id=found.id,
                siret=siret,
                name=company["name"],
                address=company.get("address", "")[:300],
                postal_code=company.get("postal_code", "")[:10],
                city=company.get("city", "")[:100],
                is_head_office=not db.session.scalar(
                    select(Establishment.id).where(Establishment.organisation_id == found.id).limit(1)
                ),
            )
        )
    return found


def saved_from(tenancy: Tenancy, user: User, draft_id: int | None) -> int | None:
    """The client file this user's draft became, when "Sauvegarder" is posted again for a draft
    already saved (a double click): the second POST goes to the file, it makes no new draft."""
    access.require_firm(tenancy)
    if draft_id is None or db.session.get(ClientFileDraft, draft_id) is not None:
        return None
    recent = db.session.scalars(
        select(AuditEvent.details)
        .where(
            AuditEvent.action == "client_file.created",
            AuditEvent.user_id == user.id,
            AuditEvent.organisation_id == tenancy.organisation.id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(20)
    )
    return next((d["client_file_id"] for d in recent if d.get("draft_id") == draft_id), None)


def create(tenancy: Tenancy, user: User) -> ClientFile:
    """ "Sauvegarder": everything at once, or nothing."""
    draft = draft_of(tenancy, user, create=False)
    if draft is None:
        raise InvalidInput({"draft": _l("Ce brouillon n'existe plus : recommencez l'ajout du client.")})
    missing = missing_step(draft)
    if missing is not None:
        raise InvalidInput({"step": missing})
    data = draft.data
    company_data_ = data["company"]
    siret = company_data_["siret"]
    if file_for_siren(tenancy.organisation.id, siret[:9]) is not None:
        raise InvalidInput({"siret": _l("SIRET déjà utilisé par un dossier client du cabinet.")})
    executive = data["executive"]
    if executive["email"]:
        check_executive_email(siret[:9], executive["email"])
    company = _company(siret, company_data_)
    needs_consent = bool(consent.companies_with_members([company.id]))
    client_file = ClientFile(
        firm_id=tenancy.organisation.id,
        company_id=company.id,
        name=company_data_["name"],
        siret=siret,
        vat_number=company_data_.get("vat_number") or vat_number(siret[:9]),
        template_id=chosen_template_id(draft),
        executive_email=executive["email"],
        executive_first_name=executive["first_name"],
        executive_last_name=executive["last_name"],
        created_by_id=user.id,
    )
    db.session.add(client_file)
    db.session.flush()
    fiscal = data["fiscal"]
    db.session.add(
        FiscalYear(
            client_file_id=client_file.id,
            starts_on=date.fromisoformat(fiscal["starts_on"]),
            ends_on=date.fromisoformat(fiscal["ends_on"]),
        )
    )
    members = access.member_ids(tenancy)
    for member_id in set(data["collaborators"]) & members:
        db.session.add(ClientFileAccess(client_file_id=client_file.id, user_id=member_id))
    own_apps = {a.id for a in partner_apps.enabled_apps(tenancy.organisation.id)}
    partner_apps.save_client_apps(client_file.id, [a for a in data["apps"] if a["app_id"] in own_apps])
    if executive["email"]:
        db.session.add(
            ThemeGrant(client_file_id=client_file.id, email=executive["email"], theme_ids=executive["theme_ids"])
        )
        if executive["invite_now"]:
            invite_executive_now(client_file, tenancy.organisation, user, company)
    if needs_consent:
        consent.ask([client_file], tenancy.organisation, user)
    trees.enqueue_build(client_file)
    db.session.delete(draft)
    audit.record(
        "client_file.created",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        client_file_id=client_file.id,
        siret=siret,
        draft_id=draft.id,
    )
    db.session.commit()
    return client_file
