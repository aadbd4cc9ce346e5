"""The legal document catalogue and the starter refusal reasons (seed data, editable by operators)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core.extensions import db
from portal.models import ContractTypology, DocumentType, RefusalReason

# code, French label, English label, issuer, rule, months, verification code, collectable, alternative to
DOCUMENT_TYPES = (
    (
        "URSSAF_VIGILANCE",
        "Attestation de vigilance URSSAF / MSA",
        "URSSAF / MSA vigilance certificate",
        "URSSAF / MSA",
        "months_from_issue",
        6,
        True,
        True,
        None,
    ),
    ("KBIS", "Extrait Kbis", "Kbis extract", "Greffe (Infogreffe)", "months_from_issue", 3, True, False, None),
    (
        "RNE_CERT",
        "Attestation d'immatriculation au RNE",
        "RNE registration certificate",
        "INPI / chambre de métiers",
        "months_from_issue",
        3,
        False,
        False,
        "KBIS",
    ),
    (
        "LNTE",
        "Liste nominative des travailleurs étrangers",
        "List of foreign workers",
        "Le fournisseur",
        "months_from_issue",
        6,
        False,
        False,
        None,
    ),
    (
        "FISCAL",
        "Attestation de régularité fiscale",
        "Tax compliance certificate",
        "DGFiP",
        "end_of_year",
        None,
        False,
        True,
        None,
    ),
    (
        "RC_PRO",
        "Attestation d'assurance RC professionnelle",
        "Professional liability insurance certificate",
        "Assureur",
        "printed_end_date",
        None,
        False,
        True,
        None,
    ),
    (
        "DECENNALE",
        "Attestation d'assurance décennale",
        "Ten-year liability insurance certificate",
        "Assureur",
        "printed_end_date",
        None,
        False,
        True,
        None,
    ),
    (
        "QUALIBAT",
        "Certificat Qualibat",
        "Qualibat certificate",
        "Qualibat",
        "printed_end_date",
        None,
        False,
        True,
        None,
    ),
    (
        "CIBTP",
        "Attestation caisse de congés payés BTP",
        "Building-trade paid-leave fund certificate",
        "CIBTP",
        "printed_end_date",
        None,
        False,
        True,
        None,
    ),
    (
        "MUTUELLE",
        "Attestation mutuelle / prévoyance",
        "Health and provident insurance certificate",
        "Assureur",
        "printed_end_date",
        None,
        False,
        True,
        None,
    ),
    (
        "FOREIGN_VAT",
        "Attestation de TVA (fournisseur établi à l'étranger)",
        "VAT certificate (supplier abroad)",
        "Administration étrangère",
        "months_from_issue",
        6,
        False,
        False,
        None,
    ),
    (
        "FOREIGN_SOCIAL",
        "Formulaire A1 (détachement)",
        "A1 form (posted workers)",
        "Organisme étranger",
        "months_from_issue",
        6,
        False,
        False,
        None,
    ),
    (
        "FOREIGN_REGISTRATION",
        "Immatriculation à l'étranger",
        "Foreign registration",
        "Registre étranger",
        "months_from_issue",
        6,
        False,
        False,
        None,
    ),
)

REFUSAL_REASONS = (
    ("Document illisible", "Illegible document"),
    ("Mauvais type de document", "Wrong document type"),
    ("Document trop ancien", "Document too old"),
    ("Le SIREN / SIRET ne correspond pas à l'entreprise", "SIREN/SIRET does not match the company"),
    ("Code de vérification invalide", "Invalid verification code"),
    ("Document non signé", "Unsigned document"),
    ("Pages manquantes", "Pages missing"),
    ("L'assurance ne couvre pas l'activité", "Insurance does not cover the activity"),
    ("Traduction manquante", "Translation missing"),
)

# Where each type prints the code that lets anyone check it (the upload form's hint).
VERIFICATION_CODE_HINTS = {
    "URSSAF_VIGILANCE": _l(
        "Le « code de sécurité » figure en bas de l'attestation (urssaf.fr le vérifie), par exemple EQ7RM4D3XK2P9."
    ),
    "KBIS": _l("Le « code de vérification » figure en bas de chaque page de l'extrait, sous le QR code."),
}
DEFAULT_VERIFICATION_CODE_HINT = _l("Le code imprimé sur le document qui permet d'en vérifier l'authenticité.")

DEFAULT_REQUIRED = ("URSSAF_VIGILANCE", "KBIS")
# D8222-7: what the law asks instead of a supplier established abroad.
ABROAD_REQUIRED = ("FOREIGN_VAT", "FOREIGN_SOCIAL", "FOREIGN_REGISTRATION")
EMPLOYER_REQUIRED = ("LNTE",)


# Contract typologies every agency has; agencies add their own.
CONTRACT_TYPOLOGIES = (
    ("employment", "Contrat de travail"),
    ("assignment", "Contrat de mise à disposition"),
    ("amendment", "Avenant"),
)


def ensure_catalogue() -> None:
    """Insert the catalogue entries that are missing; never overwrite an operator's edits."""
    known = set(db.session.scalars(select(DocumentType.code)))
    for order, (code, fr, en, issuer, rule, months, code_flag, collectable, alternative) in enumerate(DOCUMENT_TYPES):
        if code not in known:
            db.session.add(
                DocumentType(
                    code=code,
                    label_fr=fr,
                    label_en=en,
                    issuer=issuer,
                    validity_rule=rule,
                    validity_months=months,
                    has_verification_code=code_flag,
                    collectable=collectable,
                    alternative_to=alternative,
                    sort_order=(order + 1) * 10,
                )
            )
    if db.session.scalar(select(RefusalReason.id).limit(1)) is None:
        for order, (fr, en) in enumerate(REFUSAL_REASONS):
            db.session.add(RefusalReason(label_fr=fr, label_en=en, sort_order=(order + 1) * 10))
    known_typologies = set(
        db.session.scalars(select(ContractTypology.code).where(ContractTypology.agency_id.is_(None)))
    )
    for order, (code, label) in enumerate(CONTRACT_TYPOLOGIES):
        if code not in known_typologies:
            db.session.add(ContractTypology(code=code, label=label, sort_order=(order + 1) * 10))
    db.session.commit()
