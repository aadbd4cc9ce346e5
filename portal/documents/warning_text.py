"""The pre-check warnings in the reader's language.

The reader is pure and writes its warnings in French: they are stored with the version and printed
by ``flask read-document``. Pages show them through ``shown``, which recognises each sentence the
reader writes and says it again in the page's language. A sentence not listed here is shown as it
is; a test reads the whole corpus in English and fails on any warning left in French.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.documents import reader

# The fragments the reader puts inside its sentences: a role, a kind of document.
ROLES = {
    reader.ROLE_NAMES["issuer"]: _l("de l'organisme qui délivre le document"),
    reader.ROLE_NAMES["broker"]: _l("d'un courtier ou intermédiaire"),
    reader.ROLE_NAMES["auditor"]: _l("d'un commissaire aux comptes ou expert-comptable"),
    reader.ROLE_NAMES["officer"]: _l("d'un dirigeant, associé ou société mère"),
}
KINDS = {
    reader.TYPE_NAMES["KBIS"]: _l("un extrait Kbis"),
    reader.TYPE_NAMES["RNE_CERT"]: _l("une attestation d'immatriculation au RNE"),
    reader.TYPE_NAMES["URSSAF_VIGILANCE"]: _l("une attestation de vigilance"),
    reader.TYPE_NAMES["DECENNALE"]: _l("une attestation d'assurance décennale"),
    reader.TYPE_NAMES["RC_PRO"]: _l("une attestation d'assurance responsabilité civile"),
    reader.TYPE_NAMES["FISCAL"]: _l("une attestation de régularité fiscale"),
    reader.TYPE_NAMES["LNTE"]: _l("une liste de travailleurs étrangers"),
    reader.TYPE_NAMES["QUALIBAT"]: _l("un certificat Qualibat"),
    reader.TYPE_NAMES["CIBTP"]: _l("une attestation de caisse de congés payés"),
}


def _fragment(table: dict, value: str) -> str:
    return str(table[value]) if value in table else value


# (the French sentence as the reader writes it, with {fields}; the sentence in the page's language)
SENTENCES: tuple[tuple[str, Callable[..., str]], ...] = (
    ("Le document concerne le SIREN {read}, pas celui de l'entreprise ({siren}).",
     lambda read, siren: _("Le document concerne le SIREN %(read)s, pas celui de l'entreprise (%(siren)s).",
                           read=read, siren=siren)),
    ("Le SIREN de l'entreprise n'apparaît pas dans le document.",
     lambda: _("Le SIREN de l'entreprise n'apparaît pas dans le document.")),
    ("Le SIREN de l'entreprise figure seulement comme celui {role}.",
     lambda role: _("Le SIREN de l'entreprise figure seulement comme celui %(role)s.", role=_fragment(ROLES, role))),
    ("Le SIREN de l'entreprise figure aussi comme celui {role}.",
     lambda role: _("Le SIREN de l'entreprise figure aussi comme celui %(role)s.", role=_fragment(ROLES, role))),
    ("Ce document ressemble à {kind}, pas au type choisi.",
     lambda kind: _("Ce document ressemble à %(kind)s, pas au type choisi.", kind=_fragment(KINDS, kind))),
    ("Impossible de dire quelle entreprise ce document concerne : aucun SIREN n'est retenu.",
     lambda: _("Impossible de dire quelle entreprise ce document concerne : aucun SIREN n'est retenu.")),
    ("La raison sociale de l'entreprise n'apparaît pas dans le document.",
     lambda: _("La raison sociale de l'entreprise n'apparaît pas dans le document.")),
    ("Plusieurs dates certifiées différentes dans le document : aucune n'est retenue.",
     lambda: _("Plusieurs dates certifiées différentes dans le document : aucune n'est retenue.")),
    ("Seule la date de délivrance figure : la date de la situation certifiée n'est pas lue.",
     lambda: _("Seule la date de délivrance figure : la date de la situation certifiée n'est pas lue.")),
    ("La date certifiée serait postérieure à la date de délivrance : elle n'est pas retenue.",
     lambda: _("La date certifiée serait postérieure à la date de délivrance : elle n'est pas retenue.")),
    ("Date certifiée introuvable dans le texte.", lambda: _("Date certifiée introuvable dans le texte.")),
    ("Date de fin de validité introuvable dans le texte.",
     lambda: _("Date de fin de validité introuvable dans le texte.")),
    ("Code de vérification non lu sur un scan : recopiez-le depuis le document.",
     lambda: _("Code de vérification non lu sur un scan : recopiez-le depuis le document.")),
    ("Plusieurs codes de vérification différents : aucun n'est retenu.",
     lambda: _("Plusieurs codes de vérification différents : aucun n'est retenu.")),
    ("Code de vérification introuvable dans le texte.", lambda: _("Code de vérification introuvable dans le texte.")),
    ("Le code imprimé diffère de celui du QR code : aucun n'est retenu.",
     lambda: _("Le code imprimé diffère de celui du QR code : aucun n'est retenu.")),
    ("Lu par OCR : chaque information lue est à vérifier sur le document.",
     lambda: _("Lu par OCR : chaque information lue est à vérifier sur le document.")),
    ("Date saisie {typed}, le document indique {read}.",
     lambda typed, read: _("Date saisie %(typed)s, le document indique %(read)s.", typed=typed, read=read)),
    ("Validité saisie jusqu'au {typed}, le document indique {read}.",
     lambda typed, read: _("Validité saisie jusqu'au %(typed)s, le document indique %(read)s.",
                           typed=typed, read=read)),
    ("Le code de vérification saisi diffère de celui du document.",
     lambda: _("Le code de vérification saisi diffère de celui du document.")),
    ("Analyse trop longue : pas de vérification automatique.",
     lambda: _("Analyse trop longue : pas de vérification automatique.")),
    ("Texte illisible : pas de vérification automatique.",
     lambda: _("Texte illisible : pas de vérification automatique.")),
    ("Image scannée : pas de vérification automatique.",
     lambda: _("Image scannée : pas de vérification automatique.")),
    ("Image scannée : pas de vérification automatique. (OCR non installé)",
     lambda: _("Image scannée : pas de vérification automatique. (OCR non installé)")),
    ("PDF scanné (sans texte) : pas de vérification automatique.",
     lambda: _("PDF scanné (sans texte) : pas de vérification automatique.")),
    ("PDF scanné (sans texte) : pas de vérification automatique. (OCR non installé)",
     lambda: _("PDF scanné (sans texte) : pas de vérification automatique. (OCR non installé)")),
    ("Ce fichier n'est ni un PDF, ni un JPEG, ni un PNG.",
     lambda: _("Ce fichier n'est ni un PDF, ni un JPEG, ni un PNG.")),
    ("Éligible à la validation automatique : tiré au sort pour un contrôle par un opérateur.",
     lambda: _("Éligible à la validation automatique : tiré au sort pour un contrôle par un opérateur.")),
)  # fmt: skip


def _compile(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(parts))
    return re.compile(pattern)


_COMPILED = tuple((_compile(template), say) for template, say in SENTENCES)


def known(warning: str) -> bool:
    return any(pattern.fullmatch(warning) for pattern, _say in _COMPILED)


def shown(warning: str) -> str:
    """The warning in the page's language (as stored when the sentence is not one the reader writes)."""
    for pattern, say in _COMPILED:
        match = pattern.fullmatch(warning)
        if match:
            return say(**match.groupdict())
    return warning
