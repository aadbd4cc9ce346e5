"""What a sync run says, in the reader's language and in plain words.

A run stores what happened as data (``PlatformSyncRun.error_code`` and ``notes``: one dict per
document left alone, with a ``code``); the page turns it into sentences when it is read, so the
history reads in French or in English. Runs kept from before stored French text: shown as it is.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from portal.core.labels import local_date
from portal.integrations.compliance_platforms import PLATFORMS

# Why one field of an upload was refused, as the history says it of a platform's document.
_FIELDS = {
    "verification_code": lambda: _("son code de vérification manque ou n'est pas lisible"),
    "issued_on": lambda: _("sa date manque, est invalide ou il a déjà expiré"),
    "valid_until": lambda: _("sa fin de validité manque ou est invalide"),
    "file": lambda: _("le fichier n'est pas accepté"),
}


def note(code: str, external_id: str, type_code: str | None = None, **values) -> dict:
    """A note as a run stores it (JSON)."""
    return {"code": code, "id": external_id, "type": type_code, **values}


def _document(entry: dict, type_labels: dict[str, str]) -> str:
    """« Attestation de vigilance URSSAF du 11 nov. 2026 (ACT-URSSAF-77) »."""
    name = type_labels.get(entry.get("type") or "", entry.get("type") or _("Document"))
    if entry.get("issued_on"):
        name = _("%(name)s du %(date)s", name=name, date=local_date(date.fromisoformat(entry["issued_on"])))
    return f"{name} ({entry['id']})" if entry.get("id") else name


def describe_note(entry, platform: str, type_labels: dict[str, str]) -> str:
    if isinstance(entry, str):  # kept from before notes were data
        return entry
    where = PLATFORMS.get(platform, platform)
    document = _document(entry, type_labels)
    code = entry.get("code")
    if code == "not_pdf":
        return _("%(document)s : le fichier reçu n'est pas un PDF, il n'a pas été repris.", document=document)
    if code == "refused":
        reasons = [_FIELDS.get(field, _FIELDS["file"])() for field in entry.get("fields") or ["file"]]
        return _(
            "%(document)s n'a pas été repris : %(reasons)s. Déposez-le vous-même avec « Mettre à jour » si besoin.",
            document=document,
            reasons=" ; ".join(reasons),
        )
    if code == "unknown_type":
        return _(
            "%(document)s : %(platform)s envoie un type de document que Vigie ne connaît pas (%(type)s) ; "
            "il n'a pas été repris.",
            document=entry["id"],
            platform=where,
            type=entry.get("type") or "?",
        )
    if code == "not_newer":
        return _(
            "%(document)s sur %(platform)s : pas plus récent que la version de Vigie, laissé de côté.",
            document=document,
            platform=where,
        )
    if code == "siren_missing":
        return _(
            "%(document)s : le SIREN %(siren)s n'apparaît pas dans le document ; il attend la vérification "
            "d'un opérateur et ne remplace rien.",
            document=document,
            siren=entry.get("siren", ""),
        )
    if code == "type_mismatch":
        return _(
            "%(document)s : %(platform)s le classe ainsi, mais il ressemble à « %(read)s » ; il attend la "
            "vérification d'un opérateur et ne remplace rien.",
            document=document,
            platform=where,
            read=type_labels.get(entry.get("read_type") or "", entry.get("read_type") or "?"),
        )
    if code == "date_mismatch":
        return _(
            "%(document)s : le document certifie la situation au %(read)s, pas à la date annoncée par %(platform)s ; "
            "il attend la vérification d'un opérateur et ne remplace rien.",
            document=document,
            platform=where,
            read=local_date(date.fromisoformat(entry["read_date"])) if entry.get("read_date") else "?",
        )
    if code == "siren_unreadable":
        return _(
            "%(document)s : le SIREN %(siren)s n'a pas pu être lu dans le document (scan ou texte illisible) ; "
            "il attend la vérification d'un opérateur et ne remplace rien.",
            document=document,
            siren=entry.get("siren", ""),
        )
    if code == "bad_file":
        return _("%(document)s : %(platform)s a envoyé un fichier inutilisable.", document=document, platform=where)
    return document


def describe_failure(error_code: str | None, error_message: str | None, platform: str) -> str | None:
    """Why a run stopped, in plain words; None when it did not."""
    where = PLATFORMS.get(platform, platform)
    if error_code == "down":
        return _(
            "%(platform)s ne répond pas : rien n'a changé, la synchronisation reprendra d'elle-même "
            "au prochain passage (toutes les heures).",
            platform=where,
        )
    if error_code == "credentials":
        return _(
            "%(platform)s refuse la clé d'API de la connexion : rien n'a changé. Demandez une nouvelle clé "
            "à %(platform)s, puis reconnectez la plateforme.",
            platform=where,
        )
    if error_code == "answer":
        return _(
            "%(platform)s a envoyé une réponse que Vigie ne comprend pas : rien n'a été modifié. "
            "Si cela se répète, écrivez-nous.",
            platform=where,
        )
    if error_code == "internal":
        return _(
            "Un incident de Vigie a interrompu la synchronisation : rien n'a été perdu, elle est relancée "
            "automatiquement."
        )
    return error_message  # kept from before errors were codes (or None)
