"""The reminder wizard: a dialog with htmx, the same steps as plain pages without JavaScript."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal.contracts import campaigns, manage, reminder_wizard
from portal.contracts.routes.blueprints import bp
from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render, wants_fragment
from portal.core.responses import attachment
from portal.core.validators import whole_numbers


def _ids(name: str) -> list[int]:
    return whole_numbers(request.form.getlist(name))


def _valid_post() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/reminders")
@login_required
def start_reminders():
    """From the contracts page's action zone: the filter, the rows shown and those left checked."""
    _valid_post()
    current = tenancy.current()
    filters = manage.filters_from(request.form)
    try:
        campaign = reminder_wizard.start(
            current, current_user, request.form.get("channel", ""), filters, _ids("shown"), _ids("checked")
        )
    except reminder_wizard.ReminderError as exc:
        flash(str(next(iter(exc.errors.values()))), "warning")
        return redirect_to(url_for("contracts.index", **filters.args()))
    if wants_fragment():  # the dialog opens on the first step
        return _recipients_page(campaign)
    return redirect_to(url_for("contracts.recipients", campaign_id=campaign.id))


def _recipients_page(campaign, status: int = 200, phone_errors: dict | None = None):
    current = tenancy.current()
    return render(
        "contracts/reminders/recipients.html",
        "contracts/reminders/_recipients.html",
        campaign=campaign,
        chosen=reminder_wizard.selection(current, campaign),
        phone_errors=phone_errors or {},
        action_form=EmptyForm(),
        status=status,
    )


@bp.get("/reminders/<int:campaign_id>")
@login_required
def recipients(campaign_id: int):
    """Step 1: who will be reminded (SMS: the summary, wrong numbers to fix, the recipient list)."""
    campaign = reminder_wizard.campaign_of(tenancy.current(), campaign_id)
    if campaign.status != "draft":
        return redirect_to(url_for("contracts.campaign_progress", campaign_id=campaign.id))
    return _recipients_page(campaign)


@bp.post("/reminders/<int:campaign_id>/employees/<int:employee_id>/phone")
@login_required
def fix_phone(campaign_id: int, employee_id: int):
    _valid_post()
    current = tenancy.current()
    campaign = reminder_wizard.campaign_of(current, campaign_id, draft=True)
    try:
        reminder_wizard.fix_phone(current, current_user, employee_id, request.form.get("phone", ""))
    except reminder_wizard.ReminderError as exc:
        return _recipients_page(campaign, status=422, phone_errors={employee_id: str(exc.errors["phone"])})
    flash(_("Numéro corrigé et enregistré sur la fiche du salarié."), "success")
    if wants_fragment():
        return _recipients_page(campaign)
    return redirect_to(url_for("contracts.recipients", campaign_id=campaign.id))


@bp.post("/reminders/<int:campaign_id>/recipients")
@login_required
def keep_recipients(campaign_id: int):
    """ "Relancer ces salariés": the employees left checked, then the final confirmation."""
    _valid_post()
    current = tenancy.current()
    try:
        campaign = reminder_wizard.keep(current, campaign_id, _ids("employee"))
    except InvalidInput as exc:
        flash(str(next(iter(exc.errors.values()))), "warning")
        return _recipients_page(reminder_wizard.campaign_of(current, campaign_id), status=422)
    if wants_fragment():
        return confirm_reminders(campaign.id)
    return redirect_to(url_for("contracts.confirm_reminders", campaign_id=campaign.id))


@bp.get("/reminders/<int:campaign_id>/confirm")
@login_required
def confirm_reminders(campaign_id: int):
    """Step 2: the exact message, its encoding, segments, cost, when it goes; "Confirmer envoi relance"."""
    current = tenancy.current()
    campaign = reminder_wizard.campaign_of(current, campaign_id)
    if campaign.status != "draft":
        return redirect_to(url_for("contracts.campaign_progress", campaign_id=campaign.id))
    return render(
        "contracts/reminders/confirm.html",
        "contracts/reminders/_confirm.html",
        campaign=campaign,
        plan=reminder_wizard.preview(current, campaign),
        action_form=EmptyForm(),
    )


@bp.post("/reminders/<int:campaign_id>/confirm")
@login_required
def send_reminders(campaign_id: int):
    _valid_post()
    campaign = campaigns.confirm(tenancy.current(), current_user, campaign_id)
    if wants_fragment():
        return campaign_progress(campaign.id)
    return redirect_to(url_for("contracts.campaign_progress", campaign_id=campaign.id))


@bp.get("/reminders/<int:campaign_id>/progress")
@login_required
def campaign_progress(campaign_id: int):
    """Step 3: a widget that polls itself until every message has an outcome."""
    widget = request.args.get("widget") == "1"
    return render(
        "contracts/reminders/progress.html",
        "contracts/reminders/_progress_widget.html" if widget else "contracts/reminders/_progress.html",
        state=campaigns.progress(tenancy.current(), campaign_id),
        action_form=EmptyForm(),
    )


@bp.post("/reminders/<int:campaign_id>/retry")
@login_required
def retry_failures(campaign_id: int):
    _valid_post()
    include_unknown = request.form.get("include_unknown") == "1"
    count = campaigns.retry_failures(tenancy.current(), current_user, campaign_id, include_unknown=include_unknown)
    flash(
        ngettext("%(num)d relance en échec renvoyée.", "%(num)d relances en échec renvoyées.", count)
        if count
        else _("Aucun échec à relancer."),
        "success" if count else "info",
    )
    return redirect_to(url_for("contracts.campaign_progress", campaign_id=campaign_id))


@bp.get("/reminders")
@login_required
def reminder_history():
    return render("contracts/reminders/history.html", rows=campaigns.history(tenancy.current()))


@bp.get("/reminders.csv")
@login_required
def reminder_history_csv():
    current = tenancy.current()
    data = campaigns.history_csv(current)
    return attachment(data.encode(), f"historique-relances-{current.organisation.siren}.csv", "text/csv")
