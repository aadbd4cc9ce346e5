"""Notifications: « Mes préférences → Notifications », « Qui m'a invité ? », pauses, follow-ups."""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from portal.core import audit, tenancy
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.messaging import notices
from portal.notifications import follow_ups as follow_up_rules
from portal.notifications import inviters as inviter_rules
from portal.notifications import pauses as pause_rules
from portal.notifications import schedule
from portal.notifications.forms import CadenceForm, PauseDecisionForm, PauseRequestForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def _sides() -> set[str]:
    current = tenancy.current()
    sides = set()
    for membership in current.memberships:
        organisation = membership.organisation
        if organisation.is_supplier:
            sides.add("supplier")
        if organisation.is_client or organisation.is_agency or organisation.is_accounting_firm:
            sides.add("client")
    return sides or {"supplier", "client"}


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    errors: dict = {}
    chosen = notices.preferences_of(current_user)
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        sides = _sides()
        given = {
            kind.code: request.form.get(kind.code, chosen[kind.code]) for kind in notices.KINDS if kind.side in sides
        }
        try:
            changed = notices.save_preferences(current_user, given)
        except InvalidInput as exc:
            errors = exc.errors
            chosen = {**chosen, **given}
        else:
            if changed:
                audit.record("notifications.preferences_saved", user_id=current_user.id, changed=changed)
            db.session.commit()
            flash(_("Préférences enregistrées."), "success")
            return redirect_to(url_for("notifications.preferences"))
    return render(
        "notifications/preferences.html",
        kinds=[kind for kind in notices.KINDS if kind.side in _sides()],
        chosen=chosen,
        cadence_labels=notices.CADENCE_LABELS,
        errors=errors,
        planned=schedule.upcoming(current_user),
        digest_time=notices.digest_time(),
        form=EmptyForm(),
        status=422 if errors else 200,
    )


@bp.get("/inviters")
@login_required
def inviters():
    return render(
        "notifications/inviters.html",
        inviters=inviter_rules.of(tenancy.current()),
        reason_labels=pause_rules.REASON_LABELS,
        pause_labels=pause_rules.STATUS_LABELS,
        action_form=EmptyForm(),
    )


@bp.route("/inviters/<int:partnership_id>/pause", methods=["GET", "POST"])
@login_required
def ask_pause(partnership_id: int):
    current = tenancy.current()
    found = {i.partnership.id: i for i in inviter_rules.of(current)}.get(partnership_id)
    if found is None or found.partnership.status != "accepted":
        raise NotFound()
    form = PauseRequestForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
        else:
            try:
                pause_rules.ask(current, current_user, partnership_id, form.reason.data, form.comment.data)
            except InvalidInput as exc:
                exc.attach_to(form)
            else:
                flash(
                    _(
                        "Demande envoyée à %(client)s : vous serez prévenu de sa décision.",
                        client=found.company.legal_name,
                    ),
                    "success",
                )
                return redirect_to(url_for("notifications.inviters"))
    return render(
        "notifications/ask_pause.html",
        form=form,
        inviter=found,
        status=422 if form.errors else 200,
    )


@bp.post("/pauses/<int:pause_id>/cancel")
@login_required
def cancel_pause(pause_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        pause_rules.cancel(tenancy.current(), current_user, pause_id)
    except InvalidInput as exc:
        flash(str(exc.errors["pause"]), "warning")
    else:
        flash(_("Les relances de ce client reprennent."), "success")
    return redirect_to(url_for("notifications.inviters"))


@bp.get("/pauses")
@login_required
def pauses():
    return _pauses_page({})


def _pauses_page(forms: dict, status: int = 200):
    current = tenancy.current()
    rows = pause_rules.for_client(current)
    return render(
        "notifications/pauses.html",
        rows=rows,
        forms={
            pause.id: forms.get(pause.id) or PauseDecisionForm(formdata=None, prefix=f"p{pause.id}")
            for pause, *_ in rows
        },
        reason_labels=pause_rules.REASON_LABELS,
        pause_labels=pause_rules.STATUS_LABELS,
        status=status,
    )


@bp.post("/pauses/<int:pause_id>/decide")
@login_required
def decide_pause(pause_id: int):
    form = PauseDecisionForm(prefix=f"p{pause_id}")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            abort(400)
        return _pauses_page({pause_id: form}, 422)
    try:
        pause_rules.decide(
            tenancy.current(),
            current_user,
            pause_id,
            form.decision.data or "",
            until=form.until.data,
            answer=form.answer.data or "",
        )
    except InvalidInput as exc:
        exc.attach_to(form)
        return _pauses_page({pause_id: form}, 422)
    flash(_("Décision enregistrée : le fournisseur en est prévenu."), "success")
    return redirect_to(url_for("notifications.pauses"))


@bp.route("/follow-ups", methods=["GET", "POST"])
@login_required
def follow_ups():
    current = tenancy.current()
    form = CadenceForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            days = follow_up_rules.set_days(current, current_user, form.days.data or "")
        except InvalidInput as exc:
            exc.attach_to(form)
            status = 422
        else:
            flash(_("Relances : J+%(days)s.", days=", J+".join(map(str, days))), "success")
            return redirect_to(url_for("notifications.follow_ups"))
    else:
        form.days.data = ", ".join(map(str, follow_up_rules.days_of(current.organisation)))
    return render(
        "notifications/follow_ups.html",
        form=form,
        rows=follow_up_rules.of(current),
        action_form=EmptyForm(),
        status=status,
    )


@bp.post("/follow-ups/<int:follow_up_id>/stop")
@login_required
def stop_follow_up(follow_up_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    follow_up_rules.stop(tenancy.current(), current_user, follow_up_id)
    flash(_("Relances arrêtées pour cette invitation."), "success")
    return redirect_to(url_for("notifications.follow_ups"))


@bp.route("/decline/<token>", methods=["GET", "POST"])
def decline(token: str):
    """ "Je ne connais pas cette entreprise": no account needed, the signed link is enough."""
    invitation, inviter = follow_up_rules.invitation_to_decline(token)
    done = invitation.revoked_at is not None or invitation.accepted_at is not None
    if request.method == "POST" and not done:
        if not EmptyForm().validate_on_submit():
            abort(400)
        follow_up_rules.decline(token)
        return redirect_to(url_for("notifications.decline", token=token))
    return render_template(
        "notifications/decline.html", invitation=invitation, inviter=inviter, form=EmptyForm(), done=done
    )
