"""The supplier owns its file: "Exporter mon dossier" is a ZIP of every version it ever sent (valid,
archived, refused, under review) and a ``manifest.json`` saying what each one is, readable without
Vigie (data portability, RGPD art. 20)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.core import audit, clock, zips
from portal.core.extensions import db
from portal.core.storage import storage
from portal.core.tenancy import Tenancy
from portal.core.uploads import EXTENSIONS
from portal.models import Document, DocumentType, DocumentVersion, Organisation, User


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.paris_time(value).isoformat()
    return value.isoformat()


def member_name(kind: DocumentType, version: DocumentVersion) -> str:
    """Where a version's file sits in an archive: by type, then version id, state and date."""
    extension = EXTENSIONS.get(version.content_type, "bin")
    return f"documents/{kind.code}/{version.id}-{version.status}-{version.issued_on:%Y-%m-%d}.{extension}"


def version_facts(kind: DocumentType, version: DocumentVersion, users: dict[int, User]) -> dict:
    """What a manifest says of one version (dates in ISO 8601, Paris time)."""
    reviewer = users.get(version.reviewed_by_id)
    uploader = users.get(version.uploaded_by_id)
    return {
        "version_id": version.id,
        "type": kind.code,
        "type_label": kind.label_fr,
        "legal_basis": kind.legal_basis,
        "state": version.status,
        "issued_on": _iso(version.issued_on),
        "certified_on": _iso(version.certified_on),
        "valid_until": _iso(version.valid_until),
        "verification_code": version.verification_code,
        "original_filename": version.original_filename,
        "content_type": version.content_type,
        "size": version.size,
        "sha256": version.sha256,
        "received_at": _iso(version.uploaded_at),
        "sent_by": uploader.email if uploader else None,
        "decided_at": _iso(version.reviewed_at),
        "decided_by": "Vigie (automatique)"
        if version.validated_automatically
        else (reviewer.full_name if reviewer else None),
        "refusal_reason": version.refusal_reason.label_fr if version.refusal_reason_id else None,
        "refusal_comment": version.refusal_comment,
        "archived_at": _iso(version.archived_at),
        "source_platform": version.source_platform,
        "file_removed_at": _iso(version.file_removed_at),
    }


def users_of(versions: list[DocumentVersion]) -> dict[int, User]:
    ids = {v.reviewed_by_id for v in versions} | {v.uploaded_by_id for v in versions}
    ids.discard(None)
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def everything(organisation: Organisation) -> list[tuple[DocumentType, DocumentVersion]]:
    return list(
        db.session.execute(
            select(DocumentType, DocumentVersion)
            .join(Document, Document.document_type_id == DocumentType.id)
            .join(DocumentVersion, DocumentVersion.document_id == Document.id)
            .options(joinedload(DocumentVersion.refusal_reason))
            .where(Document.organisation_id == organisation.id)
            .order_by(DocumentType.sort_order, DocumentVersion.id)
        ).tuples()
    )


StoredMember = tuple[str, str, int, str]  # name in the archive, storage key, size, SHA-256


def stored_members(rows: list[tuple[DocumentType, DocumentVersion]], prefix: str = "") -> list[StoredMember]:
    """Where each version's file goes in the archive and where it is read from (a version whose
    retention has passed has no file: the manifest says so)."""
    return [
        (prefix + member_name(kind, v), v.storage_key, v.size, v.sha256)
        for kind, v in rows
        if v.file_removed_at is None
    ]


def file_members(stored: list[StoredMember]) -> Iterator[zips.Member]:
    """Each file, streamed from the store and checked against its size and SHA-256."""
    store = storage()
    for name, key, size, sha256 in stored:
        yield name, store.stream(key, size=size, sha256=sha256)


def own_file(tenancy: Tenancy, user: User) -> tuple[Iterator[bytes], str]:
    """The active company's ZIP, its bytes as they are written, and its name; audited. Its owners
    and members export it."""
    tenancy.require_role("owner", "member")
    organisation = tenancy.organisation
    rows = everything(organisation)
    users = users_of([v for _, v in rows])
    manifest = {
        "format": "vigie-export/1",
        "company": {"siren": organisation.siren, "legal_name": organisation.legal_name},
        "exported_at": clock.now().isoformat(),
        "versions": [
            {
                **version_facts(kind, version, users),
                "file": member_name(kind, version) if not version.file_removed_at else None,
            }
            for kind, version in rows
        ],
    }
    stored = stored_members(rows)
    name = f"dossier-{organisation.siren}-{clock.today():%Y-%m-%d}.zip"
    audit.record("documents.exported", user_id=user.id, organisation_id=organisation.id, versions=len(rows))
    db.session.commit()

    def members() -> Iterator[zips.Member]:
        yield "manifest.json", zips.as_json(manifest)
        yield from file_members(stored)

    return zips.stream(members()), name
