"""Paramètres → API: an owner creates, lists and revokes his company's keys."""

from __future__ import annotations

from flask import Blueprint, abort, flash, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.api import keys
from portal.api.forms import ApiKeyForm
from portal.core import clock, tenancy
from portal.core.exceptions import InvalidInput
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render

bp = Blueprint("api_keys", __name__, url_prefix="/settings/api")
NEW_KEY = "vigie_new_api_key"  # the secret, kept until the page that shows it once


@bp.route("", methods=["GET", "POST"])
@login_required
def page():
    current = tenancy.current()
    listed = keys.listed(current)  # owners only (403 otherwise)
    form = ApiKeyForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                key, secret = keys.create(
                    current, current_user, name=form.name.data, scopes=form.scopes.data, expires_on=form.expires_on.data
                )
            except InvalidInput as exc:
                exc.attach_to(form)
            else:
                session[NEW_KEY] = {"id": key.id, "secret": secret}
                return redirect_to(url_for("api_keys.page"))
        status = 422
    shown = session.pop(NEW_KEY, None)
    return render(
        "api/keys.html",
        "api/_key_form.html",
        keys=listed,
        form=form,
        action_form=EmptyForm(),
        new_key=shown,
        scope_labels=keys.SCOPE_LABELS,
        now=clock.stored_now(),
        status=status,
    )


@bp.post("/<int:key_id>/revoke")
@login_required
def revoke(key_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    key = keys.revoke(tenancy.current(), current_user, key_id)
    flash(_("Clé « %(name)s » révoquée : elle ne fonctionne plus.", name=key.name), "success")
    return redirect_to(url_for("api_keys.page"))
