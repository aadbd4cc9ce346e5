from __future__ import annotations

from flask import Blueprint, current_app, request, session, url_for
from flask_login import current_user

from portal.core import tenancy
from portal.core.extensions import db
from portal.core.forms import EmptyForm
from portal.core.htmx import local_target, redirect_to, render
from portal.main import dashboard
from portal.main import home as role_homes
from portal.main.forms import LanguageForm

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render("main/landing.html")
    current = tenancy.current()
    tab = dashboard.pending_tab(current)
    if dashboard.lands_on_firm_space(current, tab):
        return redirect_to(url_for("client_space.home"))
    return render(
        "main/dashboard.html",
        summary=dashboard.summary_for(current_user, current),
        home=role_homes.home_for(current, current_user),
        tab=tab,
        action_form=EmptyForm(),
    )


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
        if current_user.is_authenticated:
            current_user.language = form.language.data
            db.session.commit()
    return redirect_to(local_target(request.form.get("next"), url_for("main.home")))


@bp.get("/healthz")
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok", "queue": current_app.config["QUEUE_BACKEND"]}
