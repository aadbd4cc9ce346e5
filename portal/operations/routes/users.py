"""Operators: find a user and end all his sessions."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import sessions
from portal.core import tenancy
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.operations.forms import FindUserForm
from portal.operations.routes.blueprints import bp


@bp.get("/users")
@login_required
def users_page():
    form = FindUserForm(request.args)
    email = (form.email.data or "").strip() if form.validate() else ""
    user, open_count = sessions.find_for_operator(tenancy.current(), email)
    return render(
        "operations/users.html", form=form, email=email, user=user, open_count=open_count, action_form=EmptyForm()
    )


@bp.post("/users/<int:user_id>/end-sessions")
@login_required
def end_user_sessions(user_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = sessions.end_by_operator(tenancy.current(), current_user, user_id)
    flash(_("%(n)s session(s) fermée(s) ; l'utilisateur est prévenu par e-mail.", n=ended), "success")
    return redirect_to(url_for("operations.users_page", email=request.args.get("email", "")))
