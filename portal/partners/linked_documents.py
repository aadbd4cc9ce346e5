""" "Accès aux documents": a main account reads its linked accounts' documents.

Each linked account's own documents and those its partners share with it, one way only: the
secondary account, the agency and strangers get 404 whatever id they type.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from portal.core import clock
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.documents import compliance
from portal.models import (
    AccountLink,
    Document,
    DocumentVersion,
    Organisation,
    Partnership,
    sort_key,
)


def linked_accounts(tenancy: Tenancy) -> list[Organisation]:
    """The left menu: the accounts linked under the active organisation, alphabetical."""
    companies = db.session.scalars(
        select(Organisation)
        .join(AccountLink, AccountLink.secondary_id == Organisation.id)
        .where(AccountLink.main_id == tenancy.organisation.id, AccountLink.status == "accepted")
    ).all()
    return sorted(companies, key=lambda o: sort_key(o.legal_name))


@dataclass(frozen=True)
class Received:
    partner: Organisation
    rows: list[compliance.FileRow]


@dataclass(frozen=True)
class Exchanged:
    accounts: list[Organisation]
    account: Organisation
    own: list[compliance.FileRow]
    received: list[Received]


def _pick(accounts: list[Organisation], organisation_id: int) -> Organisation:
    account = next((o for o in accounts if o.id == organisation_id), None)
    if account is None:
        raise NotFound()
    return account


def _partners_query(organisation_id: int):
    """The companies whose file this one reads (accepted partnerships it asked for)."""
    return (
        select(Organisation)
        .join(Partnership, Partnership.target_id == Organisation.id)
        .where(Partnership.requester_id == organisation_id, Partnership.status == "accepted")
    )


def exchanged(tenancy: Tenancy, organisation_id: int) -> Exchanged:
    """Everything a linked account exchanges: its own documents and those its partners share with it.

    A fixed number of queries whatever the number of partners and documents."""
    accounts = linked_accounts(tenancy)
    account = _pick(accounts, organisation_id)
    own = [row for row in compliance.load(account).rows if row.document is not None]
    partner_orgs = {o.id: o for o in db.session.scalars(_partners_query(account.id))}
    partner_ids = list(partner_orgs)
    documents = db.session.scalars(
        select(Document)
        .where(Document.organisation_id.in_(partner_ids))
        .options(
            joinedload(Document.document_type),
            selectinload(Document.versions).joinedload(DocumentVersion.refusal_reason),
            selectinload(Document.versions).joinedload(DocumentVersion.reviewed_by),
        )
    ).all()
    on, window = clock.today(), compliance.window_days()
    by_partner: dict[int, list[compliance.FileRow]] = defaultdict(list)
    for document in documents:
        row = compliance.row_for(document.document_type, document, on, window)
        if row.latest is not None:
            by_partner[document.organisation_id].append(row)
    received = [
        Received(partner_orgs[pid], sorted(rows, key=lambda r: r.document_type.sort_order))
        for pid, rows in by_partner.items()
    ]
    received.sort(key=lambda r: sort_key(r.partner.legal_name))
    return Exchanged(accounts, account, own, received)


def version_for(tenancy: Tenancy, organisation_id: int, version_id: int) -> DocumentVersion:
    """A version the linked account exchanges (its own, or a partner's shared with it), or 404."""
    account = _pick(linked_accounts(tenancy), organisation_id)
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        raise NotFound()
    if version.organisation_id != account.id and not db.session.scalar(
        _partners_query(account.id).where(Organisation.id == version.organisation_id).with_only_columns(Organisation.id)
    ):
        raise NotFound()
    return version
