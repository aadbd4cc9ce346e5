"""French labels for codes shown in templates, and the date helpers templates use."""

from __future__ import annotations

import re
from datetime import UTC, date

from babel import dates as babel_dates
from flask_babel import format_currency, format_date, format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from portal.core import clock
from portal.integrations import company_data
from portal.integrations.compliance_platforms import PLATFORMS


def N_(message: str) -> str:
    """Marks a sentence for the catalogue (``pybabel -k N_``); translated when shown."""
    return message


ROLE_LABELS = {
    "owner": _l("Propriétaire"),
    "member": _l("Membre"),
    "collaborator": _l("Collaborateur"),
    "operator": _l("Opérateur"),
}
KIND_LABELS = {
    "supplier": _l("Fournisseur"),
    "client": _l("Client donneur d'ordre"),
    "agency": _l("Agence d'intérim"),
    "accounting_firm": _l("Cabinet comptable"),
    "operator": _l("Opérateur de la plateforme"),
}
MESSAGE_STATUS_LABELS = {
    "queued": _l("En file d'attente"),
    "sending": _l("En cours d'envoi"),
    "sent": _l("Envoyé"),
    "delivered": _l("Délivré"),
    "failed": _l("Échec"),
    "unknown": _l("Issue inconnue"),
}
# A legal checkpoint's state (portal.partners.vigilance), and a partnership's at its latest one.
CHECKPOINT_STATE_LABELS = {
    "met": _l("Respectée"),
    "late": _l("Documents obtenus en retard"),
    "checking": _l("Vérification en cours"),
    "missed": _l("En défaut"),
    "upcoming": _l("À venir"),
    "at_risk": _l("À venir : document à renouveler"),
}

DOCUMENT_STATE_LABELS = {
    "missing": _l("Manquant"),
    "refused": _l("Refusé"),
    "expired": _l("Expiré"),
    "expiring": _l("Expire bientôt"),
    "in_review": _l("En cours de vérification"),
    "valid": _l("Valide"),
}
VERSION_STATUS_LABELS = {
    "submitted": _l("En cours de vérification"),
    "valid": _l("Valide"),
    "expiring": _l("Expire bientôt"),
    "expired": _l("Expiré"),
    "refused": _l("Refusé"),
    "archived": _l("Archivé"),
}
MANDATE_STATUS_LABELS = {
    "draft": _l("à signer"),
    "submitted": _l("en attente de vérification"),
    "active": _l("actif"),
    "refused": _l("refusé"),
    "revoked": _l("révoqué"),
}
PARTNERSHIP_STATUS_LABELS = {
    "pending": _l("en attente de réponse"),
    "accepted": _l("active"),
    "refused": _l("refusée"),
    "suspended": _l("suspendue"),
    "ended": _l("terminée"),
}
COMPLIANCE_STATUS_LABELS = {
    "compliant": _l("Conforme"),
    "incomplete": _l("Incomplet"),
    "expired": _l("Expiré"),
    "in_review": _l("En attente"),
}
VALIDITY_RULE_LABELS = {
    "months_from_issue": _l("Un nombre de mois après la date du document"),
    "printed_end_date": _l("Date de fin imprimée sur le document"),
    "end_of_year": _l("Jusqu'au 31 décembre de l'année du document"),
}


def from_iso_date(text: str) -> date:
    return date.fromisoformat(text)


def current_locale() -> str:
    return str(get_locale() or "fr")


class Localised:
    """A catalogue row's label (``label(language)``) read in the language current when shown: a
    lazy sentence made once for several users says each one's word (``notices.notify``)."""

    def __init__(self, labelled):
        self.labelled = labelled

    def __str__(self) -> str:
        return self.labelled.label(current_locale())


class Joined:
    """Several labels, comma-separated, each read when shown (see ``Localised``)."""

    def __init__(self, labelled):
        self.labelled = list(labelled)

    def __str__(self) -> str:
        return ", ".join(item.label(current_locale()) for item in self.labelled)


# French writes the first day of a month as an ordinal: « 1er décembre », never « 1 décembre ».
FIRST_OF_MONTH = re.compile(
    r"(?<!\d)1 (?=(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)\b)"
)


def first_of_month(text: str) -> str:
    return FIRST_OF_MONTH.sub("1er ", text)


def local_date(value, format="medium", rebase=True) -> str:
    """flask-babel's format_date, with « 1er » in French."""
    text = format_date(value, format, rebase)
    return first_of_month(text) if current_locale() == "fr" else text


def local_datetime(value=None, format="medium", rebase=True) -> str:
    text = format_datetime(value, format, rebase)
    return first_of_month(text) if current_locale() == "fr" else text


ELIDING = tuple("AEIOUYÂÀÄÉÈÊËÎÏÔÖÛÙÜŒaeiouyâàäéèêëîïôöûùüœ")


def de(name: str) -> str:
    """« de Batie Construction », « d'Atelier Dupont »: French elides « de » before a vowel. In
    English the bare name (the English message says "of")."""
    if current_locale() != "fr":
        return name
    return f"d'{name}" if name[:1] in ELIDING else f"de {name}"


def french_date(value: date) -> str:
    """A date in a French document (the quitus, a mandate), whatever the reader's language."""
    return first_of_month(babel_dates.format_date(value, "long", locale="fr_FR"))


class TableFormats:
    """Short date formatters resolved once for a long table (flask-babel looks the locale and the
    time zone up on every call; a 50-row page would do it a hundred times)."""

    def __init__(self):
        self.locale = get_locale()
        self.timezone = get_timezone()

    def date(self, value: date) -> str:
        return babel_dates.format_date(value, "short", locale=self.locale)

    def datetime(self, value) -> str:
        return babel_dates.format_datetime(value.replace(tzinfo=UTC), "short", tzinfo=self.timezone, locale=self.locale)


def siret(value: str) -> str:
    """ "812 345 676 00017": a SIRET (or SIREN) in the groups people read; anything else as it is."""
    digits = "".join((value or "").split())
    if digits.isdigit() and len(digits) in (9, 14):
        return (siret_number if len(digits) == 14 else siren_number).format(digits)
    return value or ""


def vat(value: str) -> str:
    """ "FR 12 812345676": a French VAT number as printed on invoices."""
    compact = "".join((value or "").split()).upper()
    if len(compact) == 13 and compact.startswith("FR"):
        return f"{compact[:2]} {compact[2:4]} {compact[4:]}"
    return value or ""


FOLLOW_UP_STOP_LABELS = {
    "accepted": _l("Acceptée : relances arrêtées"),
    "refused": _l("Refusée : relances arrêtées"),
    "bounced": _l("Adresse en erreur : relances arrêtées"),
    "stopped": _l("Relances arrêtées à votre demande"),
    "expired": _l("Invitation expirée"),
    "done": _l("Toutes les relances sont parties"),
}


def client_sheets_label(organisation) -> str:
    """ "Mes clients" (the reference's name) for an agency; a firm also has its "Dossiers clients"
    (accounting files), so its sheets say what they are."""
    if organisation is not None and organisation.is_accounting_firm:
        return str(_l("Fiches clients (vigilance)"))
    return str(_l("Mes clients"))


def template_globals() -> dict:
    return {
        "role_labels": ROLE_LABELS,
        "platform_labels": PLATFORMS,
        "kind_labels": KIND_LABELS,
        "message_status_labels": MESSAGE_STATUS_LABELS,
        "document_state_labels": DOCUMENT_STATE_LABELS,
        "checkpoint_state_labels": CHECKPOINT_STATE_LABELS,
        "version_status_labels": VERSION_STATUS_LABELS,
        "mandate_status_labels": MANDATE_STATUS_LABELS,
        "validity_rule_labels": VALIDITY_RULE_LABELS,
        "partnership_status_labels": PARTNERSHIP_STATUS_LABELS,
        "follow_up_stop_labels": FOLLOW_UP_STOP_LABELS,
        "compliance_status_labels": COMPLIANCE_STATUS_LABELS,
        "resolved_status_labels": lambda: {key: str(label) for key, label in COMPLIANCE_STATUS_LABELS.items()},
        "format_date": local_date,
        "format_datetime": local_datetime,
        "table_formats": TableFormats,
        "format_currency": format_currency,
        "today": lambda: clock.today(),
        "current_locale": current_locale,
        "de": de,
        "client_sheets_label": client_sheets_label,
        "full_address": lambda place: company_data.full_address(place.address, place.postal_code, place.city),
    }


def template_filters() -> dict:
    return {
        "fromisodate": from_iso_date,
        "siret": siret,
        "vat": vat,
        "legal_form": company_data.legal_form_label,
    }
