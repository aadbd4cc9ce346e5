"""The firm's client files: the list, one file's page and its settings."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.htmx import redirect_to, render
from portal.core.validators import page_number
from portal.firm import access, client_files, client_wizard, trees
from portal.firm.forms import ActionForm, CollaboratorsForm, FiscalYearForm, InviteExecutiveForm
from portal.firm.routes.blueprints import bp


def _page_number() -> int:
    return page_number(request.args.get("page"))


@bp.get("/clients")
@login_required
def clients():
    current = tenancy.current()
    query = request.args.get("q", "").strip()[:100]
    page = _page_number()
    rows, total = access.file_rows(current, current_user.id, query=query, page=page)
    pages = max((total + access.PAGE_SIZE - 1) // access.PAGE_SIZE, 1)
    draft = client_wizard.draft_of(current, current_user, create=False)
    return render(
        "firm/clients.html",
        "firm/_client_rows.html",
        rows=rows,
        total=total,
        query=query,
        result={"page": page, "pages": pages},
        draft=draft,
        is_admin=access.is_admin(current),
    )


def _file_page(file_id: int, *, status: int = 200, **forms):
    current = tenancy.current()
    view = client_files.view(current, current_user, file_id)
    members = access.members(current) if access.is_admin(current) else []
    collaborators_form = forms.get("collaborators_form") or CollaboratorsForm(
        formdata=None, data={"user_ids": [u.id for u in view.collaborators]}
    )
    collaborators_form.user_ids.choices = [SelectChoice(u.id, u.full_name) for _m, u in members]
    return render(
        "firm/client.html",
        view=view,
        tree=trees.tree_of(file_id) if view.file.tree_status == "ready" else [],
        fiscal_form=forms.get("fiscal_form") or FiscalYearForm(formdata=None),
        invite_form=forms.get("invite_form")
        or InviteExecutiveForm(
            formdata=None,
            data={
                "email": view.file.executive_email,
                "first_name": view.file.executive_first_name,
                "last_name": view.file.executive_last_name,
            },
        ),
        collaborators_form=collaborators_form,
        action_form=ActionForm(),
        is_admin=access.is_admin(current),
        status=status,
    )


@bp.get("/clients/<int:file_id>")
@login_required
def client(file_id: int):
    return _file_page(file_id)


@bp.get("/clients/<int:file_id>/tree")
@login_required
def client_tree(file_id: int):
    """The progress widget (polled while the tree is built), then the tree itself."""
    current = tenancy.current()
    client_file = access.get_file(current, current_user.id, file_id)
    tree = trees.tree_of(file_id) if client_file.tree_status == "ready" else []
    return render("firm/_tree.html", client_file=client_file, tree=tree, base="firm")


@bp.post("/clients/<int:file_id>/fiscal-years")
@login_required
def add_fiscal_year(file_id: int):
    current = tenancy.current()
    form = FiscalYearForm()
    if form.validate_on_submit():
        try:
            client_files.add_fiscal_year(current, current_user, file_id, form.starts_on.data, form.ends_on.data)
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Exercice ajouté : ses répertoires mensuels sont en cours de création."), "success")
            return redirect_to(url_for("firm.client", file_id=file_id))
    return _file_page(file_id, status=422, fiscal_form=form)


@bp.post("/clients/<int:file_id>/invite")
@login_required
def invite_executive(file_id: int):
    """ "Inviter le dirigeant" (with the form's data) or "Renvoyer l'invitation" (without)."""
    current = tenancy.current()
    form = InviteExecutiveForm()
    if not form.validate_on_submit():
        return _file_page(file_id, status=422, invite_form=form)
    resend = request.form.get("resend") == "1"
    try:
        invitation = client_files.invite_executive(
            current,
            current_user,
            file_id,
            None if resend else {k: form[k].data for k in ("email", "first_name", "last_name")},
        )
    except InvalidInput as exc:
        exc.attach_to(form)
        return _file_page(file_id, status=422, invite_form=form)
    flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")
    return redirect_to(url_for("firm.client", file_id=file_id))


@bp.post("/clients/<int:file_id>/collaborators")
@login_required
def client_collaborators(file_id: int):
    current = tenancy.current()
    access.require_admin(current)
    form = CollaboratorsForm()
    form.user_ids.choices = [SelectChoice(u.id, u.full_name) for _m, u in access.members(current)]
    if not form.validate_on_submit():
        abort(400)
    try:
        access.set_assignments(current, current_user, file_id, set(form.user_ids.data or []))
    except InvalidInput as exc:
        exc.attach_to(form)
        return _file_page(file_id, status=422, collaborators_form=form)
    flash(_("Collaborateurs du dossier enregistrés."), "success")
    return redirect_to(url_for("firm.client", file_id=file_id))
