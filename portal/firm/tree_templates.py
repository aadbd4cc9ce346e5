"""Folder-tree templates ("arborescences") and themes, as "Paramètres du cabinet" edits them.

Every firm starts with two templates ("Arborescence standard", "Arborescence simplifiée") and the
default themes; administrators add or remove folders and themes.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.firm import access
from portal.models import ClientFile, TemplateFolder, Theme, TreeTemplate, User

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
