"""Retention: a version's file is kept ``retention_years`` (default 10, per document type) after the
version stops being valid, then removed by a daily job. What it was stays: the row with its
dates, states, who decided, its name, size and SHA-256, and an audit event saying when the file went.

A version stops being valid at its end of validity (expired), when a newer one replaces it
(archived: the earlier of the two days), or on the day it is refused (never valid). A valid, expiring
or submitted version is never touched.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.core import audit, clock
from portal.core.extensions import db
from portal.core.storage import storage
from portal.models import Document, DocumentType, DocumentVersion, utcnow

ENDED = ("expired", "archived", "refused")


def stopped_being_valid(version: DocumentVersion) -> date:
    """The day a version stopped being valid (see the module's docstring)."""
    days = []
    if version.status in ("expired", "archived") and version.valid_until is not None:
        days.append(version.valid_until)
    for moment in (version.archived_at, version.reviewed_at if version.status == "refused" else None):
        if moment is not None:
            days.append(clock.paris_date(moment))
    return min(days) if days else clock.paris_date(version.uploaded_at)


def kept_until(version: DocumentVersion, years: int) -> date:
    return clock.add_months(stopped_being_valid(version), 12 * years)


def sweep(on: date | None = None) -> int:
    """Remove the files past their retention; returns how many. Safe to run twice."""
    on = on or clock.today()
    rows = db.session.execute(
        select(DocumentVersion, DocumentType.retention_years)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(DocumentType, DocumentType.id == Document.document_type_id)
        .where(DocumentVersion.status.in_(ENDED), DocumentVersion.file_removed_at.is_(None))
    ).all()
    store = storage()
    removed = 0
    for version, years in rows:
        if kept_until(version, years) >= on:
            continue
        version.file_removed_at = utcnow()
        audit.record(
            "document.file_removed",
            organisation_id=version.organisation_id,
            version_id=version.id,
            sha256=version.sha256,
            size=version.size,
            stopped_being_valid=stopped_being_valid(version).isoformat(),
            retention_years=years,
        )
        db.session.commit()  # recorded first: a file whose row still names it is never lost
        store.delete(version.storage_key)
        removed += 1
    return removed
