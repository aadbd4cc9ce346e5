"""The pre-check warnings in the reader's language.

The reader is pure and writes its warnings in French: they are stored with the version and printed
by ``flask read-document``. Pages show them through ``shown``, which recognises each sentence the
reader writes and says it again in the page's language. A sentence not listed here is shown as it
is; a test reads the whole corpus in English and fails on any warning left in French.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.labels import N_
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


# Every sentence the reader (and the upload) writes, as its msgid: the French it stores, with
# %(field)s where it puts a value. A role or a kind of document is itself translated.
SENTENCES = (
    N_("Le document concerne le SIREN %(read)s, pas celui de l'entreprise (%(siren)s)."),
    N_("Le SIREN de l'entreprise n'apparaît pas dans le document."),
    N_("Le SIREN de l'entreprise figure seulement comme celui %(role)s."),
    N_("Le SIREN de l'entreprise figure aussi comme celui %(role)s."),
    N_("Ce document ressemble à %(kind)s, pas au type choisi."),
    N_("Impossible de dire quelle entreprise ce document concerne : aucun SIREN n'est retenu."),
    N_("La raison sociale de l'entreprise n'apparaît pas dans le document."),
    N_("Plusieurs dates certifiées différentes dans le document : aucune n'est retenue."),
    N_("Seule la date de délivrance figure : la date de la situation certifiée n'est pas lue."),
    N_("La date certifiée serait postérieure à la date de délivrance : elle n'est pas retenue."),
    N_("Date certifiée introuvable dans le texte."),
    N_("Date de fin de validité introuvable dans le texte."),
    N_("Code de vérification non lu sur un scan : recopiez-le depuis le document."),
    N_("Plusieurs codes de vérification différents : aucun n'est retenu."),
    N_("Code de vérification introuvable dans le texte."),
    N_("Le code imprimé diffère de celui du QR code : aucun n'est retenu."),
    N_("Lu par OCR : chaque information lue est à vérifier sur le document."),
    N_("Date saisie %(typed)s, le document indique %(read)s."),
    N_("Validité saisie jusqu'au %(typed)s, le document indique %(read)s."),
    N_("Le code de vérification saisi diffère de celui du document."),
    N_("Analyse trop longue : pas de vérification automatique."),
    N_("Texte illisible : pas de vérification automatique."),
    N_("Image scannée : pas de vérification automatique."),
    N_("Image scannée : pas de vérification automatique. (OCR non installé)"),
    N_("PDF scanné (sans texte) : pas de vérification automatique."),
    N_("PDF scanné (sans texte) : pas de vérification automatique. (OCR non installé)"),
    N_("Ce fichier n'est ni un PDF, ni un JPEG, ni un PNG."),
    N_("Éligible à la validation automatique : tiré au sort pour un contrôle par un opérateur."),
)
FRAGMENTS = {"role": ROLES, "kind": KINDS}


def _compile(msgid: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", msgid)
    return re.compile("".join(f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(parts)))


_COMPILED = tuple((_compile(msgid), msgid) for msgid in SENTENCES)


def known(warning: str) -> bool:
    return any(pattern.fullmatch(warning) for pattern, _msgid in _COMPILED)


def shown(warning: str) -> str:
    """The warning in the page's language (as stored when the sentence is not one the reader writes)."""
    for pattern, msgid in _COMPILED:
        match = pattern.fullmatch(warning)
        if match:
            values = {
                name: str(FRAGMENTS[name][value]) if value in FRAGMENTS.get(name, {}) else value
                for name, value in match.groupdict().items()
            }
            return _(msgid, **values) if values else _(msgid)
    return warning
