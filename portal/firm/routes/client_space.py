"""The client company's space with its accounting firm: folders of its themes, uploads, downloads."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.core.labels import de
from portal.core.responses import attachment
from portal.firm import consent, folder_documents, partner_apps, tree_templates, trees
from portal.firm.forms import EmployeeForm, UploadForm

bp = Blueprint("client_space", __name__, url_prefix="/space")


@bp.get("")
@login_required
def home():
    spaces = folder_documents.spaces_of(tenancy.current(), current_user)
    if len(spaces) == 1:
        return redirect_to(url_for("client_space.space", file_id=spaces[0].file.id))
    return render("client_space/home.html", spaces=spaces)


def _space_page(file_id: int, form: EmployeeForm | None = None, *, status: int = 200):
    current = tenancy.current()
    where = folder_documents.space(current, current_user, file_id)
    themes = [t for t in tree_templates.themes_of(where.firm.id) if t.id in where.theme_ids]
    if form is None:
        form = EmployeeForm(formdata=None, data={"theme_ids": [t.id for t in themes]})
    form.theme_ids.choices = [SelectChoice(t.id, t.name) for t in themes]
    return render(
        "client_space/space.html",
        where=where,
        tree=trees.tree_of(file_id, theme_ids=where.theme_ids),
        apps=[a for a in partner_apps.apps_of_client(file_id) if a.on_home],
        form=form,
        can_invite=current.role == "owner",
        spaces=folder_documents.spaces_of(current, current_user),
        status=status,
    )


@bp.get("/<int:file_id>")
@login_required
def space(file_id: int):
    return _space_page(file_id)


@bp.post("/<int:file_id>/employees")
@login_required
def invite_employee(file_id: int):
    current = tenancy.current()
    current.require_role("owner")
    form = EmployeeForm()
    if form.validate_on_submit():
        try:
            invitation = folder_documents.invite_employee(
                current, current_user, file_id, form.data, set(form.theme_ids.data or [])
            )
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")
            return redirect_to(url_for("client_space.space", file_id=file_id))
    return _space_page(file_id, form, status=422)


def _folder_page(file_id: int, folder_id: int, form: UploadForm, *, status: int = 200):
    where, found = folder_documents.client_folder(tenancy.current(), current_user, file_id, folder_id)
    return render(
        "firm/folder.html",
        page=found,
        folder_endpoint="client_space.folder",
        form=form,
        upload_url=url_for("client_space.folder", file_id=file_id, folder_id=folder_id),
        download_endpoint="client_space.download",
        back_url=url_for("client_space.space", file_id=file_id),
        firm_name=where.firm.legal_name,
        status=status,
    )


@bp.route("/<int:file_id>/folders/<int:folder_id>", methods=["GET", "POST"])
@login_required
def folder(file_id: int, folder_id: int):
    form = UploadForm()
    if form.validate_on_submit():
        try:
            folder_documents.client_upload(tenancy.current(), current_user, file_id, folder_id, form.upload())
        except InvalidInput as exc:
            exc.attach_to(form)
            return _folder_page(file_id, folder_id, form, status=422)
        flash(_("Document envoyé à votre cabinet."), "success")
        return redirect_to(url_for("client_space.folder", file_id=file_id, folder_id=folder_id))
    return _folder_page(file_id, folder_id, form, status=422 if form.is_submitted() else 200)


@bp.get("/<int:file_id>/files/<int:document_id>")
@login_required
def download(file_id: int, document_id: int):
    document, data = folder_documents.client_download(tenancy.current(), current_user, file_id, document_id)
    return attachment(data, document.filename, document.content_type, document.size)


@bp.post("/firm-requests/<int:file_id>/<any(accept, refuse):decision>")
@login_required
def decide_firm_request(file_id: int, decision: str):
    """ "Accepter" / "Refuser" a firm that wants the company among its clients (owners only)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        client_file = consent.decide(tenancy.current(), current_user, file_id, accept=decision == "accept")
    except InvalidInput as exc:
        flash(str(exc.errors["decision"]), "warning")
        return redirect_to(url_for("main.home"))
    if client_file.consent == "accepted":
        flash(
            _(
                "%(firm)s compte désormais votre entreprise parmi ses clients : « Espace cabinet » est ouvert.",
                firm=client_file.firm.legal_name,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Demande %(de_firm)s refusée : ce cabinet ne partage rien avec vous.",
                firm=client_file.firm.legal_name,
                de_firm=de(client_file.firm.legal_name),
            ),
            "success",
        )
    return redirect_to(url_for("main.home"))
