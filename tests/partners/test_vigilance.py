"""The legal duty of vigilance: engagements, their checkpoints, and what the client held at each.

The expected checkpoints and states below are written out by hand from the law's rule (conclusion,
then every six months until the end; 5 000 € HT, adding up over twelve months), never computed with
the code under test.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.core import clock
from portal.core.extensions import db
from portal.core.storage import storage
from portal.models import (
    AuditEvent,
    Document,
    DocumentType,
    DocumentVersion,
    Engagement,
    Organisation,
    Partnership,
    ProofFile,
    User,
)
from tests.api.support import CONSTRUCTOR, DEMOLITOR, MARTIN, accept_all_requests_to
from tests.support.data import drain
from tests.support.http import HTMX, post
from tests.support.notices import send_digests, waiting

PARIS = ZoneInfo("Europe/Paris")


def freeze(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime.combine(day, time(10, 0), tzinfo=PARIS))


def org_id(app, siren: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Organisation.id).where(Organisation.siren == siren))


def version(
    app,
    code: str,
    certified_on: date,
    valid_until: date,
    received_on: date,
    *,
    status: str = "valid",
    reviewer: str | None = "operateur@vigie.test",
    code_printed: str | None = None,
) -> int:
    """A version of Menuiserie Martin's file, received and checked on the given days."""
    with app.app_context():
        martin = db.session.scalar(select(Organisation).where(Organisation.siren == MARTIN))
        kind = db.session.scalar(select(DocumentType).where(DocumentType.code == code))
        document = db.session.scalar(
            select(Document).where(Document.organisation_id == martin.id, Document.document_type_id == kind.id)
        )
        if document is None:
            document = Document(organisation_id=martin.id, document_type_id=kind.id)
            db.session.add(document)
            db.session.flush()
        received = datetime.combine(received_on, time(9, 0))
        reviewed_by = db.session.scalar(select(User.id).where(User.email == reviewer)) if reviewer else None
        data = f"%PDF-1.4 {code} {certified_on}".encode()
        stored = storage().save(data)
        row = DocumentVersion(
            document_id=document.id,
            organisation_id=martin.id,
            status=status,
            storage_key=stored.key,
            original_filename=f"{code}.pdf",
            content_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            issued_on=certified_on,
            certified_on=certified_on,
            valid_until=valid_until,
            verification_code=code_printed,
            uploaded_at=received,
            reviewed_at=received if status != "submitted" else None,
            reviewed_by_id=reviewed_by if status != "submitted" else None,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def partners(app, demo):
    """Constructor SA and Demolitor SAS (one owner for both) are accepted partners of Martin."""
    from portal.partners import partnerships

    with app.test_request_context():
        organisations = {o.siren: o for o in db.session.scalars(select(Organisation))}
        owner = db.session.scalar(select(User).where(User.email == "constructor@vigie.test"))
        partnerships.ask_unless_related(organisations[DEMOLITOR], organisations[MARTIN], owner)
        db.session.commit()
    accept_all_requests_to(app, MARTIN)
    return {"martin": org_id(app, MARTIN), "constructor": org_id(app, CONSTRUCTOR)}


def engage(client, martin: int, reference: str, amount: str, starts: str, ends: str = "", **extra):
    return post(
        client,
        f"/partners/companies/{martin}/engagements",
        {"reference": reference, "amount": amount, "starts_on": starts, "ends_on": ends},
        **extra,
    )


def section(client, martin: int) -> str:
    page = client.get(f"/partners/companies/{martin}").get_data(as_text=True)
    return page[page.index('id="vigilance"') :]


def checkpoints(page: str, engagement_id: int) -> list[tuple[str, str]]:
    """(day, state) of each checkpoint of one engagement, as the page lists them."""
    block = page[page.index(f'id="engagement-{engagement_id}"') :]
    block = block[: block.index("</article>")]
    return re.findall(rf'class="checkpoint checkpoint-(\w+)" id="checkpoint-{engagement_id}-([\d-]+)"', block)


def engagement_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Engagement.id).order_by(Engagement.id)))


def test_an_engagement_is_recorded_and_bad_input_is_refused_next_to_each_field(
    app, client, auth, partners, monkeypatch
):
    freeze(monkeypatch, date(2026, 12, 1))
    martin = partners["martin"]
    auth.login("constructor@vigie.test")
    answer = engage(client, martin, "", "douze", "", "", headers=HTMX)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "Indiquez la référence du contrat ou de la commande." in html
    assert "Indiquez la date de conclusion" in html
    answer = engage(client, martin, "CMD-1", "-5", "2026-11-02", "2026-10-01")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "Le montant doit être positif" in html and "La fin ne peut pas précéder la conclusion." in html
    answer = engage(client, martin, "CMD-1", "12,5,0", "2026-11-02")
    assert "Indiquez le montant hors taxes en euros (par exemple 12 500 ou 12 500,50)." in answer.get_data(as_text=True)
    assert engagement_ids(app) == []
    answer = engage(client, martin, "  CMD-1 ", "12 500,50 €", "2026-11-02")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("#vigilance")
    with app.app_context():
        saved = db.session.scalar(select(Engagement))
        assert (saved.reference, saved.amount_cents, saved.starts_on, saved.ends_on) == (
            "CMD-1",
            1_250_050,
            date(2026, 11, 2),
            None,
        )
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "engagement.recorded"))
        assert event.details["amount_cents"] == 1_250_050
    page = section(client, martin)
    assert "CMD-1" in page and "en cours" in page and "12\u202f500,50\xa0€" in page


def test_the_threshold_and_engagements_adding_up_over_twelve_months(app, client, auth, partners, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 1))
    martin = partners["martin"]
    auth.login("constructor@vigie.test")
    engage(client, martin, "OLD", "4 000", "2025-09-01", "2025-09-30")  # 15 months before the last one
    engage(client, martin, "A", "3 000", "2026-01-10", "2026-01-31")
    engage(client, martin, "B", "2 500", "2026-03-01", "2026-03-31")
    engage(client, martin, "SMALL", "4 999,99", "2022-06-01", "2022-06-30")
    old, first, second, small = engagement_ids(app)
    page = section(client, martin)
    # OLD: 4 000 alone in its twelve months. A: 4 000 + 3 000 (OLD was 4 months before) = 7 000.
    # B: 3 000 + 2 500 + 4 000 (OLD, 6 months before) = 9 500. SMALL: alone, one cent under.
    assert checkpoints(page, old) == []
    assert checkpoints(page, small) == []
    assert [day for _state, day in checkpoints(page, first)] == ["2026-01-10"]
    assert [day for _state, day in checkpoints(page, second)] == ["2026-03-01"]
    assert "Sous le seuil légal : 4\u202f999,99\xa0€ HT" in page
    assert "Obligation légale : 9\u202f500,00\xa0€ HT avec ce fournisseur" in page


def test_checkpoints_every_six_months_and_what_was_held_at_each(app, client, auth, partners, monkeypatch):
    martin = partners["martin"]
    # Held: URSSAF certified 2026-01-05 (valid to 07-05), received 01-08; a second one certified
    # 07-01, received 07-20 (after the 07-15 checkpoint: late). Kbis valid to 04-02; a new one
    # received 07-23 (late too), valid to 10-22, so nothing covers the 2027-01-15 checkpoint.
    version(app, "URSSAF_VIGILANCE", date(2026, 1, 5), date(2026, 7, 5), date(2026, 1, 8), code_printed="ABC123")
    version(app, "KBIS", date(2026, 1, 2), date(2026, 4, 2), date(2026, 1, 9))
    version(app, "LNTE", date(2026, 1, 2), date(2027, 7, 2), date(2026, 1, 9))
    freeze(monkeypatch, date(2026, 1, 15))
    auth.login("constructor@vigie.test")
    engage(client, martin, "MARCHE-2026", "80 000", "2026-01-15")
    (engagement,) = engagement_ids(app)
    # On the day of conclusion: all three held, the next one (07-15) not covered by the Kbis.
    assert checkpoints(section(client, martin), engagement) == [("met", "2026-01-15"), ("at_risk", "2026-07-15")]
    page = section(client, martin)
    assert "code ABC123" in page and "vérifié par" in page and "art. D8222-5 1°" in page
    version(app, "URSSAF_VIGILANCE", date(2026, 7, 1), date(2027, 1, 1), date(2026, 7, 20), status="submitted")
    freeze(monkeypatch, date(2026, 7, 25))
    # 07-15: no URSSAF covering it was received by then; one came on 07-20 but is not checked yet,
    # and no Kbis covers 07-15 at all.
    assert checkpoints(section(client, martin), engagement) == [
        ("met", "2026-01-15"),
        ("missed", "2026-07-15"),
        ("at_risk", "2027-01-15"),
    ]
    with app.app_context():
        pending = db.session.scalar(select(DocumentVersion).where(DocumentVersion.status == "submitted"))
        pending.status, pending.reviewed_at = "valid", datetime(2026, 7, 21, 8)
        db.session.commit()
    version(app, "KBIS", date(2026, 7, 22), date(2026, 10, 22), date(2026, 7, 23))
    # Both came after the checkpoint and before the next one: late, no longer missing.
    assert checkpoints(section(client, martin), engagement)[1] == ("late", "2026-07-15")
    freeze(monkeypatch, date(2027, 3, 1))
    # 2027-01-15: the URSSAF ended 2027-01-01 and the Kbis 2026-10-22: missed; the next one to come.
    assert checkpoints(section(client, martin), engagement) == [
        ("met", "2026-01-15"),
        ("late", "2026-07-15"),
        ("missed", "2027-01-15"),
        ("at_risk", "2027-07-15"),
    ]


def test_an_ended_engagement_stops_at_its_end_and_an_open_one_shows_the_next(app, client, auth, partners, monkeypatch):
    martin = partners["martin"]
    freeze(monkeypatch, date(2027, 6, 1))
    auth.login("constructor@vigie.test")
    engage(client, martin, "ENDED", "10 000", "2025-08-31", "2026-09-01")
    engage(client, martin, "OPEN", "10 000", "2026-08-31")
    ended, open_ = engagement_ids(app)
    page = section(client, martin)
    # 31 August + 6 months is 28 February (the month's last day), then 31 August again.
    assert [day for _s, day in checkpoints(page, ended)] == ["2025-08-31", "2026-02-28", "2026-08-31"]
    assert checkpoints(page, open_) == [("missed", "2026-08-31"), ("missed", "2027-02-28"), ("at_risk", "2027-08-31")]


def test_another_company_never_records_or_removes_an_engagement_with_martin(app, client, auth, partners):
    martin = partners["martin"]
    auth.login("constructor@vigie.test")
    engage(client, martin, "MINE", "9 000", "2026-01-01")
    (mine,) = engagement_ids(app)
    post(client, "/logout")
    auth.login("cabinet@vigie.test")  # an accounting firm, not a partner of Martin
    assert engage(client, martin, "THEIRS", "9 000", "2026-01-01").status_code == 404
    assert post(client, f"/partners/companies/{martin}/engagements/{mine}/delete").status_code == 404
    assert post(client, f"/partners/companies/{martin}/engagements/{2**62}/delete").status_code == 404
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    post(client, "/organisations/switch", {"organisation_id": org_id(app, DEMOLITOR)})  # Martin's partner too
    assert post(client, f"/partners/companies/{martin}/engagements/{mine}/delete").status_code == 404
    assert "MINE" not in section(client, martin)
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    assert post(client, f"/partners/companies/{martin}/engagements/{mine}/delete").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Engagement.id))) == 0
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "engagement.removed")) is not None


def test_the_supplier_never_sees_its_clients_engagements(app, client, auth, partners):
    auth.login("constructor@vigie.test")
    engage(client, partners["martin"], "SECRET-REF", "9 000", "2026-01-01")
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    page = client.get(f"/partners/companies/{partners['constructor']}")
    assert "SECRET-REF" not in page.get_data(as_text=True)


def test_the_partnership_keeps_its_vigilance_summary_for_the_dashboard(app, client, auth, partners, monkeypatch):
    martin = partners["martin"]
    freeze(monkeypatch, date(2026, 12, 1))
    auth.login("constructor@vigie.test")
    engage(client, martin, "M", "9 000", "2026-11-20")

    def summary():
        with app.app_context():
            row = db.session.scalar(
                select(Partnership).where(
                    Partnership.target_id == martin, Partnership.requester_id == partners["constructor"]
                )
            )
            return row.vigilance_status, row.next_checkpoint_on

    assert summary() == ("missed", date(2027, 5, 20))
    version(app, "URSSAF_VIGILANCE", date(2026, 11, 1), date(2027, 5, 1), date(2026, 11, 19))
    version(app, "KBIS", date(2026, 11, 1), date(2027, 2, 1), date(2026, 11, 19))
    version(app, "LNTE", date(2026, 11, 1), date(2027, 5, 1), date(2026, 11, 19))
    with app.app_context():
        from portal.documents import partner_status

        partner_status.refresh_supplier(martin)
        db.session.commit()
    assert summary() == ("met", date(2027, 5, 20))
    with app.app_context():  # Demolitor, also a partner, has no engagement: no duty recorded
        other = db.session.scalar(
            select(Partnership).where(
                Partnership.target_id == martin, Partnership.requester_id == org_id(app, DEMOLITOR)
            )
        )
        assert other.vigilance_status is None


def test_each_required_document_says_whether_the_law_or_the_client_asks_it(app, client, auth, partners):
    auth.login("constructor@vigie.test")
    answer = post(client, "/partners/requirements", {"types": ["RC_PRO"]}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "Ces documents ne sont pas exigés par la loi : Attestation d&#39;assurance RC professionnelle" in page or (
        "Ces documents ne sont pas exigés par la loi : Attestation d'assurance RC professionnelle" in page
    )
    choices = page[page.index('id="requirements-form"') :]
    rc_pro = choices[choices.index('value="RC_PRO"') :][:600]
    assert "Votre exigence" in rc_pro and "ne lie le fournisseur que si votre contrat la prévoit" in rc_pro
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    tab = client.get("/documents").get_data(as_text=True)
    urssaf = tab[tab.index('id="pending-URSSAF_VIGILANCE"') :][:1500]
    assert "Obligation légale" in urssaf and "art. D8222-5 1° du Code du travail" in urssaf
    kbis = tab[tab.index('id="pending-KBIS"') :][:1500]
    assert "art. D8222-5 2° du Code du travail" in kbis
    lnte = tab[tab.index('id="pending-LNTE"') :][:1500]
    assert "art. D8254-2 du Code du travail" in lnte
    rc = tab[tab.index('id="pending-RC_PRO"') :][:1500]
    assert "Exigence de votre client" in rc and "Obligation légale" not in rc and "Demandé par Constructor SA" in rc


def test_a_legal_requirement_alone_brings_no_notice(app, client, auth, partners):
    auth.login("constructor@vigie.test")
    page = post(client, "/partners/requirements", {"types": []}, follow_redirects=True).get_data(as_text=True)
    assert "ne sont pas exigés par la loi" not in page


def test_the_dashboard_filters_suppliers_in_default_and_with_a_checkpoint_within_30_days(
    app, client, auth, partners, monkeypatch
):
    martin = partners["martin"]
    freeze(monkeypatch, date(2026, 12, 1))
    auth.login("constructor@vigie.test")

    def listed(query: str) -> bool:
        return f'id="supplier-{martin}"' in client.get(f"/partners/compliance?{query}").get_data(as_text=True)

    assert listed("") and not listed("vigilance=missed") and not listed("vigilance=due")
    engage(client, martin, "M", "9 000", "2026-06-20")  # checkpoints 2026-06-20 (missed), 2026-12-20
    assert listed("vigilance=missed") and listed("vigilance=due")
    page = client.get("/partners/compliance?vigilance=missed").get_data(as_text=True)
    assert "En défaut" in page and "prochaine échéance le 20/12/2026" in page
    csv = client.get("/partners/compliance.csv?vigilance=missed").get_data(as_text=True)
    assert "Menuiserie Martin" in csv and "En défaut;20/12/2026" in csv
    freeze(monkeypatch, date(2026, 12, 21))  # the daily job moves the next checkpoint on
    with app.app_context():
        from portal.documents import partner_status

        partner_status.refresh_client(partners["constructor"])
        db.session.commit()
    assert listed("vigilance=missed") and not listed("vigilance=due")


def _sweep(app, monkeypatch, day: date) -> dict:
    from portal.partners import vigilance

    freeze(monkeypatch, day)
    with app.test_request_context():
        return vigilance.sweep(day)


def _checkpoint_mails(app) -> list[tuple[str, str]]:
    from portal.models import Message

    with app.app_context():
        return [
            (m.recipient, m.subject)
            for m in db.session.scalars(
                select(Message).where(Message.template == "vigilance_checkpoint").order_by(Message.id)
            )
        ]


def test_a_supplier_is_reminded_once_ahead_of_a_checkpoint_its_documents_will_not_cover(
    app, client, auth, partners, monkeypatch
):
    martin = partners["martin"]
    version(app, "URSSAF_VIGILANCE", date(2026, 1, 5), date(2026, 7, 5), date(2026, 1, 8))
    version(app, "KBIS", date(2026, 1, 2), date(2026, 12, 31), date(2026, 1, 9))
    version(app, "LNTE", date(2026, 1, 2), date(2027, 7, 2), date(2026, 1, 9))
    freeze(monkeypatch, date(2026, 1, 15))
    auth.login("constructor@vigie.test")
    engage(client, martin, "MARCHE", "80 000", "2026-01-15")  # next checkpoint 2026-07-15
    _sweep(app, monkeypatch, date(2026, 6, 14))  # 31 days before: not yet
    assert waiting(app, "fournisseur@vigie.test", "vigilance_checkpoint") == []
    _sweep(app, monkeypatch, date(2026, 6, 15))
    _sweep(app, monkeypatch, date(2026, 6, 15))  # the same day again
    [notice] = waiting(app, "fournisseur@vigie.test", "vigilance_checkpoint")
    # It goes with the supplier's daily digest (never as a mail of its own), the day it is due.
    [digest] = send_digests(app, date(2026, 6, 15))
    assert digest.recipient == "fournisseur@vigie.test"
    assert "Échéance de vigilance de Constructor SA le 15/07/2026" in digest.body_text
    assert "Attestation de vigilance URSSAF / MSA" in digest.body_text and "Extrait Kbis" not in digest.body_text
    _sweep(app, monkeypatch, date(2026, 7, 1))  # and later: once per checkpoint
    assert waiting(app, "fournisseur@vigie.test", "vigilance_checkpoint") == []
    assert send_digests(app, date(2026, 7, 1)) == []
    assert _checkpoint_mails(app) == []
    # The next checkpoint (2027-01-15) is covered by nothing either: one more reminder, in December.
    _sweep(app, monkeypatch, date(2026, 12, 16))
    [digest] = send_digests(app, date(2026, 12, 16))
    assert "Échéance de vigilance de Constructor SA le 15/01/2027" in digest.body_text


def test_no_reminder_when_the_documents_already_cover_the_next_checkpoint(app, client, auth, partners, monkeypatch):
    version(app, "URSSAF_VIGILANCE", date(2026, 6, 1), date(2026, 12, 1), date(2026, 6, 2))
    version(app, "KBIS", date(2026, 6, 1), date(2026, 9, 1), date(2026, 6, 2))
    version(app, "LNTE", date(2026, 6, 1), date(2026, 12, 1), date(2026, 6, 2))
    freeze(monkeypatch, date(2026, 6, 1))
    auth.login("constructor@vigie.test")
    engage(client, partners["martin"], "M", "9 000", "2026-02-01")  # checkpoints 02-01, 08-01
    _sweep(app, monkeypatch, date(2026, 7, 10))
    assert _checkpoint_mails(app) == []


def test_the_proof_file_holds_every_cited_document_with_matching_hashes_and_says_the_gaps(
    app, client, auth, partners, monkeypatch
):
    martin = partners["martin"]
    urssaf = version(app, "URSSAF_VIGILANCE", date(2026, 1, 5), date(2026, 7, 5), date(2026, 1, 8), code_printed="XYZ9")
    version(app, "KBIS", date(2026, 1, 2), date(2026, 4, 2), date(2026, 1, 9))
    version(app, "LNTE", date(2026, 1, 2), date(2027, 7, 2), date(2026, 1, 9))
    freeze(monkeypatch, date(2026, 8, 1))
    auth.login("constructor@vigie.test")
    engage(client, martin, "MARCHE-2026", "80 000", "2026-01-15")  # 01-15 met, 07-15 missed
    answer = post(client, f"/partners/companies/{martin}/proofs", {"start": "2026-01-01", "end": "2026-07-31"})
    assert answer.status_code == 303
    page = section(client, martin)
    assert "En préparation" in page and "<progress" in page
    drain(app)
    page = section(client, martin)
    with app.app_context():
        built = db.session.scalar(select(ProofFile))
        assert built.status == "ready" and built.progress == 100
    assert built.sha256 in page and "Télécharger le dossier de preuve" in page
    download = client.get(f"/partners/proofs/{built.id}/download")
    data = download.get_data()
    assert download.status_code == 200 and hashlib.sha256(data).hexdigest() == built.sha256
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    assert [(c["day"], c["state"]) for c in manifest["checkpoints"]] == [
        ("2026-01-15", "met"),
        ("2026-07-15", "missed"),
    ]
    gap = manifest["checkpoints"][1]["documents"]
    assert [(d["accepted_types"], d["state"]) for d in gap] == [
        (["URSSAF_VIGILANCE"], "missing"),
        (["KBIS", "RNE_CERT"], "missing"),
        (["LNTE"], "held"),
    ]
    files = {f["file"]: f for f in manifest["files"]}
    assert len(files) == 3 and urssaf in {f["version_id"] for f in files.values()}
    for name, facts in files.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == facts["sha256"]
    summary = archive.read("synthese.pdf")
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(summary)).pages)
    assert "EN DÉFAUT" in text and "MANQUANT" in text and "XYZ9" in text and "Menuiserie Martin" in text
    events = json.loads(archive.read("audit.json"))
    assert "engagement.recorded" in {e["action"] for e in events}
    drain(app)  # a second run of the job changes nothing
    with app.app_context():
        assert db.session.get(ProofFile, built.id).sha256 == built.sha256


def test_a_proof_file_is_only_ever_the_requesting_clients(app, client, auth, partners, monkeypatch):
    martin = partners["martin"]
    freeze(monkeypatch, date(2026, 8, 1))
    auth.login("constructor@vigie.test")
    engage(client, martin, "M", "80 000", "2026-01-15")
    answer = post(client, f"/partners/companies/{martin}/proofs", {"start": "2026-07-31", "end": "2026-01-01"})
    assert answer.status_code == 422 and "La fin de la période ne peut pas précéder son début." in answer.get_data(
        as_text=True
    )
    post(client, f"/partners/companies/{martin}/proofs", {"engagement_id": str(engagement_ids(app)[0])})
    drain(app)
    with app.app_context():
        built = db.session.scalar(select(ProofFile))
        assert (built.period_start, built.period_end) == (date(2026, 1, 15), date(2026, 8, 1))
    post(client, "/organisations/switch", {"organisation_id": org_id(app, DEMOLITOR)})
    assert client.get(f"/partners/proofs/{built.id}/download").status_code == 404
    assert client.get(f"/partners/proofs/{built.id}").status_code == 404
    assert (
        post(client, f"/partners/companies/{martin}/proofs", {"engagement_id": str(engagement_ids(app)[0])}).status_code
        == 404
    )


def test_the_urssaf_export_streams_every_supplier_with_engagements(app, client, auth, partners, monkeypatch):
    martin = partners["martin"]
    version(app, "URSSAF_VIGILANCE", date(2026, 1, 5), date(2026, 7, 5), date(2026, 1, 8))
    freeze(monkeypatch, date(2026, 8, 1))
    auth.login("constructor@vigie.test")
    engage(client, martin, "M", "80 000", "2026-01-15")
    answer = post(client, "/partners/compliance/urssaf-export", {"start": "2026-01-01", "end": "2026-07-31"})
    assert answer.status_code == 200 and answer.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(answer.get_data()))
    index = json.loads(archive.read("index.json"))
    assert [(s["siren"], s["checkpoints"]["missed"]) for s in index["suppliers"]] == [(MARTIN, 2)]
    folder = index["suppliers"][0]["folder"]
    manifest = json.loads(archive.read(folder + "manifest.json"))
    for facts in manifest["files"]:
        assert hashlib.sha256(archive.read(folder + facts["file"])).hexdigest() == facts["sha256"]


def test_the_demo_world_has_engagements_with_green_and_red_checkpoints(app, client, auth):
    from portal.demo.seed import seed_demo

    with app.app_context():
        seed_demo(with_documents=True, with_crowd=True)
        seed_demo(with_documents=True, with_crowd=True)  # idempotent
        assert db.session.scalar(select(func.count(Engagement.id))) == 4
        pairs = db.session.execute(select(Engagement.supplier_id, Engagement.reference)).all()
    auth.login("constructor@vigie.test")
    pages = {reference: section(client, supplier) for supplier, reference in pairs}
    assert 'class="checkpoint checkpoint-met"' in pages["MARCHE-2026-014"]
    assert 'class="checkpoint checkpoint-missed"' in pages["CMD-2026-203"]
    older = pages["MARCHE-2025-118"]
    assert "checkpoint-missed" in older and "checkpoint-late" in older and "checkpoint-at_risk" in older
    assert "Sous le seuil légal" in pages["CMD-2026-077"]
    dashboard = client.get("/partners/compliance?vigilance=missed").get_data(as_text=True)
    assert dashboard.count('<tr id="supplier-') == 1 and "En défaut" in dashboard
    by_reference = dict((reference, supplier) for supplier, reference in pairs)

    def shown(reference: str) -> str:
        """The supplier's row on the dashboard, found by its SIREN."""
        with app.app_context():
            siren = db.session.get(Organisation, by_reference[reference]).siren
        page = client.get(f"/partners/compliance?q={siren}").get_data(as_text=True)
        row = page[page.index(f'<tr id="supplier-{by_reference[reference]}"') :]
        return row[: row.index("</tr>")]

    assert "Respectée" in shown("MARCHE-2026-014")
    assert "En défaut" in shown("CMD-2026-203")
    assert "Documents obtenus en retard" in shown("MARCHE-2025-118")  # its latest checkpoint came late
    assert "—" in shown("CMD-2026-077") and "Respectée" not in shown("CMD-2026-077")  # under the threshold


def _import(client, data: bytes, name: str = "engagements.csv", **extra):
    from tests.support.http import token_for

    token = token_for(client, "/partners/compliance")
    return client.post(
        "/partners/engagements/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **extra,
    )


def test_engagements_are_imported_from_a_file_all_or_none(app, client, auth, partners, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 1))
    auth.login("constructor@vigie.test")
    template = client.get("/partners/engagements/template.csv").get_data(as_text=True)
    assert template.lstrip("\ufeff").startswith("siren;reference;montant_ht;date_conclusion;date_fin")
    bad = (
        "siren;reference;montant_ht;date_conclusion;date_fin\n"
        f"{MARTIN};A-1;12 000;02/03/2026;\n"
        f"{MARTIN};;douze;31/02/2026;\n"
        "443278908;B-2;9 000;01/01/2026;\n"
    ).encode()
    answer = _import(client, bad, headers=HTMX)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "Rien n&#39;a été importé" in html or "Rien n'a été importé" in html
    assert "Ligne 3 :" in html and "Indiquez la référence du contrat ou de la commande." in html
    assert "Date de conclusion illisible" in html
    assert "Ligne 4 :" in html and "443278908 n&#39;est pas un de vos fournisseurs partenaires." in html
    assert "Ligne 2 :" not in html
    assert engagement_ids(app) == []
    good = (
        "SIREN,Reference,Montant HT,Date conclusion,Date fin\n"
        f"{MARTIN}00012,A-1,12 000,02/03/2026,\n"
        f'{MARTIN},A-2,"2 500,50",2026-04-01,30/06/2026\n'
    ).encode("cp1252")
    answer = _import(client, good)
    assert answer.status_code == 303
    with app.app_context():
        rows = db.session.execute(select(Engagement.reference, Engagement.amount_cents, Engagement.ends_on)).all()
        assert sorted(rows) == [("A-1", 1_200_000, None), ("A-2", 250_050, date(2026, 6, 30))]
    assert _import(client, b"%PDF-1.7 not a table").status_code == 422


def test_engagements_import_from_a_workbook(app, client, auth, partners, monkeypatch):
    from openpyxl import Workbook

    freeze(monkeypatch, date(2026, 12, 1))
    book = Workbook()
    book.active.append(["siren", "reference", "montant_ht", "date_conclusion", "date_fin"])
    book.active.append([MARTIN, "XL-1", 30000, date(2026, 5, 4), None])
    buffer = io.BytesIO()
    book.save(buffer)
    auth.login("constructor@vigie.test")
    assert _import(client, buffer.getvalue(), "engagements.xlsx").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Engagement.amount_cents)) == 3_000_000


def test_a_supplier_established_abroad_is_checked_on_the_d8222_7_documents(app, client, auth, partners, monkeypatch):
    martin = partners["martin"]
    freeze(monkeypatch, date(2026, 12, 1))
    version(app, "URSSAF_VIGILANCE", date(2026, 11, 1), date(2027, 5, 1), date(2026, 11, 2))
    version(app, "KBIS", date(2026, 11, 1), date(2027, 2, 1), date(2026, 11, 2))
    version(app, "LNTE", date(2026, 11, 1), date(2027, 5, 1), date(2026, 11, 2))
    auth.login("fournisseur@vigie.test")
    page = client.get("/preferences").get_data(as_text=True)
    assert "Mon entreprise est établie à l&#39;étranger" in page or "Mon entreprise est établie à l'étranger" in page
    answer = post(client, "/preferences/establishment", {"established_abroad": "y"}, follow_redirects=True)
    assert "vos clients vous demandent les documents" in answer.get_data(as_text=True)
    tab = client.get("/documents").get_data(as_text=True)
    assert 'id="pending-FOREIGN_VAT"' in tab and "art. D8222-7 du Code du travail" in tab
    assert 'id="pending-URSSAF_VIGILANCE"' not in tab
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    engage(client, martin, "EU-1", "20 000", "2026-11-20")
    (engagement,) = engagement_ids(app)
    page = section(client, martin)
    # The URSSAF attestation and the Kbis it holds are not what the law asks of it now.
    assert checkpoints(page, engagement)[0] == ("missed", "2026-11-20")
    block = page[page.index(f'id="engagement-{engagement}"') :]
    block = block[: block.index("</article>")]
    assert "art. D8222-7" in block and "art. D8222-5 1°" not in block
    version(app, "FOREIGN_VAT", date(2026, 11, 1), date(2027, 5, 1), date(2026, 11, 2))
    version(app, "FOREIGN_SOCIAL", date(2026, 11, 1), date(2027, 5, 1), date(2026, 11, 2))
    version(app, "FOREIGN_REGISTRATION", date(2026, 11, 1), date(2027, 5, 1), date(2026, 11, 2))
    assert checkpoints(section(client, martin), engagement)[0] == ("met", "2026-11-20")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.established_abroad"))
        assert event.details == {"abroad": True}


def test_a_proof_file_citing_a_file_that_no_longer_matches_its_hash_fails_and_says_so(
    app, client, auth, partners, monkeypatch
):
    martin = partners["martin"]
    urssaf = version(app, "URSSAF_VIGILANCE", date(2026, 1, 5), date(2026, 7, 5), date(2026, 1, 8))
    with app.app_context():
        row = db.session.get(DocumentVersion, urssaf)
        storage().save(b"%PDF-1.4 tampered", key=row.storage_key)  # same key, other bytes
    freeze(monkeypatch, date(2026, 2, 1))
    auth.login("constructor@vigie.test")
    engage(client, martin, "M", "80 000", "2026-01-15")
    post(client, f"/partners/companies/{martin}/proofs", {"start": "2026-01-01", "end": "2026-01-31"})
    drain(app)
    with app.app_context():
        built = db.session.scalar(select(ProofFile))
        assert built.status == "failed" and built.storage_key is None
    assert "ne correspond plus à son empreinte" in section(client, martin)
    assert client.get(f"/partners/proofs/{built.id}/download").status_code == 404
