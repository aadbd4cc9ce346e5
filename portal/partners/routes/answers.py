"""What "Accepter" / "Refuser" answer in "Partenaires à confirmer" (the home page's pending tab)."""

from __future__ import annotations

from flask import flash, request, url_for

from portal.core import tenancy
from portal.core.forms import EmptyForm
from portal.core.htmx import local_target, redirect_to, render, wants_fragment
from portal.main import dashboard


def answered(current: tenancy.Tenancy, row_id: str, message: str):
    """After "Accepter" / "Refuser" in "Partenaires à confirmer": the row swapped in place with the
    count updated (htmx), or back to the home page (or the form's local ``next``) with the message."""
    if wants_fragment():
        return render(
            "main/dashboard.html",
            "partners/_decided.html",
            row_id=row_id,
            message=message,
            tab=dashboard.pending_tab(current),
            action_form=EmptyForm(),
        )
    flash(message, "success")
    # « Qui m'a invité ? » answers from its own page, and gets back there.
    return redirect_to(local_target(request.form.get("next"), url_for("main.home")))
