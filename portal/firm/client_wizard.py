"""The "Ajouter un client" wizard: eight steps whose answers are kept in a draft.

The draft is one per firm member, so a user can leave and come back ("Reprendre l'ajout du
client"); each step checks its answers and says which step comes next. "Sauvegarder" is
``new_client.create``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core import labels
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.firm import access, partner_apps, tree_templates
from portal.firm.client_files import check_executive_email, file_for_siren, shared_theme_ids
from portal.firm.identifiers import NAF, check_fiscal_year, clean_siret, settled_end, vat_number
from portal.integrations import company_data
from portal.models import (
    ClientFile,
    ClientFileDraft,
    PartnerApp,
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


def draft_of(tenancy: Tenancy, user: User, *, create: bool = True) -> ClientFileDraft | None:
    access.require_firm(tenancy)
    draft = db.session.scalar(
        select(ClientFileDraft).where(
            ClientFileDraft.firm_id == tenancy.organisation.id, ClientFileDraft.user_id == user.id
        )
    )
    if draft is None and create:
        tree_templates.ensure_defaults(tenancy.organisation.id)
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
    duplicate: ClientFile | None  # the firm's file already using it, when this member may open it
    taken: bool = False  # a file of the firm already uses it (named only to those who may open it)


def step_siret(tenancy: Tenancy, draft: ClientFileDraft, raw: str) -> SiretAnswer:
    """Step 1: look the SIRET up; a file of this firm already using it is shown, not an error."""
    siret = clean_siret(raw)
    if siret is None:
        raise InvalidInput({"siret": _l("Ce SIRET n'est pas valide (14 chiffres, clé de contrôle).")})
    duplicate = file_for_siren(tenancy.organisation.id, siret[:9])
    if duplicate is not None:
        may_open = db.session.scalar(
            select(ClientFile.id).where(ClientFile.id == duplicate.id, access.visible(tenancy, draft.user_id))
        )
        return SiretAnswer(False, False, duplicate if may_open else None, taken=True)
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


class EndToCheck(InvalidInput):
    """The start of the fiscal year changed under an end the user had chosen: ``proposal`` is shown."""

    def __init__(self, proposal: date):
        super().__init__(
            {
                "ends_on": _l(
                    "Le début de l'exercice a changé : la fin proposée est maintenant le %(date)s. "
                    "Vérifiez-la, puis cliquez sur « Continuer ».",
                    date=labels.local_date(proposal, "long"),
                )
            }
        )
        self.proposal = proposal


def step_fiscal(
    draft: ClientFileDraft,
    starts_on: date | None,
    ends_on: date | None,
    shown_start: date | None = None,
    shown_end: date | None = None,
) -> None:
    """Save the fiscal year; the dates the page showed tell whether only the start was changed."""
    ends_on, ask = settled_end(starts_on, ends_on, shown_start, shown_end)
    if ask:
        raise EndToCheck(ends_on)
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


def apps_for_wizard(firm_id: int) -> list[tuple[PartnerApp, object]]:
    return [(app, partner_apps.BY_KEY.get(app.app_key)) for app in partner_apps.enabled_apps(firm_id)]
