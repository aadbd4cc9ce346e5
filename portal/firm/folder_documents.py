"""Documents in a client file's folders, from both sides.

The firm reads every folder of a file it may open and shares documents into them. The client's
users see only the folders of the shared themes granted to them (``ThemeGrant`` by email; an
owner without a grant sees every shared theme) and upload there; the firm sees those uploads
flagged until someone of the firm opens the folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from portal.accounts import invitations
from portal.core import audit, uploads
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.storage import storage
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.firm import access, trees
from portal.models import ClientFile, Folder, FolderDocument, Organisation, Theme, ThemeGrant, User, utcnow


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _folder(client_file_id: int, folder_id: int) -> Folder:
    folder = db.session.get(Folder, folder_id)
    if folder is None or folder.client_file_id != client_file_id:
        raise NotFound()
    return folder


def _documents(folder_id: int) -> list[tuple[FolderDocument, User | None]]:
    return list(
        db.session.execute(
            select(FolderDocument, User)
            .outerjoin(User, User.id == FolderDocument.uploaded_by_id)
            .where(FolderDocument.folder_id == folder_id)
            .order_by(FolderDocument.uploaded_at.desc(), FolderDocument.id.desc())
        ).all()
    )


def store(client_file_id: int, folder: Folder, user: User, upload: Upload, *, from_firm: bool) -> FolderDocument:
    """Check and keep one document in a folder (the callers checked who may); commits."""
    try:
        content_type = uploads.detect(upload.data)
    except uploads.FileRejected as exc:
        raise InvalidInput({"file": exc.message}) from None
    stored = storage().save(upload.data)
    try:
        document = FolderDocument(
            client_file_id=client_file_id,
            folder_id=folder.id,
            filename=(upload.filename or "document")[:255],
            content_type=content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.key,
            uploaded_by_id=user.id,
            from_firm=from_firm,
            seen_at=utcnow() if from_firm else None,
        )
        db.session.add(document)
        db.session.flush()
        audit.record(
            "folder_document.uploaded",
            user_id=user.id,
            client_file_id=client_file_id,
            folder_id=folder.id,
            document_id=document.id,
            from_firm=from_firm,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage().delete(stored.key)
        raise
    return document


# --- The firm's side -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FolderPage:
    client_file: ClientFile
    folder: Folder
    path: list[tuple[int, str]]  # the folders above it, from the top: the breadcrumb
    documents: list[tuple[FolderDocument, User | None]]
    new_ids: set[int]  # the client's uploads new to the firm (the firm's view)


def firm_folder(tenancy: Tenancy, user: User, file_id: int, folder_id: int) -> FolderPage:
    """A folder of a file the user may open, its path, and the ids of the client's uploads new to the
    firm; opening it marks them as seen."""
    client_file = access.get_file(tenancy, user.id, file_id)
    folder = _folder(file_id, folder_id)
    documents = _documents(folder.id)
    new_ids = {d.id for d, _u in documents if d.new_to_firm}
    if new_ids:
        db.session.execute(
            update(FolderDocument)
            .where(FolderDocument.folder_id == folder.id, FolderDocument.seen_at.is_(None))
            .values(seen_at=utcnow())
        )
        db.session.commit()
    return FolderPage(client_file, folder, trees.path_to(folder), documents, new_ids)


def firm_upload(tenancy: Tenancy, user: User, file_id: int, folder_id: int, upload: Upload) -> FolderDocument:
    access.get_file(tenancy, user.id, file_id)
    return store(file_id, _folder(file_id, folder_id), user, upload, from_firm=True)


def firm_download(
    tenancy: Tenancy, user: User, file_id: int, document_id: int
) -> tuple[FolderDocument, Iterator[bytes]]:
    access.get_file(tenancy, user.id, file_id)
    document = db.session.get(FolderDocument, document_id)
    if document is None or document.client_file_id != file_id:
        raise NotFound()
    return document, storage().stream(document.storage_key, size=document.size, sha256=document.sha256)


# --- The client's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Space:
    file: ClientFile
    firm: Organisation
    theme_ids: set[int]


def has_space(company_id: int) -> bool:
    """The company is the client of a firm on Vigie (its executive lands on its space)."""
    return (
        db.session.scalar(
            select(ClientFile.id).where(ClientFile.company_id == company_id, ClientFile.consent == "accepted").limit(1)
        )
        is not None
    )


def spaces_of(tenancy: Tenancy, user: User) -> list[Space]:
    """The firms' files about the active company, with the themes this user sees in each."""
    company_id = tenancy.organisation.id
    rows = db.session.execute(
        select(ClientFile, Organisation, ThemeGrant.theme_ids)
        .join(Organisation, Organisation.id == ClientFile.firm_id)
        .outerjoin(ThemeGrant, (ThemeGrant.client_file_id == ClientFile.id) & (ThemeGrant.email == user.email))
        .where(ClientFile.company_id == company_id, ClientFile.consent == "accepted")
        .order_by(Organisation.legal_name)
    ).all()
    if not rows:
        return []
    shared = {}
    for theme_id, firm_id in db.session.execute(
        select(Theme.id, Theme.firm_id).where(Theme.firm_id.in_({f.id for _c, f, _t in rows}), Theme.shared.is_(True))
    ):
        shared.setdefault(firm_id, set()).add(theme_id)
    spaces = []
    for client_file, firm_org, granted in rows:
        firm_shared = shared.get(firm_org.id, set())
        if granted is None:
            themes = firm_shared if tenancy.role == "owner" else set()
        else:
            themes = set(granted) & firm_shared
        spaces.append(Space(client_file, firm_org, themes))
    return spaces


def space(tenancy: Tenancy, user: User, file_id: int) -> Space:
    found = next((s for s in spaces_of(tenancy, user) if s.file.id == file_id), None)
    if found is None:
        raise NotFound()
    return found


def _client_folder(tenancy: Tenancy, user: User, file_id: int, folder_id: int) -> tuple[Space, Folder]:
    where = space(tenancy, user, file_id)
    folder = _folder(file_id, folder_id)
    if folder.theme_id not in where.theme_ids:
        raise NotFound()
    return where, folder


def client_folder(tenancy: Tenancy, user: User, file_id: int, folder_id: int) -> tuple[Space, FolderPage]:
    where, folder = _client_folder(tenancy, user, file_id, folder_id)
    path = trees.path_to(folder, theme_ids=where.theme_ids)
    return where, FolderPage(where.file, folder, path, _documents(folder.id), set())


def client_upload(tenancy: Tenancy, user: User, file_id: int, folder_id: int, upload: Upload) -> FolderDocument:
    _where, folder = _client_folder(tenancy, user, file_id, folder_id)
    return store(file_id, folder, user, upload, from_firm=False)


def client_download(
    tenancy: Tenancy, user: User, file_id: int, document_id: int
) -> tuple[FolderDocument, Iterator[bytes]]:
    where = space(tenancy, user, file_id)
    document = db.session.get(FolderDocument, document_id)
    if document is None or document.client_file_id != file_id:
        raise NotFound()
    folder = db.session.get(Folder, document.folder_id)
    if folder.theme_id not in where.theme_ids:
        raise NotFound()
    return document, storage().stream(document.storage_key, size=document.size, sha256=document.sha256)


def invite_employee(tenancy: Tenancy, user: User, file_id: int, values: dict, theme_ids: set[int]):
    """The executive invites one of his employees, choosing the themes he will see."""

    tenancy.require_role("owner")
    where = space(tenancy, user, file_id)
    errors = {}
    try:
        email = checked_email(values.get("email") or "")
    except ValueError:
        errors["email"] = _l("Cette adresse e-mail n'est pas valide.")
    if not theme_ids:
        errors["theme_ids"] = _l("Choisissez au moins un thème.")
    elif theme_ids - where.theme_ids:
        errors["theme_ids"] = _l("Choisissez parmi vos thèmes.")
    if errors:
        raise InvalidInput(errors)
    email = email.lower()
    grant = db.session.scalar(select(ThemeGrant).where(ThemeGrant.client_file_id == file_id, ThemeGrant.email == email))
    if grant is None:
        db.session.add(ThemeGrant(client_file_id=file_id, email=email, theme_ids=sorted(theme_ids)))
    else:
        grant.theme_ids = sorted(theme_ids)
    return invitations.invite(
        tenancy,
        user,
        email,
        role="member",
        first_name=(values.get("first_name") or "").strip()[:100],
        last_name=(values.get("last_name") or "").strip()[:100],
    )
