"""The demo world: a few companies and one account per role. Idempotent (upserts by SIREN/email)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.core.extensions import db
from portal.dev.accounts import DEMO_PASSWORD  # the login page shows it in development
from portal.models import Establishment, Membership, Organisation, User


@dataclass(frozen=True)
class DemoOrganisation:
    siren: str
    legal_name: str
    legal_form: str
    address: str
    postal_code: str
    city: str
    naf_code: str
    kinds: tuple[str, ...]
    sirets: tuple[str, ...]


ORGANISATIONS = (
    DemoOrganisation(
        "812345676",
        "Menuiserie Martin",
        "SARL",
        "14 rue des Charpentiers",
        "69007",
        "Lyon",
        "43.32A",
        ("supplier",),
        ("81234567600017",),
    ),
    DemoOrganisation(
        "521087437",
        "Constructor SA",
        "SA",
        "8 avenue de la Grande Armée",
        "75017",
        "Paris",
        "41.20B",
        ("client",),
        ("52108743700013", "52108743700021"),
    ),
    DemoOrganisation(
        "830124590",
        "Demolitor SAS",
        "SAS",
        "27 quai de la Loire",
        "44200",
        "Nantes",
        "43.11Z",
        ("client", "supplier"),  # it buys from Menuiserie Martin and keeps its own file (synced with Actradis)
        ("83012459000019",),
    ),
    DemoOrganisation(
        "790456123",
        "Batie Construction",
        "SAS",
        "5 boulevard Gambetta",
        "33000",
        "Bordeaux",
        "78.20Z",
        ("agency",),
        ("79045612300013",),
    ),
    DemoOrganisation(
        "443278908",
        "Cabinet Durand & Associés",
        "SELARL",
        "3 place Bellecour",
        "69002",
        "Lyon",
        "69.20Z",
        ("accounting_firm",),
        ("44327890800019",),
    ),
    DemoOrganisation(
        "901234781",
        "Vigie Opérations",
        "SAS",
        "10 rue de la Paix",
        "75002",
        "Paris",
        "63.11Z",
        ("operator",),
        ("90123478100010",),
    ),
)

ACCOUNTS = (
    ("fournisseur@vigie.test", "Paul", "Martin", "+33612345678", (("812345676", "owner"),)),
    ("constructor@vigie.test", "Claire", "Bernard", "+33623456789", (("521087437", "owner"), ("830124590", "owner"))),
    ("agence@vigie.test", "Sophie", "Lefèvre", "+33634567890", (("790456123", "owner"),)),
    ("cabinet@vigie.test", "Julien", "Durand", "+33645678901", (("443278908", "owner"),)),
    ("collaboratrice@vigie.test", "Emma", "Garnier", "+33645678902", (("443278908", "collaborator"),)),
    ("collaborateur@vigie.test", "Lucas", "Moreau", "+33645678903", (("443278908", "collaborator"),)),
    ("dirigeant@vigie.test", "Hélène", "Fabre", "+33645678904", ()),
    ("operateur@vigie.test", "Nadia", "Rousseau", "+33656789012", (("901234781", "operator"),)),
)

ROLE_LABELS = {
    "fournisseur@vigie.test": "fournisseur — Menuiserie Martin",
    "constructor@vigie.test": "client — Constructor SA et Demolitor SAS",
    "agence@vigie.test": "agence d'intérim — Batie Construction",
    "cabinet@vigie.test": "administrateur — Cabinet Durand & Associés",
    "collaboratrice@vigie.test": "collaboratrice — Cabinet Durand & Associés (un dossier sur deux)",
    "collaborateur@vigie.test": "collaborateur — Cabinet Durand & Associés (un dossier sur trois)",
    "dirigeant@vigie.test": "dirigeante — Boulangerie Fabre, cliente du cabinet",
    "operateur@vigie.test": "opérateur de la plateforme",
}


def _organisation(spec: DemoOrganisation) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.siren == spec.siren))
    if organisation is None:
        organisation = Organisation(siren=spec.siren)
        db.session.add(organisation)
    organisation.legal_name = spec.legal_name
    organisation.legal_form = spec.legal_form
    organisation.address = spec.address
    organisation.postal_code = spec.postal_code
    organisation.city = spec.city
    organisation.naf_code = spec.naf_code
    for kind in ("supplier", "client", "agency", "accounting_firm", "operator"):
        setattr(organisation, f"is_{kind}", kind in spec.kinds)
    db.session.flush()
    existing = set(
        db.session.scalars(select(Establishment.siret).where(Establishment.organisation_id == organisation.id))
    )
    for index, siret in enumerate(spec.sirets):
        if siret not in existing:
            db.session.add(
                Establishment(
                    organisation_id=organisation.id,
                    siret=siret,
                    name=spec.legal_name if index == 0 else f"{spec.legal_name} — établissement secondaire",
                    address=spec.address,
                    postal_code=spec.postal_code,
                    city=spec.city,
                    is_head_office=index == 0,
                )
            )
    return organisation


def seed_demo(
    *,
    with_documents: bool = True,
    with_crowd: bool = False,
    with_contracts: bool = False,
    with_firm: bool = False,
    with_platforms: bool = False,
) -> list[tuple[str, str]]:
    """``with_crowd`` adds about fifty suppliers for Constructor SA, ``with_contracts`` Batie
        Construction's 604 employees and their contracts, ``with_firm`` Cabinet Durand's thirty client
        files and their trees, ``with_platforms`` Menuiserie Martin's sync with the simulated Attestation
    Légale, first run included (the CLI does all four; most tests none)."""
    from portal.demo.documents import (
        seed_batie_file,
        seed_constructor_suppliers,
        seed_demolitor,
        seed_engagements,
        seed_menuiserie_martin,
    )
    from portal.documents.catalogue import ensure_catalogue

    ensure_catalogue()
    organisations = {spec.siren: _organisation(spec) for spec in ORGANISATIONS}
    for email, first_name, last_name, phone, roles in ACCOUNTS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, first_name=first_name, last_name=last_name, mobile_phone=phone)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
        for siren, role in roles:
            organisation_id = organisations[siren].id
            membership = db.session.scalar(
                select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation_id)
            )
            if membership is None:
                db.session.add(Membership(user_id=user.id, organisation_id=organisation_id, role=role))
    db.session.commit()
    _seed_partner_request(organisations)
    _seed_client_sheets(organisations)
    if with_firm:
        from portal.demo.firm import seed_durand

        seed_durand()
    if with_documents:
        seed_menuiserie_martin()
        seed_demolitor()
        seed_batie_file()
        from portal.demo.notifications import seed_notifications

        seed_notifications()
    if with_documents and with_platforms:
        from portal.demo.platforms import seed_platform_connections

        seed_platform_connections()
    if with_crowd:
        seed_constructor_suppliers()
        seed_engagements()
        from portal.demo.history import seed_compliance_history

        seed_compliance_history()
    if with_contracts:
        from portal.demo.contracts import seed_batie_contracts

        seed_batie_contracts()
    return [(email, ROLE_LABELS[email]) for email, *_ in ACCOUNTS]


def _seed_partner_request(organisations: dict[str, Organisation]) -> None:
    """Constructor SA has asked Menuiserie Martin to connect; the request waits for an answer."""
    from portal.models import Partnership

    constructor, martin = organisations["521087437"], organisations["812345676"]
    exists = db.session.scalar(
        select(Partnership.id).where(Partnership.requester_id == constructor.id, Partnership.target_id == martin.id)
    )
    if exists is None:
        from portal.models import DocumentType, Requirement

        requested_by = db.session.scalar(select(User.id).where(User.email == "constructor@vigie.test"))
        db.session.add(Partnership(requester_id=constructor.id, target_id=martin.id, requested_by_id=requested_by))
        # Constructor SA requires RC Pro and décennale insurance from all its suppliers.
        for code in ("RC_PRO", "DECENNALE"):
            type_id = db.session.scalar(select(DocumentType.id).where(DocumentType.code == code))
            db.session.add(Requirement(supplier_id=None, document_type_id=type_id, requested_by_id=constructor.id))
        db.session.commit()


def _seed_client_sheets(organisations: dict[str, Organisation]) -> None:
    """Batie Construction keeps sheets for Constructor SA and Demolitor SAS, and asked both to connect.

    Demolitor's sheet has its own email: changing it to Constructor's proposes to link them."""
    from portal.models import ClientSheet, Partnership

    batie = organisations["790456123"]
    if db.session.scalar(select(ClientSheet.id).where(ClientSheet.owner_id == batie.id).limit(1)):
        return
    agent = db.session.scalar(select(User.id).where(User.email == "agence@vigie.test"))
    for siren, email in (("521087437", "constructor@vigie.test"), ("830124590", "direction@demolitor.test")):
        company = organisations[siren]
        db.session.add(ClientSheet(owner_id=batie.id, company_id=company.id, contact_email=email, created_by_id=agent))
        db.session.add(Partnership(requester_id=batie.id, target_id=company.id, requested_by_id=agent))
    db.session.commit()


def is_empty() -> bool:
    return db.session.scalar(select(Organisation.id).limit(1)) is None
