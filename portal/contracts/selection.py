"""The contracts page's selection: every contract of the filter, minus those the user unchecked,
kept per user and agency across pages, reloads and actions. The table's boxes, the count above it
and the reminder dialog all read this one selection. Changing the filter starts a new selection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.contracts import manage
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import Contract, ContractSelection, User, utcnow


def filter_key(filters: manage.Filters) -> str:
    """The filter a selection belongs to (page and sort aside)."""
    args = filters.args(page=1, sort="start")
    return "&".join(f"{key}={args[key]}" for key in sorted(args))[:400]


def _row(tenancy: Tenancy, user: User) -> ContractSelection | None:
    return db.session.scalar(
        select(ContractSelection).where(
            ContractSelection.user_id == user.id, ContractSelection.agency_id == tenancy.organisation.id
        )
    )


def excluded(tenancy: Tenancy, user: User, filters: manage.Filters) -> set[int]:
    """The contracts unchecked under this filter (none when the filter changed)."""
    row = _row(tenancy, user)
    if row is None or row.filter_key != filter_key(filters):
        return set()
    return set(row.excluded_contract_ids)


def update(tenancy: Tenancy, user: User, filters: manage.Filters, shown: list[int], checked: list[int]) -> set[int]:
    """The boxes of one page as they stand: the page's unchecked ones are excluded, its checked
    ones included again; other pages' choices stay. Returns the new exclusions."""
    manage.require_agency(tenancy)
    row = _row(tenancy, user)
    key = filter_key(filters)
    if row is None:
        row = ContractSelection(user_id=user.id, agency_id=tenancy.organisation.id, filter_key=key)
        db.session.add(row)
    before = set(row.excluded_contract_ids or []) if row.filter_key == key else set()
    # Only ids of this agency's contracts under the filter are kept, whatever is posted.
    page = set(shown)
    valid = (
        set(
            db.session.scalars(
                manage.matching(tenancy.organisation.id, filters)
                .with_only_columns(Contract.id)
                .where(Contract.id.in_(page))
            )
        )
        if page
        else set()
    )
    after = (before - valid) | (valid - set(checked))
    row.filter_key, row.excluded_contract_ids, row.updated_at = key, sorted(after), utcnow()
    db.session.commit()
    return after


@dataclass(frozen=True)
class Selected:
    selected: int
    total: int


def count(tenancy: Tenancy, filters: manage.Filters, total: int, excluded_ids: set[int]) -> Selected:
    """How many contracts of the filter are selected (one query when some are unchecked)."""
    if not excluded_ids:
        return Selected(total, total)
    still = db.session.scalar(
        manage.matching(tenancy.organisation.id, filters)
        .with_only_columns(func.count(Contract.id))
        .where(Contract.id.in_(excluded_ids))
    )
    return Selected(total - still, total)
