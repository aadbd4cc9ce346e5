from __future__ import annotations

import click
from flask import Flask

from portal.extensions import db


def init_app(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no organisation yet.")
    def seed_demo_command(if_empty: bool) -> None:
        """Create (or bring up to date) the demo world."""
        from portal import seed

        if if_empty and not seed.is_empty():
            click.echo("Database already has data: demo seed skipped.")
        else:
            seed.seed_demo()
            click.echo("Demo world ready.")
        print_accounts()

    @app.cli.command("demo-accounts")
    def demo_accounts_command() -> None:
        """Print the demo accounts."""
        print_accounts()

    @app.cli.command("sweep-outbox")
    def sweep_outbox_command() -> None:
        """Push outbox rows that were left behind (also done every 15 s by workers)."""
        from portal.services import outbox

        click.echo(f"{outbox.sweep()} row(s) pushed.")

    @app.cli.command("check-db")
    def check_db_command() -> None:
        """Exit non-zero if the database cannot be reached."""
        db.session.execute(db.text("SELECT 1"))
        click.echo("database ok")


def print_accounts() -> None:
    from portal.seed import DEMO_PASSWORD, ROLE_LABELS

    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for email, label in ROLE_LABELS.items():
        click.echo(f"  {email:<26} {label}")
