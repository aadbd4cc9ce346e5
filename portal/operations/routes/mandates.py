"""Operators: collection mandates to check, and documents collected under them."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.core.responses import attachment
from portal.documents import mandates, versions
from portal.operations.forms import CollectForm
from portal.operations.routes.blueprints import bp


@bp.get("/mandates")
@login_required
def mandates_page():
    rows = mandates.awaiting_check(tenancy.current())
    labels = {t.code: t.label_fr for t in mandates.collectable_types()}
    return render("operations/mandates.html", rows=rows, labels=labels, action_form=EmptyForm())


@bp.get("/mandates/<int:mandate_id>/signed")
@login_required
def mandate_signed_file(mandate_id: int):
    mandate, data = mandates.signed_file_for_operator(tenancy.current(), mandate_id)
    return attachment(data, mandate.signed_filename or "mandat", mandate.signed_content_type)


@bp.post("/mandates/<int:mandate_id>/<any(validate, refuse):decision>")
@login_required
def mandate_decide(mandate_id: int, decision: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        mandates.decide(tenancy.current(), current_user, mandate_id, accept=decision == "validate")
    except mandates.MandateError as exc:
        flash(str(exc.errors["decision"]), "warning")
    else:
        flash(_("Mandat activé.") if decision == "validate" else _("Mandat refusé."), "success")
    return redirect_to(url_for("operations.mandates_page"))


@bp.route("/mandates/<int:mandate_id>/collect", methods=["GET", "POST"])
@login_required
def mandate_collect(mandate_id: int):
    current = tenancy.current()
    mandate, organisation = mandates.with_company(current, mandate_id)
    labels = {t.code: t.label_fr for t in mandates.collectable_types()}
    form = CollectForm()
    form.type_code.choices = [(code, labels.get(code, code)) for code in mandate.type_codes]
    if form.validate_on_submit():
        file = form.file.data
        upload = versions.Upload(
            file.read(),
            file.filename or "document",
            form.issued_on.data,
            form.valid_until.data,
            form.verification_code.data,
        )
        try:
            mandates.collect(current, current_user, mandate_id, form.type_code.data, upload)
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Document déposé pour %(org)s (collecté sous mandat).", org=organisation.legal_name), "success")
            return redirect_to(url_for("operations.review_queue"))
    status = 422 if request.method == "POST" else 200
    return render(
        "operations/mandate_collect.html",
        form=form,
        mandate=mandate,
        organisation=organisation,
        status=status,
    )
