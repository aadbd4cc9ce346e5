"""Firm settings: "La gestion d'équipe", the folder-tree templates and the partner apps."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.accounts import invitations
from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.htmx import redirect_to, render
from portal.core.labels import de
from portal.firm import access, partner_apps, tree_templates
from portal.firm.forms import (
    ActionForm,
    FolderForm,
    InviteMemberForm,
    MemberFilesForm,
    RoleForm,
    TemplateForm,
    ThemeForm,
)
from portal.firm.routes.blueprints import bp


@bp.route("/settings/team", methods=["GET", "POST"])
@login_required
def team():
    current = tenancy.current()
    access.require_firm(current)
    form = InviteMemberForm()
    status = 200
    if request.method == "POST":
        access.require_admin(current)
        if form.validate_on_submit():
            invitation = invitations.invite_from_form(current, current_user, form)
            flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")
            return redirect_to(url_for("firm.team"))
        status = 422
    return render(
        "firm/team.html",
        "firm/_invite_member.html",
        members=access.members(current),
        counts=access.assignment_counts(current),
        form=form,
        is_admin=access.is_admin(current),
        status=status,
    )


@bp.route("/settings/team/<int:user_id>", methods=["GET", "POST"])
@login_required
def member(user_id: int):
    """One collaborator: his role and the client files he may open."""
    current = tenancy.current()
    access.require_admin(current)
    people = {u.id: (m, u) for m, u in access.members(current)}
    if user_id not in people:
        abort(404)
    membership, person = people[user_id]
    files_form = MemberFilesForm(
        formdata=None if request.method == "GET" else request.form,
        data={"file_ids": sorted(access.files_of_member(current, user_id))},
    )
    files_form.file_ids.choices = [SelectChoice(i, name) for i, name in access.all_files(current)]
    role_form = RoleForm(formdata=None, data={"role": membership.role})
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "role":
                role_form = RoleForm()
                if not role_form.validate_on_submit():
                    raise InvalidInput({"role": _("Choisissez administrateur ou collaborateur.")})
                access.change_role(current, current_user, user_id, role_form.role.data)
                flash(_("Rôle %(de_name)s enregistré.", name=person.full_name, de_name=de(person.full_name)), "success")
            else:
                if not files_form.validate_on_submit():
                    abort(400)
                access.set_member_files(current, current_user, user_id, set(files_form.file_ids.data or []))
                flash(_("Dossiers accessibles à %(name)s enregistrés.", name=person.full_name), "success")
        except InvalidInput as exc:
            exc.attach_to(role_form)
            exc.attach_to(files_form)
            status = 422
        else:
            return redirect_to(url_for("firm.member", user_id=user_id))
    return render(
        "firm/member.html",
        membership=membership,
        person=person,
        files_form=files_form,
        role_form=role_form,
        status=status,
    )


def _trees_page(*, status: int = 200, template_form=None, theme_form=None, folder_forms=None):
    current = tenancy.current()
    themes, views = tree_templates.settings_of(current)
    folder_forms = folder_forms or {}
    forms = {}
    for view in views:
        form = folder_forms.get(view.template.id) or FolderForm(formdata=None)
        form.parent_id.choices = [SelectChoice(0, _("(racine)"))] + [
            SelectChoice(f.id, f.name) for f in _flat(view.roots)
        ]
        form.theme_id.choices = [SelectChoice(t.id, t.name) for t in themes]
        forms[view.template.id] = form
    return render(
        "firm/trees.html",
        themes=themes,
        views=views,
        folder_forms=forms,
        template_form=template_form or TemplateForm(formdata=None),
        theme_form=theme_form or ThemeForm(formdata=None),
        action_form=ActionForm(),
        is_admin=access.is_admin(current),
        status=status,
    )


def _flat(nodes):
    for node in nodes:
        yield node.folder
        yield from _flat(node.children)


@bp.get("/settings/trees")
@login_required
def trees():
    return _trees_page()


@bp.post("/settings/trees")
@login_required
def create_template():
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            tree_templates.create_template(tenancy.current(), current_user, form.name.data)
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Arborescence créée : ajoutez-lui des répertoires."), "success")
            return redirect_to(url_for("firm.trees"))
    return _trees_page(status=422, template_form=form)


@bp.post("/settings/themes")
@login_required
def create_theme():
    form = ThemeForm()
    if form.validate_on_submit():
        try:
            tree_templates.add_theme(tenancy.current(), current_user, form.name.data, form.shared.data)
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Thème ajouté."), "success")
            return redirect_to(url_for("firm.trees"))
    return _trees_page(status=422, theme_form=form)


@bp.post("/settings/trees/<int:template_id>/folders")
@login_required
def add_folder(template_id: int):
    current = tenancy.current()
    tree_templates.own_template(current, template_id)
    form = FolderForm()
    if form.validate_on_submit():
        try:
            tree_templates.add_folder(
                current,
                current_user,
                template_id,
                name=form.name.data,
                parent_id=form.parent_id.data or None,
                theme_id=form.theme_id.data,
                fiscal=form.fiscal.data,
            )
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Répertoire ajouté à l'arborescence."), "success")
            return redirect_to(url_for("firm.trees") + f"#template-{template_id}")
    return _trees_page(status=422, folder_forms={template_id: form})


@bp.post("/settings/trees/<int:template_id>/folders/<int:folder_id>/delete")
@login_required
def remove_folder(template_id: int, folder_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    tree_templates.remove_folder(tenancy.current(), current_user, template_id, folder_id)
    flash(_("Répertoire retiré de l'arborescence (les dossiers déjà créés gardent le leur)."), "success")
    return redirect_to(url_for("firm.trees") + f"#template-{template_id}")


@bp.get("/settings/apps")
@login_required
def apps():
    current = tenancy.current()
    access.require_firm(current)
    return render(
        "firm/apps.html",
        catalogue=partner_apps.catalogue_of(current.organisation.id),
        form=ActionForm(),
        errors={},
        open_key=None,
        values={},
        is_admin=access.is_admin(current),
    )


@bp.post("/settings/apps/<app_key>")
@login_required
def enable_app(app_key: str):
    current = tenancy.current()
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if request.form.get("action") == "disable":
        partner_apps.disable(current, current_user, app_key)
        flash(_("Application désactivée."), "success")
        return redirect_to(url_for("firm.apps"))
    try:
        app = partner_apps.enable(current, current_user, app_key, request.form)
    except InvalidInput as exc:
        return render(
            "firm/apps.html",
            catalogue=partner_apps.catalogue_of(current.organisation.id),
            form=form,
            errors=exc.errors,
            open_key=app_key,
            values=request.form,
            is_admin=True,
            status=422,
        )
    flash(_("Application « %(name)s » activée.", name=app.name), "success")
    return redirect_to(url_for("firm.apps"))
