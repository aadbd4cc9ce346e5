"""Who in an accounting firm sees what: admins see every client file, a collaborator only the
files he is assigned to. Every firm query starts from ``visible()``; a file outside it is a 404."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, insert, select
from werkzeug.exceptions import Forbidden, NotFound

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import ClientFile, ClientFileAccess, FolderDocument, Membership, User, sort_key

ADMIN = "owner"
FIRM_ROLES = ("owner", "collaborator", "member")


def require_firm(tenancy: Tenancy) -> None:
    if not tenancy.organisation.is_accounting_firm:
        raise Forbidden()
    tenancy.require_role(*FIRM_ROLES)


def is_admin(tenancy: Tenancy) -> bool:
    return tenancy.role == ADMIN


def require_admin(tenancy: Tenancy) -> None:
    require_firm(tenancy)
    tenancy.require_role(ADMIN)


def visible(tenancy: Tenancy, user_id: int):
    """The WHERE clause of the client files this user may open."""
    require_firm(tenancy)
    own = ClientFile.firm_id == tenancy.organisation.id
    if is_admin(tenancy):
        return own
    assigned = (
        exists()
        .where(ClientFileAccess.client_file_id == ClientFile.id, ClientFileAccess.user_id == user_id)
        .correlate(ClientFile)
    )
    return own & assigned


def get_file(tenancy: Tenancy, user_id: int, file_id: int) -> ClientFile:
    found = db.session.scalar(select(ClientFile).where(ClientFile.id == file_id, visible(tenancy, user_id)))
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class FileRow:
    id: int
    name: str
    siret: str
    tree_status: str
    executive_email: str
    invited: bool
    new_uploads: int
    created_at: object


PAGE_SIZE = 50


def file_rows(tenancy: Tenancy, user_id: int, *, query: str = "", page: int = 1) -> tuple[list[FileRow], int]:
    """One page of client files, with their count of unseen client uploads: two statements."""
    condition = visible(tenancy, user_id)
    if query:
        like = f"%{sort_key(query.strip())}%"
        condition = condition & (ClientFile.sort_name.like(like) | ClientFile.siret.like(like))
    total = db.session.scalar(select(func.count()).select_from(ClientFile).where(condition))
    unseen = (
        select(func.count())
        .where(FolderDocument.client_file_id == ClientFile.id, FolderDocument.new_to_firm)
        .correlate(ClientFile)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            ClientFile.id,
            ClientFile.name,
            ClientFile.siret,
            ClientFile.tree_status,
            ClientFile.executive_email,
            ClientFile.executive_invitation_id.is_not(None),
            unseen,
            ClientFile.created_at,
        )
        .where(condition)
        .order_by(ClientFile.sort_name, ClientFile.id)
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return [FileRow(*row) for row in rows], total


def members(tenancy: Tenancy) -> list[tuple[Membership, User]]:
    """The firm's people, alphabetically."""
    require_firm(tenancy)
    rows = db.session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == tenancy.organisation.id)
    ).all()
    return sorted(((m, u) for m, u in rows), key=lambda row: sort_key(row[1].full_name))


def member_ids(tenancy: Tenancy) -> set[int]:
    return {user.id for _m, user in members(tenancy)}


def assigned_ids(file_id: int) -> set[int]:
    return set(db.session.scalars(select(ClientFileAccess.user_id).where(ClientFileAccess.client_file_id == file_id)))


def set_assignments(tenancy: Tenancy, actor: User, file_id: int, user_ids: set[int]) -> None:
    """Who may open one client file (admins always can). Admin only."""
    require_admin(tenancy)
    client_file = get_file(tenancy, actor.id, file_id)
    unknown = user_ids - member_ids(tenancy)
    if unknown:
        raise InvalidInput({"user_ids": _l("Choisissez des membres du cabinet.")})
    _replace(client_file.id, user_ids)
    audit.record(
        "client_file.assigned",
        user_id=actor.id,
        organisation_id=tenancy.organisation.id,
        client_file_id=client_file.id,
        user_ids=sorted(user_ids),
    )
    db.session.commit()


def _replace(file_id: int, user_ids: set[int]) -> None:
    db.session.execute(delete(ClientFileAccess).where(ClientFileAccess.client_file_id == file_id))
    if user_ids:
        db.session.execute(insert(ClientFileAccess), [{"client_file_id": file_id, "user_id": u} for u in user_ids])


def assignment_counts(tenancy: Tenancy) -> dict[int, int]:
    """How many client files each collaborator is assigned to (one query). Every member of the firm
    may read the counts on "La gestion d'équipe"; which files they are stays for administrators."""
    require_firm(tenancy)
    return dict(
        db.session.execute(
            select(ClientFileAccess.user_id, func.count())
            .join(ClientFile, ClientFile.id == ClientFileAccess.client_file_id)
            .where(ClientFile.firm_id == tenancy.organisation.id)
            .group_by(ClientFileAccess.user_id)
        ).all()
    )


def files_of_member(tenancy: Tenancy, user_id: int) -> set[int]:
    require_admin(tenancy)
    return set(
        db.session.scalars(
            select(ClientFileAccess.client_file_id)
            .join(ClientFile, ClientFile.id == ClientFileAccess.client_file_id)
            .where(ClientFileAccess.user_id == user_id, ClientFile.firm_id == tenancy.organisation.id)
        )
    )


def all_files(tenancy: Tenancy) -> list[tuple[int, str]]:
    require_admin(tenancy)
    return [
        (file_id, name)
        for file_id, name in db.session.execute(
            select(ClientFile.id, ClientFile.name)
            .where(ClientFile.firm_id == tenancy.organisation.id)
            .order_by(ClientFile.sort_name)
        )
    ]


def set_member_files(tenancy: Tenancy, actor: User, user_id: int, file_ids: set[int]) -> None:
    """ "La gestion d'équipe": the client files one collaborator may open."""
    require_admin(tenancy)
    if user_id not in member_ids(tenancy):
        raise NotFound()
    own = {file_id for file_id, _name in all_files(tenancy)}
    if file_ids - own:
        raise InvalidInput({"file_ids": _l("Choisissez des dossiers clients du cabinet.")})
    db.session.execute(
        delete(ClientFileAccess).where(ClientFileAccess.user_id == user_id, ClientFileAccess.client_file_id.in_(own))
    )
    if file_ids:
        db.session.execute(insert(ClientFileAccess), [{"client_file_id": f, "user_id": user_id} for f in file_ids])
    audit.record(
        "firm.member_files",
        user_id=actor.id,
        organisation_id=tenancy.organisation.id,
        member_id=user_id,
        client_file_ids=sorted(file_ids),
    )
    db.session.commit()


def change_role(tenancy: Tenancy, actor: User, user_id: int, role: str) -> Membership:
    require_admin(tenancy)
    if role not in ("owner", "collaborator"):
        raise InvalidInput({"role": _l("Choisissez administrateur ou collaborateur.")})
    membership = db.session.scalar(
        select(Membership).where(Membership.organisation_id == tenancy.organisation.id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound()
    if membership.role == ADMIN and role != ADMIN:
        admins = db.session.scalar(
            select(func.count()).where(Membership.organisation_id == tenancy.organisation.id, Membership.role == ADMIN)
        )
        if admins <= 1:
            raise InvalidInput({"role": _l("Le cabinet doit garder au moins un administrateur.")})
    membership.role = role
    audit.record(
        "firm.role_changed", user_id=actor.id, organisation_id=tenancy.organisation.id, member_id=user_id, role=role
    )
    db.session.commit()
    return membership
