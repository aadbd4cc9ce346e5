"""Errors of the API as RFC 9457 problem details, in the language the request asks for.

``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}`` served as
``application/problem+json``; ``errors`` lists each invalid field of a 422 once.
"""

from __future__ import annotations

from flask import Response, json, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.labels import N_

TYPE_BASE = "urn:vigie:problem:"  # an identifier, not a page: no documentation is served at it
TITLES = {
    400: _l("Requête invalide"),
    401: _l("Clé d'API absente ou invalide"),
    403: _l("Droit manquant"),
    404: _l("Introuvable"),
    405: _l("Méthode non permise"),
    406: _l("Format non disponible"),
    409: _l("Conflit"),
    412: _l("La ressource a changé"),
    413: _l("Requête trop volumineuse"),
    415: _l("Type de contenu non pris en charge"),
    422: _l("Données invalides"),
    428: _l("En-tête If-Match requis"),
    429: _l("Trop de requêtes"),
    500: _l("Erreur inattendue"),
}
# marshmallow's and webargs' messages, said in the reader's language.
FIELD_MESSAGES = {
    "Missing data for required field.": N_("Champ obligatoire."),
    "Not a valid integer.": N_("Un nombre entier est attendu."),
    "Not a valid number.": N_("Un nombre est attendu (12500 ou 12500.50)."),
    "Special numeric values (nan or infinity) are not permitted.": N_("Un nombre fini est attendu."),
    "Not a valid string.": N_("Un texte est attendu."),
    "Not a valid datetime.": N_("Une date et heure ISO 8601 est attendue (2026-12-01T08:00:00Z)."),
    "Not a valid aware datetime.": N_("Indiquez le fuseau horaire (2026-12-01T08:00:00Z ou +01:00)."),
    "Not a valid date.": N_("Une date ISO 8601 est attendue (2026-12-01)."),
    "Not a valid boolean.": N_("Vrai ou faux est attendu."),
    "Not a valid list.": N_("Une liste est attendue."),
    "Unknown field.": N_("Champ inconnu."),
    "Field may not be null.": N_("Ce champ ne peut pas être vide."),
    "Invalid input type.": N_("Type de donnée invalide."),
}


def missing_scope(scope: str) -> str:
    return _("Cette clé n'a pas le droit « %(scope)s ».", scope=scope)


def bad_key() -> str:
    return _(
        "Envoyez une clé d'API valide dans l'en-tête « Authorization: Bearer <clé> ». Une clé révoquée, expirée ou "
        "dont le créateur n'est plus propriétaire de l'entreprise ne fonctionne plus."
    )


def too_many() -> str:
    return _("Trop de requêtes pour cette clé : réessayez après le délai indiqué par Retry-After.")


def not_a_supplier() -> str:
    return _("Votre entreprise n'est pas fournisseur sur Vigie : elle n'a pas de dossier de documents.")


def siren_or_siret() -> str:
    return _("Indiquez le SIREN d'une entreprise sur Vigie, ou le SIRET d'une entreprise à inviter.")


def needed_to_invite() -> str:
    return _("Cette entreprise n'est pas sur Vigie : ce champ est nécessaire pour l'inviter.")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def response(status: int, detail: str | None = None, *, errors: list[dict] | None = None, headers=None) -> Response:
    body = {
        "type": f"{TYPE_BASE}{status}",
        "title": str(TITLES.get(status, _("Erreur"))),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    answer = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    answer.headers["Content-Language"] = str(get_locale() or "fr")
    for name, value in (headers or {}).items():
        answer.headers[name] = value
    return answer


def _message(text: str) -> str:
    known = FIELD_MESSAGES.get(text)
    if known:
        return _(known)
    return _(text)


def field_errors(messages) -> list[dict]:
    """webargs' ``{location: {field: [messages]}}`` (or a plain mapping) as one entry per field."""
    found: list[dict] = []

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            found.append({"field": path, "message": " ".join(_message(item) for item in value)})
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}[{index}]")
        else:
            found.append({"field": path, "message": _message(str(value))})

    if isinstance(messages, dict) and set(messages) <= {"query", "json", "form", "files", "headers", "view_args"}:
        for inner in messages.values():
            walk(inner, "")
    else:
        walk(messages, "")
    return found


def from_exception(error) -> Response:
    """An HTTPException raised in the API (by a view, webargs or Flask itself) as a problem."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = field_errors(data["messages"]) if "messages" in data else data.get("errors")
    detail = data.get("detail") or getattr(error, "explanation", None)
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return response(status, detail, errors=errors, headers=headers)
