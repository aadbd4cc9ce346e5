"""The firm's "Documents" menu: each client file's folders, the client's uploads flagged."""

from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.htmx import redirect_to, render
from portal.core.responses import attachment
from portal.firm import access, folder_documents, trees
from portal.firm.forms import UploadForm
from portal.firm.routes.blueprints import bp


@bp.get("/documents")
@login_required
def documents():
    current = tenancy.current()
    rows, total = access.file_rows(current, current_user.id, page=1)
    return render("firm/documents.html", rows=rows, total=total, client_file=None, tree=[])


@bp.get("/documents/<int:file_id>")
@login_required
def file_documents(file_id: int):
    current = tenancy.current()
    client_file = access.get_file(current, current_user.id, file_id)
    rows, total = access.file_rows(current, current_user.id, page=1)
    tree = trees.tree_of(file_id) if client_file.tree_status == "ready" else []
    return render("firm/documents.html", rows=rows, total=total, client_file=client_file, tree=tree)


def _folder_page(file_id: int, folder_id: int, form: UploadForm, *, status: int = 200):
    current = tenancy.current()
    found = folder_documents.firm_folder(current, current_user, file_id, folder_id)
    return render(
        "firm/folder.html",
        page=found,
        folder_endpoint="firm.folder",
        form=form,
        upload_url=url_for("firm.folder", file_id=file_id, folder_id=folder_id),
        download_endpoint="firm.download",
        back_url=url_for("firm.file_documents", file_id=file_id),
        status=status,
    )


@bp.route("/documents/<int:file_id>/folders/<int:folder_id>", methods=["GET", "POST"])
@login_required
def folder(file_id: int, folder_id: int):
    form = UploadForm()
    if form.validate_on_submit():
        try:
            folder_documents.firm_upload(tenancy.current(), current_user, file_id, folder_id, form.upload())
        except InvalidInput as exc:
            exc.attach_to(form)
            return _folder_page(file_id, folder_id, form, status=422)
        flash(_("Document déposé : le client le voit dans ce répertoire."), "success")
        return redirect_to(url_for("firm.folder", file_id=file_id, folder_id=folder_id))
    return _folder_page(file_id, folder_id, form, status=422 if form.is_submitted() else 200)


@bp.get("/documents/<int:file_id>/files/<int:document_id>")
@login_required
def download(file_id: int, document_id: int):
    document, data = folder_documents.firm_download(tenancy.current(), current_user, file_id, document_id)
    return attachment(data, document.filename, document.content_type, document.size)
