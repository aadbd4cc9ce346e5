""" "Gérer les contrats": the list, its URL filters and counts, "Définir signé" and "Définir signé en agence"."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.contracts.manage import filters_from, signature_deadline
from portal.core import clock
from portal.core.extensions import db
from portal.models import AuditEvent, Contract, Employee, Organisation
from portal.models.contracts import AWAITING, SIGNED_AT_AGENCY, SIGNED_ON_PAPER
from tests.support.data import count_queries, other_company
from tests.support.http import HTMX, post, token_for


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _awaiting(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(Contract).where(Contract.status == AWAITING)
        for key, value in where.items():
            query = query.where(getattr(Contract, key) == value)
        return db.session.scalar(query)


def _first_awaiting(app) -> Contract:
    with app.app_context():
        return db.session.scalars(
            select(Contract).where(Contract.status == AWAITING).order_by(Contract.mission_start, Contract.id)
        ).first()


def test_the_deadline_is_48_hours_after_the_start_in_paris_time():
    assert signature_deadline(date(2026, 11, 23)).isoformat() == "2026-11-24T23:00:00"  # 25 Nov 00:00 Paris
    assert signature_deadline(date(2026, 7, 1)).isoformat() == "2026-07-02T22:00:00"  # summer time


def test_filters_default_to_the_current_month_and_survive_bad_input():
    filters = filters_from({}, today=date(2026, 2, 10))
    assert (filters.start, filters.end) == (date(2026, 2, 1), date(2026, 2, 28))
    odd = filters_from({"start": "2026-13-01", "end": "nope", "page": "-3", "sort": "evil"}, date(2026, 2, 10))
    assert (odd.start, odd.end, odd.page, odd.sort) == (date(2026, 2, 1), date(2026, 2, 28), 1, "start")
    swapped = filters_from({"start": "2026-03-31", "end": "2026-03-01"}, date(2026, 2, 10))
    assert (swapped.start, swapped.end) == (date(2026, 3, 1), date(2026, 3, 31))


def test_the_agency_sees_its_contracts_awaiting_signature_with_counts(app, client, auth, batie):
    auth.login("agence@vigie.test")
    home = client.get("/").get_data(as_text=True)
    assert "Gérer les contrats" in home
    page = _text(client.get("/contracts"))
    total = _awaiting(app)
    assert f"{total} contrats en attente de signature" in page
    assert "604 salariés concernés" in page and "en retard" in page
    assert page.count('<tr id="contract-') == 50 and "Page 1 sur" in page
    assert "Définir signé" in page and "Définir signé en agence" in page
    today = clock.today()
    assert f'value="{today.replace(day=1).isoformat()}"' in page  # the month is pre-filled
    with app.app_context():
        wrong = db.session.scalar(
            select(Contract.reference).join(Employee).where(Employee.mobile_phone_raw.is_not(None)).limit(1)
        )
    assert "numéro erroné" in _text(client.get("/contracts", query_string={"q": wrong}))


def test_filters_are_in_the_url_and_work_without_javascript(app, client, auth, batie):
    auth.login("agence@vigie.test")
    employment = batie["typologies"]["employment"]
    page = _text(client.get("/contracts", query_string={"typology": employment}))
    assert "853 contrats en attente de signature" in page
    assert f'<option value="{employment}" selected>Contrat de travail</option>' in page
    assert "Contrat de mise à disposition</td>" not in page
    assert "40 contrats" in _text(
        client.get("/contracts", query_string={"typology": batie["typologies"]["assignment"]})
    )
    constructor = batie["orgs"]["Constructor SA"]
    by_client = _text(client.get("/contracts", query_string={"client": constructor, "typology": employment}))
    assert f"{_awaiting(app, client_id=constructor, typology_id=employment)} contrats" in by_client
    assert "Demolitor SAS</td>" not in by_client
    # The search finds an employee by name; a past month has nothing.
    found = _text(client.get("/contracts", query_string={"q": "Zoé"}))
    assert "Zoé" in found and "Lucas" not in found.split("<tbody>")[1]
    past = _text(client.get("/contracts", query_string={"start": "2020-01-01", "end": "2020-01-31"}))
    assert "Aucun contrat en attente de signature pour ces filtres" in past
    # htmx gets the results fragment only.
    fragment = client.get("/contracts", query_string={"typology": employment}, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="contract-results">') and "<html" not in fragment


def test_sorting_and_pages_keep_the_filters(app, client, auth, batie):
    auth.login("agence@vigie.test")
    employment = batie["typologies"]["employment"]
    page = client.get("/contracts", query_string={"typology": employment, "sort": "name"}).get_data(as_text=True)
    names = re.findall(r'<tr id="contract-\d+">\s*<td>([^<]+)<br>', page)
    last_names = [name.split(" ", 1)[1] for name in names]
    assert last_names == sorted(last_names)
    assert f"typology={employment}" in page.split('class="pagination"')[1] and "sort=name" in page
    second = _text(client.get("/contracts", query_string={"typology": employment, "page": 2}))
    assert "Page 2 sur 18" in second


def test_the_contracts_page_takes_a_fixed_number_of_queries(app, client, auth, batie):
    auth.login("agence@vigie.test")
    client.get("/contracts")
    with count_queries(app) as statements:
        assert client.get("/contracts").status_code == 200
    assert len(statements) == 6, statements  # the page, its counts, choices and the selection
    with count_queries(app) as statements:
        client.get("/contracts", query_string={"page": 3, "sort": "client", "q": "a"})
    assert len(statements) == 6


def test_define_signed_removes_the_row_and_updates_the_counts_over_htmx(app, client, auth, batie):
    contract = _first_awaiting(app)
    total = _awaiting(app)
    auth.login("agence@vigie.test")
    token = token_for(client, "/contracts")
    response = client.post(f"/contracts/{contract.id}/sign/agency", data={"csrf_token": token}, headers=HTMX)
    body = _text(response)
    assert response.status_code == 200 and "<html" not in body
    # The row says what was done, with "Annuler" right there.
    row = body[body.index(f'<tr id="contract-{contract.id}"') :].split("</tr>")[0]
    assert f"Contrat {contract.reference} défini signé en agence." in row
    assert f'action="/contracts/{contract.id}/unsign' in row and ">Annuler<" in row
    assert re.search(rf'id="contract-counts"[^>]*hx-swap-oob="true"[^>]*>\s*<strong>{total - 1} contrats', body)
    with app.app_context():
        signed = db.session.get(Contract, contract.id)
        assert signed.status == SIGNED_AT_AGENCY and signed.marked_by_id == batie["users"]["agence@vigie.test"]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.signed"))
        assert event.details == {"contract_id": contract.id, "status": SIGNED_AT_AGENCY}


def test_define_signed_without_javascript_redirects_with_the_filters(app, client, auth, batie):
    contract = _first_awaiting(app)
    employment = batie["typologies"]["employment"]
    auth.login("agence@vigie.test")
    response = post(client, f"/contracts/{contract.id}/sign/paper?typology={employment}&q=a")
    assert response.status_code == 303
    assert f"typology={employment}" in response.headers["Location"] and "q=a" in response.headers["Location"]
    assert f"Contrat {contract.reference} défini signé." in _text(client.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.get(Contract, contract.id).status == SIGNED_ON_PAPER


def test_a_contract_marked_signed_can_be_undone_and_the_signed_filter_lists_it(app, client, auth, batie):
    """Issue 15, item 17: "Annuler" right after "Définir signé", and a "Signés" filter."""
    contract = _first_awaiting(app)
    total = _awaiting(app)
    auth.login("agence@vigie.test")
    response = post(client, f"/contracts/{contract.id}/sign/paper")
    page = _text(client.get(response.headers["Location"]))
    notice = page[page.index('id="marked-notice"') :].split("</div>")[0]
    assert f"Contrat {contract.reference} défini signé." in notice and "/unsign" in notice
    signed = _text(client.get("/contracts?state=signed"))
    row = signed[signed.index(f'id="contract-{contract.id}"') :].split("</tr>")[0]
    assert "défini signé (papier)" in row and "/unsign" in row
    assert "-- Relancer par Mail ou SMS --" not in signed  # nothing to remind among signed contracts
    back = post(client, f"/contracts/{contract.id}/unsign?state=signed")
    assert back.status_code == 303 and "state=signed" in back.headers["Location"]
    assert f"Contrat {contract.reference} remis en attente de signature." in _text(client.get(back.headers["Location"]))
    with app.app_context():
        again = db.session.get(Contract, contract.id)
        assert (again.status, again.signed_at, again.marked_by_id) == ("awaiting_signature", None, None)
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "contract.unsigned"
    assert _awaiting(app) == total
    # Twice, or a contract signed at the e-signature provider: refused, nothing changes.
    post(client, f"/contracts/{contract.id}/unsign")
    assert "Seul un contrat défini signé à la main" in _text(client.get("/contracts"))


def test_a_signed_contract_cannot_be_signed_again(app, client, auth, batie):
    contract = _first_awaiting(app)
    auth.login("agence@vigie.test")
    post(client, f"/contracts/{contract.id}/sign/paper")
    token = token_for(client, "/contracts")
    again = client.post(f"/contracts/{contract.id}/sign/agency", data={"csrf_token": token}, headers=HTMX)
    assert again.status_code == 409
    assert "Ce contrat est déjà signé : rien n'a été modifié." in _text(again)
    with app.app_context():
        assert db.session.get(Contract, contract.id).status == SIGNED_ON_PAPER
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "contract.signed")) == 1


def test_another_agencys_contracts_are_out_of_reach(app, client, auth, batie):
    contract = _first_awaiting(app)
    other_company(app, "rival@interim.test", 61000001, is_agency=True)
    auth.login("rival@interim.test")
    page = _text(client.get("/contracts"))
    assert "Aucun contrat en attente de signature" in page and contract.reference not in page
    for how in ("paper", "agency"):
        assert post(client, f"/contracts/{contract.id}/sign/{how}").status_code == 404
    assert post(client, "/contracts/999999/sign/paper").status_code == 404
    with app.app_context():
        assert db.session.get(Contract, contract.id).status == AWAITING


def test_only_agencies_manage_contracts(client, auth, batie):
    auth.login("fournisseur@vigie.test")
    assert "Gérer les contrats" not in client.get("/").get_data(as_text=True)
    assert client.get("/contracts").status_code == 403
    assert post(client, "/contracts/1/sign/paper").status_code == 403


def test_an_overdue_contract_is_marked(app, client, auth, batie):
    with app.app_context():
        employee = db.session.scalar(select(Employee.id).limit(1))
        start = clock.today() - timedelta(days=3)
        late = Contract(
            agency_id=batie["orgs"]["Batie Construction"],
            employee_id=employee,
            typology_id=batie["typologies"]["employment"],
            reference="CT-LATE",
            mission_start=start,
            signature_deadline=signature_deadline(start),
        )
        db.session.add(late)
        db.session.commit()
    auth.login("agence@vigie.test")
    page = _text(client.get("/contracts", query_string={"q": "CT-LATE", "start": start.isoformat()}))
    row = re.split(r'id="contract-\d', page)[1]
    assert "CT-LATE" in row and "En retard" in row


# The operator's paid option ------------------------------------------------------------------


def test_an_operator_switches_the_reminders_option_and_it_is_audited(app, client, auth, demo):
    batie = demo["orgs"]["Batie Construction"]
    auth.login("operateur@vigie.test")
    page = _text(client.get("/operations/options"))
    assert "Batie Construction" in page and "Désactivée" in page
    response = post(client, f"/operations/options/{batie}/reminders/on")
    assert response.status_code == 303
    assert "Relances par Mail ou SMS activées pour Batie Construction." in _text(client.get("/operations/options"))
    # Switching off asks first: the page says what the agency keeps; nothing changes before.
    confirm = _text(post(client, f"/operations/options/{batie}/reminders/off"))
    assert "Désactiver « Relances par Mail ou SMS » pour Batie Construction ?" in confirm
    assert "garde l'historique de ses relances" in confirm
    with app.app_context():
        assert db.session.get(Organisation, batie).reminders_enabled is True
    post(client, f"/operations/options/{batie}/reminders/off", {"confirm": "1"})
    with app.app_context():
        assert db.session.get(Organisation, batie).reminders_enabled is False
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("option.%")).order_by(AuditEvent.id)
        ).all()
        assert actions == ["option.reminders_enabled", "option.reminders_disabled"]
    assert "Menuiserie Martin" in _text(client.get("/operations/options", query_string={"q": "menuiserie"}))


def test_only_operators_switch_options(app, client, auth, demo):
    auth.login("agence@vigie.test")
    assert client.get("/operations/options").status_code == 403
    assert post(client, f"/operations/options/{demo['orgs']['Batie Construction']}/reminders/on").status_code == 403
    with app.app_context():
        assert db.session.get(Organisation, demo["orgs"]["Batie Construction"]).reminders_enabled is False
