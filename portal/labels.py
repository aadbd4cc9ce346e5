"""French labels for codes shown in templates, and the date helpers templates use."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from portal.models.base import utcnow

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
    "sent": _l("Envoyé"),
    "delivered": _l("Délivré"),
    "failed": _l("Échec"),
}


def today() -> date:
    return utcnow().date()


def current_locale() -> str:
    return str(get_locale() or "fr")


def template_globals() -> dict:
    return {
        "role_labels": ROLE_LABELS,
        "kind_labels": KIND_LABELS,
        "message_status_labels": MESSAGE_STATUS_LABELS,
        "format_date": format_date,
        "format_datetime": format_datetime,
        "today": lambda: today(),
        "current_locale": current_locale,
    }
