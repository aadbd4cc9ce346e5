""" "Gérer les contrats": the agency's contracts awaiting signature, filtered, counted, marked signed.

The filters live in the URL (a bookmarkable, JavaScript-free page); the date range defaults to
the current month (Paris time). A page is a fixed number of queries whatever the volume.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import contains_eager
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import Forbidden, NotFound

from portal.core import audit, clock
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.core.validators import whole_number
from portal.models import Contract, ContractTypology, Employee, Organisation, User, utcnow
from portal.models.contracts import AWAITING, EMPLOYMENT, SIGNED_AT_AGENCY, SIGNED_ELECTRONICALLY, SIGNED_ON_PAPER

PER_PAGE = 50
SIGNATURE_DELAY = timedelta(hours=48)
SORTS = {
    "start": (Contract.mission_start, Contract.id),
    "-start": (Contract.mission_start.desc(), Contract.id.desc()),
    "deadline": (Contract.signature_deadline, Contract.id),
    "name": (Employee.last_name, Employee.first_name, Contract.id),
    "client": (Organisation.legal_name, Contract.id),
}
MARKS = {"paper": SIGNED_ON_PAPER, "agency": SIGNED_AT_AGENCY}
SIGNED = (SIGNED_ON_PAPER, SIGNED_AT_AGENCY, SIGNED_ELECTRONICALLY)


class ContractError(InvalidInput):
    """A contract that cannot change as asked."""


def signature_deadline(mission_start: date) -> datetime:
    """Mission start (midnight, Paris) + 48 hours, as naive UTC like every stored datetime."""
    return clock.stored_midnight(mission_start) + SIGNATURE_DELAY


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    typology_id: int | None = None
    client_id: int | None = None
    q: str = ""
    sort: str = "start"
    page: int = 1
    state: str = "awaiting"  # or "signed": the contracts marked signed, to check or undo a mark

    def args(self, **changes) -> dict:
        """The URL parameters of these filters (with changes), for links and forms."""
        current = replace(self, **changes)
        args = {
            "start": current.start.isoformat(),
            "end": current.end.isoformat(),
            "typology": current.typology_id,
            "client": current.client_id,
            "q": current.q or None,
            "sort": current.sort if current.sort != "start" else None,
            "page": current.page if current.page > 1 else None,
            "state": current.state if current.state != "awaiting" else None,
        }
        return {key: value for key, value in args.items() if value is not None}


def _date(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def _int(value: str | int | None) -> int | None:
    return whole_number(value)


def filters_from(args: MultiDict, today: date | None = None) -> Filters:
    today = today or clock.today()
    first = today.replace(day=1)
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    start, end = _date(args.get("start"), first), _date(args.get("end"), last)
    if end < start:
        start, end = end, start
    sort = args.get("sort", "start")
    return Filters(
        start=start,
        end=end,
        typology_id=_int(args.get("typology")),
        client_id=_int(args.get("client")),
        q=(args.get("q") or "").strip()[:100],
        sort=sort if sort in SORTS else "start",
        page=max(_int(args.get("page")) or 1, 1),
        state="signed" if args.get("state") == "signed" else "awaiting",
    )


def require_agency(tenancy: Tenancy) -> None:
    if not tenancy.organisation.is_agency:
        raise Forbidden()
    tenancy.require_role("owner", "member", "collaborator")


def matching(agency_id: int, filters: Filters, *, employee: bool = False):
    """The contracts awaiting signature that the filters select (a query to add columns to).

    The employee is joined only when needed (a name search, a name sort, his columns)."""
    status = Contract.status == AWAITING if filters.state == "awaiting" else Contract.status.in_(SIGNED)
    query = select(Contract).where(
        Contract.agency_id == agency_id,
        status,
        Contract.mission_start >= filters.start,
        Contract.mission_start <= filters.end,
    )
    if filters.typology_id:
        query = query.where(Contract.typology_id == filters.typology_id)
    if filters.client_id:
        query = query.where(Contract.client_id == filters.client_id)
    if employee or filters.q or filters.sort == "name":
        query = query.join(Employee, Employee.id == Contract.employee_id)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(
            or_(
                func.lower(Employee.last_name).like(like),
                func.lower(Employee.first_name).like(like),
                func.lower(Contract.reference).like(like),
            )
        )
    return query


@dataclass(frozen=True)
class Counts:
    contracts: int
    overdue: int
    employees: int


def counts(tenancy: Tenancy, filters: Filters) -> Counts:
    now = clock.stored_now()
    query = matching(tenancy.organisation.id, filters).with_only_columns(
        func.count(Contract.id),
        func.coalesce(func.sum(case((Contract.signature_deadline < now, 1), else_=0)), 0),
        func.count(func.distinct(Contract.employee_id)),
    )
    total, overdue, employees = db.session.execute(query).one()
    return Counts(total, overdue, employees)


@dataclass(frozen=True)
class ContractsPage:
    filters: Filters
    rows: list[Contract]
    counts: Counts
    page: int
    pages: int
    typologies: list[ContractTypology]
    clients: list[tuple[int, str]]
    now: datetime

    @property
    def employment_selected(self) -> bool:
        return any(t.id == self.filters.typology_id and t.code == EMPLOYMENT for t in self.typologies)


def typologies(agency_id: int) -> list[ContractTypology]:
    return list(
        db.session.scalars(
            select(ContractTypology)
            .where(or_(ContractTypology.agency_id.is_(None), ContractTypology.agency_id == agency_id))
            .order_by(ContractTypology.sort_order, ContractTypology.label)
        )
    )


def page(tenancy: Tenancy, filters: Filters) -> ContractsPage:
    """Rows, counts and the filters' choices: five queries whatever the number of contracts."""
    require_agency(tenancy)
    agency_id = tenancy.organisation.id
    totals = counts(tenancy, filters)
    pages = max((totals.contracts + PER_PAGE - 1) // PER_PAGE, 1)
    number = min(filters.page, pages)
    # The page's 50 ids first (a top-N on the contracts alone), then those rows with what they show.
    ids = matching(agency_id, filters)
    if filters.sort == "client":
        ids = ids.outerjoin(Organisation, Organisation.id == Contract.client_id)
    ids = ids.with_only_columns(Contract.id).order_by(*SORTS[filters.sort])
    ids = ids.limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    rows = db.session.scalars(
        select(Contract)
        .join(Employee, Employee.id == Contract.employee_id)
        .outerjoin(Organisation, Organisation.id == Contract.client_id)
        .join(ContractTypology, ContractTypology.id == Contract.typology_id)
        .where(Contract.id.in_(ids.scalar_subquery()))
        .options(contains_eager(Contract.employee), contains_eager(Contract.client), contains_eager(Contract.typology))
        .order_by(*SORTS[filters.sort])
    ).all()
    clients = db.session.execute(
        select(Organisation.id, Organisation.legal_name)
        .where(
            Organisation.id.in_(
                select(Contract.client_id).where(Contract.agency_id == agency_id, Contract.status == AWAITING)
            )
        )
        .order_by(Organisation.legal_name)
    ).all()
    return ContractsPage(
        replace(filters, page=number),
        list(rows),
        totals,
        number,
        pages,
        typologies(agency_id),
        [(row.id, row.legal_name) for row in clients],
        clock.stored_now(),
    )


def mark_signed(tenancy: Tenancy, user: User, contract_id: int, how: str) -> Contract:
    """ "Définir signé" (paper) or "Définir signé en agence"; 404 for another agency's contract."""
    require_agency(tenancy)
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.agency_id != tenancy.organisation.id:
        raise NotFound()
    if contract.status != AWAITING:
        raise ContractError({"contract": _l("Ce contrat est déjà signé : rien n'a été modifié.")})
    contract.status = MARKS[how]
    contract.signed_at = utcnow()
    contract.marked_by_id = user.id
    audit.record(
        "contract.signed",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        contract_id=contract.id,
        status=contract.status,
    )
    db.session.commit()
    return contract


def unmark_signed(tenancy: Tenancy, user: User, contract_id: int) -> Contract:
    """ "Annuler": a contract marked signed by hand goes back to awaiting signature (audited).
    A contract the e-signature provider says is signed cannot be undone here."""
    require_agency(tenancy)
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.agency_id != tenancy.organisation.id:
        raise NotFound()
    if contract.status not in MARKS.values():
        raise ContractError({"contract": _l("Seul un contrat défini signé à la main peut être remis en attente.")})
    previous = contract.status
    contract.status, contract.signed_at, contract.marked_by_id = AWAITING, None, None
    audit.record(
        "contract.unsigned",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        contract_id=contract.id,
        previous=previous,
    )
    db.session.commit()
    return contract


def marked_by_hand(tenancy: Tenancy, contract_id: int | None) -> Contract | None:
    """The contract just marked signed by hand (the page's "Annuler" notice), if it still is."""
    if contract_id is None:
        return None
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.agency_id != tenancy.organisation.id or contract.status not in MARKS.values():
        return None
    return contract
