"""Operators: document types and refusal reasons."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.htmx import redirect_to, render
from portal.documents import catalogue_admin
from portal.operations.forms import DocumentTypeForm, RefusalReasonForm
from portal.operations.routes.blueprints import bp


@bp.get("/document-types")
@login_required
def document_types():
    return render("operations/document_types.html", types=catalogue_admin.types(tenancy.current()))


@bp.route("/document-types/<int:type_id>", methods=["GET", "POST"])
@login_required
def document_type_edit(type_id: int):
    current = tenancy.current()
    found = catalogue_admin.get_type(current, type_id)
    form = DocumentTypeForm(obj=found)
    if form.validate_on_submit():
        catalogue_admin.update_type(current, current_user, type_id, form.data)
        flash(_("Type « %(label)s » enregistré.", label=form.label_fr.data), "success")
        return redirect_to(url_for("operations.document_types"))
    status = 422 if request.method == "POST" else 200
    return render(
        "operations/document_type_edit.html",
        "operations/_document_type_form.html",
        form=form,
        document_type=found,
        status=status,
    )


@bp.route("/refusal-reasons", methods=["GET", "POST"])
@login_required
def refusal_reasons():
    current = tenancy.current()
    form = RefusalReasonForm()
    if form.validate_on_submit():
        catalogue_admin.save_reason(current, current_user, form.data)
        flash(_("Motif « %(label)s » ajouté.", label=form.label_fr.data), "success")
        return redirect_to(url_for("operations.refusal_reasons"))
    status = 422 if request.method == "POST" else 200
    return render(
        "operations/refusal_reasons.html",
        "operations/_reason_form.html",
        reasons=catalogue_admin.reasons(current),
        form=form,
        status=status,
    )


@bp.route("/refusal-reasons/<int:reason_id>", methods=["GET", "POST"])
@login_required
def refusal_reason_edit(reason_id: int):
    current = tenancy.current()
    found = catalogue_admin.get_reason(current, reason_id)
    form = RefusalReasonForm(obj=found)
    if form.validate_on_submit():
        catalogue_admin.save_reason(current, current_user, form.data, reason_id)
        flash(_("Motif « %(label)s » enregistré.", label=form.label_fr.data), "success")
        return redirect_to(url_for("operations.refusal_reasons"))
    status = 422 if request.method == "POST" else 200
    return render("operations/refusal_reason_edit.html", form=form, reason=found, status=status)
