"""The client's compliance dashboard: statuses kept up to date, filters, search, pages, CSV."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import DocumentVersion, Organisation, Partnership, utcnow
from tests.support.data import count_queries, valid_siren
from tests.support.documents import pdf, upload
from tests.support.http import HTMX, login, post


def _accept(app, client) -> int:
    with app.app_context():
        partnership_id = db.session.scalar(select(Partnership.id).where(Partnership.status == "pending"))
    login(client, "fournisseur@vigie.test")
    post(client, f"/partners/requests/{partnership_id}/accept")
    post(client, "/logout")
    return partnership_id


def test_dashboard_lists_suppliers_with_status_and_expiring_count(app, client, auth, demo_file):
    _accept(app, client)
    auth.login("constructor@vigie.test")
    page = client.get("/partners/compliance").get_data(as_text=True)
    row = page[re.search(r'<tr id="supplier-\d+"', page).start() :]
    row = row[: row.index("</tr>")]
    assert "Menuiserie Martin" in row and "Expiré" in row and "<td>1</td>" in row
    assert "Expiré : 1" in page and "Conforme : 0" in page
    assert "Menuiserie Martin" in client.get("/partners/compliance?status=expired").get_data(as_text=True)
    assert "Aucun fournisseur ne correspond." in client.get("/partners/compliance?status=compliant").get_data(
        as_text=True
    )
    assert "Menuiserie Martin" in client.get("/partners/compliance?q=812345").get_data(as_text=True)
    assert "Menuiserie Martin" in client.get("/partners/compliance?q=menuis").get_data(as_text=True)
    fragment = client.get("/partners/compliance?status=expired", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="compliance-table">')


def test_status_follows_the_suppliers_documents(app, client, auth, demo_file):
    partnership_id = _accept(app, client)
    auth.login("fournisseur@vigie.test")
    upload(client, "URSSAF_VIGILANCE", pdf("URSSAF_VIGILANCE"), verification_code="ABCDEFGH12345XY")
    with app.app_context():
        assert db.session.get(Partnership, partnership_id).compliance_status == "expired"
    post(client, "/logout")
    with app.app_context():
        new = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id.desc())).first()
    auth.login("operateur@vigie.test")
    post(client, f"/operations/review/{new.id}/validate")
    with app.app_context():
        partnership = db.session.get(Partnership, partnership_id)
        assert partnership.compliance_status == "incomplete"  # DECENNALE missing, LNTE refused
        assert partnership.status_updated_at is not None


def test_csv_export_for_a_french_spreadsheet(app, client, auth, demo_file):
    _accept(app, client)
    auth.login("constructor@vigie.test")
    response = client.get("/partners/compliance.csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.data.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == (
        "Raison sociale;SIREN;Ville;Statut;Documents expirant sous 30 jours;Partenaire depuis;"
        "Vigilance légale;Prochaine échéance légale"
    )
    assert lines[1].startswith("Menuiserie Martin;812345676;Lyon;Expiré;1;")
    assert lines[1].endswith(";Non applicable;")  # no engagement recorded: the legal duty is not known to apply
    assert len(client.get("/partners/compliance.csv?status=compliant").data.decode("utf-8-sig").splitlines()) == 1


def test_the_csv_export_never_hands_a_formula_to_the_spreadsheet(app, client, auth, demo_file):
    from portal.models import Organisation

    _accept(app, client)
    with app.app_context():
        martin = db.session.get(Organisation, demo_file["orgs"]["Menuiserie Martin"])
        martin.legal_name, martin.city = '=HYPERLINK("http://evil.example";"Martin")', "@SUM(1+1)"
        db.session.commit()
    auth.login("constructor@vigie.test")
    line = client.get("/partners/compliance.csv").data.decode("utf-8-sig").splitlines()[1]
    assert line.startswith('"\'=HYPERLINK(""http://evil.example"";""Martin"")";812345676;\'@SUM(1+1);')


def test_other_clients_never_see_these_suppliers(app, client, auth, demo_file):
    _accept(app, client)
    auth.login("agence@vigie.test")
    assert "Menuiserie Martin" not in client.get("/partners/compliance").get_data(as_text=True)
    assert "Menuiserie" not in client.get("/partners/compliance.csv").data.decode("utf-8-sig")


def test_dashboard_runs_the_same_queries_for_5_or_120_suppliers(app, client, auth, demo):
    auth.login("constructor@vigie.test")
    constructor = demo["orgs"]["Constructor SA"]
    counts = []
    for total in (5, 120):
        with app.app_context():
            existing = db.session.scalar(
                select(db.func.count()).select_from(Partnership).where(Partnership.status == "accepted")
            )
            for index in range(existing, total):
                organisation = Organisation(
                    siren=valid_siren(70000000 + index),
                    legal_name=f"Fournisseur {index:03d}",
                    is_supplier=True,
                    city="Lyon",
                )
                db.session.add(organisation)
                db.session.flush()
                db.session.add(
                    Partnership(
                        requester_id=constructor,
                        target_id=organisation.id,
                        status="accepted",
                        decided_at=utcnow(),
                        compliance_status=("compliant", "incomplete")[index % 2],
                    )
                )
            db.session.commit()
        with count_queries(app) as statements:
            assert client.get("/partners/compliance").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    page = client.get("/partners/compliance?page=2").get_data(as_text=True)
    assert "Page 2 sur 3" in page and len(re.findall(r'<tr id="supplier-\d+"', page)) == 50
