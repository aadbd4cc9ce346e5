"""Client sheets and linked accounts: propose from the back office, accept for the group, read, unlink."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from portal.core import clock
from portal.core.extensions import db
from portal.models import (
    AccountLink,
    AuditEvent,
    ClientSheet,
    Invitation,
    LinkRequest,
    Membership,
    Message,
    Organisation,
    Partnership,
    User,
)
from tests.support.data import count_queries, other_company, valid_siren
from tests.support.http import HTMX, login, post, token_for
from tests.support.notices import waiting

CONSTRUCTOR_EMAIL = "constructor@vigie.test"


def _sheet_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ClientSheet.id)
            .join(Organisation, Organisation.id == ClientSheet.company_id)
            .where(Organisation.legal_name == name)
        )


def _count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _confirm_link(client, sheet_id: int, demo, main: str = "Constructor SA"):
    """ "Valider rattachement" of Constructor SA and Demolitor SAS from a sheet."""
    companies = [demo["orgs"]["Constructor SA"], demo["orgs"]["Demolitor SAS"]]
    return post(
        client,
        f"/clients/{sheet_id}/link",
        {"main_id": demo["orgs"][main], "company_ids": companies, "action": "confirm"},
    )


def _propose(app, client, demo) -> int:
    """As the agency: give Demolitor's sheet Constructor's email, then "Valider rattachement"."""
    demolitor = _sheet_id(app, "Demolitor SAS")
    login(client, "agence@vigie.test")
    post(client, f"/clients/{demolitor}", {"contact_email": CONSTRUCTOR_EMAIL})
    response = _confirm_link(client, demolitor, demo)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "Demande de rattachement envoyée au compte principal Constructor SA." in client.get("/clients").get_data(
        as_text=True
    )
    post(client, "/logout")
    with app.app_context():
        return db.session.scalar(select(LinkRequest.id))


def _accept_group(app, client, demo) -> int:
    request_id = _propose(app, client, demo)
    login(client, CONSTRUCTOR_EMAIL)
    assert post(client, f"/linked/requests/{request_id}/accept").status_code == 303
    return request_id


def _person(email: str, organisation_id: int, role: str) -> User:
    """A user with a membership, in the caller's app context (the caller commits)."""
    first, last = email.split("@")[0].title(), "Test"
    user = User(email=email, first_name=first, last_name=last)
    user.set_password("vigie-demo")
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, organisation_id=organisation_id, role=role))
    return user


def _agency(app) -> None:
    other_company(app, "rival-agence@vigie.test", 66000001, is_agency=True)


# Back office: client sheets ------------------------------------------------------------------


def test_the_agency_lists_its_client_sheets(client, auth, demo):
    auth.login("agence@vigie.test")
    page = client.get("/clients").get_data(as_text=True)
    assert "Mes clients" in page and "Clients à rattacher" in page
    assert page.index("Constructor SA") < page.index("Demolitor SAS")
    assert "direction@demolitor.test" in page and CONSTRUCTOR_EMAIL in page
    assert re.search(r'id="to-link-count"[^>]*>0<', page)


def test_only_agencies_and_firms_have_a_back_office(client, auth, demo):
    auth.login("fournisseur@vigie.test")
    assert "Mes clients" not in client.get("/").get_data(as_text=True)
    for path in ("/clients", "/clients/to-link", "/clients/new"):
        assert client.get(path).status_code == 403
    assert post(client, "/clients/new", {"siret": "52108743700013", "contact_email": "x@y.test"}).status_code == 403


def test_a_sheet_for_a_company_on_vigie_asks_it_to_connect(app, client, auth, demo):
    auth.login("agence@vigie.test")
    response = post(client, "/clients/new", {"siret": "812 345 676 00017", "contact_email": "Paul@Martin.test"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Menuiserie Martin" in page and "paul@martin.test" in page
    with app.app_context():
        asked = db.session.scalar(
            select(Partnership).where(
                Partnership.requester_id == demo["orgs"]["Batie Construction"],
                Partnership.target_id == demo["orgs"]["Menuiserie Martin"],
            )
        )
        assert asked.status == "pending"
    # The supplier hears of it in its next daily digest (its default for partner requests).
    [notice] = waiting(app, "fournisseur@vigie.test", "partner_request")
    assert "Batie Construction" in notice.line and notice.asked_by.startswith("Demande de ")


def test_a_sheet_for_a_company_not_on_vigie_invites_its_contact(app, client, auth, demo):
    auth.login("agence@vigie.test")
    siret = valid_siren(55500001) + "00018"
    from stdnum.fr import siret as siret_number

    siret = siret[:13] + next(d for d in "0123456789" if siret_number.is_valid(siret[:13] + d))
    bad = client.post(
        "/clients/new",
        data={"csrf_token": token_for(client, "/clients/new"), "siret": siret, "contact_email": "boss@neuf.test"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    assert "pas dans la base des entreprises : indiquez sa raison sociale" in bad.get_data(as_text=True)
    assert _count(app, ClientSheet) == 2
    response = post(
        client, "/clients/new", {"siret": siret, "legal_name": "Neuf Bâtiment", "contact_email": "boss@neuf.test"}
    )
    assert response.status_code == 303
    with app.app_context():
        company = db.session.scalar(select(Organisation).where(Organisation.siren == siret[:9]))
        assert company.legal_name == "Neuf Bâtiment" and company.is_client
        invitation = db.session.scalar(select(Invitation).where(Invitation.organisation_id == company.id))
        assert invitation.email == "boss@neuf.test" and invitation.role == "owner"


def test_bad_sheet_input_gets_a_french_message_next_to_the_field(app, client, auth, demo):
    auth.login("agence@vigie.test")
    token = token_for(client, "/clients/new")
    cases = [
        ({"siret": "12345678901234", "contact_email": "a@b.test"}, "Ce SIRET n'est pas valide"),
        ({"siret": "52108743700013", "contact_email": "pas-une-adresse"}, "adresse e-mail"),
        ({"siret": "52108743700013", "contact_email": "a@b.test"}, "Une fiche existe déjà pour cette entreprise."),
        ({"siret": "79045612300013", "contact_email": "a@b.test"}, "C'est le SIRET de votre propre entreprise."),
    ]
    for data, message in cases:
        response = client.post("/clients/new", data={"csrf_token": token, **data}, headers=HTMX)
        body = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 422 and message in body, body
        assert 'class="field-error"' in body and "<html" not in body
    assert _count(app, ClientSheet) == 2


def test_creating_a_sheet_with_a_shared_email_proposes_no_link(app, client, auth, demo):
    auth.login("agence@vigie.test")
    post(client, "/clients/new", {"siret": "81234567600017", "contact_email": CONSTRUCTOR_EMAIL})
    with app.app_context():
        assert db.session.scalars(select(ClientSheet.link_proposed_at)).all() == [None, None, None]
    assert re.search(r'id="to-link-count"[^>]*>0<', client.get("/clients/to-link").get_data(as_text=True))
    listing = client.get("/clients").get_data(as_text=True)
    assert re.search(r'id="to-link-count"[^>]*>0<', listing) and "À rattacher" not in listing


def test_the_badge_counts_what_clients_a_rattacher_lists_even_after_a_refusal(app, client, auth, demo):
    request_id = _propose(app, client, demo)
    auth.login(CONSTRUCTOR_EMAIL)
    post(client, f"/linked/requests/{request_id}/refuse")
    post(client, "/logout")
    auth.login("agence@vigie.test")
    for path in ("/clients", "/clients/to-link"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'id="to-link-count"[^>]*>1<', page), path
    listing = client.get("/clients/to-link").get_data(as_text=True).split("<table")[-1]
    assert "Demolitor SAS" in listing and "Constructor SA" not in listing


def test_a_new_sheet_takes_its_name_from_the_company_data_set(app, client, auth, demo):
    """As the firm's wizard does: a SIRET of the bundled company data set needs no name typed."""
    from portal.integrations import company_data

    with app.app_context():
        siret, expected = next(
            (s, d.name)
            for s in (r.get("siege", {}).get("siret") for r in company_data.OfflineDirectory().results)
            if s
            and (d := company_data.directory().lookup(s))
            and not db.session.scalar(select(Organisation.id).where(Organisation.siren == s[:9]))
        )
    auth.login("agence@vigie.test")
    response = post(client, "/clients/new", {"siret": siret, "contact_email": "contact@exemple.test"})
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        assert db.session.scalar(select(Organisation.legal_name).where(Organisation.siren == siret[:9])) == expected


def test_changing_the_email_to_another_sheets_proposes_the_link(app, client, auth, demo):
    demolitor = _sheet_id(app, "Demolitor SAS")
    auth.login("agence@vigie.test")
    response = post(client, f"/clients/{demolitor}", {"contact_email": CONSTRUCTOR_EMAIL.upper()})
    assert response.status_code == 303
    page = client.get(f"/clients/{demolitor}").get_data(as_text=True)
    assert "Cette adresse est aussi celle de Constructor SA : vous pouvez rattacher ces comptes." in page
    assert 'id="link-proposal"' in page and ">Rattacher</a>" in page
    listing = client.get("/clients/to-link").get_data(as_text=True)
    assert re.search(r'id="to-link-count"[^>]*>1<', listing)
    assert "Demolitor SAS" in listing and "Gérer le rattachement" in listing
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
            "client_sheet.email_changed"
        )
    # Back to an email of its own: nothing to link any more.
    post(client, f"/clients/{demolitor}", {"contact_email": "direction@demolitor.test"})
    assert 'id="link-proposal"' not in client.get(f"/clients/{demolitor}").get_data(as_text=True)
    assert "Demolitor SAS" not in client.get("/clients/to-link").get_data(as_text=True).split("<table")[-1]


def test_a_bad_email_on_a_sheet_is_refused_with_422(app, client, auth, demo):
    demolitor = _sheet_id(app, "Demolitor SAS")
    auth.login("agence@vigie.test")
    token = token_for(client, f"/clients/{demolitor}")
    response = client.post(f"/clients/{demolitor}", data={"csrf_token": token, "contact_email": "nope"}, headers=HTMX)
    assert response.status_code == 422 and 'class="field-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ClientSheet, demolitor).contact_email == "direction@demolitor.test"


# "Gérer le rattachement" ---------------------------------------------------------------------


def test_manage_link_opens_a_dialog_with_the_group_and_a_summary(app, client, auth, demo):
    demolitor = _sheet_id(app, "Demolitor SAS")
    auth.login("agence@vigie.test")
    post(client, f"/clients/{demolitor}", {"contact_email": CONSTRUCTOR_EMAIL})
    fragment = client.get(f"/clients/{demolitor}/link", headers=HTMX).get_data(as_text=True)
    assert fragment.startswith('<dialog id="link-dialog"') and "<html" not in fragment
    assert "Constructor SA" in fragment and "Demolitor SAS" in fragment
    assert re.search(rf'<option selected value="{demo["orgs"]["Constructor SA"]}">Constructor SA', fragment)
    assert "Récapitulatif des comptes qui seront rattachés" in fragment and "Valider rattachement" in fragment
    summary = fragment.split('id="link-summary"')[1]
    assert re.search(r"Constructor SA</td>.*Compte principal", summary, re.S)
    assert re.search(r"Demolitor SAS</td>.*Compte rattaché", summary, re.S)
    # Without JavaScript it is a page, and picking another main account redraws the summary.
    page = client.get(f"/clients/{demolitor}/link").get_data(as_text=True)
    assert "<html" in page and "Mettre à jour le récapitulatif" in page
    token = token_for(client, f"/clients/{demolitor}/link")
    preview = client.post(
        f"/clients/{demolitor}/link",
        data={
            "csrf_token": token,
            "main_id": demo["orgs"]["Demolitor SAS"],
            "company_ids": [demo["orgs"]["Constructor SA"], demo["orgs"]["Demolitor SAS"]],
            "action": "preview",
        },
        headers=HTMX,
    ).get_data(as_text=True)
    assert preview.startswith('<div id="link-summary"')
    assert re.search(r"Demolitor SAS</td>.*Compte principal.*Constructor SA</td>.*Compte rattaché", preview, re.S)
    assert _count(app, LinkRequest) == 0


def test_validating_the_link_sends_the_request_to_the_main_account(app, client, auth, demo):
    request_id = _propose(app, client, demo)
    with app.app_context():
        link_request = db.session.get(LinkRequest, request_id)
        assert link_request.main_id == demo["orgs"]["Constructor SA"] and link_request.status == "pending"
        links = db.session.scalars(select(AccountLink)).all()
        assert [(link.secondary_id, link.status) for link in links] == [(demo["orgs"]["Demolitor SAS"], "pending")]
        subjects = db.session.scalars(select(Message.subject).where(Message.recipient == CONSTRUCTOR_EMAIL)).all()
        assert "Batie Construction propose de rattacher des comptes à Constructor SA" in subjects
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "account_link.requested"))
    auth.login("agence@vigie.test")
    page = html.unescape(client.get("/clients").get_data(as_text=True))
    assert page.count("en attente d'acceptation") == 2  # Constructor as main, Demolitor as linked


def test_the_link_form_refuses_bad_choices_with_422(app, client, auth, demo):
    demolitor = _sheet_id(app, "Demolitor SAS")
    auth.login("agence@vigie.test")
    post(client, f"/clients/{demolitor}", {"contact_email": CONSTRUCTOR_EMAIL})
    token = token_for(client, f"/clients/{demolitor}/link")
    martin = demo["orgs"]["Menuiserie Martin"]
    cases = [
        ({"main_id": martin, "company_ids": [demo["orgs"]["Demolitor SAS"]]}, "Choisissez le compte principal"),
        ({"main_id": demo["orgs"]["Constructor SA"], "company_ids": [martin]}, "Cochez au moins une société"),
        ({"main_id": demo["orgs"]["Constructor SA"], "company_ids": []}, "Cochez au moins une société"),
    ]
    for data, message in cases:
        response = client.post(
            f"/clients/{demolitor}/link", data={"csrf_token": token, "action": "confirm", **data}, headers=HTMX
        )
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _count(app, LinkRequest) == 0 and _count(app, AccountLink) == 0


def test_an_account_already_linked_cannot_be_proposed_again(app, client, auth, demo):
    _propose(app, client, demo)
    demolitor = _sheet_id(app, "Demolitor SAS")
    auth.login("agence@vigie.test")
    response = _confirm_link(client, demolitor, demo)
    assert response.status_code == 422
    assert "Déjà rattaché ou en cours de rattachement : Demolitor SAS." in response.get_data(as_text=True)
    assert _count(app, LinkRequest) == 1


def test_linking_the_accounts_of_another_agency_is_refused(app, client, auth, demo):
    _agency(app)
    demolitor = _sheet_id(app, "Demolitor SAS")
    auth.login("rival-agence@vigie.test")
    assert client.get(f"/clients/{demolitor}").status_code == 404
    assert client.get(f"/clients/{demolitor}/link").status_code == 404
    response = _confirm_link(client, demolitor, demo)
    assert response.status_code == 404
    assert post(client, f"/clients/{demolitor}", {"contact_email": "x@y.test"}).status_code == 404
    assert "Demolitor" not in client.get("/clients").get_data(as_text=True)
    assert _count(app, LinkRequest) == 0
    with app.app_context():
        assert db.session.get(ClientSheet, demolitor).contact_email == "direction@demolitor.test"


# Company side: "Accepter", then "Accepter groupe" --------------------------------------------


def test_the_main_account_sees_the_request_and_accepts_in_two_steps(app, client, auth, demo):
    request_id = _propose(app, client, demo)
    auth.login(CONSTRUCTOR_EMAIL)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'id="pending-partners-count"[^>]*>2<', home)  # the link, and the agency's own request
    assert "Batie Construction</strong> propose de rattacher à votre compte (compte principal)" in home
    step_one = client.get(f"/linked/requests/{request_id}/accept", headers=HTMX).get_data(as_text=True)
    assert step_one.startswith(f'<div class="request-row confirm" id="link-request-{request_id}"')
    assert "Accepter groupe" in step_one and "Compte principal" in step_one and "Demolitor SAS" in step_one
    assert _count(app, AccountLink, AccountLink.status == "accepted") == 0  # a look commits nothing
    token = token_for(client, "/")
    response = client.post(f"/linked/requests/{request_id}/accept", data={"csrf_token": token}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="link-request-{request_id}"' in body
    assert "Rattachement accepté : Demolitor SAS est rattaché à votre compte." in body
    # The agency's own request to Constructor, and now its request to Demolitor, linked under it.
    assert re.search(r'id="pending-partners-count"[^>]*hx-swap-oob="true"[^>]*>2<', body)
    with app.app_context():
        link = db.session.scalar(select(AccountLink))
        assert link.status == "accepted" and link.accepted_by_id == demo["users"][CONSTRUCTOR_EMAIL]
        agency_mail = db.session.scalars(
            select(Message.subject).where(Message.recipient == "agence@vigie.test").order_by(Message.id.desc())
        ).first()
        assert agency_mail == "Constructor SA a accepté le rattachement"
    # Then the agency's own request, and "Mes partenaires" lists the agency and the subsidiary.
    with app.app_context():
        own_request = db.session.scalar(
            select(Partnership.id).where(
                Partnership.requester_id == demo["orgs"]["Batie Construction"],
                Partnership.target_id == demo["orgs"]["Constructor SA"],
            )
        )
    post(client, f"/partners/requests/{own_request}/accept")
    partners = client.get("/partners").get_data(as_text=True)
    assert "Batie Construction" in partners.split('id="partners"')[1]
    assert "Demolitor SAS" in partners.split('id="linked-partners"')[1]
    # The reference's last step, from the main account: the request made to Demolitor.
    home = client.get("/").get_data(as_text=True).replace("&#39;", "'")
    assert "demande à voir le dossier de vigilance de Demolitor SAS, compte rattaché au vôtre" in home
    with app.app_context():
        to_demolitor = db.session.scalar(
            select(Partnership.id).where(
                Partnership.requester_id == demo["orgs"]["Batie Construction"],
                Partnership.target_id == demo["orgs"]["Demolitor SAS"],
            )
        )
    assert post(client, f"/partners/requests/{to_demolitor}/accept").status_code == 303
    with app.app_context():
        answered = db.session.get(Partnership, to_demolitor)
        assert answered.status == "accepted" and answered.decided_by_id == demo["users"][CONSTRUCTOR_EMAIL]
    # The agency reads "Demolitor SAS — active", not "en attente".
    post(client, "/logout")
    auth.login("agence@vigie.test")
    agency = client.get("/partners").get_data(as_text=True)
    assert "Demolitor SAS" in agency.split('id="partners"')[1].split("</table>")[0]
    assert "Demolitor SAS — en attente" not in agency


def test_a_request_to_an_unlinked_company_cannot_be_answered_by_another(app, client, auth, demo):
    """Without the link, Constructor's owner cannot answer the request made to Demolitor from Constructor."""
    with app.app_context():
        to_demolitor = db.session.scalar(
            select(Partnership.id).where(
                Partnership.requester_id == demo["orgs"]["Batie Construction"],
                Partnership.target_id == demo["orgs"]["Demolitor SAS"],
            )
        )
    auth.login(CONSTRUCTOR_EMAIL)
    assert "compte rattaché au vôtre" not in client.get("/").get_data(as_text=True)
    assert post(client, f"/partners/requests/{to_demolitor}/accept").status_code == 404
    with app.app_context():
        assert db.session.get(Partnership, to_demolitor).status == "pending"


def test_accept_without_javascript_is_a_confirmation_page_then_a_redirect(app, client, auth, demo):
    request_id = _propose(app, client, demo)
    auth.login(CONSTRUCTOR_EMAIL)
    page = client.get(f"/linked/requests/{request_id}/accept").get_data(as_text=True)
    assert "<html" in page and "Accepter groupe" in page
    response = post(client, f"/linked/requests/{request_id}/accept")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Rattachement accepté" in client.get("/").get_data(as_text=True)
    again = post(client, f"/linked/requests/{request_id}/accept")
    assert again.status_code == 303
    assert "a déjà reçu une réponse" in client.get("/").get_data(as_text=True)


def test_refusing_the_group_links_nothing_and_tells_the_agency(app, client, auth, demo):
    request_id = _propose(app, client, demo)
    auth.login(CONSTRUCTOR_EMAIL)
    assert post(client, f"/linked/requests/{request_id}/refuse").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(AccountLink.status)) == "refused"
        assert db.session.scalar(select(Message.id).where(Message.subject == "Constructor SA a refusé le rattachement"))
    assert client.get("/linked/documents/{}".format(demo["orgs"]["Demolitor SAS"])).status_code == 404


def test_a_link_request_addressed_to_another_company_cannot_be_answered(app, client, auth, demo):
    request_id = _propose(app, client, demo)
    for email in ("fournisseur@vigie.test", "agence@vigie.test"):
        auth.login(email)
        assert client.get(f"/linked/requests/{request_id}/accept").status_code == 404
        assert post(client, f"/linked/requests/{request_id}/accept").status_code == 404
        assert post(client, f"/linked/requests/{request_id}/refuse").status_code == 404
        post(client, "/logout")
    # Constructor's owner switched to Demolitor (the secondary) cannot accept for the main account either.
    auth.login(CONSTRUCTOR_EMAIL)
    post(client, "/organisations/switch", {"organisation_id": demo["orgs"]["Demolitor SAS"]})
    assert post(client, f"/linked/requests/{request_id}/accept").status_code == 404
    assert _count(app, AccountLink, AccountLink.status == "accepted") == 0


def test_only_an_owner_who_runs_the_linked_company_can_accept(app, client, auth, demo):
    request_id = _propose(app, client, demo)
    with app.app_context():
        # A plain member of Constructor may not accept for the group.
        _person("membre@constructor.test", demo["orgs"]["Constructor SA"], "member")
        # Demolitor gets another owner and Constructor's owner is only a member there.
        _person("patron@demolitor.test", demo["orgs"]["Demolitor SAS"], "owner")
        mine = db.session.scalar(
            select(Membership).where(
                Membership.user_id == demo["users"][CONSTRUCTOR_EMAIL],
                Membership.organisation_id == demo["orgs"]["Demolitor SAS"],
            )
        )
        mine.role = "member"
        db.session.commit()
    auth.login("membre@constructor.test")
    assert post(client, f"/linked/requests/{request_id}/accept").status_code == 403
    post(client, "/logout")
    auth.login(CONSTRUCTOR_EMAIL)
    response = post(client, f"/linked/requests/{request_id}/accept")
    assert response.status_code == 303
    assert "Vous n&#39;êtes pas responsable de Demolitor SAS" in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(LinkRequest, request_id).status == "pending"
        assert db.session.scalar(select(AccountLink.status)) == "pending"


# "Accès aux documents" -----------------------------------------------------------------------


def test_the_main_account_reads_the_linked_accounts_documents(app, client, demo_file):
    _accept_group(app, client, demo_file)
    demolitor = demo_file["orgs"]["Demolitor SAS"]
    home = client.get("/").get_data(as_text=True)
    assert "Accès aux documents" in home
    response = client.get("/linked/documents")
    assert response.status_code == 303 and response.headers["Location"] == f"/linked/documents/{demolitor}"
    page = client.get(f"/linked/documents/{demolitor}").get_data(as_text=True)
    menu = page.split('id="linked-accounts"')[1].split("</ul>")[0]
    assert "Demolitor SAS" in menu
    assert "Documents de Demolitor SAS" in page and "Extrait Kbis" in page
    received = html.unescape(page.split("Documents reçus de ses partenaires")[1])
    assert "Menuiserie Martin" in received and "Attestation d'assurance RC professionnelle" in received
    links = re.findall(rf'href="(/linked/documents/{demolitor}/versions/\d+/download)"', page)
    assert len(links) >= 3
    download = client.get(links[0])
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")
    # The htmx left menu swaps only the view.
    fragment = client.get(f"/linked/documents/{demolitor}", headers=HTMX).get_data(as_text=True)
    assert fragment.startswith('<div class="with-sidebar" id="linked-view">')


def test_the_left_menu_is_alphabetical_and_a_member_needs_no_second_login(app, client, auth, demo_file):
    _accept_group(app, client, demo_file)
    with app.app_context():
        # A second linked account, "Aménagement Zola", sorts before Demolitor (accent ignored).
        zola = Organisation(siren=valid_siren(44400001), legal_name="Aménagement Zola", is_client=True)
        db.session.add(zola)
        db.session.flush()
        request = db.session.scalar(select(LinkRequest))
        db.session.add(
            AccountLink(request_id=request.id, main_id=request.main_id, secondary_id=zola.id, status="accepted")
        )
        _person("assistante@constructor.test", request.main_id, "member")
        db.session.commit()
    post(client, "/logout")
    auth.login("assistante@constructor.test")
    response = client.get("/linked/documents")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    menu = page.split('id="linked-accounts"')[1].split("</ul>")[0]
    assert menu.index("Aménagement Zola") < menu.index("Demolitor SAS")
    page = client.get("/linked/documents/{}".format(demo_file["orgs"]["Demolitor SAS"])).get_data(as_text=True)
    assert "Extrait Kbis" in page  # Alice is not a member of Demolitor: no second login needed


def test_a_secondary_account_cannot_see_the_main_accounts_documents(app, client, demo_file):
    _accept_group(app, client, demo_file)
    constructor = demo_file["orgs"]["Constructor SA"]
    post(client, "/organisations/switch", {"organisation_id": demo_file["orgs"]["Demolitor SAS"]})
    assert "Accès aux documents" not in client.get("/").get_data(as_text=True).split("</nav>")[0]
    assert client.get(f"/linked/documents/{constructor}").status_code == 404
    assert "Aucun compte n'est rattaché" in html.unescape(client.get("/linked/documents").get_data(as_text=True))


def test_guessed_ids_on_linked_documents_answer_404(app, client, auth, demo_file):
    _accept_group(app, client, demo_file)
    demolitor = demo_file["orgs"]["Demolitor SAS"]
    with app.app_context():
        from portal.demo.documents import _version
        from portal.models import DocumentType, DocumentVersion

        # A company Demolitor has no relation with.
        stranger = Organisation(siren=valid_siren(22200001), legal_name="Inconnu SARL", is_supplier=True)
        db.session.add(stranger)
        db.session.flush()
        kbis = db.session.scalar(select(DocumentType).where(DocumentType.code == "KBIS"))
        foreign = _version(stranger, kbis, kbis_date(), status="valid")
        db.session.commit()
        foreign = foreign.id
        versions = dict(db.session.execute(select(DocumentVersion.id, DocumentVersion.organisation_id)).all())
    martin_version = next(v for v, org in versions.items() if org == demo_file["orgs"]["Menuiserie Martin"])
    assert client.get(f"/linked/documents/{demolitor}/versions/{foreign}/download").status_code == 404
    assert client.get(f"/linked/documents/{demolitor}/versions/999999/download").status_code == 404
    # Martin's documents are reached through Demolitor only, never as another linked account.
    martin = demo_file["orgs"]["Menuiserie Martin"]
    assert client.get(f"/linked/documents/{martin}/versions/{martin_version}/download").status_code == 404
    post(client, "/logout")
    auth.login("agence@vigie.test")  # the agency that proposed the link reads nothing through it
    assert client.get(f"/linked/documents/{demolitor}").status_code == 404
    assert client.get(f"/linked/documents/{demolitor}/versions/{martin_version}/download").status_code == 404


def test_linked_documents_take_a_fixed_number_of_queries(app, client, demo_file):
    _accept_group(app, client, demo_file)
    demolitor = demo_file["orgs"]["Demolitor SAS"]
    path = f"/linked/documents/{demolitor}"
    client.get(path)
    with count_queries(app) as before:
        assert client.get(path).status_code == 200
    with app.app_context():
        from portal.demo.documents import _version
        from portal.models import DocumentType

        kbis = db.session.scalar(select(DocumentType).where(DocumentType.code == "KBIS"))
        for n in range(5):
            supplier = Organisation(siren=valid_siren(33300010 + n), legal_name=f"Fournisseur {n}", is_supplier=True)
            db.session.add(supplier)
            db.session.flush()
            db.session.add(Partnership(requester_id=demolitor, target_id=supplier.id, status="accepted"))
            _version(supplier, kbis, kbis_date(), status="valid")
        db.session.commit()
    with count_queries(app) as after:
        page = client.get(path).get_data(as_text=True)
    assert "Fournisseur 4" in page
    assert len(after) == len(before), (len(before), len(after))


def kbis_date():
    from datetime import timedelta

    return clock.today() - timedelta(days=5)


# Unlinking -----------------------------------------------------------------------------------


def test_the_main_account_unlinks_and_loses_access(app, client, demo_file):
    _accept_group(app, client, demo_file)
    demolitor = demo_file["orgs"]["Demolitor SAS"]
    with app.app_context():
        link_id = db.session.scalar(select(AccountLink.id))
    response = post(client, f"/linked/{link_id}/end")
    assert response.status_code == 303 and response.headers["Location"] == "/partners"
    assert "Demolitor SAS n&#39;est plus rattaché à Constructor SA." in client.get("/partners").get_data(as_text=True)
    assert client.get(f"/linked/documents/{demolitor}").status_code == 404
    assert "Accès aux documents" not in client.get("/").get_data(as_text=True).split("</nav>")[0]
    with app.app_context():
        link = db.session.get(AccountLink, link_id)
        assert link.status == "ended" and link.ended_by_id == demo_file["users"][CONSTRUCTOR_EMAIL]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account_link.ended"))
        assert event.details["secondary_id"] == demolitor
    assert post(client, f"/linked/{link_id}/end").status_code == 303
    assert "Ces comptes ne sont plus rattachés." in client.get("/partners").get_data(as_text=True)


def test_the_linked_account_unlinks_from_its_side(app, client, auth, demo_file):
    _accept_group(app, client, demo_file)
    with app.app_context():
        link_id = db.session.scalar(select(AccountLink.id))
        # Demolitor gets an owner of its own, who sees the main account in "Mes partenaires".
        _person("patron@demolitor.test", demo_file["orgs"]["Demolitor SAS"], "owner")
        db.session.commit()
    post(client, "/logout")
    auth.login("patron@demolitor.test")
    partners = client.get("/partners").get_data(as_text=True)
    assert "Compte principal : il consulte les documents de votre société" in partners
    assert post(client, f"/linked/{link_id}/end").status_code == 303
    with app.app_context():
        assert db.session.get(AccountLink, link_id).status == "ended"
        told = db.session.scalars(select(Message.subject).where(Message.recipient == CONSTRUCTOR_EMAIL)).all()
        assert "Demolitor SAS n'est plus rattaché à Constructor SA" in told


def test_an_outsider_cannot_unlink(app, client, auth, demo_file):
    _accept_group(app, client, demo_file)
    with app.app_context():
        link_id = db.session.scalar(select(AccountLink.id))
    post(client, "/logout")
    for email in ("fournisseur@vigie.test", "agence@vigie.test"):
        auth.login(email)
        assert post(client, f"/linked/{link_id}/end").status_code == 404
        post(client, "/logout")
    with app.app_context():
        assert db.session.get(AccountLink, link_id).status == "accepted"
