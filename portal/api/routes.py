"""Paramètres → API: an owner creates, lists and revokes his company's keys, and registers webhooks."""

from __future__ import annotations

from flask import Blueprint, abort, flash, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.api import keys, webhook_endpoints
from portal.api.forms import ApiKeyForm, WebhookForm
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
        last_day=keys.last_day,
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


NEW_WEBHOOK = "vigie_new_webhook"


@bp.route("/webhooks", methods=["GET", "POST"])
@login_required
def webhooks():
    current = tenancy.current()
    endpoints = webhook_endpoints.listed(current)  # owners only
    form = WebhookForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                endpoint, secret = webhook_endpoints.create(
                    current, current_user, url=form.url.data, events=form.events.data
                )
            except InvalidInput as exc:
                exc.attach_to(form)
            else:
                session[NEW_WEBHOOK] = {"id": endpoint.id, "secret": secret}
                return redirect_to(url_for("api_keys.webhooks"))
        status = 422
    return render(
        "api/webhooks.html",
        "api/_webhook_form.html",
        endpoints=endpoints,
        form=form,
        action_form=EmptyForm(),
        new_webhook=session.pop(NEW_WEBHOOK, None),
        event_labels=webhook_endpoints.EVENT_LABELS,
        status=status,
    )


@bp.get("/webhooks/<int:endpoint_id>")
@login_required
def webhook_log(endpoint_id: int):
    endpoint, rows = webhook_endpoints.log(tenancy.current(), endpoint_id)
    return render(
        "api/webhook_log.html",
        hook=endpoint,  # not "endpoint": the layout names the request's endpoint so
        rows=rows,
        action_form=EmptyForm(),
        event_labels=webhook_endpoints.EVENT_LABELS,
    )


@bp.post("/webhooks/<int:endpoint_id>/<any(on, off):state>")
@login_required
def webhook_switch(endpoint_id: int, state: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    webhook_endpoints.switch(tenancy.current(), current_user, endpoint_id, state == "on")
    flash(
        _("Adresse réactivée.") if state == "on" else _("Adresse désactivée : plus rien ne lui est envoyé."), "success"
    )
    return redirect_to(url_for("api_keys.webhook_log", endpoint_id=endpoint_id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
@login_required
def webhook_resend(delivery_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    current = tenancy.current()
    _delivery, endpoint = webhook_endpoints.delivery_of(current, delivery_id)  # 404 outside the company
    try:
        webhook_endpoints.resend(current, current_user, delivery_id)
    except InvalidInput as exc:
        flash(str(exc.errors["delivery"]), "warning")
    else:
        flash(_("Notification renvoyée : son résultat s'affiche dans le journal."), "success")
    return redirect_to(url_for("api_keys.webhook_log", endpoint_id=endpoint.id))
