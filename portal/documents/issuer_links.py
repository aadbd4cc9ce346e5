"""One click from a code to the issuer's own verification page: the check only the issuer can make.

The addresses are settings (``VERIFY_URSSAF_URL``, ``VERIFY_KBIS_URL``) because issuers move their
pages. Infogreffe's page takes the Kbis code in its address; the Urssaf's is a form, so the operator
pastes the code shown beside the link. Vigie knows no public page for MSA attestations and says so
rather than send the operator to the Urssaf's, which does not know them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app


@dataclass(frozen=True)
class IssuerCheck:
    issuer: str  # the name shown: "Urssaf", "Infogreffe"
    code: str
    url: str | None  # None: no public page Vigie knows of
    code_in_url: bool  # the page opens on the answer; otherwise the code is pasted into its form


def checks_for(type_code: str, issuer: str | None, *codes: str | None) -> list[IssuerCheck]:
    """One check per distinct code (letter case kept, compared without it): the code the supplier
    typed and the one read on the document, when they differ, are both offered."""
    distinct: dict[str, str] = {}
    for code in codes:
        if code and code.strip():
            distinct.setdefault(code.strip().upper(), code.strip())
    config = current_app.config
    found = []
    for code in distinct.values():
        if type_code == "URSSAF_VIGILANCE" and issuer == "msa":
            found.append(IssuerCheck("MSA", code, None, False))
        elif type_code == "URSSAF_VIGILANCE":
            found.append(IssuerCheck("Urssaf", code, config["VERIFY_URSSAF_URL"], False))
        elif type_code == "KBIS":
            url = config["VERIFY_KBIS_URL"].replace("{code}", quote(code, safe=""))
            found.append(IssuerCheck("Infogreffe", code, url, "{code}" in config["VERIFY_KBIS_URL"]))
    return found
