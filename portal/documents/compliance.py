"""The state of a company's compliance file, computed in a fixed number of queries.

A document type's state follows its *valid version*: the newest validated one (valid, expiring or
expired; validating a version archives the others, so there is at most one). A version sent after
it does not hide it: while it is checked, or once refused, it is the document's *renewal*, shown
as a line under the state ("nouvelle version en cours de vérification", "nouvelle version
refusée : motif …"). What partners see (``summary``) therefore changes only when the valid version
does. The table ``STATES`` and ``TRANSITIONS`` below are the reference; the README repeats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import defer, joinedload

from portal.core import clock
from portal.core.extensions import db
from portal.documents.catalogue import ABROAD_REQUIRED, DEFAULT_REQUIRED, EMPLOYER_REQUIRED
from portal.models import Document, DocumentType, DocumentVersion, Organisation, Partnership, Requirement

# state: when (archived versions aside)
STATES = {
    "missing": "no version at all",
    "in_review": "no validated version; the newest version awaits an operator",
    "refused": "no validated version; the newest version was refused",
    "valid": "the valid version ends after the warning window, or never",
    "expiring": "the valid version ends within the warning window (EXPIRY_WARNING_DAYS)",
    "expired": "the valid version's last day is past",
}
# renewal: when (only alongside a valid version)
RENEWALS = {
    None: "no version newer than the valid one",
    "in_review": "the newest version, sent after the valid one, awaits an operator",
    "refused": "the newest version, sent after the valid one, was refused",
}
# (state, renewal) before · event · (state, renewal) after. "any" stands for valid, expiring or expired.
TRANSITIONS = (
    ("missing", None, "a version is sent", "in_review", None),
    ("in_review", None, "the operator validates it", "valid", None),
    ("in_review", None, "the operator refuses it", "refused", None),
    ("refused", None, "a corrected version is sent", "in_review", None),
    ("refused", None, "the supplier withdraws the refused version", "missing", None),
    ("any", None, "a newer version is sent", "any", "in_review"),
    ("any", "in_review", "the operator validates the newer version", "valid", None),
    ("any", "in_review", "the operator refuses the newer version", "any", "refused"),
    ("any", "refused", "a corrected version is sent", "any", "in_review"),
    ("any", "refused", "the supplier withdraws the refused version", "any", None),
    ("valid", "any", "the warning window is reached (daily sweep)", "expiring", "unchanged"),
    ("expiring", "any", "the last day passes (daily sweep)", "expired", "unchanged"),
)
# The orange tab ("documents en attente de mise à jour"), most urgent first; a refused renewal
# (the document still valid) comes after them.
PENDING_STATES = ("expired", "refused", "missing", "expiring")
VALIDATED = ("valid", "expiring", "expired")
STATE_RANK = {"valid": 0, "expiring": 1, "in_review": 2, "expired": 3, "refused": 4, "missing": 5}


def effective_status(version: DocumentVersion, on: date, window_days: int) -> str:
    """A validated version's status on a given day (the daily job stores it; pages never wait for it)."""
    if version.status not in VALIDATED:
        return version.status
    if version.valid_until is None:
        return "valid"
    if version.valid_until < on:
        return "expired"
    if (version.valid_until - on).days <= window_days:
        return "expiring"
    return "valid"


def window_days() -> int:
    return current_app.config["EXPIRY_WARNING_DAYS"]


@dataclass
class FileRow:
    document_type: DocumentType
    document: Document | None
    latest: DocumentVersion | None
    active: DocumentVersion | None
    state: str
    required: bool
    requested_by: list[str] = field(default_factory=list)
    days_left: int | None = None
    # The version sent after the valid one, while it is checked or once refused (see RENEWALS).
    renewal: DocumentVersion | None = None

    @property
    def renewal_state(self) -> str | None:
        if self.renewal is None:
            return None
        return "in_review" if self.renewal.status == "submitted" else "refused"

    @property
    def refused_version(self) -> DocumentVersion | None:
        """The refused version the supplier has not replaced yet (required or optional document)."""
        if self.state == "refused":
            return self.latest
        return self.renewal if self.renewal_state == "refused" else None

    @property
    def pending(self) -> bool:
        """In the orange tab: a required document to update, or any refused version not replaced."""
        return (self.required and self.state in PENDING_STATES) or self.refused_version is not None

    @property
    def urgency(self) -> tuple:
        if self.required and self.state in PENDING_STATES:
            rank = PENDING_STATES.index(self.state)
        else:
            rank = len(PENDING_STATES)
        return (rank, self.days_left if self.days_left is not None else 0)

    @property
    def history(self) -> list[DocumentVersion]:
        return list(self.document.versions) if self.document else []


@dataclass
class ComplianceFile:
    organisation: Organisation
    rows: list[FileRow]
    types: list[DocumentType]

    @property
    def pending(self) -> list[FileRow]:
        return sorted((row for row in self.rows if row.pending), key=lambda row: row.urgency)

    @property
    def online(self) -> list[FileRow]:
        return [row for row in self.rows if row.latest is not None or row.required]

    def row_for(self, code: str) -> FileRow | None:
        return next((row for row in self.rows if row.document_type.code == code), None)


def row_for(document_type: DocumentType, document: Document | None, on: date, window: int) -> FileRow:
    versions = [v for v in (document.versions if document else []) if v.status != "archived"]
    latest = versions[0] if versions else None
    active = next((v for v in versions if v.status in VALIDATED), None)
    days_left = (active.valid_until - on).days if active and active.valid_until else None
    renewal = None
    if active is not None:
        state = effective_status(active, on, window)
        if latest is not active and latest.status in ("submitted", "refused"):
            renewal = latest
    elif latest is None:
        state = "missing"
    else:
        state = "in_review" if latest.status == "submitted" else "refused"
    return FileRow(document_type, document, latest, active, state, required=False, days_left=days_left, renewal=renewal)


# The statements are built once: building them costs as much as running them on a small file.
# The active types, each with the company's document of that type (if any) and its versions, in one
# statement: on a small file the round trips, not the rows, are what a page waits for.
TYPES_WITH_DOCUMENTS = (
    select(DocumentType, Document)
    .outerjoin(
        Document,
        (Document.document_type_id == DocumentType.id) & (Document.organisation_id == bindparam("organisation_id")),
    )
    .where(DocumentType.active.is_(True))
    .order_by(DocumentType.sort_order, DocumentType.id)
    .options(
        joinedload(Document.versions).options(
            # The automatic checks' report is for operators; file pages never read it.
            defer(DocumentVersion.precheck, raiseload=True),
            joinedload(DocumentVersion.refusal_reason),
            joinedload(DocumentVersion.reviewed_by),
        )
    )
    .execution_options(populate_existing=True)
)
# (document type id, the asking client's name) of the requirements of the supplier's accepted clients
REQUIREMENTS = (
    select(Requirement.document_type_id, Organisation.legal_name)
    .join(
        Partnership,
        (Partnership.requester_id == Requirement.requested_by_id)
        & (Partnership.target_id == bindparam("organisation_id"))
        & (Partnership.status == "accepted"),
    )
    .join(Organisation, Organisation.id == Requirement.requested_by_id)
    .where(or_(Requirement.supplier_id == bindparam("organisation_id"), Requirement.supplier_id.is_(None)))
)
REQUIREMENTS_OF_ONE_CLIENT = REQUIREMENTS.where(Requirement.requested_by_id == bindparam("client_id"))


def load(organisation: Organisation, on: date | None = None, *, for_client: int | None = None) -> ComplianceFile:
    """Everything the document pages show, in two queries whatever the number of documents.

    ``for_client``: only that client's requirements count (what it sees of this supplier)."""
    on = on or clock.today()
    window = window_days()
    pairs = db.session.execute(TYPES_WITH_DOCUMENTS, {"organisation_id": organisation.id}).unique().all()
    types = [document_type for document_type, _ in pairs]
    requirements = db.session.execute(
        REQUIREMENTS_OF_ONE_CLIENT if for_client else REQUIREMENTS,
        {"organisation_id": organisation.id, "client_id": for_client},
    ).all()
    rows = {t.code: row_for(t, document, on, window) for t, document in pairs}

    legal = ABROAD_REQUIRED if organisation.established_abroad else DEFAULT_REQUIRED
    required: dict[str, list[str]] = {code: ["Vigie"] for code in legal}
    if organisation.has_employees:
        required.update({code: ["Vigie"] for code in EMPLOYER_REQUIRED})
    code_by_id = {t.id: t.code for t in types}
    for document_type_id, asker in requirements:
        code = code_by_id.get(document_type_id)
        if code:
            askers = required.setdefault(code, [])
            if asker not in askers:
                askers.append(asker)

    for code, askers in required.items():
        if code not in rows:
            continue
        # An accepted alternative (RNE_CERT for KBIS) stands in when it is in a better state.
        candidates = [rows[code]] + [rows[t.code] for t in types if t.alternative_to == code and rows[t.code].document]
        best = min(candidates, key=lambda row: STATE_RANK[row.state])
        best.required = True
        best.requested_by = [name for name in askers if name != "Vigie"]
    ordered = sorted(rows.values(), key=lambda row: (not row.required, row.document_type.sort_order))
    return ComplianceFile(organisation=organisation, rows=ordered, types=types)


def summary(file: ComplianceFile) -> tuple[str, int]:
    """One word for a file (expired, incomplete, in_review, compliant) and how many expire soon.

    It reads the required documents' states only: a renewal under review or refused does not move it."""
    states = [row.state for row in file.rows if row.required]
    expiring = sum(1 for row in file.rows if row.required and row.state == "expiring")
    if "expired" in states:
        return "expired", expiring
    if "missing" in states or "refused" in states:
        return "incomplete", expiring
    if "in_review" in states:
        return "in_review", expiring
    return "compliant", expiring
