"""The ``import_clients`` job: create the confirmed rows' client files by chunks.

Each chunk is one transaction with its rows' outcome: a run cut short is resumed by running again,
and a row whose company is already a client of the firm is skipped, so re-importing the same file
creates nothing twice.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update

from portal.core import clock
from portal.core.extensions import db
from portal.firm import client_files, consent, identifiers
from portal.models import (
    ClientFile,
    ClientFileAccess,
    Establishment,
    FiscalYear,
    ImportBatch,
    ImportRow,
    Organisation,
    OutboxJob,
    ThemeGrant,
    User,
    utcnow,
)


def run(batch_id: int, *, chunk: int | None = None, stop_after: int | None = None) -> None:
    """Create the client files of the valid rows not handled yet, ``IMPORT_CHUNK`` rows a transaction.
    ``stop_after`` (tests) stops after that many chunks, as a worker killed half-way would."""
    chunk = chunk or current_app.config["IMPORT_CHUNK"]
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in ("queued", "running"):
        return
    batch.status = "running"
    batch.progressed_at = clock.stored_now()
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
        update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(status="done", finished_at=utcnow(), progressed_at=clock.stored_now())
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
    # A company someone already runs on Vigie joins the firm only when an owner accepts.
    run_by_others = consent.companies_with_members([o.id for o in companies.values()])
    firm = db.session.get(Organisation, firm_id) if run_by_others else None
    creator = db.session.get(User, batch.user_id) if run_by_others and batch.user_id else None
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
                vat_number=identifiers.vat_number(data["siret"][:9]),
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
    consent.ask([f for f in files if f.company_id in run_by_others], firm, creator)
    for table, values in ((FiscalYear, years), (ClientFileAccess, accesses), (ThemeGrant, grants)):
        if values:
            db.session.execute(insert(table), values)
    db.session.add_all(jobs)
    created = len(to_create)
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(
            created=ImportBatch.created + created,
            skipped=ImportBatch.skipped + len(rows) - created,
            progressed_at=clock.stored_now(),
        )
    )
    db.session.commit()
