from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts import invitations, team
from portal.accounts.forms import InviteForm, SwitchOrganisationForm
from portal.core import tenancy
from portal.core.forms import EmptyForm
from portal.core.htmx import local_target, redirect_to, render
from portal.core.validators import whole_number

bp = Blueprint("organisations", __name__)


@bp.post("/organisations/switch")
@login_required
def switch():
    form = SwitchOrganisationForm()
    organisation_id = whole_number(form.organisation_id.data)
    if not form.validate_on_submit() or organisation_id is None:
        abort(400)
    membership = tenancy.switch(current_user.id, organisation_id)
    flash(_("Vous travaillez maintenant pour %(name)s.", name=membership.organisation.legal_name), "success")
    return redirect_to(local_target(request.form.get("next"), url_for("main.home")))


@bp.route("/team", methods=["GET", "POST"])
@login_required
def team_page():
    current = tenancy.current()
    form = InviteForm()
    status = 200
    if request.method == "POST":
        current.require_role("owner")
        if form.validate_on_submit():
            invitation = invitations.invite_from_form(current, current_user, form)
            flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")
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
