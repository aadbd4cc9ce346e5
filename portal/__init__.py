"""Vigie: keep compliance files up to date, and let partners check them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, g, session
from flask_login import current_user

from portal import config as config_module

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
    register_blueprints(app)
    register_request_hooks(app)
    from portal import cli, errors

    errors.init_app(app)
    cli.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import queue, storage
    from portal.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

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
    queue.init_app(app)
    storage.init_app(app)

    from portal.auth.routes import load_user, unauthorized

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
    if current_user and current_user.is_authenticated:
        return current_user.language
    return session.get("language", "fr")


def register_blueprints(app: Flask) -> None:
    from portal.auth import bp as auth_bp
    from portal.client_space import bp as client_space_bp
    from portal.clients import bp as clients_bp
    from portal.contracts import bp as contracts_bp
    from portal.dev import bp as dev_bp
    from portal.documents import bp as documents_bp
    from portal.employee_space import bp as employee_space_bp
    from portal.firm import bp as firm_bp
    from portal.linked import bp as linked_bp
    from portal.main import bp as main_bp
    from portal.operations import bp as operations_bp
    from portal.organisations import bp as organisations_bp
    from portal.partners import bp as partners_bp
    from portal.webhooks import bp as webhooks_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(organisations_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(partners_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(firm_bp)
    app.register_blueprint(client_space_bp)
    app.register_blueprint(linked_bp)
    app.register_blueprint(contracts_bp)
    app.register_blueprint(employee_space_bp)
    app.register_blueprint(operations_bp)
    app.register_blueprint(webhooks_bp)
    if app.config["VIGIE_ENV"] == "development":
        app.register_blueprint(dev_bp)


def register_request_hooks(app: Flask) -> None:
    from portal.services import tenancy

    @app.before_request
    def _load_tenancy():
        g.tenancy = None
        if current_user.is_authenticated:
            g.tenancy = tenancy.load(current_user.id)

    from portal import labels

    @app.context_processor
    def _shell():
        return {"tenancy": g.get("tenancy"), "dev_mode": app.config["VIGIE_ENV"] == "development"}

    app.jinja_env.globals.update(labels.template_globals())
    app.jinja_env.filters["fromisodate"] = labels.from_iso_date
