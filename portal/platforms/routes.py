""" "Gérer mes organisations": the user's companies, and the sync with other compliance platforms."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.integrations.compliance_platforms import PLATFORMS
from portal.platforms import connections, history
from portal.platforms.forms import ConnectPlatformForm

bp = Blueprint("platforms", __name__)


@bp.get("/organisations")
@login_required
def mine():
    return render("organisations/mine.html", rows=connections.my_organisations(tenancy.current()))


def _connect_form(page, form: ConnectPlatformForm | None = None) -> ConnectPlatformForm:
    form = form or ConnectPlatformForm(formdata=None)
    connected = {c.platform for c in page.connections}
    form.platform.choices = [SelectChoice(key, name) for key, name in PLATFORMS.items() if key not in connected]
    return form


def _company_page(organisation_id: int, *, form: ConnectPlatformForm | None = None, status: int = 200):
    page = connections.company_page(tenancy.current(), organisation_id)
    return render(
        "organisations/company.html",
        page=page,
        connect_form=_connect_form(page, form),
        action_form=EmptyForm(),
        status=status,
        **HISTORY_WORDS,
    )


HISTORY_WORDS = {
    "label": connections.label,
    "describe_note": history.describe_note,
    "describe_failure": history.describe_failure,
}


@bp.get("/organisations/<int:organisation_id>/sync/live")
@login_required
def sync_live(organisation_id: int):
    """htmx: the syncs' states and history, polled while a run is asked for or running."""
    page = connections.company_page(tenancy.current(), organisation_id)
    return render("organisations/_sync_live.html", page=page, **HISTORY_WORDS)


@bp.get("/organisations/<int:organisation_id>")
@login_required
def company(organisation_id: int):
    return _company_page(organisation_id)


@bp.post("/organisations/<int:organisation_id>/sync")
@login_required
def connect_platform(organisation_id: int):
    """ "Connecter une plateforme": the account, its API key (sealed), and a first sync at once."""
    form = ConnectPlatformForm()
    if not form.validate_on_submit():
        return _company_page(organisation_id, form=form, status=422)
    try:
        connection = connections.connect(
            tenancy.current(),
            current_user,
            organisation_id,
            platform=form.platform.data or "",
            account_ref=form.account_ref.data or "",
            api_key=form.api_key.data or "",
        )
    except InvalidInput as exc:
        exc.attach_to(form)
        return _company_page(organisation_id, form=form, status=422)
    flash(
        _(
            "Connecté à %(platform)s : la première synchronisation est lancée.",
            platform=connections.label(connection.platform),
        ),
        "success",
    )
    return redirect_to(url_for("platforms.company", organisation_id=organisation_id))


@bp.post("/organisations/<int:organisation_id>/sync/<platform>/run")
@login_required
def run_sync(organisation_id: int, platform: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    connections.run_now(tenancy.current(), current_user, organisation_id, platform)
    flash(_("Synchronisation %(platform)s lancée.", platform=connections.label(platform)), "success")
    return redirect_to(url_for("platforms.company", organisation_id=organisation_id))


SYNC_ACTIONS = {
    "deactivate": (
        connections.deactivate,
        _l("Synchronisation %(platform)s désactivée : vos documents restent en place."),
    ),
    "reactivate": (
        connections.reactivate,
        _l("Synchronisation %(platform)s réactivée : elle est lancée pour tous vos établissements."),
    ),
}


@bp.route("/organisations/<int:organisation_id>/sync/<platform>/<action>", methods=["GET", "POST"])
@login_required
def sync_action(organisation_id: int, platform: str, action: str):
    """The confirmation of "Désactiver / Réactiver la synchronisation …": a dialog with htmx, a
    page without JavaScript; confirming changes it."""
    if action not in SYNC_ACTIONS:
        abort(404)
    current = tenancy.current()
    connection = connections.connection_for(current, organisation_id, platform)
    page = connections.company_page(current, organisation_id)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        change, message = SYNC_ACTIONS[action]
        change(current, current_user, organisation_id, platform)
        flash(str(message) % {"platform": connections.label(platform)}, "success")
        return redirect_to(url_for("platforms.company", organisation_id=organisation_id))
    connections.require_owner(current, organisation_id)
    return render(
        "organisations/sync_confirm.html",
        "organisations/_sync_dialog.html",
        page=page,
        connection=connection,
        action=action,
        platform_label=connections.label(platform),
        form=form,
    )
