"""The quitus (membership certificate): a one-page PDF with a code anyone can check on /verifier/<code>."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from portal.core import audit, tenancy
from portal.core.clock import paris_date
from portal.core.extensions import db
from portal.core.labels import french_date
from portal.core.pdf import new_pdf, paragraph, titled_page, to_bytes
from portal.documents import compliance
from portal.integrations import company_data
from portal.models import Organisation, Quitus, User

COLUMNS = (95, 55, 40)  # mm: document, state, end of validity
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
STATE_LABELS = {
    "valid": "Valide",
    "expiring": "Valide (expire bientôt)",
    "in_review": "En cours de vérification",
    "expired": "Expiré",
    "refused": "Refusé",
    "missing": "Manquant",
}


def snapshot(organisation: Organisation) -> list[dict]:
    file = compliance.load(organisation)
    return [
        {
            "code": row.document_type.code,
            "label": row.document_type.label_fr,
            "state": row.state,
            "valid_until": row.active.valid_until.isoformat() if row.active and row.active.valid_until else None,
        }
        for row in file.rows
        if row.required
    ]


def issue(organisation: Organisation, user: User) -> Quitus:
    """A new quitus of the company's file as it stands now (recorded and audited)."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(12))
    quitus = Quitus(organisation_id=organisation.id, code=code, issued_by_id=user.id, snapshot=snapshot(organisation))
    db.session.add(quitus)
    db.session.flush()
    audit.record("quitus.issued", user_id=user.id, organisation_id=organisation.id, code=code)
    db.session.commit()
    return quitus


def own(organisation: Organisation, quitus_id: int) -> Quitus:
    """One of the company's quitus, or 404 whatever id is typed."""
    return tenancy.owned(Quitus, quitus_id, organisation.id)


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def render(quitus: Quitus, organisation: Organisation) -> bytes:
    pdf = new_pdf(title=f"Quitus {organisation.legal_name}")
    titled_page(pdf, "Quitus — attestation d'adhésion à Vigie", size=18)
    paragraph(
        pdf,
        f"Vigie atteste que l'entreprise {company_data.identity(organisation)}, "
        "est membre de la plateforme et tient son dossier de vigilance sur Vigie.",
        after=2,
    )
    paragraph(pdf, f"Situation au {french_date(paris_date(quitus.issued_at))} :", after=2)
    pdf.set_font("DejaVu", "", 10)
    # fpdf2's table wraps a long label inside its cell instead of running over the border.
    with pdf.table(col_widths=COLUMNS, line_height=6, first_row_as_headings=True) as table:
        table.row(("Document", "État", "Valide jusqu'au"))
        for row in quitus.snapshot:
            until = row["valid_until"]
            table.row(
                (
                    row["label"],
                    STATE_LABELS[row["state"]],
                    "—" if not until else f"{until[8:10]}/{until[5:7]}/{until[:4]}",
                )
            )
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, f"Code de vérification : {display_code(quitus.code)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    url = current_app.config["PUBLIC_URL"].rstrip("/") + f"/verifier/{quitus.code}"
    paragraph(pdf, f"Vérifiez l'authenticité et l'actualité de ce quitus sur {url}")
    return to_bytes(pdf)


@dataclass(frozen=True)
class Verification:
    quitus: Quitus
    organisation: Organisation
    current: bool
    changes: list[str]


def verify(code: str) -> Verification | None:
    normalised = "".join(c for c in code.upper() if c.isalnum())
    quitus = db.session.scalar(select(Quitus).where(Quitus.code == normalised))
    if quitus is None:
        return None
    organisation = db.session.get(Organisation, quitus.organisation_id)
    now = {row["code"]: row for row in snapshot(organisation)}
    then = {row["code"]: row for row in quitus.snapshot}
    changes = []
    for code_, row in then.items():
        state = now.get(code_, {}).get("state", "missing")
        if state != row["state"] and not (row["state"] == "valid" and state == "expiring"):
            changes.append(f"{row['label']} : {STATE_LABELS[row['state']]} → {STATE_LABELS[state]}")
    for code_ in now.keys() - then.keys():
        changes.append(f"{now[code_]['label']} : désormais exigé ({STATE_LABELS[now[code_]['state']]})")
    return Verification(quitus, organisation, current=not changes, changes=changes)
