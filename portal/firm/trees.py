"""A client file's folder tree, built from its template and fiscal years, and read back.

A tree is built by a background job: folders are named by a ``key`` (template folder, fiscal
year, month), so building twice, or again after a fiscal year is added, only adds what is missing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from sqlalchemy import func, insert, select, update

from portal.core import outbox
from portal.core.extensions import db
from portal.models import ClientFile, FiscalYear, Folder, FolderDocument, TemplateFolder, Theme


@dataclass(frozen=True)
class Planned:
    key: str
    parent_key: str | None
    name: str
    theme_id: int
    fiscal_year_id: int | None
    month: date | None
    position: int
    depth: int


def months_of(starts_on: date, ends_on: date) -> list[date]:
    months, current = [], starts_on.replace(day=1)
    while current <= ends_on:
        months.append(current)
        current = current.replace(year=current.year + current.month // 12, month=current.month % 12 + 1)
    return months


def fiscal_year_name(year: FiscalYear) -> str:
    if (year.starts_on.month, year.starts_on.day, year.ends_on.month, year.ends_on.day) == (1, 1, 12, 31) and (
        year.starts_on.year == year.ends_on.year
    ):
        return f"Exercice {year.starts_on.year}"
    return f"Exercice {year.starts_on:%d/%m/%Y} – {year.ends_on:%d/%m/%Y}"


@functools.lru_cache(maxsize=1024)  # Babel's formatting is slow; a tree repeats each month per folder
def month_name(month: date) -> str:
    return format_date(month, "LLLL yyyy", locale="fr_FR").capitalize()


def plan(folders: list[TemplateFolder], years: list[FiscalYear]) -> list[Planned]:
    """Every folder a client file's tree should hold, parents before children."""
    by_parent: dict[int | None, list[TemplateFolder]] = {}
    for folder in sorted(folders, key=lambda f: (f.position, f.id)):
        by_parent.setdefault(folder.parent_id, []).append(folder)
    years = sorted(years, key=lambda y: y.starts_on)
    planned: list[Planned] = []

    def walk(parent: TemplateFolder | None, parent_key: str | None, depth: int) -> None:
        for folder in by_parent.get(parent.id if parent else None, []):
            key = f"t{folder.id}"
            planned.append(Planned(key, parent_key, folder.name, folder.theme_id, None, None, folder.position, depth))
            if folder.fiscal:
                for y_position, year in enumerate(years):
                    year_key = f"{key}/y{year.id}"
                    planned.append(
                        Planned(
                            year_key, key, fiscal_year_name(year), folder.theme_id, year.id, None, y_position, depth + 1
                        )
                    )
                    for m_position, month in enumerate(months_of(year.starts_on, year.ends_on)):
                        planned.append(
                            Planned(
                                f"{year_key}/m{month:%Y%m}",
                                year_key,
                                month_name(month),
                                folder.theme_id,
                                year.id,
                                month,
                                m_position,
                                depth + 2,
                            )
                        )
            walk(folder, key, depth + 1)

    walk(None, None, 0)
    return planned


def enqueue_build(client_file: ClientFile) -> None:
    """Ask for the tree to be (re)built after commit (caller commits)."""
    client_file.tree_status = "pending"
    outbox.enqueue("build_tree", client_file_id=client_file.id)


def build(client_file_id: int) -> int:
    """Create the folders the file's tree lacks, level by level; returns how many were added."""
    client_file = db.session.get(ClientFile, client_file_id)
    if client_file is None:
        return 0
    folders = (
        db.session.scalars(select(TemplateFolder).where(TemplateFolder.template_id == client_file.template_id)).all()
        if client_file.template_id
        else []
    )
    years = db.session.scalars(select(FiscalYear).where(FiscalYear.client_file_id == client_file_id)).all()
    wanted = plan(list(folders), list(years))
    ids = dict(db.session.execute(select(Folder.key, Folder.id).where(Folder.client_file_id == client_file_id)).all())
    client_file.tree_status = "building"
    client_file.tree_total = len(wanted)
    client_file.tree_done = sum(1 for p in wanted if p.key in ids)
    db.session.commit()
    added = 0
    for depth in sorted({p.depth for p in wanted}):
        missing = [p for p in wanted if p.depth == depth and p.key not in ids]
        if not missing:
            continue
        created = db.session.execute(
            insert(Folder).returning(Folder.key, Folder.id),
            [
                {
                    "client_file_id": client_file_id,
                    "parent_id": ids.get(p.parent_key) if p.parent_key else None,
                    "key": p.key,
                    "name": p.name,
                    "theme_id": p.theme_id,
                    "fiscal_year_id": p.fiscal_year_id,
                    "month": p.month,
                    "position": p.position,
                }
                for p in missing
            ],
        )
        ids.update(created.tuples().all())  # the new ids, for the next level's parents
        added += len(missing)
        db.session.execute(
            update(ClientFile)
            .where(ClientFile.id == client_file_id)
            .values(tree_done=ClientFile.tree_done + len(missing))
        )
        db.session.commit()
    db.session.execute(update(ClientFile).where(ClientFile.id == client_file_id).values(tree_status="ready"))
    db.session.commit()
    return added


@dataclass(frozen=True)
class FolderNode:
    folder: Folder
    children: list[FolderNode]
    documents: int
    unseen: int
    shared: bool

    @functools.cached_property
    def unseen_below(self) -> int:
        """The client's uploads new to the firm in the sub-folders: shown on a folded parent."""
        return sum(child.unseen + child.unseen_below for child in self.children)


def path_to(folder: Folder, *, theme_ids: set[int] | None = None) -> list[tuple[int, str]]:
    """The folders above ``folder``, from the top: its breadcrumb (one statement). In the client's
    view (``theme_ids``) the path stops under a folder of a theme the client does not see."""
    rows = {
        folder_id: (parent_id, name, theme_id)
        for folder_id, parent_id, name, theme_id in db.session.execute(
            select(Folder.id, Folder.parent_id, Folder.name, Folder.theme_id).where(
                Folder.client_file_id == folder.client_file_id
            )
        )
    }
    path: list[tuple[int, str]] = []
    parent_id = folder.parent_id
    while parent_id is not None and parent_id in rows and len(path) < len(rows):
        grand_parent, name, theme_id = rows[parent_id]
        if theme_ids is not None and theme_id not in theme_ids:
            break
        path.append((parent_id, name))
        parent_id = grand_parent
    return path[::-1]


def tree_of(client_file_id: int, *, theme_ids: set[int] | None = None) -> list[FolderNode]:
    """The file's folders as a tree, with document counts; ``theme_ids`` keeps only those themes
    (the client's view). Two statements."""
    counts = {
        folder_id: (total, unseen or 0)
        for folder_id, total, unseen in db.session.execute(
            select(
                FolderDocument.folder_id,
                func.count(),
                func.sum(FolderDocument.new_to_firm.cast(db.Integer)),
            )
            .where(FolderDocument.client_file_id == client_file_id)
            .group_by(FolderDocument.folder_id)
        )
    }
    rows = db.session.execute(
        select(Folder, Theme.shared)
        .join(Theme, Theme.id == Folder.theme_id)
        .where(Folder.client_file_id == client_file_id)
        .order_by(Folder.position, Folder.id)
    ).all()
    children: dict[int | None, list[tuple[Folder, bool]]] = {}
    for folder, shared in rows:
        if theme_ids is not None and folder.theme_id not in theme_ids:
            continue
        children.setdefault(folder.parent_id, []).append((folder, shared))
    visible_ids = {f.id for group in children.values() for f, _s in group}

    def node(folder: Folder, shared: bool) -> FolderNode:
        total, unseen = counts.get(folder.id, (0, 0))
        return FolderNode(folder, [node(c, s) for c, s in children.get(folder.id, [])], total, unseen, shared)

    # A folder whose parent is hidden (another theme) shows at the top of the client's view.
    roots = [
        (f, s) for parent, group in children.items() for f, s in group if parent is None or parent not in visible_ids
    ]
    return [
        node(f, s)
        for f, s in sorted(roots, key=lambda pair: (pair[0].parent_id is not None, pair[0].position, pair[0].id))
    ]
