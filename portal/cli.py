from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from portal.core import outbox
from portal.core.extensions import db
from portal.demo import samples, seed
from portal.demo.seed import DEMO_PASSWORD, ROLE_LABELS
from portal.documents.catalogue import ensure_catalogue
from portal.documents.precheck_report import measure


def init_app(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no organisation yet.")
    def seed_demo_command(if_empty: bool) -> None:
        """Create (or bring up to date) the demo world."""

        if if_empty and not seed.is_empty():
            click.echo("Database already has data: demo seed skipped.")
        else:
            seed.seed_demo(with_crowd=True, with_contracts=True, with_firm=True, with_platforms=True)
            click.echo("Demo world ready.")
        print_accounts()

    @app.cli.command("demo-accounts")
    def demo_accounts_command() -> None:
        """Print the demo accounts."""
        print_accounts()

    @app.cli.command("sweep-outbox")
    def sweep_outbox_command() -> None:
        """Push outbox rows that were left behind (also done every 15 s by workers)."""

        click.echo(f"{outbox.sweep()} row(s) pushed.")

    @app.cli.command("seed-catalogue")
    def seed_catalogue_command() -> None:
        """Insert the document types and refusal reasons that are missing (never overwrites edits)."""

        ensure_catalogue()
        click.echo("Catalogue ready.")

    @app.cli.command("generate-attestations")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--count", default=60, show_default=True)
    def generate_attestations_command(directory: Path, count: int) -> None:
        """Write realistic sample attestations (URSSAF, MSA, Kbis, insurance) and their manifest."""

        written = samples.generate(directory, count)
        click.echo(f"{len(written)} attestations written to {directory}")

    @app.cli.command("precheck-report")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    def precheck_report_command(directory: Path) -> None:
        """Run the pre-checks over a folder of PDFs; print per type the share of facts found."""

        report = measure(directory)
        click.echo(f"{'type':<18} {'files':>5} {'SIREN':>7} {'date':>7} {'validity':>9} {'code':>7}")
        for type_code, row in report.items():
            code = f"{row['verification_code']:.0%}" if "verification_code" in row else "—"
            click.echo(
                f"{type_code:<18} {row['files']:>5} {row['siren']:>7.0%} {row['certified_date']:>7.0%}"
                f" {row['validity']:>9.0%} {code:>7}"
            )
        total = sum(row["files"] for row in report.values())
        for fact in ("siren", "certified_date", "validity"):
            share = sum(row[fact] * row["files"] for row in report.values()) / max(total, 1)
            click.echo(f"overall {fact}: {share:.1%}")

    @app.cli.command("check-db")
    def check_db_command() -> None:
        """Exit non-zero if the database cannot be reached."""
        db.session.execute(db.text("SELECT 1"))
        click.echo("database ok")


def print_accounts() -> None:

    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for email, label in ROLE_LABELS.items():
        click.echo(f"  {email:<26} {label}")
