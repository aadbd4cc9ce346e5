"""'Import massif': upload, dry-run preview, confirm, progress and report."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.htmx import redirect_to, render
from portal.core.responses import attachment
from portal.core.validators import whole_number
from portal.firm import access, import_files
from portal.firm import imports as client_imports
from portal.firm.forms import ActionForm, ImportForm
from portal.firm.routes.blueprints import bp


@bp.route("/imports", methods=["GET", "POST"])
@login_required
def imports():
    current = tenancy.current()
    access.require_firm(current)
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if not upload:
                raise import_files.ImportFileError(_("Choisissez un fichier CSV ou XLSX."))
            batch = client_imports.preview(current, current_user, upload.filename or "", upload.read())
        except InvalidInput as exc:
            exc.attach_to(form)
            status = 422
        else:
            return redirect_to(url_for("firm.import_batch", batch_id=batch.id))
    elif form.is_submitted():
        status = 422
    return render(
        "firm/imports.html",
        form=form,
        batches=client_imports.history(current, current_user),
        columns=import_files.COLUMNS,
        status=status,
    )


@bp.get("/imports/template.csv")
@login_required
def import_template_csv():
    access.require_firm(tenancy.current())
    return attachment(("\ufeff" + import_files.template_csv()).encode(), "modele-import-clients.csv", "text/csv")


@bp.get("/imports/template.xlsx")
@login_required
def import_template_xlsx():
    access.require_firm(tenancy.current())
    return attachment(
        import_files.template_xlsx(),
        "modele-import-clients.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _offset() -> int:
    return whole_number(request.args.get("offset"), 0)


@bp.get("/imports/<int:batch_id>")
@login_required
def import_batch(batch_id: int):
    current = tenancy.current()
    batch = client_imports.get_batch(current, current_user, batch_id)
    return render(
        "firm/import_batch.html",
        invalid=client_imports.rows_of(batch, status="invalid", limit=500),
        **_progress(current, batch),
    )


def _progress(current, batch) -> dict:
    """What the progress card and the valid rows show (the poll refreshes both)."""
    offset = _offset()
    return {
        "batch": batch,
        "valid": client_imports.rows_of(batch, status="valid", limit=100, offset=offset),
        "labels": client_imports.row_labels(current),
        "offset": offset,
        "stalled": client_imports.looks_stalled(batch),
        "form": ActionForm(),
    }


@bp.post("/imports/<int:batch_id>/confirm")
@login_required
def import_confirm(batch_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        batch = client_imports.confirm(tenancy.current(), current_user, batch_id)
    except InvalidInput as exc:
        flash(str(exc.errors["file"]), "error")
        return redirect_to(url_for("firm.import_batch", batch_id=batch_id))
    flash(_("Import lancé : %(count)s dossiers clients vont être créés.", count=batch.valid), "success")
    return redirect_to(url_for("firm.import_batch", batch_id=batch_id))


@bp.post("/imports/<int:batch_id>/resume")
@login_required
def import_resume(batch_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    client_imports.resume(tenancy.current(), current_user, batch_id)
    flash(_("Import relancé : il reprend là où il s'était arrêté."), "success")
    return redirect_to(url_for("firm.import_batch", batch_id=batch_id))


@bp.get("/imports/<int:batch_id>/progress")
@login_required
def import_progress(batch_id: int):
    current = tenancy.current()
    batch = client_imports.get_batch(current, current_user, batch_id)
    return render("firm/_import_progress.html", oob_rows=True, **_progress(current, batch))


@bp.get("/imports/<int:batch_id>/report.csv")
@login_required
def import_report(batch_id: int) -> Response:
    batch = client_imports.get_batch(tenancy.current(), current_user, batch_id)
    return attachment(
        ("\ufeff" + client_imports.report_csv(batch)).encode(), f"rapport-import-{batch.id}.csv", "text/csv"
    )
