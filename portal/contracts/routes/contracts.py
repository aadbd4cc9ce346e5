""" "Gérer les contrats": the list of contracts awaiting signature and the two ways to mark one signed."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.contracts import manage, selection, signature_sync
from portal.contracts.routes.blueprints import bp
from portal.core import tenancy
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render, wants_fragment
from portal.core.validators import whole_number, whole_numbers


@bp.get("")
@login_required
def index():
    current = tenancy.current()
    result = manage.page(current, manage.filters_from(request.args))
    excluded = selection.excluded(current, current_user, result.filters)
    return render(
        "contracts/index.html",
        "contracts/_results.html",
        result=result,
        marked=manage.marked_by_hand(current, whole_number(request.args.get("marked"))),
        excluded=excluded,
        selected=selection.count(current, result.filters, result.counts.contracts, excluded),
        action_form=EmptyForm(),
    )


def _ids(name: str) -> list[int]:
    return whole_numbers(request.form.getlist(name))


@bp.post("/selection")
@login_required
def update_selection():
    """A box (un)checked (htmx: the count comes back), or "Enregistrer la sélection" without JS."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    current = tenancy.current()
    filters = manage.filters_from(request.form)
    excluded = selection.update(current, current_user, filters, _ids("shown"), _ids("checked"))
    if wants_fragment():
        totals = manage.counts(current, filters)
        return render(
            "contracts/index.html",
            "contracts/_selection_count.html",
            selected=selection.count(current, filters, totals.contracts, excluded),
        )
    flash(_("Sélection enregistrée."), "success")
    return redirect_to(url_for("contracts.index", **filters.args()))


@bp.post("/<int:contract_id>/sign/<any(paper, agency):how>")
@login_required
def sign(contract_id: int, how: str):
    """ "Définir signé": the row says it was marked, with "Annuler" right there (htmx), or the
    page comes back with the same notice (without JavaScript)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    current = tenancy.current()
    filters = manage.filters_from(request.args)
    contract = None
    try:
        contract = manage.mark_signed(current, current_user, contract_id, how)
    except manage.ContractError as exc:
        flash(str(exc.errors["contract"]), "warning")
        status = 409
    else:
        status = 200
    if wants_fragment():
        totals = manage.counts(current, filters)
        excluded = selection.excluded(current, current_user, filters)
        return render(
            "contracts/index.html",
            "contracts/_signed.html",
            contract=contract,
            filters=filters,
            counts=totals,
            selected=selection.count(current, filters, totals.contracts, excluded),
            action_form=EmptyForm(),
            status=status,
        )
    return redirect_to(url_for("contracts.index", **filters.args(), marked=contract.id if contract else None))


@bp.post("/<int:contract_id>/unsign")
@login_required
def unsign(contract_id: int):
    """ "Annuler" after "Définir signé", or from the "Signés" filter: back to awaiting signature."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    filters = manage.filters_from(request.args)
    try:
        contract = manage.unmark_signed(tenancy.current(), current_user, contract_id)
    except manage.ContractError as exc:
        flash(str(exc.errors["contract"]), "warning")
    else:
        flash(_("Contrat %(reference)s remis en attente de signature.", reference=contract.reference), "success")
    return redirect_to(url_for("contracts.index", **filters.args()))


@bp.get("/sync")
@login_required
def sync_log():
    """The signature sync's runs for this agency: started, checked, signed, errors."""
    return render("contracts/sync.html", runs=signature_sync.runs_of(tenancy.current()), action_form=EmptyForm())


@bp.post("/sync")
@login_required
def sync_now():
    if not EmptyForm().validate_on_submit():
        abort(400)
    signature_sync.request_now(tenancy.current(), current_user)
    flash(_("Synchronisation demandée : le journal se met à jour dans quelques instants."), "success")
    return redirect_to(url_for("contracts.sync_log"))
