"""The page an employee reaches from a reminder (signed link, no account): his contracts to sign,
each with where to sign it."""

from __future__ import annotations

from flask import Blueprint, flash, url_for
from flask_babel import gettext as _

from portal.contracts import reminder_wizard
from portal.core import tokens
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render

bp = Blueprint("employee_space", __name__, url_prefix="/s")


@bp.get("/<token>")
def show(token: str):
    try:
        employee, waiting = reminder_wizard.employee_space(token)
    except tokens.InvalidToken as exc:
        return render("employee_space/invalid.html", expired=exc.expired, status=410 if exc.expired else 404)
    return render(
        "employee_space/show.html",
        employee=employee,
        contracts=waiting,
        agency=reminder_wizard.agency_of(employee),
        links=reminder_wizard.signing_links(waiting, token),
    )


@bp.route("/<token>/contracts/<int:contract_id>/sign", methods=["GET", "POST"])
def simulated_sign(token: str, contract_id: int):
    """The simulated e-signature provider's page (development and demo): read, then "Signer"."""
    try:
        employee, contract = reminder_wizard.simulated_contract(token, contract_id)
    except tokens.InvalidToken as exc:
        return render("employee_space/invalid.html", expired=exc.expired, status=410 if exc.expired else 404)
    form = EmptyForm()
    if form.validate_on_submit():
        reminder_wizard.sign_in_simulator(contract)
        flash(_("Contrat %(reference)s signé. Merci !", reference=contract.reference), "success")
        return redirect_to(url_for("employee_space.show", token=token))
    return render(
        "employee_space/sign.html",
        employee=employee,
        contract=contract,
        agency=reminder_wizard.agency_of(employee),
        form=form,
        token=token,
    )
