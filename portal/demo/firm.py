"""Cabinet Durand & Associés: team, templates, apps and about thirty client files (idempotent)."""

from __future__ import annotations

import functools
from datetime import date, timedelta

from sqlalchemy import select
from stdnum import luhn

from portal.accounts import invitations
from portal.core import clock, pdf
from portal.core.extensions import db
from portal.core.secrets import seal
from portal.firm import client_files, folder_documents, identifiers, tree_templates, trees
from portal.models import (
    ClientApp,
    ClientFile,
    ClientFileAccess,
    Establishment,
    FiscalYear,
    Folder,
    Invitation,
    Membership,
    Organisation,
    PartnerApp,
    ThemeGrant,
    TreeTemplate,
    User,
    utcnow,
)

FIRM_SIREN = "443278908"
CLIENTS = (
    "Boulangerie Fabre",
    "Garage Morel",
    "Atelier Chaumont",
    "Boucherie Lambert",
    "Cabinet dentaire Roux",
    "Café de la Gare",
    "Charpente Vidal",
    "Coiffure Élégance",
    "Couverture Girard",
    "Électricité Bonnet",
    "Fleurs de Saison",
    "Fromagerie Blanc",
    "Imprimerie Dumas",
    "Jardins Mercier",
    "Librairie Fontaine",
    "Maçonnerie Chevalier",
    "Opticien Robin",
    "Pharmacie Gauthier",
    "Plomberie Perrin",
    "Pressing Henry",
    "Restaurant Le Lyonnais",
    "Serrurerie Masson",
    "SCI Les Tilleuls",
    "Taxi Nicolas",
    "Traiteur Lemoine",
    "Transports Brun",
    "Vins et Terroirs",
    "Yoga Studio Colin",
    "Zinguerie Marchand",
    "Auto-école Renard",
)


def demo_siret(index: int) -> str:
    siren = f"7{index:07d}"
    siren += luhn.calc_check_digit(siren)
    head = siren + "0001"
    return head + luhn.calc_check_digit(head)


@functools.lru_cache(maxsize=8)
def _document(title: str) -> bytes:
    """A one-page PDF titled with its file name (built once: fpdf2 parses the fonts each time)."""
    document = pdf.new_pdf(title)
    pdf.titled_page(document, title)
    return pdf.to_bytes(document)


def seed_durand() -> None:
    firm = db.session.scalar(select(Organisation).where(Organisation.siren == FIRM_SIREN))
    if firm is None or db.session.scalar(select(ClientFile.id).where(ClientFile.firm_id == firm.id).limit(1)):
        return
    tree_templates.ensure_defaults(firm.id)
    admin = db.session.scalar(select(User).where(User.email == "cabinet@vigie.test"))
    emma = db.session.scalar(select(User).where(User.email == "collaboratrice@vigie.test"))
    lucas = db.session.scalar(select(User).where(User.email == "collaborateur@vigie.test"))
    templates = db.session.scalars(
        select(TreeTemplate).where(TreeTemplate.firm_id == firm.id).order_by(TreeTemplate.id)
    ).all()
    impots = PartnerApp(
        firm_id=firm.id,
        app_key="impots",
        name="impots.gouv — Espace professionnel",
        url="https://cfspro.impots.gouv.fr",
    )
    sftp = PartnerApp(
        firm_id=firm.id,
        app_key="sftp",
        name="Dépôt SFTP des pièces",
        settings={"host": "sftp.cabinet-durand.test", "login": "vigie"},
        secrets=seal({"password": "demo-sftp-secret"}),
    )
    db.session.add_all([impots, sftp])
    db.session.flush()
    shared = client_files.shared_theme_ids(firm.id)
    files = []
    for index, name in enumerate(CLIENTS):
        siret = demo_siret(index + 1)
        company = Organisation(
            siren=siret[:9], legal_name=name, legal_form="SARL", city="Lyon", postal_code="69003", is_client=True
        )
        db.session.add(company)
        db.session.flush()
        db.session.add(
            Establishment(
                organisation_id=company.id,
                siret=siret,
                name=name,
                city="Lyon",
                postal_code="69003",
                is_head_office=True,
            )
        )
        start = (date(2026, 1, 1), date(2025, 7, 1), date(2025, 10, 1))[index % 3]
        client_file = ClientFile(
            firm_id=firm.id,
            company_id=company.id,
            name=name,
            siret=siret,
            vat_number=identifiers.vat_number(siret[:9]),
            template_id=templates[index % 4 == 3].id,
            created_by_id=admin.id,
        )
        db.session.add(client_file)
        db.session.flush()
        db.session.add(
            FiscalYear(client_file_id=client_file.id, starts_on=start, ends_on=identifiers.proposed_end(start))
        )
        if index % 5 == 0:
            earlier = clock.add_months(start, -12)
            db.session.add(
                FiscalYear(client_file_id=client_file.id, starts_on=earlier, ends_on=identifiers.proposed_end(earlier))
            )
        for user, every in ((emma, 2), (lucas, 3)):
            if index % every == 0:
                db.session.add(ClientFileAccess(client_file_id=client_file.id, user_id=user.id))
        files.append((client_file, company))
    boulangerie, boulangerie_company = files[0]
    garage, garage_company = files[1]
    db.session.add(ClientApp(client_file_id=boulangerie.id, app_id=impots.id, on_home=True, settings={}))
    # The executive of Boulangerie Fabre accepted his invitation and sent documents.
    executive = db.session.scalar(select(User).where(User.email == "dirigeant@vigie.test"))
    boulangerie.executive_email, boulangerie.executive_first_name, boulangerie.executive_last_name = (
        executive.email,
        executive.first_name,
        executive.last_name,
    )
    accepted = Invitation(
        organisation_id=boulangerie_company.id,
        email=executive.email,
        first_name=executive.first_name,
        last_name=executive.last_name,
        role="owner",
        invited_by_id=admin.id,
        created_at=utcnow() - timedelta(days=3),
        expires_at=utcnow() + timedelta(days=11),
        accepted_at=utcnow() - timedelta(days=2),
    )
    db.session.add(accepted)
    if not db.session.scalar(select(Membership.id).where(Membership.user_id == executive.id)):
        db.session.add(Membership(user_id=executive.id, organisation_id=boulangerie_company.id, role="owner"))
    db.session.add(ThemeGrant(client_file_id=boulangerie.id, email=executive.email, theme_ids=shared))
    # Garage Morel's executive is invited; the link waits in his mailbox.
    garage.executive_email, garage.executive_first_name, garage.executive_last_name = (
        "paul.morel@garage-morel.test",
        "Paul",
        "Morel",
    )
    pending = invitations.new_invitation(
        garage_company.id, garage.executive_email, admin, role="owner", first_name="Paul", last_name="Morel"
    )
    db.session.add(ThemeGrant(client_file_id=garage.id, email=garage.executive_email, theme_ids=shared))
    db.session.flush()
    boulangerie.executive_invitation_id, garage.executive_invitation_id = accepted.id, pending.id
    db.session.commit()
    for client_file, _company in files:
        trees.build(client_file.id)
    _boulangerie_documents(boulangerie, executive, admin)


def _boulangerie_documents(client_file: ClientFile, executive: User, admin: User) -> None:
    """Two documents the executive sent (new to the firm) and one the firm shares, uploaded as users do."""
    by_name: dict[str, Folder] = {}
    for folder in db.session.scalars(select(Folder).where(Folder.client_file_id == client_file.id).order_by(Folder.id)):
        by_name.setdefault(folder.name, folder)
    uploads = (
        (by_name["Janvier 2026"], "facture-farine-janvier.pdf", executive, False),
        (by_name["Statuts"], "statuts-boulangerie-fabre.pdf", executive, False),
        (by_name["Liasses fiscales"], "liasse-2025.pdf", admin, True),
    )
    for folder, filename, user, from_firm in uploads:
        upload = folder_documents.Upload(filename, _document(filename))
        folder_documents.store(client_file.id, folder, user, upload, from_firm=from_firm)
