"""Client files of an accounting firm: the "Ajouter un client" wizard and the file's settings.

The wizard keeps its answers in a draft (one per firm member) so a user can leave and come
back; "Sauvegarder" creates the company if needed, the file, its first fiscal year, its apps,
its collaborators and the executive's invitation in one transaction, then asks for the folder
tree to be built by a job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number
from stdnum.fr import tva

from portal.accounts import invitations
from portal.core import audit, clock
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.firm import access, partner_apps, trees
from portal.integrations import company_data
from portal.models import (
    ClientFile,
    ClientFileAccess,
    ClientFileDraft,
    Establishment,
    FiscalYear,
    FolderDocument,
    Invitation,
    Membership,
    Organisation,
    PartnerApp,
    ThemeGrant,
    TreeTemplate,
    User,
    normalise_email,
    utcnow,
)

STEPS = {
    1: _l("SIRET"),
    2: _l("Informations"),
    3: _l("Exercice"),
    4: _l("Arborescence"),
    5: _l("Dirigeant"),
    6: _l("Applications"),
    7: _l("Collaborateurs"),
    8: _l("Validation"),
}
NAF = re.compile(r"^\d{2}\.?\d{2}[A-Z]$")
MAX_FISCAL_MONTHS = 24


# --- Pure rules ----------------------------------------------------------------------------------


def proposed_end(starts_on: date) -> date:
    """12 months after the start, minus one day (1 Jan → 31 Dec; 1 Jul → 30 Jun; 29 Feb → 28 Feb)."""
    return clock.add_months(starts_on - timedelta(days=1), 12)


def check_fiscal_year(starts_on: date | None, ends_on: date | None, others: list[FiscalYear] = ()) -> dict:
    errors = {}
    if starts_on is None:
        errors["starts_on"] = _l("Indiquez la date de début de l'exercice (JJ/MM/AAAA).")
    if ends_on is None and starts_on is not None:
        errors["ends_on"] = _l("Indiquez la date de fin de l'exercice (JJ/MM/AAAA).")
    if errors:
        return errors
    if ends_on <= starts_on:
        errors["ends_on"] = _l("La fin de l'exercice doit être après son début.")
    elif ends_on >= clock.add_months(starts_on, MAX_FISCAL_MONTHS):
        errors["ends_on"] = _l("Un exercice dure au plus 24 mois.")
    elif any(o.starts_on <= ends_on and starts_on <= o.ends_on for o in others):
        errors["starts_on"] = _l("Cet exercice chevauche un exercice existant du dossier.")
    return errors


def vat_number(siren: str) -> str:
    """The intra-community VAT number of a French company, checked with python-stdnum."""
    key = (12 + 3 * (int(siren) % 97)) % 97
    return "FR" + tva.validate(f"FR{key:02d}{siren}")


def clean_siret(raw: str) -> str | None:
    siret = "".join((raw or "").split())
    return siret if siret_number.is_valid(siret) else None


def file_for_siren(firm_id: int, siren: str) -> ClientFile | None:
    return db.session.scalar(
        select(ClientFile)
        .join(Organisation, Organisation.id == ClientFile.company_id)
        .where(ClientFile.firm_id == firm_id, Organisation.siren == siren)
    )


# --- The draft -----------------------------------------------------------------------------------


def draft_of(tenancy: Tenancy, user: User, *, create: bool = True) -> ClientFileDraft | None:
    access.require_firm(tenancy)
    draft = db.session.scalar(
        select(ClientFileDraft).where(
            ClientFileDraft.firm_id == tenancy.organisation.id, ClientFileDraft.user_id == user.id
        )
    )
    if draft is None and create:
        trees.ensure_defaults(tenancy.organisation.id)
        draft = ClientFileDraft(firm_id=tenancy.organisation.id, user_id=user.id, step=1, data={})
        db.session.add(draft)
        db.session.commit()
    return draft


def templates_for(firm_id: int) -> list[TreeTemplate]:
    return list(
        db.session.scalars(select(TreeTemplate).where(TreeTemplate.firm_id == firm_id).order_by(TreeTemplate.id))
    )


def next_step(draft: ClientFileDraft, step: int) -> int:
    following = step + 1
    if following == 4 and len(templates_for(draft.firm_id)) <= 1:
        following = 5
    return following


def previous_step(draft: ClientFileDraft, step: int) -> int:
    previous = step - 1
    if previous == 4 and len(templates_for(draft.firm_id)) <= 1:
        previous = 3
    return max(previous, 1)


def _save(draft: ClientFileDraft, step: int, **values) -> None:
    draft.data = {**draft.data, **values}
    draft.step = max(draft.step, next_step(draft, step))
    draft.updated_at = utcnow()
    db.session.commit()


def discard(tenancy: Tenancy, user: User) -> None:
    draft = draft_of(tenancy, user, create=False)
    if draft is not None:
        db.session.delete(draft)
        db.session.commit()


@dataclass(frozen=True)
class SiretAnswer:
    found: bool
    unavailable: bool
    duplicate: ClientFile | None


def step_siret(tenancy: Tenancy, draft: ClientFileDraft, raw: str) -> SiretAnswer:
    """Step 1: look the SIRET up; a file of this firm already using it is shown, not an error."""
    siret = clean_siret(raw)
    if siret is None:
        raise InvalidInput({"siret": _l("Ce SIRET n'est pas valide (14 chiffres, clé de contrôle).")})
    duplicate = file_for_siren(tenancy.organisation.id, siret[:9])
    if duplicate is not None:
        return SiretAnswer(False, False, duplicate)
    company = {"siret": siret}
    found, unavailable = False, False
    try:
        data = company_data.directory().lookup(siret)
    except company_data.LookupUnavailable:
        data, unavailable = None, True
    if data is not None:
        found = True
        company.update(
            name=data.name,
            legal_form=company_data.legal_form_label(data.legal_form),
            address=data.address,
            postal_code=data.postal_code,
            city=data.city,
            naf_code=data.naf_code,
        )
    _save(draft, 1, company=company, lookup="found" if found else "unavailable" if unavailable else "unknown")
    return SiretAnswer(found, unavailable, None)


def skip_siret(draft: ClientFileDraft) -> None:
    """ "Continuer sans SIRET": the data is typed by hand at step 2."""
    _save(draft, 1, company={}, lookup="manual")


COMPANY_FIELDS = ("siret", "name", "legal_form", "address", "postal_code", "city", "naf_code")


def step_company(tenancy: Tenancy, draft: ClientFileDraft, values: dict) -> None:
    company = {name: (values.get(name) or "").strip() for name in COMPANY_FIELDS}
    company["naf_code"] = company["naf_code"].upper()
    errors = {}
    siret = clean_siret(company["siret"])
    if siret is None:
        errors["siret"] = _l("Ce SIRET n'est pas valide (14 chiffres, clé de contrôle).")
    elif file_for_siren(tenancy.organisation.id, siret[:9]) is not None:
        errors["siret"] = _l("SIRET déjà utilisé par un dossier client du cabinet.")
    else:
        company["siret"] = siret
    if not company["name"]:
        errors["name"] = _l("Indiquez la raison sociale.")
    if company["postal_code"] and not re.fullmatch(r"\d{5}", company["postal_code"]):
        errors["postal_code"] = _l("Le code postal compte 5 chiffres.")
    if company["naf_code"] and not NAF.match(company["naf_code"]):
        errors["naf_code"] = _l("Le code NAF s'écrit comme 69.20Z.")
    if errors:
        raise InvalidInput(errors)
    if "." not in company["naf_code"] and company["naf_code"]:
        company["naf_code"] = f"{company['naf_code'][:2]}.{company['naf_code'][2:]}"
    company["vat_number"] = vat_number(siret[:9])
    _save(draft, 2, company=company)


def step_fiscal(draft: ClientFileDraft, starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is None:
        ends_on = proposed_end(starts_on)
    errors = check_fiscal_year(starts_on, ends_on)
    if errors:
        raise InvalidInput(errors)
    _save(draft, 3, fiscal={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})


def step_template(draft: ClientFileDraft, template_id: int | None) -> None:
    if template_id not in {t.id for t in templates_for(draft.firm_id)}:
        raise InvalidInput({"template_id": _l("Choisissez une arborescence.")})
    _save(draft, 4, template_id=template_id)


def chosen_template_id(draft: ClientFileDraft) -> int | None:
    templates = templates_for(draft.firm_id)
    if len(templates) == 1:
        return templates[0].id
    wanted = draft.data.get("template_id")
    return wanted if wanted in {t.id for t in templates} else None


def shared_theme_ids(firm_id: int) -> list[int]:
    return [t.id for t in trees.themes_of(firm_id) if t.shared]


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


def step_executive(draft: ClientFileDraft, values: dict, theme_ids: list[int], invite_now: bool) -> None:
    errors = {}
    email = (values.get("email") or "").strip()
    if email:
        try:
            email = normalise_email(checked_email(email))
        except ValueError:
            errors["email"] = _l("Cette adresse e-mail n'est pas valide.")
    shared = set(shared_theme_ids(draft.firm_id))
    if set(theme_ids) - shared:
        errors["theme_ids"] = _l("Choisissez parmi les thèmes partagés.")
    if email and not theme_ids:
        errors["theme_ids"] = _l("Choisissez au moins un thème : le dirigeant ne verrait aucun répertoire.")
    if not errors and email:
        try:
            check_executive_email(draft.data.get("company", {}).get("siret", "")[:9], email)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    _save(
        draft,
        5,
        executive={
            "email": email,
            "first_name": (values.get("first_name") or "").strip()[:100],
            "last_name": (values.get("last_name") or "").strip()[:100],
            "theme_ids": sorted(theme_ids),
            "invite_now": bool(invite_now and email),
        },
    )


def step_apps(draft: ClientFileDraft, values: dict) -> None:
    chosen = partner_apps.client_choices(partner_apps.enabled_apps(draft.firm_id), values)
    _save(draft, 6, apps=chosen)


def step_collaborators(tenancy: Tenancy, draft: ClientFileDraft, user: User, user_ids: set[int]) -> None:
    if user_ids - access.member_ids(tenancy):
        raise InvalidInput({"user_ids": _l("Choisissez des membres du cabinet.")})
    if not access.is_admin(tenancy):
        user_ids = user_ids | {user.id}  # a collaborator never creates a file he could not open
    _save(draft, 7, collaborators=sorted(user_ids))


def missing_step(draft: ClientFileDraft) -> int | None:
    """The first step whose answer is missing (a draft may be older than a template change)."""
    data = draft.data
    if not data.get("company", {}).get("name"):
        return 2 if "company" in data else 1
    if "fiscal" not in data:
        return 3
    if templates_for(draft.firm_id) and chosen_template_id(draft) is None:
        return 4
    for step, key in ((5, "executive"), (6, "apps"), (7, "collaborators")):
        if key not in data:
            return step
    return None


# --- Creating the file ---------------------------------------------------------------------------


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
    audit.record(
        "client_file.executive_invited",
        user_id=actor.id,
        organisation_id=firm_org.id,
        client_file_id=client_file.id,
        invitation_id=invitation.id,
    )
    return invitation


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
    trees.enqueue_build(client_file)
    db.session.delete(draft)
    audit.record(
        "client_file.created",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        client_file_id=client_file.id,
        siret=siret,
    )
    db.session.commit()
    return client_file


# --- The file's settings -------------------------------------------------------------------------


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
    client_file.executive_email = email
    client_file.executive_first_name = (values.get("first_name") or client_file.executive_first_name).strip()[:100]
    client_file.executive_last_name = (values.get("last_name") or client_file.executive_last_name).strip()[:100]
    grant = db.session.scalar(select(ThemeGrant).where(ThemeGrant.client_file_id == file_id, ThemeGrant.email == email))
    if grant is None:
        db.session.add(ThemeGrant(client_file_id=file_id, email=email, theme_ids=shared_theme_ids(client_file.firm_id)))
    invitation = invite_executive_now(client_file, tenancy.organisation, user, company)
    db.session.commit()
    return invitation


def apps_for_wizard(firm_id: int) -> list[tuple[PartnerApp, object]]:
    return [(app, partner_apps.BY_KEY.get(app.app_key)) for app in partner_apps.enabled_apps(firm_id)]
