from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.htmx import redirect_to, render
from portal.integrations.compliance_platforms import PLATFORMS
from portal.organisations import bp
from portal.organisations.forms import ConnectPlatformForm, EmptyForm, InviteForm, SwitchOrganisationForm
from portal.services import accounts, platform_sync, team, tenancy
from portal.services.errors import InvalidInput


@bp.post("/organisations/switch")
@login_required
def switch():
    form = SwitchOrganisationForm()
    if not form.validate_on_submit() or not form.organisation_id.data.isdigit():
        abort(400)
    membership = tenancy.switch(current_user.id, int(form.organisation_id.data))
    flash(_("Vous travaillez maintenant pour %(name)s.", name=membership.organisation.legal_name), "success")
    return redirect_to(url_for("main.home"))


@bp.route("/team", methods=["GET", "POST"])
@login_required
def team_page():
    current = tenancy.current()
    form = InviteForm()
    status = 200
    if request.method == "POST":
        current.require_role("owner")
        if form.validate_on_submit():
            invite_from(current, form)
            return redirect_to(url_for("organisations.team_page"))
        status = 422
    return render(
        "organisations/team.html",
        "organisations/_invite_form.html",
        team=team.team_of(current),
        form=form,
        action_form=EmptyForm(),
        can_manage=current.role == "owner",
        status=status,
    )


def invite_from(current, form) -> None:
    """Send the invitation a team page's form describes (email, role, names) and say so."""
    invitation = accounts.invite(
        current,
        current_user,
        form.email.data,
        role=form.role.data,
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
    )
    flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")


INVITATION_ACTIONS = {
    "revoke": (team.revoke, _l("Invitation de %(email)s annulée.")),
    "resend": (team.resend, _l("Invitation renvoyée à %(email)s.")),
}


@bp.post("/team/invitations/<int:invitation_id>/<any(revoke, resend):action>")
@login_required
def invitation_action(invitation_id: int, action: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    service, done = INVITATION_ACTIONS[action]
    invitation = service(tenancy.current(), current_user, invitation_id)
    flash(str(done) % {"email": invitation.email}, "success")
    return redirect_to(url_for("organisations.team_page"))


# --- "Gérer mes organisations" and the platform sync ---------------------------------------------


@bp.get("/organisations")
@login_required
def mine():
    return render("organisations/mine.html", rows=platform_sync.my_organisations(tenancy.current()))


def _connect_form(page, form: ConnectPlatformForm | None = None) -> ConnectPlatformForm:
    form = form or ConnectPlatformForm(formdata=None)
    connected = {c.platform for c in page.connections}
    form.platform.choices = [SelectChoice(key, name) for key, name in PLATFORMS.items() if key not in connected]
    return form


def _company_page(organisation_id: int, *, form: ConnectPlatformForm | None = None, status: int = 200):
    page = platform_sync.company_page(tenancy.current(), organisation_id)
    return render(
        "organisations/company.html",
        page=page,
        label=platform_sync.label,
        connect_form=_connect_form(page, form),
        action_form=EmptyForm(),
        status=status,
    )


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
        connection = platform_sync.connect(
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
            platform=platform_sync.label(connection.platform),
        ),
        "success",
    )
    return redirect_to(url_for("organisations.company", organisation_id=organisation_id))


@bp.post("/organisations/<int:organisation_id>/sync/<platform>/run")
@login_required
def run_sync(organisation_id: int, platform: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    platform_sync.run_now(tenancy.current(), current_user, organisation_id, platform)
    flash(_("Synchronisation %(platform)s lancée.", platform=platform_sync.label(platform)), "success")
    return redirect_to(url_for("organisations.company", organisation_id=organisation_id))


SYNC_ACTIONS = {
    "deactivate": (
        platform_sync.deactivate,
        _l("Synchronisation %(platform)s désactivée : vos documents restent en place."),
    ),
    "reactivate": (
        platform_sync.reactivate,
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
    connection = platform_sync.connection_for(current, organisation_id, platform)
    page = platform_sync.company_page(current, organisation_id)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        change, message = SYNC_ACTIONS[action]
        change(current, current_user, organisation_id, platform)
        flash(str(message) % {"platform": platform_sync.label(platform)}, "success")
        return redirect_to(url_for("organisations.company", organisation_id=organisation_id))
    platform_sync.require_owner(current, organisation_id)
    return render(
        "organisations/sync_confirm.html",
        "organisations/_sync_dialog.html",
        page=page,
        connection=connection,
        action=action,
        platform_label=platform_sync.label(platform),
        form=form,
    )
