"""Vigie: keep compliance files up to date, and let partners check them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, g, request, session, url_for
from flask_login import current_user

from portal.core import config as config_module
from portal.core import request_input

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    instance_path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("VIGIE_INSTANCE_PATH") or app.instance_path
    app.instance_path = instance_path
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.load(instance_path))
    app.config.update(overrides or {})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    register_extensions(app)
    request_input.init_app(app)
    register_blueprints(app)
    register_request_hooks(app)
    from portal import cli
    from portal.core import errors

    errors.init_app(app)
    cli.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal.core import queue, storage
    from portal.core.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
    from portal.tasks import TASKS

    db.init_app(app)
    _tune_sqlite(app, db)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=_locale, timezone_selector=lambda: "Europe/Paris")
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    queue.init_app(app, TASKS)
    storage.init_app(app)

    from portal.accounts.routes.auth import load_user, unauthorized

    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


def _tune_sqlite(app: Flask, db) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def _locale() -> str:
    if request.path.startswith("/api/"):  # machines say their language in each request
        return request.accept_languages.best_match(("fr", "en")) or "fr"
    if current_user and current_user.is_authenticated:
        return current_user.language
    return session.get("language", "fr")


def register_blueprints(app: Flask) -> None:
    from portal.accounts import routes as accounts
    from portal.contracts import routes as contracts
    from portal.dev import routes as dev
    from portal.documents import routes as documents
    from portal.firm import routes as firm
    from portal.main import routes as main
    from portal.notifications import routes as notifications
    from portal.operations import routes as operations
    from portal.partners import routes as partners
    from portal.platforms import routes as platforms
    from portal.webhooks import routes as webhooks

    for blueprints in (
        (main.bp,),
        accounts.BLUEPRINTS,
        (platforms.bp,),
        documents.BLUEPRINTS,
        partners.BLUEPRINTS,
        firm.BLUEPRINTS,
        contracts.BLUEPRINTS,
        operations.BLUEPRINTS,
        (notifications.bp,),
        (webhooks.bp,),
    ):
        for blueprint in blueprints:
            app.register_blueprint(blueprint)
    if app.config["VIGIE_ENV"] == "development":
        app.register_blueprint(dev.bp)
    from portal.api import routes as api_routes
    from portal.api import v1

    app.register_blueprint(api_routes.bp)
    v1.init_app(app)


def register_request_hooks(app: Flask) -> None:
    from portal.accounts import two_factor
    from portal.core import tenancy

    @app.before_request
    def _load_tenancy():
        g.tenancy = None
        g.two_factor_missing = False
        if current_user.is_authenticated:
            g.tenancy = tenancy.load(current_user.id)
            memberships = g.tenancy.memberships if g.tenancy else []
            g.two_factor_missing = two_factor.missing_for_operator(current_user, memberships)
            if (
                g.two_factor_missing
                and app.config["VIGIE_ENV"] == "production"
                and request.endpoint not in two_factor.OPEN_ENDPOINTS
            ):
                from portal.core.htmx import redirect_to

                return redirect_to(url_for("security.setup"))
        return None

    from portal.core import labels

    @app.context_processor
    def _shell():
        return {
            "tenancy": g.get("tenancy"),
            "dev_mode": app.config["VIGIE_ENV"] == "development",
            "two_factor_missing": g.get("two_factor_missing", False),
        }

    app.jinja_env.globals.update(labels.template_globals())
    app.jinja_env.filters.update(labels.template_filters())
    from portal.documents import warning_text

    app.jinja_env.filters["warning"] = warning_text.shown
