from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask

from portal.core import outbox
from portal.core.extensions import db
from portal.demo import corpus, seed
from portal.demo.seed import DEMO_PASSWORD, ROLE_LABELS
from portal.documents import precheck_report
from portal.documents import reading as document_reading
from portal.documents.catalogue import ensure_catalogue


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
    @click.option("--per-template", default=12, show_default=True)
    def generate_attestations_command(directory: Path, per_template: int) -> None:
        """Write the measuring corpus (other layouts, traps, hand-written expectations) and its manifest."""

        written = corpus.generate(directory, per_template)
        click.echo(f"{len(written)} attestations written to {directory}")

    @app.cli.command("precheck-report")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    def precheck_report_command(directory: Path) -> None:
        """Read every PDF of a corpus; print per type and fact how often it is right, wrong, unknown."""

        for line in precheck_report.lines(precheck_report.measure(directory)):
            click.echo(line)

    @app.cli.command("read-document")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--type", "type_code", default=None, help="The catalogue code the document is said to be.")
    @click.option("--siren", default=None, help="The company's SIREN: is it the document's subject?")
    @click.option("--name", default=None, help="The company's legal name.")
    def read_document_command(file: Path, type_code: str | None, siren: str | None, name: str | None) -> None:
        """Read one document (PDF, JPEG, PNG) and print what it says as one JSON object."""

        click.echo(
            json.dumps(document_reading.read_file(file.read_bytes(), type_code, siren, name), ensure_ascii=False)
        )

    @app.cli.command("storage-migrate")
    @click.option(
        "--to", "target_url", required=True, help="Where to copy the files: s3://bucket/prefix or file:///path."
    )
    def storage_migrate_command(target_url: str) -> None:
        """Copy every stored file to another storage (idempotent, resumable, each checksum verified).
        Then set STORAGE_URL to it and restart."""
        from portal.core import storage

        source = storage.storage()
        target = storage.from_url(target_url, Path(app.instance_path), app.config.get("S3_ENDPOINT_URL"))
        click.echo(f"From {source.describe()} to {target.describe()}")

        def progress(done: int, total: int, report: storage.MigrationReport) -> None:
            if done == total or done % 100 == 0:
                click.echo(
                    f"{done}/{total} files: {report.copied} copied, {report.already_there} already there, "
                    f"{len(report.failed)} failed"
                )

        report = storage.migrate(source, target, progress)
        for problem in report.failed:
            click.echo(f"FAILED {problem}", err=True)
        if report.failed:
            raise SystemExit(1)
        click.echo(f"Done. Now set STORAGE_URL={target_url} and restart the web and worker processes.")

    @app.cli.command("check-db")
    def check_db_command() -> None:
        """Exit non-zero if the database cannot be reached."""
        db.session.execute(db.text("SELECT 1"))
        click.echo("database ok")


def print_accounts() -> None:

    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for email, label in ROLE_LABELS.items():
        click.echo(f"  {email:<26} {label}")
