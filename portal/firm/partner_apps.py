"""Partner apps ("applications partenaires"): a small catalogue a firm picks from.

A *redirection* app is a link (name, URL) the executive may see on his home page. An
*automation* app needs settings, at the firm (an SFTP host, login and password) and per client
(a collection address). Secret settings are sealed with ``portal.core.secrets`` and never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from werkzeug.exceptions import NotFound

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.secrets import names_set, open_sealed, seal
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.firm import access
from portal.models import ClientApp, PartnerApp, User


@dataclass(frozen=True)
class Setting:
    name: str
    label: object
    secret: bool = False
    email: bool = False


@dataclass(frozen=True)
class CatalogueApp:
    key: str
    name: str
    kind: str  # "redirection" or "automation"
    description: object
    url: str = ""
    firm_settings: tuple[Setting, ...] = ()
    client_settings: tuple[Setting, ...] = ()


CATALOGUE = (
    CatalogueApp(
        "impots",
        "impots.gouv — Espace professionnel",
        "redirection",
        _l("Lien vers l'espace professionnel des impôts."),
        url="https://cfspro.impots.gouv.fr",
    ),
    CatalogueApp(
        "urssaf",
        "Urssaf — Mon espace",
        "redirection",
        _l("Lien vers l'espace en ligne de l'Urssaf."),
        url="https://www.urssaf.fr",
    ),
    CatalogueApp(
        "collecte",
        "Collecte de factures par e-mail",
        "automation",
        _l("Les factures reçues à une adresse de collecte sont classées dans le dossier du client."),
        client_settings=(Setting("collection_email", _l("Adresse de collecte"), email=True),),
    ),
    CatalogueApp(
        "sftp",
        "Dépôt SFTP des pièces",
        "automation",
        _l("Les pièces du client sont déposées chaque nuit sur le serveur SFTP du cabinet."),
        firm_settings=(
            Setting("host", _l("Serveur SFTP")),
            Setting("login", _l("Identifiant")),
            Setting("password", _l("Mot de passe"), secret=True),
        ),
        client_settings=(Setting("remote_folder", _l("Répertoire distant")),),
    ),
)
BY_KEY = {app.key: app for app in CATALOGUE}


@dataclass(frozen=True)
class AppView:
    app: CatalogueApp
    enabled: PartnerApp | None
    secrets_set: frozenset


def catalogue_of(firm_id: int) -> list[AppView]:
    enabled = {a.app_key: a for a in db.session.scalars(select(PartnerApp).where(PartnerApp.firm_id == firm_id))}
    return [
        AppView(app, enabled.get(app.key), frozenset(names_set(enabled[app.key].secrets) if app.key in enabled else ()))
        for app in CATALOGUE
    ]


def enabled_apps(firm_id: int) -> list[PartnerApp]:
    return list(db.session.scalars(select(PartnerApp).where(PartnerApp.firm_id == firm_id).order_by(PartnerApp.id)))


def _url(value: str) -> str:
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput({"url": _l("Indiquez une adresse web complète, commençant par https://.")})
    return value.strip()


def _settings(fields: tuple[Setting, ...], values: dict, prefix: str, kept_secrets: set[str]) -> tuple[dict, dict]:
    """Plain and secret settings from a form; a secret left blank keeps the one already set."""
    plain, secret, errors = {}, {}, {}
    for field in fields:
        value = (values.get(f"{prefix}{field.name}") or "").strip()
        if field.secret:
            if value:
                secret[field.name] = value
            elif field.name not in kept_secrets:
                errors[f"{prefix}{field.name}"] = _l("Ce champ est obligatoire.")
            continue
        if not value:
            errors[f"{prefix}{field.name}"] = _l("Ce champ est obligatoire.")
        elif field.email:
            try:
                value = checked_email(value)
            except ValueError:
                errors[f"{prefix}{field.name}"] = _l("Cette adresse e-mail n'est pas valide.")
        plain[field.name] = value
    if errors:
        raise InvalidInput(errors)
    return plain, secret


def enable(tenancy: Tenancy, actor: User, app_key: str, values: dict) -> PartnerApp:
    access.require_admin(tenancy)
    app = BY_KEY.get(app_key)
    if app is None:
        raise NotFound()
    existing = db.session.scalar(
        select(PartnerApp).where(PartnerApp.firm_id == tenancy.organisation.id, PartnerApp.app_key == app_key)
    )
    kept = names_set(existing.secrets) if existing else set()
    name = (values.get("name") or app.name).strip()[:100]
    url = _url(values.get("url") or app.url) if app.kind == "redirection" else ""
    plain, secret = _settings(app.firm_settings, values, "", kept)
    if existing is None:
        existing = PartnerApp(firm_id=tenancy.organisation.id, app_key=app_key)
        db.session.add(existing)
    if secret or not kept:
        existing.secrets = seal({**open_sealed(existing.secrets), **secret})
    existing.name, existing.url, existing.settings = name, url, plain
    db.session.flush()
    audit.record(
        "partner_app.enabled",
        user_id=actor.id,
        organisation_id=tenancy.organisation.id,
        app=app_key,
        secrets=sorted(secret),
    )
    db.session.commit()
    return existing


def disable(tenancy: Tenancy, actor: User, app_key: str) -> None:
    access.require_admin(tenancy)
    existing = db.session.scalar(
        select(PartnerApp).where(PartnerApp.firm_id == tenancy.organisation.id, PartnerApp.app_key == app_key)
    )
    if existing is None:
        raise NotFound()
    db.session.execute(delete(ClientApp).where(ClientApp.app_id == existing.id))
    db.session.delete(existing)
    audit.record("partner_app.disabled", user_id=actor.id, organisation_id=tenancy.organisation.id, app=app_key)
    db.session.commit()


def client_choices(apps: list[PartnerApp], values: dict) -> list[dict]:
    """The apps authorised for one client, from the wizard's or the settings' form.

    Returns plain dicts (kept in a draft as they are): app id, on_home, settings, secrets."""
    chosen, errors = [], {}
    for app in apps:
        if not values.get(f"app_{app.id}"):
            continue
        spec = BY_KEY.get(app.app_key)
        try:
            plain, secret = _settings(spec.client_settings if spec else (), values, f"app_{app.id}_", set())
        except InvalidInput as exc:
            errors.update(exc.errors)
            continue
        chosen.append(
            {
                "app_id": app.id,
                "on_home": bool(values.get(f"app_{app.id}_home")) and app.url != "",
                "settings": plain,
                "secrets": seal(secret),
            }
        )
    if errors:
        raise InvalidInput(errors)
    return chosen


def save_client_apps(client_file_id: int, chosen: list[dict]) -> None:
    """Replace the client's apps (caller commits)."""
    db.session.execute(delete(ClientApp).where(ClientApp.client_file_id == client_file_id))
    for choice in chosen:
        db.session.add(ClientApp(client_file_id=client_file_id, **choice))


def apps_of_client(client_file_id: int) -> list[ClientApp]:
    from sqlalchemy.orm import contains_eager

    return list(
        db.session.scalars(
            select(ClientApp)
            .join(ClientApp.app)
            .options(contains_eager(ClientApp.app))
            .where(ClientApp.client_file_id == client_file_id)
            .order_by(PartnerApp.id)
        )
    )
