"""Item 30 of issue 15: each role's "Tableau de bord" leads with its work, figures that link to the
filtered pages, charts drawn on the server with their text equivalent, a fixed number of queries.

The expected figures are counted here with plain SQL, never with the home page's code."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.core import clock
from portal.core.clock import PARIS
from portal.core.extensions import db
from portal.models import (
    ComplianceSnapshot,
    Contract,
    DocumentVersion,
    FolderDocument,
    Message,
    Organisation,
    Partnership,
)
from tests.support.data import count_queries, drain, valid_siren
from tests.support.firm import seed_firm
from tests.support.http import login, post

MONDAY_10H = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)


def _home(client) -> str:
    return html.unescape(client.get("/").get_data(as_text=True))


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section class="card home-section" id="home-{name}".*?</section>', page, re.S)
    assert found, f"no {name} section"
    return found.group(0)


def _figure(section: str, name: str) -> str:
    found = re.search(rf'id="figure-{name}"[^>]*>(.*?)</(?:a|div|p)>', section, re.S)
    assert found, f"no figure {name}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


@pytest.fixture
def crowd(app):
    from portal.demo.seed import seed_demo

    with app.app_context():
        seed_demo(with_documents=True, with_crowd=True)
        constructor = db.session.scalar(select(Organisation.id).where(Organisation.legal_name == "Constructor SA"))
    return {"constructor": constructor}


def test_the_supplier_home_leads_with_its_file(app, client, auth, demo_file):
    auth.login("fournisseur@vigie.test")
    page = _home(client)
    supplier = _section(page, "supplier")
    assert page.index('id="home-supplier"') < page.index('data-testid="organisation-card"')
    badge = client.get("/documents").get_data(as_text=True)
    tab_count = re.search(r'<span id="pending-count" class="count-badge"[^>]*>(\d+)<', badge)
    assert _figure(supplier, "to-update").startswith(f"{tab_count.group(1)} documents en attente de mise à jour")
    assert 'href="/documents" id="figure-to-update"' in supplier
    kbis_end = clock.today() + timedelta(days=10)  # the demo's Kbis expires in 10 days
    expiry = _figure(supplier, "next-expiry")
    assert "Extrait Kbis" in expiry and "(dans 10 jours)" in expiry and str(kbis_end.year) in expiry
    assert _figure(supplier, "partners-waiting") == "1 partenaire attend votre réponse"
    assert 'action="/documents/quitus"' in supplier and "Télécharger mon quitus" in supplier
    assert 'id="file-state">Expiré<' in supplier  # what Constructor would see: the URSSAF attestation expired
    assert 'id="home-client"' not in page and 'id="home-agency"' not in page


def test_the_client_home_charts_its_suppliers_and_each_figure_links_to_the_filtered_dashboard(app, client, auth, crowd):
    with app.app_context():
        expected = dict(
            db.session.execute(
                select(Partnership.compliance_status, func.count())
                .where(Partnership.requester_id == crowd["constructor"], Partnership.status == "accepted")
                .group_by(Partnership.compliance_status)
            ).all()
        )
        expiring = sorted(
            db.session.scalars(
                select(Organisation.legal_name)
                .join(Partnership, Partnership.target_id == Organisation.id)
                .where(
                    Partnership.requester_id == crowd["constructor"],
                    Partnership.status == "accepted",
                    Partnership.expiring_count > 0,
                )
            )
        )
    assert len(expected) >= 3 and expiring
    auth.login("constructor@vigie.test")
    client_home = _section(_home(client), "client")
    labels = {"compliant": "Conforme", "incomplete": "Incomplet", "expired": "Expiré", "in_review": "En attente"}
    for status, label in labels.items():
        link = re.search(
            rf'<a href="(/partners/compliance\?status={status})" id="suppliers-by-status-{status}">{label} : '
            r"<strong>(\d+)</strong>",
            client_home,
        )
        assert link and int(link.group(2)) == expected.get(status, 0), status
        listed = client.get(link.group(1)).get_data(as_text=True)
        assert len(re.findall(r'<tr id="supplier-\d+"', listed)) == min(expected.get(status, 0), 50)
    assert f"{sum(expected.values())} fournisseurs suivis" in client_home
    # The SVG draws a rectangle per status with suppliers, sized by its share.
    shares = re.findall(r'<rect class="share-(\w+)" x="[\d.]+" y="0" width="([\d.]+)"', client_home)
    total = sum(expected.values())
    assert {key: round(float(width), 1) for key, width in shares} == {
        key: round(100 * count / total, 1) for key, count in expected.items() if count
    }
    link = re.search(r'<a href="(/partners/compliance\?expiring=1)">(\d+) fournisseurs ont un document', client_home)
    assert link and int(link.group(2)) == len(expiring)
    listed = html.unescape(client.get(link.group(1)).get_data(as_text=True))
    names = sorted(re.findall(r'<tr id="supplier-\d+">\s*<td><a [^>]*>([^<]+)</a>', listed))
    assert names == expiring


def test_the_compliance_curve_is_read_from_the_daily_snapshots_never_recomputed(app, client, auth, crowd):
    from portal.partners import snapshots

    today = clock.today()
    with app.app_context():
        db.session.execute(db.delete(ComplianceSnapshot))
        partnerships = db.session.execute(
            select(Partnership.id, Partnership.target_id).where(
                Partnership.requester_id == crowd["constructor"], Partnership.status == "accepted"
            )
        ).all()[:4]
        two_months_ago = clock.add_months(today.replace(day=1), -2)
        # Two snapshots that month: the last one (3 of 4 compliant) is the month's figure.
        for day, compliant in ((two_months_ago.replace(day=5), 1), (two_months_ago.replace(day=20), 3)):
            for index, (partnership_id, supplier_id) in enumerate(partnerships):
                db.session.add(
                    ComplianceSnapshot(
                        day=day,
                        partnership_id=partnership_id,
                        client_id=crowd["constructor"],
                        supplier_id=supplier_id,
                        status="compliant" if index < compliant else "expired",
                    )
                )
        db.session.commit()
        assert snapshots.take() > 0  # today's, by the job's code
        assert snapshots.take() == snapshots.take()  # twice the same day: replaced, not doubled
        today_rows = db.session.execute(
            select(func.count(), func.sum(db.case((ComplianceSnapshot.status == "compliant", 1), else_=0))).where(
                ComplianceSnapshot.client_id == crowd["constructor"], ComplianceSnapshot.day == today
            )
        ).one()
        # A supplier's state changes today: the past month's figure does not move.
        db.session.execute(
            db.update(Partnership)
            .where(Partnership.requester_id == crowd["constructor"])
            .values(compliance_status="expired")
        )
        db.session.commit()
    auth.login("constructor@vigie.test")
    client_home = _section(_home(client), "client")
    rows = dict(
        re.findall(r"<tr><td>(\w+ \d{4})</td>\s*(.*?)</tr>", client_home.split('id="compliance-rate-table"')[1], re.S)
    )
    assert len(rows) == 12
    past = rows[f"{_month_fr(two_months_ago)} {two_months_ago.year}"]
    assert "<td>75 %</td>" in past and "<td>3 / 4</td>" in past
    last_month = clock.add_months(today.replace(day=1), -1)
    assert "Pas de relevé ce mois-là" in rows[f"{_month_fr(last_month)} {last_month.year}"]
    now = rows[f"{_month_fr(today)} {today.year}"]
    assert f"<td>{round(100 * today_rows[1] / today_rows[0])} %</td>" in now  # as snapshot, not as now
    desc = re.search(r'<desc id="compliance-rate-desc">(.*?)</desc>', client_home).group(1)
    assert f"{_month_fr(two_months_ago)} {two_months_ago.year} : 75 %" in desc and "pas de donnée" in desc
    assert "Les mois sans relevé ne sont pas reconstitués" in client_home


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre")
MONTHS_FR += ("novembre", "décembre")


def _month_fr(day: date) -> str:
    return MONTHS_FR[day.month - 1]


def test_the_daily_snapshot_is_a_periodic_job(app):
    from portal.core import schedule

    with app.app_context():
        claimed = schedule.tick(datetime(2026, 12, 1, 6, 45, tzinfo=PARIS))
        assert "compliance-snapshot@2026-12-01T06:30" in claimed
        assert "compliance-snapshot@2026-12-01T06:30" not in schedule.tick(datetime(2026, 12, 1, 7, 0, tzinfo=PARIS))
    with app.app_context():
        from portal.models import OutboxJob

        assert db.session.scalar(select(func.count()).where(OutboxJob.job == "snapshot_compliance")) == 1


@pytest.fixture
def monday_batie(monkeypatch, app, demo):
    monkeypatch.setattr("portal.core.clock.now", lambda: MONDAY_10H)
    from portal.demo.contracts import seed_batie_contracts

    with app.app_context():
        seed_batie_contracts()
        batie = db.session.scalar(select(Organisation.id).where(Organisation.legal_name == "Batie Construction"))
    return batie


def test_the_agency_home_counts_this_months_unsigned_and_overdue_contracts_and_the_last_campaign(
    app, client, auth, monday_batie
):
    now = clock.stored_now()
    with app.app_context():
        unsigned, overdue = db.session.execute(
            select(func.count(), func.sum(db.case((Contract.signature_deadline < now, 1), else_=0))).where(
                Contract.agency_id == monday_batie,
                Contract.status == "awaiting_signature",
                Contract.mission_start >= date(2026, 11, 1),
                Contract.mission_start <= date(2026, 11, 30),
            )
        ).one()
    assert unsigned and overdue
    auth.login("agence@vigie.test")
    agency = _section(_home(client), "agency")
    assert _figure(agency, "unsigned") == f"{unsigned} contrats non signés ce mois-ci"
    assert _figure(agency, "overdue") == f"{overdue} en retard (48 heures dépassées)"
    assert 'href="/contracts?sort=deadline" id="figure-overdue"' in agency
    assert "Aucune relance envoyée pour l'instant." in agency
    with app.app_context():
        from portal.models import ContractTypology

        typology = db.session.scalar(select(ContractTypology.id).where(ContractTypology.code == "employment"))
    post(client, "/contracts/reminders", {"channel": "sms", "typology": typology})
    with app.app_context():
        from portal.models import ReminderCampaign

        campaign = db.session.scalar(select(ReminderCampaign.id).order_by(ReminderCampaign.id.desc()))
    post(client, f"/contracts/reminders/{campaign}/confirm")
    drain(app)
    with app.app_context():
        sent = db.session.scalar(select(func.count()).where(Message.channel == "sms", Message.status == "sent"))
    agency = _section(_home(client), "agency")
    last = " ".join(re.sub(r"<[^>]+>", " ", agency.split('id="last-campaign"')[1]).split())
    assert "par Sophie Lefèvre (SMS)" in last and f"{sent} envoyées, 0 échec" in last
    assert f'href="/contracts/reminders/{campaign}/progress"' in agency


def test_the_firm_home_counts_unopened_uploads_pending_invitations_and_running_imports(app, client, auth):
    from portal.models import ClientFileAccess, User

    firm = seed_firm(app)
    with app.app_context():
        unopened_all = db.session.scalar(
            select(func.count()).where(FolderDocument.seen_at.is_(None), FolderDocument.from_firm.is_(False))
        )
        collaborator = db.session.scalar(select(User.id).where(User.email == "collaborateur@vigie.test"))
        assigned = set(
            db.session.scalars(select(ClientFileAccess.client_file_id).where(ClientFileAccess.user_id == collaborator))
        )
        unopened_mine = db.session.scalar(
            select(func.count()).where(
                FolderDocument.seen_at.is_(None),
                FolderDocument.from_firm.is_(False),
                FolderDocument.client_file_id.in_(assigned),
            )
        )
    assert unopened_all
    login(client, "cabinet@vigie.test")
    firm_home = _section(_home(client), "firm")
    assert _figure(firm_home, "unopened").startswith(f"{unopened_all} document")
    assert _figure(firm_home, "invitations").startswith("1 dirigeant invité")  # Garage Morel's
    assert _figure(firm_home, "imports") == "0 imports en cours"
    import io

    from tests.support.http import csrf_from

    token = csrf_from(client.get("/firm/imports").data)
    sent = client.post(
        "/firm/imports",
        data={
            "csrf_token": token,
            "file": (
                io.BytesIO(b"siret;raison_sociale;debut_exercice\n50100001200127;Boulangerie Petit;01/01/2026\n"),
                "c.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    post(client, sent.headers["Location"] + "/confirm")  # queued, not run yet
    assert _figure(_section(_home(client), "firm"), "imports") == "1 import en cours"
    post(client, "/logout")
    login(client, "collaborateur@vigie.test")
    mine = _section(_home(client), "firm")
    assert _figure(mine, "unopened").startswith(f"{unopened_mine} document")
    assert _figure(mine, "imports") == "0 imports en cours"  # the admin's import is not his
    assert firm["firm_id"]


def test_the_operator_home_shows_the_review_queue_and_failed_deliveries(app, client, auth, demo_file):
    with app.app_context():
        queue, oldest = db.session.execute(
            select(func.count(), func.min(DocumentVersion.uploaded_at)).where(DocumentVersion.status == "submitted")
        ).one()
        db.session.add(Message(channel="email", recipient="x@example.test", body_text="x", status="failed"))
        db.session.commit()
    assert queue
    auth.login("operateur@vigie.test")
    operator = _section(_home(client), "operator")
    queue_text = _figure(operator, "queue")
    assert queue_text.startswith(f"{queue} documents à vérifier")
    days = (datetime.now() - oldest).days  # noqa: DTZ005 (stored timestamps are naive UTC)
    assert ("arrivé aujourd'hui" in queue_text) if days == 0 else (f"depuis {days} jour" in queue_text)
    assert _figure(operator, "failed") == "1 envoi en échec"
    assert 'href="/operations/deliveries?status=failed"' in operator


def test_the_home_page_runs_a_fixed_number_of_statements_whatever_the_data(app, client, auth, crowd):
    """The client home with 50 suppliers and with 80, a year of snapshots or none: the same count."""
    auth.login("constructor@vigie.test")
    client.get("/")
    with count_queries(app) as before:
        assert client.get("/").status_code == 200
    with app.app_context():
        for index in range(30):
            supplier = Organisation(siren=valid_siren(9000 + index), legal_name=f"Extra {index}", is_supplier=True)
            db.session.add(supplier)
            db.session.flush()
            db.session.add(
                Partnership(
                    requester_id=crowd["constructor"],
                    target_id=supplier.id,
                    status="accepted",
                    compliance_status=("compliant", "expired")[index % 2],
                    expiring_count=index % 3,
                )
            )
        db.session.commit()
        from portal.demo.history import seed_compliance_history

        db.session.execute(db.delete(ComplianceSnapshot))
        db.session.commit()
        seed_compliance_history()
    with count_queries(app) as after:
        assert client.get("/").status_code == 200
    assert len(after) == len(before), (len(before), len(after))


def test_the_supplier_and_firm_homes_run_a_fixed_number_of_statements(app, client, auth):
    """More documents, more client files with uploads: the same number of statements."""
    from portal.demo.seed import seed_demo
    from tests.support.documents import pdf, upload

    firm = seed_firm(app)
    with app.app_context():
        seed_demo(with_documents=True)

    def counted(email: str) -> int:
        login(client, email)
        client.get("/")
        with count_queries(app) as statements:
            assert client.get("/").status_code == 200
        post(client, "/logout")
        return len(statements)

    supplier_before, firm_before = counted("fournisseur@vigie.test"), counted("cabinet@vigie.test")
    login(client, "fournisseur@vigie.test")
    for code in ("QUALIBAT", "RC_PRO"):
        sent = upload(client, code, pdf(code), valid_until=(clock.today() + timedelta(days=300)).isoformat())
        assert sent.status_code == 303, code
    post(client, "/logout")
    with app.app_context():
        folders = db.session.execute(select(FolderDocument.folder_id, FolderDocument.client_file_id).limit(1)).one()
        for index in range(12):
            db.session.add(
                FolderDocument(
                    client_file_id=folders.client_file_id,
                    folder_id=folders.folder_id,
                    filename=f"f{index}.pdf",
                    content_type="application/pdf",
                    size=10,
                    sha256="0" * 64,
                    storage_key="none",
                )
            )
        db.session.commit()
    assert counted("fournisseur@vigie.test") == supplier_before
    assert counted("cabinet@vigie.test") == firm_before
    assert firm["firm_id"]
