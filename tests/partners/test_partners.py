"""Mise en relation: find, ask, accept or refuse, partners, suspend or end, and what partners see."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.models import AuditEvent, DocumentVersion, Invitation, Message, Organisation, Partnership, utcnow
from tests.support.data import count_queries
from tests.support.http import HTMX, login, post, token_for
from tests.support.notices import send_digests


def _request_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Partnership.id).where(Partnership.status == "pending"))


def _accept_as_martin(app, client) -> int:
    partnership_id = _request_id(app)
    login(client, "fournisseur@vigie.test")
    post(client, f"/partners/requests/{partnership_id}/accept")
    post(client, "/logout")
    return partnership_id


def test_pending_requests_show_on_the_home_page_with_a_count(client, auth, demo):
    auth.login("fournisseur@vigie.test")
    page = client.get("/").get_data(as_text=True)
    assert "Partenaires à confirmer" in page
    assert re.search(r'id="pending-partners-count"[^>]*>1<', page)
    assert "Constructor SA" in page and "demande à voir votre dossier de vigilance" in page
    assert "Demandé le" in page and "y compris ceux déjà envoyés" in page


def test_accepting_swaps_the_row_and_updates_the_count_over_htmx(app, client, auth, demo):
    partnership_id = _request_id(app)
    auth.login("fournisseur@vigie.test")
    token = token_for(client, "/")
    response = client.post(f"/partners/requests/{partnership_id}/accept", data={"csrf_token": token}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert f'id="request-{partnership_id}"' in body and "Vous avez accepté la demande de Constructor SA." in body
    assert re.search(r'id="pending-partners-count"[^>]*hx-swap-oob="true"[^>]*>0<', body)
    with app.app_context():
        partnership = db.session.get(Partnership, partnership_id)
        assert partnership.status == "accepted" and partnership.decided_by_id == demo["users"]["fournisseur@vigie.test"]
        message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message.recipient == "constructor@vigie.test"
        assert message.subject == "Menuiserie Martin a accepté votre demande de mise en relation"
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "partnership.accepted"


def test_refusing_without_javascript_redirects_and_tells_the_requester(app, client, auth, demo):
    partnership_id = _request_id(app)
    auth.login("fournisseur@vigie.test")
    response = post(client, f"/partners/requests/{partnership_id}/refuse")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Vous avez refusé la demande de Constructor SA." in client.get("/").get_data(as_text=True)
    with app.app_context():
        message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message.subject == "Menuiserie Martin a refusé votre demande de mise en relation"
    again = post(client, f"/partners/requests/{partnership_id}/accept")
    assert again.status_code == 303
    assert "déjà reçu une réponse" in client.get("/").get_data(as_text=True)


def test_a_request_addressed_to_another_company_cannot_be_answered(app, client, auth, demo):
    partnership_id = _request_id(app)
    auth.login("agence@vigie.test")
    assert post(client, f"/partners/requests/{partnership_id}/accept").status_code == 404
    post(client, "/logout")
    auth.login("constructor@vigie.test")  # the requester cannot accept its own request
    assert post(client, f"/partners/requests/{partnership_id}/accept").status_code == 404
    with app.app_context():
        assert db.session.get(Partnership, partnership_id).status == "pending"


def test_search_by_siren_siret_or_name_and_ask(app, client, auth, demo):
    auth.login("agence@vigie.test")
    for query in ("812345676", "81234567600017", "menuiserie"):
        page = client.get(f"/partners/new?q={query}").get_data(as_text=True)
        assert "Menuiserie Martin" in page, query
    fragment = client.get("/partners/new?q=demolitor", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="results">') and "Demolitor SAS" in fragment
    assert "Vigie Opérations" not in client.get("/partners/new?q=vigie").get_data(as_text=True)
    token = token_for(client, "/partners/new")
    response = client.post(
        "/partners/request", data={"csrf_token": token, "target_id": demo["orgs"]["Menuiserie Martin"]}
    )
    assert response.status_code == 303
    assert "Demande de mise en relation envoyée." in client.get("/partners").get_data(as_text=True)
    # Not a mail of its own: the supplier's next daily digest says who asks, and links to the answer.
    [digest] = send_digests(app, clock.today())
    assert digest.recipient == "fournisseur@vigie.test"
    assert "Batie Construction (SIREN " in digest.body_text and "vous demande une mise en relation" in digest.body_text
    assert "Accepter ou refuser : http://localhost/notifications/inviters" in digest.body_text


def test_asking_twice_is_refused(app, client, auth, demo):
    auth.login("constructor@vigie.test")
    target = demo["orgs"]["Menuiserie Martin"]
    post(client, "/partners/request", {"target_id": target})
    assert "Une demande est déjà en attente de réponse." in client.get("/partners").get_data(as_text=True)
    with app.app_context():
        count = select(db.func.count()).select_from(Partnership).where(Partnership.target_id == target)
        assert db.session.scalar(count) == 1


def test_a_refused_request_can_be_made_again_only_after_30_days(app, client, auth, demo):
    partnership_id = _request_id(app)
    auth.login("fournisseur@vigie.test")
    post(client, f"/partners/requests/{partnership_id}/refuse")
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    post(client, "/partners/request", {"target_id": demo["orgs"]["Menuiserie Martin"]})
    assert "nouvelle demande possible à partir du" in client.get("/partners").get_data(as_text=True)
    with app.app_context():
        db.session.get(Partnership, partnership_id).decided_at = utcnow() - timedelta(days=31)
        db.session.commit()
    post(client, "/partners/request", {"target_id": demo["orgs"]["Menuiserie Martin"]})
    assert "Demande de mise en relation envoyée." in client.get("/partners").get_data(as_text=True)


def test_inviting_a_company_not_on_vigie_creates_its_account_by_link(app, client, auth, demo):
    auth.login("constructor@vigie.test")
    token = token_for(client, "/partners/new")
    bad = client.post(
        "/partners/new",
        data={
            "csrf_token": token,
            "legal_name": "Toiture Morel",
            "siret": "12345678900000",
            "email": "contact@morel.test",
        },
        headers=HTMX,
    )
    assert bad.status_code == 422 and "<html" not in bad.get_data(as_text=True)
    assert 'id="siret-error"' in bad.get_data(as_text=True) and "Ce SIRET n" in bad.get_data(as_text=True)
    existing = client.post(
        "/partners/new", data={"csrf_token": token, "legal_name": "X", "siret": "81234567600017", "email": "x@y.test"}
    )
    assert "déjà sur Vigie" in existing.get_data(as_text=True)
    response = client.post(
        "/partners/new",
        data={
            "csrf_token": token,
            "legal_name": "Toiture Morel",
            "siret": "44306184100047",
            "email": "Contact@Morel.test",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.siren == "443061841"))
        assert organisation.legal_name == "Toiture Morel" and organisation.is_supplier
        invitation = db.session.scalar(select(Invitation).where(Invitation.organisation_id == organisation.id))
        assert (invitation.email, invitation.role) == ("contact@morel.test", "owner")
        message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message.subject == "Constructor SA vous invite à partager votre dossier de vigilance sur Vigie"
        link = re.search(r"http://localhost(/invitation/\S+)", message.body_text).group(1)
    post(client, "/logout")
    token = token_for(client, link)
    client.post(link, data={"csrf_token": token, "password": "un-bon-mot-de-passe", "confirm": "un-bon-mot-de-passe"})
    page = client.get("/").get_data(as_text=True)
    assert "Toiture Morel" in page and "Constructor SA" in page and "demande à voir votre dossier" in page


def test_partner_sees_documents_sent_before_acceptance_and_nothing_once_ended(app, client, auth, demo_file):
    with app.app_context():
        version_id = db.session.scalar(select(DocumentVersion.id).where(DocumentVersion.status == "valid"))
    martin = demo_file["orgs"]["Menuiserie Martin"]
    auth.login("constructor@vigie.test")
    assert client.get(f"/partners/companies/{martin}").status_code == 404
    assert client.get(f"/partners/companies/{martin}/versions/{version_id}/download").status_code == 404
    post(client, "/logout")
    partnership_id = _accept_as_martin(app, client)
    auth.login("constructor@vigie.test")
    page = client.get(f"/partners/companies/{martin}").get_data(as_text=True)
    assert "Attestation de vigilance URSSAF" in page and "Expiré" in page
    download = client.get(f"/partners/companies/{martin}/versions/{version_id}/download")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")
    assert f"/partners/companies/{martin}" in client.get("/partners").get_data(as_text=True)
    post(client, f"/partners/{partnership_id}/suspend")
    assert client.get(f"/partners/companies/{martin}").status_code == 404
    post(client, f"/partners/{partnership_id}/resume")
    assert client.get(f"/partners/companies/{martin}").status_code == 200
    post(client, f"/partners/{partnership_id}/end")
    assert client.get(f"/partners/companies/{martin}").status_code == 404
    assert client.get(f"/partners/companies/{martin}/versions/{version_id}/download").status_code == 404
    with app.app_context():
        assert db.session.get(Partnership, partnership_id).status == "ended"
        message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message.recipient == "fournisseur@vigie.test" and "relation terminée" in message.subject


def test_a_partner_cannot_read_another_companys_version_through_its_partner(app, client, auth, demo_file):
    """Accepted with Martin does not open Demolitor's files, even by guessing ids."""
    _accept_as_martin(app, client)
    auth.login("constructor@vigie.test")
    with app.app_context():
        version_id = db.session.scalar(select(DocumentVersion.id))
    demolitor = demo_file["orgs"]["Demolitor SAS"]
    assert client.get(f"/partners/companies/{demolitor}/versions/{version_id}/download").status_code == 404


def test_only_the_two_sides_can_change_a_relationship(app, client, auth, demo):
    partnership_id = _accept_as_martin(app, client)
    auth.login("agence@vigie.test")
    assert post(client, f"/partners/{partnership_id}/end").status_code == 404
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    page = client.get("/partners").get_data(as_text=True)
    assert "Constructor SA" in page and "Consulte votre dossier" in page and "Paul Martin" in page
    post(client, f"/partners/{partnership_id}/resume")
    assert "ne permet pas cette action" in client.get("/partners").get_data(as_text=True)


def test_partners_page_runs_the_same_queries_for_few_or_many_partners(app, client, auth, demo):
    from tests.support.data import valid_siren

    auth.login("constructor@vigie.test")
    constructor = demo["orgs"]["Constructor SA"]
    counts = []
    for total in (3, 40):
        with app.app_context():
            existing = db.session.scalar(select(db.func.count()).select_from(Partnership))
            for index in range(existing, total):
                organisation = Organisation(
                    siren=valid_siren(60000000 + index), legal_name=f"Fournisseur {index}", is_supplier=True
                )
                db.session.add(organisation)
                db.session.flush()
                db.session.add(
                    Partnership(
                        requester_id=constructor, target_id=organisation.id, status="accepted", decided_at=utcnow()
                    )
                )
            db.session.commit()
        with count_queries(app) as statements:
            assert client.get("/partners").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_partner_company_page_has_a_plain_title(app, client, auth, demo_file):
    partnership_id = _request_id(app)
    auth.login("fournisseur@vigie.test")
    post(client, f"/partners/requests/{partnership_id}/accept")
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    page = client.get(f"/partners/companies/{demo_file['orgs']['Menuiserie Martin']}").get_data(as_text=True)
    assert "<title>Menuiserie Martin · Vigie</title>" in page
    assert page.count('id="company-requirements-form"') == 1


def test_service_messages_are_translated_for_english_users(app, client, auth, demo):
    """A refusal from a service (not a form) speaks the user's language, flashed or next to the field."""
    auth.login("constructor@vigie.test")
    post(client, "/language", {"language": "en"})
    post(client, "/partners/request", {"target_id": demo["orgs"]["Menuiserie Martin"]})
    assert "A request is already awaiting an answer." in client.get("/partners").get_data(as_text=True)
    token = token_for(client, "/partners/new")
    bad = client.post(
        "/partners/new", data={"csrf_token": token, "legal_name": "X", "siret": "81234567600017", "email": "x@y.test"}
    )
    assert "This company is already on Vigie: search for it by its SIREN." in bad.get_data(as_text=True)


def test_a_partner_downloads_exactly_the_versions_its_page_lists(app, client, auth, demo_file):
    """Martin's refused LNTE and the versions awaiting review show "—" to the client: their files
    answer 404 too, whatever id is typed."""
    martin = demo_file["orgs"]["Menuiserie Martin"]
    _accept_as_martin(app, client)
    auth.login("constructor@vigie.test")
    page = client.get(f"/partners/companies/{martin}").get_data(as_text=True)
    listed = {int(v) for v in re.findall(rf"/partners/companies/{martin}/versions/(\d+)/download", page)}
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(DocumentVersion.id, DocumentVersion.status).where(DocumentVersion.organisation_id == martin)
            ).all()
        )
    hidden = {v for v, status in statuses.items() if v not in listed}
    assert listed and {statuses[v] for v in hidden} >= {"refused", "submitted"}
    for version_id in listed:
        assert client.get(f"/partners/companies/{martin}/versions/{version_id}/download").status_code == 200
    for version_id in hidden:
        answer = client.get(f"/partners/companies/{martin}/versions/{version_id}/download")
        assert answer.status_code == 404, statuses[version_id]


def test_accepting_lets_each_side_read_the_file_the_other_keeps(app, client, auth, demo_file):
    """The reference: after "Accepter", the partner's documents already sent are accessible. Batie
    (the agency) asked Constructor; Batie keeps its own file, so Constructor reads it too."""
    batie, constructor = demo_file["orgs"]["Batie Construction"], demo_file["orgs"]["Constructor SA"]
    with app.app_context():
        request_id = db.session.scalar(
            select(Partnership.id).where(Partnership.requester_id == batie, Partnership.target_id == constructor)
        )
        batie_kbis = db.session.scalar(
            select(DocumentVersion.id).where(DocumentVersion.original_filename == "batie-kbis.pdf")
        )
    login(client, "constructor@vigie.test")
    assert client.get(f"/partners/companies/{batie}").status_code == 404  # not before accepting
    card = client.get("/").get_data(as_text=True)
    card = card[card.index(f'id="request-{request_id}"') :]
    assert "Batie Construction verra les documents de Constructor SA" in card[:2000]
    assert "Constructor SA verra en retour le dossier de Batie Construction." in card[:2000]
    post(client, f"/partners/requests/{request_id}/accept")
    partners = client.get("/partners").get_data(as_text=True).replace("&#39;", "'")
    row = partners[partners.index(f'id="partner-{request_id}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/partners/companies/{batie}"' in row and "Vous consultez son dossier, il consulte le vôtre" in row
    page = client.get(f"/partners/companies/{batie}").get_data(as_text=True)
    assert "Extrait Kbis" in page and 'state-label">Valide' in page
    assert client.get(f"/partners/companies/{batie}/versions/{batie_kbis}/download").status_code == 200
    # Suspended: nothing any more, whatever the id.
    post(client, f"/partners/{request_id}/suspend")
    assert client.get(f"/partners/companies/{batie}").status_code == 404
    assert client.get(f"/partners/companies/{batie}/versions/{batie_kbis}/download").status_code == 404


def test_a_requester_without_a_file_shows_nothing_in_return(app, client, auth, demo_file):
    """Constructor asked Menuiserie Martin; Constructor keeps no file: Martin is told, and reads nothing."""
    with app.app_context():
        request_id = db.session.scalar(
            select(Partnership.id).where(
                Partnership.requester_id == demo_file["orgs"]["Constructor SA"],
                Partnership.target_id == demo_file["orgs"]["Menuiserie Martin"],
            )
        )
    login(client, "fournisseur@vigie.test")
    card = client.get("/").get_data(as_text=True).replace("&#39;", "'")
    card = card[card.index(f'id="request-{request_id}"') :][:2000]
    assert "Constructor SA ne tient pas de dossier sur Vigie" in card
    post(client, f"/partners/requests/{request_id}/accept")
    assert client.get(f"/partners/companies/{demo_file['orgs']['Constructor SA']}").status_code == 404
    row = client.get("/partners").get_data(as_text=True)
    row = row[row.index(f'id="partner-{request_id}"') :]
    assert "Consulte votre dossier" in row[: row.index("</tr>")]


def test_mes_partenaires_searches_pages_by_50_and_lists_linked_accounts_first(app, client, auth, demo):
    from tests.support.data import valid_siren

    constructor = demo["orgs"]["Constructor SA"]
    with app.app_context():
        for index in range(63):
            organisation = Organisation(
                siren=valid_siren(61000000 + index), legal_name=f"Fournisseur {index:02d}", is_supplier=True
            )
            db.session.add(organisation)
            db.session.flush()
            db.session.add(
                Partnership(requester_id=constructor, target_id=organisation.id, status="accepted", decided_at=utcnow())
            )
        siren_of_07 = valid_siren(61000007)
        db.session.commit()
    auth.login("constructor@vigie.test")
    first = client.get("/partners").get_data(as_text=True)
    table = first.split('id="partners"')[1].split("</table>")[0]
    assert table.count('id="partner-') == 50 and "Fournisseur 00" in table and "Fournisseur 50" not in table
    assert "Page 1 sur 2" in first and "(63)" in first
    second = client.get("/partners?page=2").get_data(as_text=True).split('id="partners"')[1].split("</table>")[0]
    assert second.count('id="partner-') == 13 and "Fournisseur 62" in second
    assert client.get("/partners?page=999999999999999999999").status_code == 200  # the last page
    found = client.get("/partners?q=fournisseur 07").get_data(as_text=True)
    assert found.split('id="partners"')[1].split("</table>")[0].count('id="partner-') == 1
    assert "Fournisseur 07" in client.get(f"/partners?q={siren_of_07}").get_data(as_text=True)
    assert "Aucun partenaire ne correspond à « zzz »" in client.get("/partners?q=zzz").get_data(as_text=True)
    assert client.get("/partners?q=zzz%00").status_code < 500
    # Nobody recorded who accepted (imported rows): the company is named, not a dash.
    assert "Accepté par" in first and "personne non enregistrée" in table


def test_linked_accounts_come_before_the_partners(app, client, auth, demo):
    from portal.models import AccountLink, LinkRequest

    constructor, demolitor = demo["orgs"]["Constructor SA"], demo["orgs"]["Demolitor SAS"]
    with app.app_context():
        request = LinkRequest(agency_id=demo["orgs"]["Batie Construction"], main_id=constructor, status="accepted")
        db.session.add(request)
        db.session.flush()
        db.session.add(
            AccountLink(
                request_id=request.id,
                main_id=constructor,
                secondary_id=demolitor,
                status="accepted",
                accepted_at=utcnow(),
            )
        )
        db.session.commit()
    auth.login("constructor@vigie.test")
    page = client.get("/partners").get_data(as_text=True)
    assert page.index('id="linked-partners"') < page.index('id="partners-title"')
