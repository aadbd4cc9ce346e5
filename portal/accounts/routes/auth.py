from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts import invitations, sessions, two_factor
from portal.accounts.forms import (
    ExistingAccountInvitationForm,
    ForgotPasswordForm,
    LoginForm,
    NewAccountInvitationForm,
    ResetPasswordForm,
    SecondFactorForm,
)
from portal.core import tokens
from portal.core.extensions import htmx, limiter
from portal.core.htmx import local_target, redirect_to, render
from portal.firm import folder_documents
from portal.models import User, normalise_email

bp = Blueprint("auth", __name__)

INVITATION_PROBLEMS = {
    "invalid": _l("Ce lien d'invitation n'est pas valide. Vérifiez que vous l'avez copié en entier."),
    "expired": _l("Ce lien d'invitation a expiré. Demandez à la personne qui vous a invité de vous le renvoyer."),
    "used": _l("Cette invitation a déjà été acceptée. Connectez-vous avec votre adresse e-mail."),
    "revoked": _l("Cette invitation a été annulée par l'organisation."),
}


def load_user(user_id: str) -> User | None:
    return sessions.load(user_id)


def unauthorized():
    target = url_for("auth.login", next=_current_path())
    if htmx:
        return redirect_to(target)
    flash(_("Connectez-vous pour accéder à cette page."), "info")
    return redirect(target, code=303)


def _current_path() -> str:
    if htmx and htmx.current_url:
        parts = urlsplit(htmx.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")


def _safe_next(target: str | None) -> str:
    return local_target(target, url_for("main.home"))


def _login_email_key() -> str:
    return "login-email:" + normalise_email(request.form.get("email", ""))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def _failed_login(response) -> bool:
    return response.status_code != 303 and "HX-Redirect" not in response.headers


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed_login, scope="login-ip")
@limiter.limit(
    _login_limit, methods=["POST"], key_func=_login_email_key, deduct_when=_failed_login, scope="login-email"
)
def login():
    if current_user.is_authenticated:
        return redirect_to(_safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = sessions.authenticate(form.email.data, form.password.data)
        if user is not None and user.two_factor_enabled and not two_factor.trusted_device(user):
            two_factor.begin(user, form.remember.data)
            return redirect_to(url_for("auth.second_factor", next=request.args.get("next")))
        if user is not None:
            sessions.log_in(user, remember=form.remember.data, second_factor=user.two_factor_enabled)
            return redirect_to(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Adresse e-mail ou mot de passe incorrect."))
        status = 422
    elif form.is_submitted():
        status = 422
    return render("auth/login.html", "auth/_login_form.html", form=form, status=status, **_demo_hint())


def _demo_hint() -> dict:
    """In development, every demo account and what it shows (from the demo seed itself)."""
    if current_app.config["VIGIE_ENV"] != "development":
        return {}
    from portal.dev import accounts

    return {"demo_accounts": accounts.ACCOUNT_HINTS, "demo_password": accounts.DEMO_PASSWORD}


def _pending_key() -> str:
    pending = two_factor.pending_user()
    return f"second-factor:{pending.id if pending else 'none'}"


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key, deduct_when=_failed_login, scope="second-factor")
def second_factor():
    """The second step of a login with 2FA: a code from the app, or a recovery code."""
    user = two_factor.pending_user()
    if user is None:
        flash(_("Reconnectez-vous : l'étape du mot de passe a expiré."), "info")
        return redirect_to(url_for("auth.login", next=request.args.get("next")))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        used = two_factor.verify(user, form.code.data)
        if used is not None:
            remember = two_factor.pending_remember()
            session.pop(two_factor.PENDING_KEY, None)
            sessions.log_in(user, remember=remember, second_factor=True)
            response = redirect_to(_safe_next(request.args.get("next")))
            if form.trust_device.data:
                response.set_cookie(
                    two_factor.DEVICE_COOKIE,
                    two_factor.device_token(user),
                    max_age=two_factor.DEVICE_DAYS * 24 * 3600,
                    secure=current_app.config["SESSION_COOKIE_SECURE"],
                    httponly=True,
                    samesite="Lax",
                )
            if used == "recovery":
                flash(
                    _(
                        "Code de secours utilisé : il ne marchera plus. Il vous en reste %(n)s.",
                        n=len(user.recovery_codes),
                    ),
                    "warning",
                )
            return response
        form.code.errors.append(_("Code incorrect ou déjà utilisé."))
        status = 422
    elif form.is_submitted():
        status = 422
    return render("auth/second_factor.html", "auth/_second_factor_form.html", form=form, status=status)


@bp.post("/logout")
@login_required
def logout():
    sessions.log_out(current_user._get_current_object())
    flash(_("Vous êtes déconnecté. À bientôt !"), "success")
    return redirect_to(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], scope="password-forgot")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        sessions.request_password_reset(form.email.data)
        return render("auth/forgot_sent.html", "auth/_forgot_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() else 200
    return render("auth/forgot.html", "auth/_forgot_form.html", form=form, status=status)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        sessions.user_for_reset(token)
    except tokens.InvalidToken as exc:
        problem = "expired" if exc.expired else "invalid"
        return render("auth/link_problem.html", problem=problem, kind="reset", status=410 if exc.expired else 404)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        sessions.reset_password(token, form.password.data)
        flash(_("Votre mot de passe a été changé. Connectez-vous avec le nouveau."), "success")
        return redirect_to(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render("auth/reset.html", "auth/_reset_form.html", form=form, token=token, status=status)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation, existing = invitations.invitation_for(token)
    except invitations.InvitationError as exc:
        text = INVITATION_PROBLEMS[exc.reason]
        return render("auth/link_problem.html", problem=exc.reason, text=text, kind="invitation", status=410)
    form = ExistingAccountInvitationForm() if existing else NewAccountInvitationForm()
    if not form.is_submitted() and not existing:
        form.first_name.data = form.first_name.data or invitation.first_name
        form.last_name.data = form.last_name.data or invitation.last_name
    if form.validate_on_submit():
        try:
            invitations.accept_invitation(
                token,
                form.password.data,
                first_name=getattr(form, "first_name", None) and form.first_name.data or "",
                last_name=getattr(form, "last_name", None) and form.last_name.data or "",
            )
        except invitations.InvitationError:
            form.password.errors.append(_("Mot de passe incorrect pour ce compte."))
        else:
            flash(_("Bienvenue chez %(name)s !", name=invitation.organisation.legal_name), "success")
            if folder_documents.has_space(invitation.organisation_id):
                return redirect_to(url_for("client_space.home"))
            return redirect_to(url_for("main.home"))
    status = 422 if form.is_submitted() else 200
    return render(
        "auth/invitation.html",
        "auth/_invitation_form.html",
        form=form,
        invitation=invitation,
        existing=existing,
        token=token,
        status=status,
    )
