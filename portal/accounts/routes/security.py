"""« Sécurité du compte »: password, two-factor authentication, open sessions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts import sessions, two_factor
from portal.accounts.forms import ChangePasswordForm, DisableTwoFactorForm, EnableTwoFactorForm, RenewCodesForm
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render

bp = Blueprint("security", __name__, url_prefix="/account")

WRONG_CODE = _l("Code incorrect ou déjà utilisé : tapez le code affiché maintenant par votre application.")


def _page(status: int = 200, **forms):
    user = current_user._get_current_object()
    return render(
        "auth/security.html",
        password_form=forms.get("password_form") or ChangePasswordForm(),
        disable_form=forms.get("disable_form") or DisableTwoFactorForm(),
        renew_form=forms.get("renew_form") or RenewCodesForm(),
        action_form=EmptyForm(),
        open_sessions=sessions.open_sessions(user.id),
        this_session=user.session_row.id if user.session_row else None,
        status=status,
    )


@bp.get("/security")
@login_required
def page():
    return _page()


@bp.post("/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = sessions.change_password(current_user._get_current_object(), form.current.data, form.password.data)
        except sessions.WrongPassword:
            form.current.errors.append(_("Mot de passe incorrect."))
        else:
            flash(_("Mot de passe changé. Vos autres sessions (%(n)s) sont fermées.", n=ended), "success")
            return redirect_to(url_for("security.page"))
    return _page(422, password_form=form)


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = sessions.end_others(current_user._get_current_object())
    flash(_("Vos autres sessions sont fermées (%(n)s).", n=ended), "success")
    return redirect_to(url_for("security.page"))


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@login_required
def setup():
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        return redirect_to(url_for("security.page"))
    secret = two_factor.setup_secret()
    form = EnableTwoFactorForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = two_factor.enable(user, form.code.data)
        except two_factor.WrongCode:
            form.code.errors.append(WRONG_CODE)
        else:
            return render("auth/recovery_codes.html", codes=codes, first_time=True)
        status = 422
    elif form.is_submitted():
        status = 422
    return render("auth/two_factor_setup.html", form=form, secret=secret, status=status)


@bp.get("/two-factor/qr.png")
@login_required
def qr():
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        abort(404)
    image = two_factor.qr_png(two_factor.provisioning_uri(user, two_factor.setup_secret()))
    return image, 200, {"Content-Type": "image/png", "Cache-Control": "no-store"}


@bp.post("/two-factor/disable")
@login_required
def disable():
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.disable(current_user._get_current_object(), form.password.data, form.code.data)
        except sessions.WrongPassword:
            form.password.errors.append(_("Mot de passe incorrect."))
        except two_factor.WrongCode:
            form.code.errors.append(WRONG_CODE)
        else:
            flash(_("Double authentification désactivée."), "success")
            return redirect_to(url_for("security.page"))
    return _page(422, disable_form=form)


@bp.post("/two-factor/recovery-codes")
@login_required
def renew_codes():
    form = RenewCodesForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.renew_recovery_codes(current_user._get_current_object(), form.code.data)
        except two_factor.WrongCode:
            form.code.errors.append(WRONG_CODE)
        else:
            return render("auth/recovery_codes.html", codes=codes, first_time=False)
    return _page(422, renew_form=form)
