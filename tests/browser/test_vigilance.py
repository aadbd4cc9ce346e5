"""The duty of vigilance in a real Chromium: Constructor SA records an engagement with Menuiserie
Martin and sees a red checkpoint (its URSSAF attestation has expired, its foreign-worker list was
refused); Martin sends both, an operator validates them, the checkpoint turns green, and
Constructor downloads the proof file."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.core import clock
from portal.core.extensions import db
from tests.support.browser import log_in, log_out
from tests.support.documents import pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _operator_validates_what_was_sent(app) -> None:
    """The operator's decision (his pages are tested in test_documents; he logs in with 2FA)."""
    from portal.core.tenancy import Tenancy
    from portal.documents import review
    from portal.models import Document, DocumentType, DocumentVersion, Membership, User

    with app.test_request_context():
        operator = db.session.scalar(select(User).where(User.email == "operateur@vigie.test"))
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == operator.id).options(joinedload(Membership.organisation))
        )
        sent = db.session.scalars(
            select(DocumentVersion.id)
            .join(Document, Document.id == DocumentVersion.document_id)
            .join(DocumentType, DocumentType.id == Document.document_type_id)
            .where(DocumentType.code.in_(("URSSAF_VIGILANCE", "LNTE")), DocumentVersion.status == "submitted")
        ).all()
        assert len(sent) == 2
        for version_id in sent:
            review.validate(Tenancy(membership=membership, memberships=[membership]), operator, version_id, None)
        db.session.remove()


def test_a_red_checkpoint_turns_green_and_the_proof_file_is_downloaded(page, check, live_server):
    base, app = live_server
    log_in(page, "fournisseur@vigie.test")
    page.locator("#pending-partners").get_by_role("button", name="Accepter Constructor SA").click()
    expect(page.locator("#pending-partners")).to_contain_text("Vous avez accepté la demande de Constructor SA.")
    log_out(page)

    log_in(page, "constructor@vigie.test")
    page.get_by_role("link", name="Mes partenaires").first.click()
    page.get_by_role("link", name="Menuiserie Martin").first.click()
    section = page.locator("#vigilance")
    expect(section).to_contain_text("Aucun engagement enregistré avec ce fournisseur.")
    form = page.locator("#engagement-form")
    form.get_by_role("button", name="Enregistrer l'engagement").click()
    expect(form.locator(".field-error").first).to_contain_text("Indiquez la référence du contrat ou de la commande.")
    form.get_by_label("Référence du contrat ou de la commande").fill("MARCHE-2026-31")
    form.get_by_label("Montant HT (€)").fill("48 000")
    form.get_by_label("Date de conclusion").fill(clock.today().isoformat())
    form.get_by_role("button", name="Enregistrer l'engagement").click()
    checkpoint = page.locator(f"[id^='checkpoint-'][id$='-{clock.today().isoformat()}']")
    expect(checkpoint).to_have_class("checkpoint checkpoint-missed")
    expect(checkpoint).to_contain_text("En défaut")
    expect(checkpoint).to_contain_text("non détenu à cette date")
    check.accessible(page)
    check.screenshot(page, "vigilance-red-checkpoint")
    log_out(page)

    log_in(page, "fournisseur@vigie.test")
    page.get_by_role("link", name="Mes documents", exact=True).click()
    item = page.locator("#pending-URSSAF_VIGILANCE")
    expect(item).to_contain_text("Obligation légale")
    expect(item).to_contain_text("art. D8222-5 1° du Code du travail")
    item.get_by_role("link", name="Mettre à jour").click()
    issued = clock.today() - timedelta(days=5)
    upload_form = page.locator("#pending-URSSAF_VIGILANCE form")
    upload_form.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)").set_input_files(
        files=[{"name": "urssaf.pdf", "mimeType": "application/pdf", "buffer": pdf("URSSAF_VIGILANCE", issued)}]
    )
    upload_form.get_by_label("Date du document").fill(issued.isoformat())
    upload_form.get_by_label("Code de vérification").fill("ABCDEFGHJKLMNPQ")
    upload_form.get_by_role("button", name="Envoyer le document").click()
    expect(page.locator("#pending-URSSAF_VIGILANCE")).to_contain_text("en cours de vérification")
    lnte = page.locator("#pending-LNTE")  # refused in the demo: the other gap of the checkpoint
    lnte.get_by_role("link", name="Mettre à jour").click()
    lnte_form = page.locator("#pending-LNTE form")
    lnte_form.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)").set_input_files(
        files=[{"name": "lnte.pdf", "mimeType": "application/pdf", "buffer": pdf("LNTE", issued)}]
    )
    lnte_form.get_by_label("Date du document").fill(issued.isoformat())
    lnte_form.get_by_role("button", name="Envoyer le document").click()
    expect(page.locator("#pending-LNTE")).to_contain_text("En cours de vérification")
    log_out(page)

    _operator_validates_what_was_sent(app)
    log_in(page, "constructor@vigie.test")
    page.get_by_role("link", name="Mes partenaires").first.click()
    page.get_by_role("link", name="Menuiserie Martin").first.click()
    checkpoint = page.locator(f"[id^='checkpoint-'][id$='-{clock.today().isoformat()}']")
    expect(checkpoint).to_have_class("checkpoint checkpoint-met")
    expect(checkpoint).to_contain_text("Respectée")
    expect(checkpoint).to_contain_text("code ABCDEFGHJKLMNPQ")
    check.accessible(page)
    check.screenshot(page, "vigilance-green-checkpoint")

    page.locator("#engagement-form").scroll_into_view_if_needed()
    page.locator("#proofs").get_by_role("button", name="Préparer le dossier de preuve").click()
    ready = page.locator("#proofs").get_by_role("link", name="Télécharger le dossier de preuve")
    expect(ready).to_be_visible(timeout=20_000)  # htmx polls the line until the job is done
    expect(page.locator("#proofs .sha")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    check.accessible(page)
    check.screenshot(page, "vigilance-proof-file")
    with page.expect_download() as download:
        ready.click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert [c["state"] for c in manifest["checkpoints"]] == ["met"]
    assert {"synthese.pdf", "manifest.json", "audit.json"} <= set(archive.namelist())
    cited = {d["version_id"] for c in manifest["checkpoints"] for d in c["documents"]}
    decided = {
        e["details"]["version_id"]
        for e in json.loads(archive.read("audit.json"))
        if e["action"] == "document.validated"
    }
    assert {"engagement.recorded"} <= {e["action"] for e in json.loads(archive.read("audit.json"))}
    # the two versions the operator validated are cited, and the audit holds his decisions on them
    assert len(decided) == 2 and decided <= cited
