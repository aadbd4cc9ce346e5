"""Operator page: the paid option "Relances par Mail ou SMS" per company."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.operations import paid_options
from portal.operations.routes.blueprints import bp


@bp.get("/options")
@login_required
def options_page():
    search = request.args.get("q", "")
    return render(
        "operations/options.html",
        companies=paid_options.companies(tenancy.current(), search),
        search=search,
        action_form=EmptyForm(),
    )


@bp.post("/options/<int:organisation_id>/reminders/<any(on, off):state>")
@login_required
def set_reminders(organisation_id: int, state: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    if state == "off" and request.form.get("confirm") != "1":
        # Switching off is confirmed on a page that says what the company keeps and loses.
        organisation = paid_options.company(tenancy.current(), organisation_id)
        return render(
            "operations/option_off.html",
            organisation=organisation,
            action_form=EmptyForm(),
            search=request.args.get("q") or None,
        )
    organisation = paid_options.set_reminders(tenancy.current(), current_user, organisation_id, state == "on")
    message = (
        _("Relances par Mail ou SMS activées pour %(name)s.", name=organisation.legal_name)
        if state == "on"
        else _("Relances par Mail ou SMS désactivées pour %(name)s.", name=organisation.legal_name)
    )
    flash(message, "success")
    return redirect_to(url_for("operations.options_page", q=request.args.get("q") or None))
