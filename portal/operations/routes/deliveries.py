from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.core.validators import page_number
from portal.messaging import deliveries, notifications
from portal.operations.routes.blueprints import bp

STATUS_FILTERS = ("queued", "sent", "delivered", "failed", "unknown")


@bp.get("/deliveries")
@login_required
def deliveries_page():
    status = request.args.get("status")
    status = status if status in STATUS_FILTERS else None
    pagination = deliveries.page(tenancy.current(), status=status, page=request.args.get("page", 1, type=page_number))
    return render(
        "operations/deliveries.html",
        "operations/_deliveries_table.html",
        pagination=pagination,
        status_filter=status,
        action_form=EmptyForm(),
    )


@bp.post("/deliveries/<int:message_id>/retry")
@login_required
def retry_delivery(message_id: int):
    tenancy.current().require_operator()
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        notifications.retry(
            message_id, actor_id=current_user.id, risk_duplicate=request.form.get("risk_duplicate") == "1"
        )
    except ValueError:
        flash(
            _(
                "Ce message n'est pas en échec, ou son issue est inconnue et le risque de doublon "
                "n'a pas été accepté : rien n'est renvoyé."
            ),
            "warning",
        )
    else:
        flash(_("Le message sera renvoyé dans quelques instants."), "success")
    return redirect_to(url_for("operations.deliveries_page", status=request.args.get("status")))
