"""Error pages: a full page for browsers, a fragment shown in the flash area for htmx."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.core import problems, tenancy
from portal.core.extensions import db
from portal.core.htmx import wants_fragment

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Requête invalide"), _l("La requête n'a pas pu être comprise. Rechargez la page et réessayez.")),
    403: (_l("Accès refusé"), _l("Vous n'avez pas les droits nécessaires pour cette page ou cette action.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou ne vous est pas accessible.")),
    405: (_l("Action impossible"), _l("Cette action n'est pas possible à cette adresse.")),
    410: (_l("Fichier supprimé"), _l("Ce fichier n'existe plus.")),
    # Past the server's limit on a whole request; each form says its own, lower limit next to its field.
    413: (
        _l("Fichier trop volumineux"),
        _l(
            "Le fichier envoyé dépasse la limite de Vigie (10 Mo par document). Réduisez-le (un scan en 200 dpi "
            "suffit) ou découpez-le, puis choisissez-le à nouveau dans le formulaire."
        ),
    ),
    422: (_l("Données invalides"), _l("Certaines informations sont invalides. Corrigez-les et réessayez.")),
    429: (
        _l("Trop de tentatives"),
        _l("Trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez."),
    ),
    500: (
        _l("Erreur inattendue"),
        _l("Une erreur est survenue de notre côté. Elle a été enregistrée ; réessayez dans un instant."),
    ),
}
CSRF_MESSAGE = (
    _l("Session expirée"),
    _l("Votre formulaire a expiré (jeton de sécurité manquant ou périmé). Rechargez la page et recommencez."),
)


def render_error(status: int, title: str, text: str, back: str | None = None):
    """``back``: the page to go back to (the form a refused POST came from), instead of the home page.
    Under ``/api/`` the same error is a problem details document (``portal.core.problems``)."""
    if problems.is_api_request():
        return problems.response(status, text)
    if wants_fragment():
        body = render_template("errors/_error.html", status=status, title=title, text=text)
        return body, status, {"HX-Retarget": "#flash-area", "HX-Reswap": "innerHTML", "Vary": "HX-Request"}
    page = render_template("errors/error.html", status=status, title=title, text=text, back=back)
    return page, status, {"Vary": "HX-Request"}


def _form_page() -> str | None:
    """The URL of the form a POST came from, when the same address shows it (GET)."""
    if request.method != "POST":
        return None
    try:
        current_app.url_map.bind("", url_scheme=request.scheme).match(request.path, method="GET")
    except HTTPException:
        return None
    return request.path


STORAGE_MESSAGE = (
    _l("Fichier indisponible"),
    _l(
        "Ce fichier est introuvable ou endommagé dans le stockage de Vigie : il n'est pas envoyé. "
        "L'erreur est enregistrée ; prévenez le support si elle se répète."
    ),
)


def init_app(app: Flask) -> None:
    from portal.core.storage import CorruptFile

    @app.errorhandler(CorruptFile)
    def _corrupt(error: CorruptFile):
        log.error("stored file check failed: %s", error)
        return render_error(500, *STORAGE_MESSAGE)

    @app.errorhandler(CSRFError)
    def _csrf(_error):
        return render_error(400, *CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if problems.is_api_request():
            return problems.from_exception(error)
        title, text = MESSAGES.get(error.code or 500, (error.name, error.description))
        # A service may say precisely why (portal.core.exceptions.Refused).
        text = getattr(error, "explanation", None) or text
        back = _form_page() if error.code == 413 else None
        return render_error(error.code or 500, str(title), str(text), back)

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError):
        reference = secrets.token_hex(4).upper()
        original = getattr(error, "original_exception", None) or error
        log.error("unhandled error, reference %s: %s", reference, original, exc_info=original)
        title, text = MESSAGES[500]
        said = _("Référence de l’erreur : %(reference)s.", reference=reference)
        text = f"{text} {said}"
        if problems.is_api_request():
            db.session.rollback()
            return problems.response(500, text)
        try:
            _reload_shell()
            return render_error(500, str(title), text)
        except Exception:  # noqa: BLE001 - the error page must answer whatever broke (database down...)
            log.exception("error page failed, reference %s", reference)
            g.tenancy = None
            try:
                return render_error(500, str(title), text)
            except Exception:  # noqa: BLE001
                return f"<!doctype html><html lang=fr><title>{title}</title><h1>{title}</h1><p>{text}</p>", 500


def _reload_shell() -> None:
    """The layout reads the user's organisations: after the rollback they must be loaded again."""
    db.session.rollback()
    g.tenancy = tenancy.load(current_user.id) if current_user.is_authenticated else None
