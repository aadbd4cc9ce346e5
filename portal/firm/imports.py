"""Bulk import of client files ("import massif") from a CSV or XLSX file.

1. ``preview()`` reads the file and checks every row; nothing but the preview is written.
2. ``confirm()`` queues a job for the valid rows.
3. ``run()`` creates the files by chunks, each chunk in one transaction with its rows' outcome:
   a run cut short is resumed by running again, and a row whose company is already a client of
   the firm is skipped, so re-importing the same file creates nothing twice.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from werkzeug.exceptions import Conflict, NotFound

from portal.core import audit, outbox
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.firm import access, client_files, trees
from portal.models import (
    ClientFile,
    ClientFileAccess,
    Establishment,
    FiscalYear,
    ImportBatch,
    ImportRow,
    Membership,
    Organisation,
    OutboxJob,
    ThemeGrant,
    TreeTemplate,
    User,
    normalise_email,
    utcnow,
)

COLUMNS = (
    ("siret", True, _l("SIRET de l'établissement (14 chiffres)")),
    ("raison_sociale", True, _l("Raison sociale")),
    ("debut_exercice", True, _l("Début de l'exercice, JJ/MM/AAAA")),
    ("fin_exercice", False, _l("Fin de l'exercice, JJ/MM/AAAA (vide : 12 mois moins un jour)")),
    ("email_dirigeant", False, _l("E-mail du dirigeant (il sera invité depuis le dossier)")),
    ("nom_dirigeant", False, _l("Nom du dirigeant")),
    ("prenom_dirigeant", False, _l("Prénom du dirigeant")),
    ("collaborateurs", False, _l("E-mails des collaborateurs du cabinet, séparés par des points-virgules")),
    ("arborescence", False, _l("Nom de l'arborescence (vide : la première du cabinet)")),
)
HEADERS = [name for name, _required, _help in COLUMNS]
SAMPLE = (
    ("50100001200127", "Boulangerie des Halles", "01/01/2026", "31/12/2026", "", "", "", "", ""),
    ("50107920600121", "Garage du Centre", "01/07/2025", "", "dirigeant.garage@example.fr", "Morel", "Paul", "", ""),
)
CHUNK = 250
XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024


class ImportFileError(InvalidInput):
    def __init__(self, message):
        super().__init__({"file": message})


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    writer.writerows(SAMPLE)
    return out.getvalue()


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Clients"
    sheet.append(HEADERS)
    for row in SAMPLE:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- Reading the file ----------------------------------------------------------------------------


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > XLSX_MAX_UNCOMPRESSED:
                raise ImportFileError(_l("Ce classeur est trop volumineux une fois décompressé (50 Mo au plus)."))
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - anything unreadable is "not a workbook"
        raise ImportFileError(
            _l("Ce classeur XLSX est illisible. Enregistrez-le à nouveau depuis votre tableur.")
        ) from None
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                raise ImportFileError(
                    _l(
                        "Le classeur contient des formules (cellule %(cell)s) : copiez-collez les valeurs seules.",
                        cell=cell.coordinate,
                    )
                )
        rows.append([_cell(cell.value) for cell in row])
    book.close()
    return rows


def _read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if "\x00" in text:
        raise ImportFileError(_l("Ce fichier n'est ni un CSV ni un classeur XLSX."))
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    return [[value.strip() for value in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def read_rows(filename: str, data: bytes) -> list[dict]:
    """The rows of the file as dicts keyed by our column names, with their line number."""
    if not data:
        raise ImportFileError(_l("Le fichier est vide."))
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        raise ImportFileError(
            _l("Le fichier dépasse %(mb)s Mo : découpez-le.", mb=current_app.config["IMPORT_MAX_BYTES"] // 1048576)
        )
    table = _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(data)
    table = [row for row in table if any(value for value in row)]
    if not table:
        raise ImportFileError(_l("Le fichier ne contient aucune ligne."))
    header = [value.strip().lower().replace(" ", "_").replace("é", "e") for value in table[0]]
    missing = [name for name, required, _h in COLUMNS if required and name not in header]
    if missing:
        raise ImportFileError(
            _l(
                "Colonnes manquantes : %(columns)s. Partez du modèle téléchargeable.",
                columns=", ".join(missing),
            )
        )
    if len(table) - 1 > current_app.config["IMPORT_MAX_ROWS"]:
        raise ImportFileError(
            _l("Le fichier dépasse %(rows)s lignes : découpez-le.", rows=current_app.config["IMPORT_MAX_ROWS"])
        )
    positions = {name: header.index(name) for name in HEADERS if name in header}
    rows = []
    for line, values in enumerate(table[1:], start=2):
        row = {name: (values[i] if i < len(values) else "") for name, i in positions.items()}
        rows.append({"line": line, **{name: row.get(name, "") for name in HEADERS}})
    return rows


def parse_date(value: str) -> date | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


# --- Preview -------------------------------------------------------------------------------------


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
    siret = client_files.clean_siret(row["siret"])
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
        ends_on = ends_on or client_files.proposed_end(starts_on)
        errors.extend(str(message) for message in client_files.check_fiscal_year(starts_on, ends_on).values())
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
    trees.ensure_defaults(firm_id)
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


def get_batch(tenancy: Tenancy, batch_id: int) -> ImportBatch:
    access.require_firm(tenancy)
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.firm_id != tenancy.organisation.id:
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
    batch = get_batch(tenancy, batch_id)
    claimed = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == "preview")
        .values(status="queued", confirmed_at=utcnow())
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
    batch = get_batch(tenancy, batch_id)
    if batch.status not in ("running", "queued") or not _rows_left(batch.id):
        raise Conflict()
    outbox.enqueue("import_clients", batch_id=batch.id)
    audit.record("import.resumed", user_id=user.id, organisation_id=batch.firm_id, batch_id=batch.id)
    db.session.commit()
    return batch


def _rows_left(batch_id: int) -> int:
    return db.session.scalar(select(func.count()).where(ImportRow.batch_id == batch_id, ImportRow.status == "valid"))


# --- The job -------------------------------------------------------------------------------------


def run(batch_id: int, *, chunk: int = CHUNK, stop_after: int | None = None) -> None:
    """Create the client files of the valid rows not handled yet. ``stop_after`` (tests) stops
    after that many chunks, as a worker killed half-way would."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in ("queued", "running"):
        return
    batch.status = "running"
    db.session.commit()
    chunks = 0
    while True:
        rows = db.session.scalars(
            select(ImportRow)
            .where(ImportRow.batch_id == batch_id, ImportRow.status == "valid")
            .order_by(ImportRow.line)
            .limit(chunk)
        ).all()
        if not rows:
            break
        _create_chunk(batch, list(rows))
        chunks += 1
        if stop_after is not None and chunks >= stop_after:
            return
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id).values(status="done", finished_at=utcnow())
    )
    db.session.commit()


def _create_chunk(batch: ImportBatch, rows: list[ImportRow]) -> None:
    firm_id = batch.firm_id
    sirens = {row.data["siret"][:9] for row in rows}
    companies = {o.siren: o for o in db.session.scalars(select(Organisation).where(Organisation.siren.in_(sirens)))}
    already = set(
        db.session.scalars(
            select(ClientFile.company_id).where(
                ClientFile.firm_id == firm_id, ClientFile.company_id.in_([o.id for o in companies.values()])
            )
        )
    )
    sirets = set(
        db.session.scalars(select(Establishment.siret).where(Establishment.siret.in_([r.data["siret"] for r in rows])))
    )
    shared = client_files.shared_theme_ids(firm_id)
    to_create = []
    for row in rows:
        company = companies.get(row.data["siret"][:9])
        if company is not None and company.id in already:
            row.status = "skipped"
            row.errors = [str(_l("Déjà client du cabinet : rien n'a été créé."))]
            continue
        to_create.append(row)
    new_companies = []
    for row in to_create:
        siren = row.data["siret"][:9]
        if siren not in companies:
            company = Organisation(siren=siren, legal_name=row.data["name"], is_client=True)
            companies[siren] = company
            new_companies.append(company)
    db.session.add_all(new_companies)
    db.session.flush()
    establishments = [
        Establishment(
            organisation_id=companies[row.data["siret"][:9]].id,
            siret=row.data["siret"],
            name=row.data["name"],
            is_head_office=True,
        )
        for row in to_create
        if row.data["siret"] not in sirets
    ]
    db.session.add_all(establishments)
    files = []
    for row in to_create:
        data = row.data
        files.append(
            ClientFile(
                firm_id=firm_id,
                company_id=companies[data["siret"][:9]].id,
                name=data["name"],
                siret=data["siret"],
                vat_number=client_files.vat_number(data["siret"][:9]),
                template_id=data["template_id"],
                executive_email=data["email"],
                executive_first_name=data["first_name"],
                executive_last_name=data["last_name"],
                created_by_id=batch.user_id,
                import_batch_id=batch.id,
                tree_status="pending",
            )
        )
    db.session.add_all(files)
    db.session.flush()
    years, accesses, grants, jobs = [], [], [], []
    for row, client_file in zip(to_create, files, strict=True):
        data = row.data
        years.append(
            {
                "client_file_id": client_file.id,
                "starts_on": date.fromisoformat(data["starts_on"]),
                "ends_on": date.fromisoformat(data["ends_on"]),
            }
        )
        accesses += [{"client_file_id": client_file.id, "user_id": u} for u in data["collaborators"]]
        if data["email"]:
            grants.append({"client_file_id": client_file.id, "email": data["email"], "theme_ids": shared})
        jobs.append(OutboxJob(job="build_tree", queue="default", args={"client_file_id": client_file.id}))
        row.status = "created"
        row.client_file_id = client_file.id
    for table, values in ((FiscalYear, years), (ClientFileAccess, accesses), (ThemeGrant, grants)):
        if values:
            db.session.execute(insert(table), values)
    db.session.add_all(jobs)
    created = len(to_create)
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(created=ImportBatch.created + created, skipped=ImportBatch.skipped + len(rows) - created)
    )
    db.session.commit()


def report_csv(batch: ImportBatch) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["ligne", "siret", "raison_sociale", "resultat", "message"])
    labels = {"invalid": "erreur", "valid": "en attente", "created": "créé", "skipped": "ignoré"}
    for line, data, errors, status in db.session.execute(
        select(ImportRow.line, ImportRow.data, ImportRow.errors, ImportRow.status)
        .where(ImportRow.batch_id == batch.id)
        .order_by(ImportRow.line)
    ):
        raw = data.get("raw", {})
        writer.writerow([line, raw.get("siret", ""), raw.get("raison_sociale", ""), labels[status], " ".join(errors)])
    return out.getvalue()


def history(tenancy: Tenancy) -> list[ImportBatch]:
    access.require_firm(tenancy)
    return list(
        db.session.scalars(
            select(ImportBatch)
            .where(ImportBatch.firm_id == tenancy.organisation.id)
            .order_by(ImportBatch.id.desc())
            .limit(20)
        )
    )
