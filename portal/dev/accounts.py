"""The demo accounts as the development login page shows them (the demo seed creates them; a test
checks this list against the accounts it creates)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DEMO_PASSWORD = "vigie-demo"

ACCOUNT_HINTS = {
    "fournisseur@vigie.test": _l("fournisseur (Menuiserie Martin)"),
    "constructor@vigie.test": _l("client donneur d'ordre (Constructor SA et sa filiale Demolitor SAS)"),
    "agence@vigie.test": _l("agence d'intérim (Batie Construction)"),
    "cabinet@vigie.test": _l("administrateur du cabinet comptable (Cabinet Durand & Associés)"),
    "collaboratrice@vigie.test": _l("collaboratrice du cabinet (un dossier sur deux)"),
    "collaborateur@vigie.test": _l("collaborateur du cabinet (un dossier sur trois)"),
    "dirigeant@vigie.test": _l("dirigeant de Boulangerie Fabre, client du cabinet (Espace cabinet)"),
    "operateur@vigie.test": _l("opérateur de la plateforme"),
}
