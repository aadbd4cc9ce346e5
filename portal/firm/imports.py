"""Bulk import of client files ("import massif"): the preview, confirming it, and its history.

1. ``preview()`` reads the file (``import_files``) and checks every row; nothing but the preview is
   written.
2. ``confirm()`` queues the ``import_clients`` job for the valid rows (``import_run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from werkzeug.exceptions import Conflict, NotFound

from portal.core import audit, clock, outbox
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.spreadsheets import csv_text
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.firm import access, client_files, identifiers, tree_templates
from portal.firm.import_files import parse_date, read_rows
from portal.models import (
    ClientFile,
    ImportBatch,
    ImportRow,
    Membership,
    Organisation,
    TreeTemplate,
    User,
    normalise_email,
)


@dataclass(frozen=True)
class Context:
    existing_sirens: set[str]
    members: dict[str, int]
    templates: dict[str, int]
    default_template: int | None
    company_members: dict[str, set[str]]
    shared_themes: list[int]


def _context(firm_id: int, sirens: set[str]) -> Context:
    existing = set(
        db.session.scalars(
            select(Organisation.siren)
            .join(ClientFile, ClientFile.company_id == Organisation.id)
            .where(ClientFile.firm_id == firm_id)
        )
    )
    members = dict(
        db.session.execute(
            select(User.email, User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == firm_id)
        ).all()
    )
    templates = db.session.execute(
        select(TreeTemplate.name, TreeTemplate.id).where(TreeTemplate.firm_id == firm_id).order_by(TreeTemplate.id)
    ).all()
    company_members: dict[str, set[str]] = {}
    for siren, email in db.session.execute(
        select(Organisation.siren, User.email)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .join(User, User.id == Membership.user_id)
        .where(Organisation.siren.in_(sirens))
    ):
        company_members.setdefault(siren, set()).add(email)
    return Context(
        existing,
        members,
        {name.casefold(): template_id for name, template_id in templates},
        templates[0][1] if templates else None,
        company_members,
        client_files.shared_theme_ids(firm_id),
    )


def check_row(row: dict, context: Context, seen: dict[str, int]) -> tuple[list[str], dict]:
    """French errors for one row, and the clean values to create it from."""
    errors: list[str] = []
    clean: dict = {}
    siret = identifiers.clean_siret(row["siret"])
    if not row["siret"]:
        errors.append(str(_l("SIRET manquant.")))
    elif siret is None:
        errors.append(str(_l("SIRET invalide (14 chiffres, clé de contrôle) : %(value)s.", value=row["siret"])))
    else:
        clean["siret"] = siret
        siren = siret[:9]
        if siren in seen:
            errors.append(
                str(_l("Doublon dans le fichier : même entreprise qu'à la ligne %(line)s.", line=seen[siren]))
            )
        else:
            seen[siren] = row["line"]
        if siren in context.existing_sirens:
            errors.append(str(_l("Déjà client du cabinet.")))
    name = row["raison_sociale"].strip()
    if not name:
        errors.append(str(_l("Raison sociale manquante.")))
    clean["name"] = name[:200]
    starts_on = parse_date(row["debut_exercice"]) if row["debut_exercice"] else None
    ends_on = parse_date(row["fin_exercice"]) if row["fin_exercice"] else None
    if not row["debut_exercice"]:
        errors.append(str(_l("Début d'exercice manquant.")))
    elif starts_on is None:
        errors.append(str(_l("Date de début invalide : %(value)s (JJ/MM/AAAA).", value=row["debut_exercice"])))
    if row["fin_exercice"] and ends_on is None:
        errors.append(str(_l("Date de fin invalide : %(value)s (JJ/MM/AAAA).", value=row["fin_exercice"])))
    elif starts_on is not None:
        ends_on = ends_on or identifiers.proposed_end(starts_on)
        errors.extend(str(message) for message in identifiers.check_fiscal_year(starts_on, ends_on).values())
        clean["starts_on"], clean["ends_on"] = starts_on.isoformat(), ends_on.isoformat()
    email = row["email_dirigeant"].strip()
    if email:
        try:
            email = normalise_email(checked_email(email))
        except ValueError:
            errors.append(str(_l("E-mail du dirigeant invalide : %(value)s.", value=row["email_dirigeant"])))
        else:
            members = context.company_members.get(siret[:9] if siret else "", set())
            if members and email not in members:
                errors.append(str(_l("Cette entreprise a déjà des utilisateurs sur Vigie : indiquez l'un d'eux.")))
    clean.update(email=email, last_name=row["nom_dirigeant"][:100], first_name=row["prenom_dirigeant"][:100])
    collaborators = []
    for raw in row["collaborateurs"].replace(",", ";").split(";"):
        raw = raw.strip().lower()
        if not raw:
            continue
        if raw not in context.members:
            errors.append(str(_l("Collaborateur inconnu du cabinet : %(email)s.", email=raw)))
        else:
            collaborators.append(context.members[raw])
    clean["collaborators"] = sorted(set(collaborators))
    wanted = row["arborescence"].strip()
    if wanted:
        template_id = context.templates.get(wanted.casefold())
        if template_id is None:
            errors.append(str(_l("Arborescence inconnue : %(name)s.", name=wanted)))
    else:
        template_id = context.default_template
    clean["template_id"] = template_id
    return errors, clean


def preview(tenancy: Tenancy, user: User, filename: str, data: bytes) -> ImportBatch:
    access.require_firm(tenancy)
    firm_id = tenancy.organisation.id
    rows = read_rows(filename, data)
    tree_templates.ensure_defaults(firm_id)
    sirens = {"".join(r["siret"].split())[:9] for r in rows}
    context = _context(firm_id, sirens)
    batch = ImportBatch(firm_id=firm_id, user_id=user.id, filename=(filename or "import")[:255], total=len(rows))
    db.session.add(batch)
    db.session.flush()
    seen: dict[str, int] = {}
    values = []
    for row in rows:
        errors, clean = check_row(row, context, seen)
        values.append(
            {
                "batch_id": batch.id,
                "line": row["line"],
                "data": {"raw": {k: v for k, v in row.items() if k != "line"}, **clean},
                "errors": errors,
                "status": "invalid" if errors else "valid",
            }
        )
    batch.valid = sum(1 for v in values if v["status"] == "valid")
    for start in range(0, len(values), 1000):
        db.session.execute(insert(ImportRow), values[start : start + 1000])
    audit.record("import.previewed", user_id=user.id, organisation_id=firm_id, batch_id=batch.id, rows=len(rows))
    db.session.commit()
    return batch


def _visible_batches(tenancy: Tenancy, user: User):
    """The imports a member may open: all of the firm's for an administrator, else his own (an
    import lists SIRETs, names and emails of files a collaborator may not be assigned to)."""
    access.require_firm(tenancy)
    query = select(ImportBatch).where(ImportBatch.firm_id == tenancy.organisation.id)
    return query if access.is_admin(tenancy) else query.where(ImportBatch.user_id == user.id)


def get_batch(tenancy: Tenancy, user: User, batch_id: int) -> ImportBatch:
    """An import this member may open, or 404 whatever id is typed."""
    batch = db.session.scalar(_visible_batches(tenancy, user).where(ImportBatch.id == batch_id))
    if batch is None:
        raise NotFound()
    return batch


def rows_of(batch: ImportBatch, *, status: str | None = None, limit: int = 200, offset: int = 0) -> list[ImportRow]:
    query = select(ImportRow).where(ImportRow.batch_id == batch.id)
    if status == "invalid":
        query = query.where(ImportRow.status == "invalid")
    elif status == "valid":
        query = query.where(ImportRow.status != "invalid")
    return list(db.session.scalars(query.order_by(ImportRow.line).limit(limit).offset(offset)))


def confirm(tenancy: Tenancy, user: User, batch_id: int) -> ImportBatch:
    batch = get_batch(tenancy, user, batch_id)
    claimed = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == "preview")
        .values(status="queued", confirmed_at=clock.stored_now())
    ).rowcount
    if not claimed:
        raise Conflict()
    if batch.valid == 0:
        db.session.rollback()
        raise InvalidInput({"file": _l("Aucune ligne valide à importer.")})
    outbox.enqueue("import_clients", batch_id=batch.id)
    audit.record("import.confirmed", user_id=user.id, organisation_id=batch.firm_id, batch_id=batch.id)
    db.session.commit()
    return db.session.get(ImportBatch, batch.id, populate_existing=True)


def resume(tenancy: Tenancy, user: User, batch_id: int) -> ImportBatch:
    """An import interrupted half-way (its job failed for good) goes on with the rows left."""
    batch = get_batch(tenancy, user, batch_id)
    if batch.status not in ("running", "queued") or not _rows_left(batch.id):
        raise Conflict()
    outbox.enqueue("import_clients", batch_id=batch.id)
    audit.record("import.resumed", user_id=user.id, organisation_id=batch.firm_id, batch_id=batch.id)
    db.session.commit()
    return batch


STALLED_AFTER = timedelta(minutes=2)  # a chunk of 250 rows takes seconds; two minutes is a stop


def looks_stalled(batch: ImportBatch) -> bool:
    """An import confirmed or last moved more than two minutes ago and not finished: "Le reprendre"."""
    if batch.status not in ("queued", "running"):
        return False
    moved = batch.progressed_at or batch.confirmed_at
    return moved is None or clock.stored_now() - moved > STALLED_AFTER


@dataclass(frozen=True)
class RowLabels:
    """The names the preview shows for a row's folder tree and collaborators (two queries a page)."""

    templates: dict[int, str]
    people: dict[int, str]

    def tree(self, row: ImportRow) -> str:
        return self.templates.get(row.data.get("template_id"), "")

    def collaborators(self, row: ImportRow) -> list[str]:
        return sorted(self.people[u] for u in row.data.get("collaborators", []) if u in self.people)


def row_labels(tenancy: Tenancy) -> RowLabels:
    access.require_firm(tenancy)
    return RowLabels(
        dict(
            db.session.execute(
                select(TreeTemplate.id, TreeTemplate.name).where(TreeTemplate.firm_id == tenancy.organisation.id)
            ).all()
        ),
        {u.id: u.full_name for _m, u in access.members(tenancy)},
    )


def _rows_left(batch_id: int) -> int:
    return db.session.scalar(select(func.count()).where(ImportRow.batch_id == batch_id, ImportRow.status == "valid"))


def report_csv(batch: ImportBatch) -> str:
    labels = {"invalid": "erreur", "valid": "en attente", "created": "créé", "skipped": "ignoré"}
    rows = db.session.execute(
        select(ImportRow.line, ImportRow.data, ImportRow.errors, ImportRow.status)
        .where(ImportRow.batch_id == batch.id)
        .order_by(ImportRow.line)
    )
    return csv_text(
        ["ligne", "siret", "raison_sociale", "resultat", "message"],
        (
            [line, data.get("raw", {}).get("siret", ""), data.get("raw", {}).get("raison_sociale", "")]
            + [labels[status], " ".join(errors)]
            for line, data, errors, status in rows
        ),
    )


def history(tenancy: Tenancy, user: User) -> list[ImportBatch]:
    return list(db.session.scalars(_visible_batches(tenancy, user).order_by(ImportBatch.id.desc()).limit(20)))
