"""Folder-tree templates ("arborescences") and the trees built from them for each client file.

A tree is built by a background job: folders are named by a ``key`` (template folder, fiscal
year, month), so building twice, or again after a fiscal year is added, only adds what is missing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from werkzeug.exceptions import NotFound

from portal.core import audit, outbox
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.firm import access
from portal.models import ClientFile, FiscalYear, Folder, FolderDocument, TemplateFolder, Theme, TreeTemplate, User

DEFAULT_THEMES = (
    ("Comptabilité", True),
    ("Social", True),
    ("Juridique", True),
    ("Fiscal", True),
    ("Interne cabinet", False),
)
# (name, theme, linked to the fiscal year, children)
DEFAULT_TEMPLATES = (
    (
        "Arborescence standard",
        (
            (
                "Comptabilité",
                "Comptabilité",
                False,
                (("Achats", "Comptabilité", True), ("Ventes", "Comptabilité", True), ("Banque", "Comptabilité", True)),
            ),
            (
                "Social",
                "Social",
                False,
                (("Bulletins de paie", "Social", True), ("Contrats de travail", "Social", False)),
            ),
            ("Juridique", "Juridique", False, (("Statuts", "Juridique", False), ("Assemblées", "Juridique", False))),
            (
                "Fiscal",
                "Fiscal",
                False,
                (("Déclarations de TVA", "Fiscal", True), ("Liasses fiscales", "Fiscal", False)),
            ),
            (
                "Travail du cabinet",
                "Interne cabinet",
                False,
                (("Révision", "Interne cabinet", True), ("Correspondance", "Interne cabinet", False)),
            ),
        ),
    ),
    (
        "Arborescence simplifiée",
        (
            ("Pièces comptables", "Comptabilité", True, ()),
            ("Documents sociaux", "Social", False, ()),
            ("Documents juridiques", "Juridique", False, ()),
            ("Dossier de travail", "Interne cabinet", False, ()),
        ),
    ),
)


def ensure_defaults(firm_id: int) -> None:
    """A firm starts with the default themes and two templates (caller commits)."""
    if db.session.scalar(select(Theme.id).where(Theme.firm_id == firm_id).limit(1)):
        return
    themes = {}
    for position, (name, shared) in enumerate(DEFAULT_THEMES):
        theme = Theme(firm_id=firm_id, name=name, shared=shared, position=position)
        db.session.add(theme)
        themes[name] = theme
    db.session.flush()
    for template_name, folders in DEFAULT_TEMPLATES:
        template = TreeTemplate(firm_id=firm_id, name=template_name)
        db.session.add(template)
        db.session.flush()
        for position, (name, theme, fiscal, children) in enumerate(folders):
            parent = TemplateFolder(
                template_id=template.id, name=name, theme_id=themes[theme].id, fiscal=fiscal, position=position
            )
            db.session.add(parent)
            db.session.flush()
            for child_position, (child, child_theme, child_fiscal) in enumerate(children):
                db.session.add(
                    TemplateFolder(
                        template_id=template.id,
                        parent_id=parent.id,
                        name=child,
                        theme_id=themes[child_theme].id,
                        fiscal=child_fiscal,
                        position=child_position,
                    )
                )
    db.session.flush()


def settings_of(tenancy: Tenancy) -> tuple[list[Theme], list[TemplateView]]:
    """The firm's themes and templates for its settings page (the defaults on a first visit)."""
    access.require_firm(tenancy)
    firm_id = tenancy.organisation.id
    ensure_defaults(firm_id)
    db.session.commit()
    return themes_of(firm_id), templates_of(firm_id)


def themes_of(firm_id: int) -> list[Theme]:
    return list(db.session.scalars(select(Theme).where(Theme.firm_id == firm_id).order_by(Theme.position, Theme.id)))


@dataclass(frozen=True)
class TemplateNode:
    folder: TemplateFolder
    children: list[TemplateNode]


@dataclass(frozen=True)
class TemplateView:
    template: TreeTemplate
    roots: list[TemplateNode]
    used_by: int


def templates_of(firm_id: int) -> list[TemplateView]:
    """Every template of the firm with its folder tree: three statements."""
    templates = db.session.scalars(
        select(TreeTemplate).where(TreeTemplate.firm_id == firm_id).order_by(TreeTemplate.id)
    ).all()
    ids = [t.id for t in templates]
    folders = db.session.scalars(
        select(TemplateFolder)
        .where(TemplateFolder.template_id.in_(ids))
        .order_by(TemplateFolder.position, TemplateFolder.id)
    ).all()
    used = dict(
        db.session.execute(
            select(ClientFile.template_id, func.count())
            .where(ClientFile.template_id.in_(ids))
            .group_by(ClientFile.template_id)
        ).all()
    )
    children: dict[int | None, list[TemplateFolder]] = {}
    by_template: dict[int, list[TemplateFolder]] = {}
    for folder in folders:
        children.setdefault(folder.parent_id, []).append(folder)
        by_template.setdefault(folder.template_id, []).append(folder)

    def node(folder: TemplateFolder) -> TemplateNode:
        return TemplateNode(folder, [node(child) for child in children.get(folder.id, [])])

    return [
        TemplateView(t, [node(f) for f in by_template.get(t.id, []) if f.parent_id is None], used.get(t.id, 0))
        for t in templates
    ]


def own_template(tenancy: Tenancy, template_id: int) -> TreeTemplate:
    access.require_firm(tenancy)
    template = db.session.get(TreeTemplate, template_id)
    if template is None or template.firm_id != tenancy.organisation.id:
        raise NotFound()
    return template


def create_template(tenancy: Tenancy, actor: User, name: str) -> TreeTemplate:
    access.require_admin(tenancy)
    name = name.strip()
    if db.session.scalar(
        select(TreeTemplate.id).where(TreeTemplate.firm_id == tenancy.organisation.id, TreeTemplate.name == name)
    ):
        raise InvalidInput({"name": _l("Une arborescence porte déjà ce nom.")})
    template = TreeTemplate(firm_id=tenancy.organisation.id, name=name)
    db.session.add(template)
    db.session.flush()
    audit.record(
        "tree_template.created", user_id=actor.id, organisation_id=tenancy.organisation.id, template_id=template.id
    )
    db.session.commit()
    return template


def add_folder(
    tenancy: Tenancy, actor: User, template_id: int, *, name: str, parent_id: int | None, theme_id: int, fiscal: bool
) -> TemplateFolder:
    access.require_admin(tenancy)
    template = own_template(tenancy, template_id)
    errors = {}
    if parent_id is not None and not db.session.scalar(
        select(TemplateFolder.id).where(TemplateFolder.id == parent_id, TemplateFolder.template_id == template.id)
    ):
        errors["parent_id"] = _l("Choisissez un répertoire de cette arborescence.")
    if theme_id not in {t.id for t in themes_of(tenancy.organisation.id)}:
        errors["theme_id"] = _l("Choisissez un thème du cabinet.")
    if errors:
        raise InvalidInput(errors)
    position = db.session.scalar(
        select(func.count()).where(
            TemplateFolder.template_id == template.id,
            TemplateFolder.parent_id.is_(parent_id) if parent_id is None else TemplateFolder.parent_id == parent_id,
        )
    )
    folder = TemplateFolder(
        template_id=template.id,
        parent_id=parent_id,
        name=name.strip(),
        theme_id=theme_id,
        fiscal=fiscal,
        position=position,
    )
    db.session.add(folder)
    db.session.flush()
    audit.record(
        "tree_template.folder_added",
        user_id=actor.id,
        organisation_id=tenancy.organisation.id,
        template_id=template.id,
        folder_id=folder.id,
    )
    db.session.commit()
    return folder


def remove_folder(tenancy: Tenancy, actor: User, template_id: int, folder_id: int) -> None:
    """Remove a template folder and its sub-folders (trees already built keep theirs)."""
    access.require_admin(tenancy)
    template = own_template(tenancy, template_id)
    folders = db.session.scalars(select(TemplateFolder).where(TemplateFolder.template_id == template.id)).all()
    if folder_id not in {f.id for f in folders}:
        raise NotFound()
    doomed = {folder_id}
    changed = True
    while changed:
        more = {f.id for f in folders if f.parent_id in doomed} - doomed
        changed = bool(more)
        doomed |= more
    for folder in sorted((f for f in folders if f.id in doomed), key=lambda f: f.parent_id is None):
        db.session.delete(folder)
        db.session.flush()
    audit.record(
        "tree_template.folder_removed",
        user_id=actor.id,
        organisation_id=tenancy.organisation.id,
        template_id=template.id,
        folder_ids=sorted(doomed),
    )
    db.session.commit()


def add_theme(tenancy: Tenancy, actor: User, name: str, shared: bool) -> Theme:
    access.require_admin(tenancy)
    name = name.strip()
    if db.session.scalar(select(Theme.id).where(Theme.firm_id == tenancy.organisation.id, Theme.name == name)):
        raise InvalidInput({"name": _l("Un thème porte déjà ce nom.")})
    position = db.session.scalar(select(func.count()).where(Theme.firm_id == tenancy.organisation.id))
    theme = Theme(firm_id=tenancy.organisation.id, name=name, shared=shared, position=position)
    db.session.add(theme)
    db.session.flush()
    audit.record("theme.created", user_id=actor.id, organisation_id=tenancy.organisation.id, theme_id=theme.id)
    db.session.commit()
    return theme


# --- Building a client's tree ------------------------------------------------------------------


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


# --- Reading a tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FolderNode:
    folder: Folder
    children: list[FolderNode]
    documents: int
    unseen: int
    shared: bool


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
