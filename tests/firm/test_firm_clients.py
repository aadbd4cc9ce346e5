"""Accounting firms: "Ajouter un client" in eight steps, client files, trees, who sees what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.models import ClientFile, ClientFileDraft, FiscalYear, Folder, Invitation, Message, Organisation
from tests.support.data import count_queries, drain, other_company, valid_siren
from tests.support.firm import KNOWN_SIRET, as_admin, seed_firm, step, walk_wizard
from tests.support.http import HTMX, csrf_from, form_values, post


@pytest.fixture
def firm(app):
    return seed_firm(app)


def _file(app, siret: str) -> ClientFile | None:
    with app.app_context():
        return db.session.scalar(select(ClientFile).where(ClientFile.siret == siret))


def test_a_client_is_added_through_the_eight_steps_and_appears_with_its_monthly_folders(app, client, firm):
    as_admin(client)
    assert walk_wizard(client).status_code == 303
    summary = client.get("/firm/clients/new/8").get_data(as_text=True)
    assert "BOULANGERIE PETIT" in summary and "FR" in summary
    answer = step(client, 8)
    assert answer.status_code == 303
    client_file = _file(app, KNOWN_SIRET)
    assert answer.headers["Location"].endswith(f"/firm/clients/{client_file.id}")
    page = client.get(f"/firm/clients/{client_file.id}").get_data(as_text=True)
    assert "la création de l'arborescence peut prendre quelques minutes".lower() in page.lower()
    assert 'id="tree-progress"' in page and 'hx-trigger="every 2s"' in page
    with app.app_context():
        invitation = db.session.get(Invitation, client_file.executive_invitation_id)
        assert invitation.role == "owner" and invitation.email == "chef@boulangerie-halles.test"
        mail = db.session.scalar(select(Message).where(Message.template == "executive_invitation"))
        assert "Cabinet Durand & Associés" in mail.subject and "14 jours" in mail.body_text
        assert db.session.scalar(select(ClientFileDraft)) is None
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.client_file_id == client_file.id))
        assert (year.starts_on.isoformat(), year.ends_on.isoformat()) == ("2026-01-01", "2026-12-31")
    drain(app)
    tree = client.get(f"/firm/clients/{client_file.id}/tree").get_data(as_text=True)
    assert "every 2s" not in tree and "Achats" in tree and "Janvier 2026" in tree and "Décembre 2026" in tree
    assert "Boulangerie" in client.get("/firm/clients").get_data(as_text=True).title()
    documents = client.get(f"/firm/documents/{client_file.id}").get_data(as_text=True)
    assert "Exercice 2026" in documents and "Juin 2026" in documents
    with app.app_context():
        months = db.session.scalar(
            select(func.count()).where(Folder.client_file_id == client_file.id, Folder.month.is_not(None))
        )
    # Achats, Ventes, Banque, Bulletins de paie, Déclarations de TVA and the firm's own Révision.
    assert months == 12 * 6


def test_steps_swap_in_place_with_htmx_and_bad_input_answers_422_next_to_the_field(app, client, firm):
    as_admin(client)
    client.get("/firm/clients/new")
    token = csrf_from(client.get("/firm/clients/new/1").data)
    bad = client.post("/firm/clients/new/1", data={"csrf_token": token, "siret": "12345678901234"}, headers=HTMX)
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "<html" not in body and 'id="siret-error"' in body and "est pas valide" in body
    good = client.post("/firm/clients/new/1", data={"csrf_token": token, "siret": KNOWN_SIRET}, headers=HTMX)
    assert good.status_code == 200 and good.headers["HX-Push-Url"].endswith("/firm/clients/new/2")
    assert "Entreprise trouvée" in good.get_data(as_text=True)
    assert "BOULANGERIE PETIT" in good.get_data(as_text=True)
    assert client.get("/firm/clients/new/3").headers["Location"].endswith("/firm/clients/new/2")  # not reached yet
    assert step(client, 2, {"siret": KNOWN_SIRET, "name": "", "postal_code": "690"}, headers=HTMX).status_code == 422


def test_fiscal_year_end_is_proposed_and_checked(app, client, firm):
    as_admin(client)
    walk_wizard(client)
    proposal = client.get("/firm/clients/new/fiscal-end?starts_on=2025-07-01", headers=HTMX).get_data(as_text=True)
    assert 'value="2026-06-30"' in proposal
    leap = client.get("/firm/clients/new/fiscal-end?starts_on=2024-02-29", headers=HTMX).get_data(as_text=True)
    assert 'value="2025-02-28"' in leap
    before = step(client, 3, {"starts_on": "2026-01-01", "ends_on": "2025-12-31"})
    assert before.status_code == 422 and "doit être après son début" in before.get_data(as_text=True)
    too_long = step(client, 3, {"starts_on": "2026-01-01", "ends_on": "2028-01-01"})
    assert too_long.status_code == 422 and "24 mois" in too_long.get_data(as_text=True)
    assert step(client, 3, {"starts_on": "2025-07-01", "ends_on": "2026-12-31"}).status_code == 303


def test_a_siret_already_used_names_the_file_only_to_who_may_open_it(app, client, auth, firm):
    from portal.models import ClientFileAccess, User

    with app.app_context():
        collaborator = db.session.scalar(select(User.id).where(User.email == "collaborateur@vigie.test"))
        assigned = set(
            db.session.scalars(select(ClientFileAccess.client_file_id).where(ClientFileAccess.user_id == collaborator))
        )
        hidden = db.session.scalars(
            select(ClientFile).where(ClientFile.firm_id == firm["firm_id"], ClientFile.id.not_in(assigned))
        ).first()
    auth.login("collaborateur@vigie.test")
    client.get("/firm/clients/new")
    answer = step(client, 1, {"siret": hidden.siret})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "SIRET déjà utilisé" in body
    assert hidden.name not in body and f"/firm/clients/{hidden.id}" not in body


def test_a_siret_already_used_by_the_firm_links_to_that_file_and_the_user_goes_on_by_hand(app, client, firm):
    as_admin(client)
    with app.app_context():
        used = db.session.scalar(select(ClientFile).where(ClientFile.name == "Garage Morel"))
    client.get("/firm/clients/new")
    answer = step(client, 1, {"siret": used.siret})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "SIRET déjà utilisé" in body
    assert f'href="/firm/clients/{used.id}"' in body
    manual = post(client, "/firm/clients/new/manual")
    assert manual.status_code == 303 and manual.headers["Location"].endswith("/firm/clients/new/2")
    again = step(client, 2, {"siret": used.siret, "name": "Garage Morel bis"})
    assert again.status_code == 422 and "SIRET déjà utilisé" in again.get_data(as_text=True)


def test_an_unknown_siret_or_a_silent_directory_leaves_the_data_to_type(app, client, firm, monkeypatch):
    from portal.integrations import company_data

    as_admin(client)
    client.get("/firm/clients/new")
    unknown = valid_siren(42424242) + "00012"
    from stdnum import luhn

    unknown = unknown[:13] + luhn.calc_check_digit(unknown[:13])
    step(client, 1, {"siret": unknown})
    assert "inconnu de l'annuaire" in client.get("/firm/clients/new/2").get_data(as_text=True)

    class Down:
        def lookup(self, siret):
            raise company_data.LookupUnavailable("timeout")

    monkeypatch.setattr(company_data, "directory", lambda: Down())
    step(client, 1, {"siret": KNOWN_SIRET})
    assert "ne répond pas" in client.get("/firm/clients/new/2").get_data(as_text=True)


def test_a_half_done_wizard_is_kept_as_a_draft_and_resumed(app, client, auth, firm):
    as_admin(client)
    client.get("/firm/clients/new")
    step(client, 1, {"siret": KNOWN_SIRET})
    post(client, "/logout")
    auth.login("cabinet@vigie.test")
    assert "Reprendre l'ajout du client" in client.get("/firm/clients").get_data(as_text=True)
    assert client.get("/firm/clients/new").headers["Location"].endswith("/firm/clients/new/2")
    assert client.get("/firm/clients/new/6").headers["Location"].endswith("/firm/clients/new/2")
    post(client, "/firm/clients/new/cancel")
    with app.app_context():
        assert db.session.scalar(select(ClientFileDraft)) is None


def test_the_template_step_is_skipped_when_the_firm_has_one_template(app, client, firm):
    from portal.models import TemplateFolder, TreeTemplate

    with app.app_context():
        second = db.session.scalar(select(TreeTemplate).where(TreeTemplate.name == "Arborescence simplifiée"))
        db.session.execute(
            ClientFile.__table__.update().values(template_id=None).where(ClientFile.template_id == second.id)
        )
        db.session.execute(TemplateFolder.__table__.delete().where(TemplateFolder.template_id == second.id))
        db.session.delete(second)
        db.session.commit()
    as_admin(client)
    client.get("/firm/clients/new")
    step(client, 1, {"siret": KNOWN_SIRET})
    step(client, 2, {"siret": KNOWN_SIRET, "name": "Boulangerie des Halles"})
    assert step(client, 3, {"starts_on": "2026-01-01"}).headers["Location"].endswith("/firm/clients/new/5")
    assert "Arborescence" not in re.search(
        r'<ol class="steps".*?</ol>', client.get("/firm/clients/new/5").get_data(as_text=True), re.S
    ).group(0)


def test_executive_step_refuses_a_bad_email_and_a_stranger_to_a_company_already_on_vigie(app, client, firm):
    as_admin(client)
    client.get("/firm/clients/new")
    step(client, 1, {"siret": "81234567600017"})  # Menuiserie Martin, whose owner is on Vigie
    step(client, 2, {"siret": "81234567600017", "name": "Menuiserie Martin"})
    step(client, 3, {"starts_on": "2026-01-01"})
    client.get("/firm/clients/new/4")
    templates = re.findall(
        r'name="template_id"[^>]*value="(\d+)"', client.get("/firm/clients/new/4").get_data(as_text=True)
    )
    step(client, 4, {"template_id": templates[0]})
    bad = step(client, 5, {"email": "pas-une-adresse", "theme_ids": []})
    assert bad.status_code == 422 and 'id="email-error"' in bad.get_data(as_text=True)
    stranger = step(client, 5, {"email": "cabinet@vigie.test", "theme_ids": ["1"]})
    assert stranger.status_code == 422 and "déjà des utilisateurs sur Vigie" in stranger.get_data(as_text=True)
    owner = step(client, 5, {"email": "fournisseur@vigie.test", "theme_ids": ["1"], "invite_now": "y"})
    assert owner.status_code == 303


def test_an_automation_app_needs_its_settings(app, client, firm):
    from portal.models import PartnerApp

    as_admin(client)
    walk_wizard(client)
    with app.app_context():
        sftp = db.session.scalar(select(PartnerApp).where(PartnerApp.app_key == "sftp"))
    missing = step(client, 6, {f"app_{sftp.id}": "1"})
    assert missing.status_code == 422 and f'id="app_{sftp.id}_remote_folder-error"' in missing.get_data(as_text=True)
    assert (
        step(client, 6, {f"app_{sftp.id}": "1", f"app_{sftp.id}_remote_folder": "/clients/halles"}).status_code == 303
    )


def test_saving_never_half_creates_a_file(app, client, firm, monkeypatch):
    from portal.firm import trees as folder_trees

    as_admin(client)
    walk_wizard(client)

    def broken(_client_file):
        raise RuntimeError("queue table unavailable")

    monkeypatch.setattr(folder_trees, "enqueue_build", broken)
    with pytest.raises(RuntimeError):
        step(client, 8)
    with app.app_context():
        assert _file(app, KNOWN_SIRET) is None
        assert db.session.scalar(select(Organisation).where(Organisation.siren == KNOWN_SIRET[:9])) is None
        assert db.session.scalar(select(ClientFileDraft)) is not None


def test_executive_can_be_invited_later_and_the_invitation_sent_again(app, client, firm):
    as_admin(client)
    walk_wizard(client, invite=False)
    step(client, 8)
    client_file = _file(app, KNOWN_SIRET)
    assert client_file.executive_invitation_id is None
    page = client.get(f"/firm/clients/{client_file.id}").get_data(as_text=True)
    assert "Inviter le dirigeant" in page
    token = csrf_from(page)
    sent = client.post(
        f"/firm/clients/{client_file.id}/invite",
        data={
            "csrf_token": token,
            "email": "chef@boulangerie-halles.test",
            "first_name": "Marc",
            "last_name": "Halles",
        },
    )
    assert sent.status_code == 303
    again = client.post(f"/firm/clients/{client_file.id}/invite", data={"csrf_token": token, "resend": "1"})
    assert again.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Message.template == "executive_invitation")) == 2
        assert (
            db.session.scalar(
                select(func.count()).select_from(Invitation).where(Invitation.email == "chef@boulangerie-halles.test")
            )
            == 1
        )


def test_a_fiscal_year_added_later_gets_its_monthly_folders(app, client, firm):
    as_admin(client)
    file_id = firm["files"]["Boucherie Lambert"]  # fiscal year from 1 Jan 2026
    page = client.get(f"/firm/clients/{file_id}")
    token = csrf_from(page.data)
    overlap = client.post(
        f"/firm/clients/{file_id}/fiscal-years", data={"csrf_token": token, "starts_on": "2026-06-01"}
    )
    assert overlap.status_code == 422 and "chevauche" in overlap.get_data(as_text=True)
    added = client.post(f"/firm/clients/{file_id}/fiscal-years", data={"csrf_token": token, "starts_on": "2027-01-01"})
    assert added.status_code == 303
    drain(app)
    with app.app_context():
        names = set(db.session.scalars(select(Folder.name).where(Folder.client_file_id == file_id)))
    assert {"Exercice 2027", "Mars 2027", "Exercice 2026"} <= names


def test_building_a_tree_twice_adds_nothing(app, firm):
    from portal.firm import trees as folder_trees

    with app.app_context():
        file_id = firm["files"]["Boulangerie Fabre"]
        assert folder_trees.build(file_id) == 0
        client_file = db.session.get(ClientFile, file_id)
        assert client_file.tree_status == "ready" and client_file.tree_done == client_file.tree_total > 100


def test_a_collaborator_sees_only_his_files_and_gets_404_elsewhere(app, client, auth, firm):
    auth.login("collaborateur@vigie.test")  # every third file
    listing = client.get("/firm/clients").get_data(as_text=True)
    assert "Boulangerie Fabre" in listing and "Garage Morel" not in listing
    hidden = firm["files"]["Garage Morel"]
    with app.app_context():
        folder_id = db.session.scalar(select(Folder.id).where(Folder.client_file_id == hidden).limit(1))
    for url in (
        f"/firm/clients/{hidden}",
        f"/firm/clients/{hidden}/tree",
        f"/firm/documents/{hidden}",
        f"/firm/documents/{hidden}/folders/{folder_id}",
        f"/firm/documents/{hidden}/files/1",
    ):
        assert client.get(url).status_code == 404, url
    assert post(client, f"/firm/clients/{hidden}/fiscal-years", {"starts_on": "2030-01-01"}).status_code == 404
    assert post(client, f"/firm/clients/{hidden}/invite", {"resend": "1"}).status_code == 404
    assert post(client, f"/firm/clients/{firm['files']['Boulangerie Fabre']}/collaborators").status_code == 403
    assert client.get("/firm/settings/team/1").status_code == 403


def test_another_firm_never_reaches_our_files_templates_or_imports(app, client, auth, firm):
    from portal.models import TreeTemplate

    other_company(app, "rival@cabinet.test", 77, legal_name="Cabinet Rival", is_accounting_firm=True)
    auth.login("rival@cabinet.test")
    assert "Boulangerie Fabre" not in client.get("/firm/clients").get_data(as_text=True)
    file_id = firm["files"]["Boulangerie Fabre"]
    with app.app_context():
        template_id = db.session.scalar(select(TreeTemplate.id).where(TreeTemplate.firm_id == firm["firm_id"]))
    assert client.get(f"/firm/clients/{file_id}").status_code == 404
    assert client.get(f"/firm/documents/{file_id}").status_code == 404
    assert (
        post(
            client, f"/firm/settings/trees/{template_id}/folders", {"name": "X", "parent_id": "0", "theme_id": "1"}
        ).status_code
        == 404
    )
    assert post(client, f"/firm/settings/trees/{template_id}/folders/1/delete").status_code == 404


def test_companies_that_are_not_firms_are_refused(app, client, auth, firm):
    auth.login("fournisseur@vigie.test")
    for url in ("/firm/clients", "/firm/clients/new", "/firm/documents", "/firm/settings/team", "/firm/imports"):
        assert client.get(url).status_code == 403, url


def test_the_client_list_runs_a_constant_number_of_statements(app, client, firm):
    as_admin(client)
    client.get("/firm/clients")
    with count_queries(app) as few:
        assert client.get("/firm/clients").status_code == 200
    with app.app_context():
        firm_org = db.session.get(Organisation, firm["firm_id"])
        for n in range(60):
            siret = valid_siren(880000 + n) + "00010"
            from stdnum import luhn

            siret = siret[:13] + luhn.calc_check_digit(siret[:13])
            company = Organisation(siren=siret[:9], legal_name=f"Client {n:03d}")
            db.session.add(company)
            db.session.flush()
            db.session.add(ClientFile(firm_id=firm_org.id, company_id=company.id, name=f"Client {n:03d}", siret=siret))
        db.session.commit()
    with count_queries(app) as many:
        page = client.get("/firm/clients?page=2").get_data(as_text=True)
    assert "Client 0" in page
    assert len(many) == len(few) <= 6


def test_a_double_click_on_sauvegarder_creates_one_file_and_lands_on_it(app, client, firm):
    """Issue 15, item 21: the second POST goes to the file, with no phantom "Reprendre"."""
    as_admin(client)
    walk_wizard(client)
    page = client.get("/firm/clients/new/8").get_data(as_text=True)
    token = csrf_from(page)
    draft_id = re.search(r'name="draft_id" value="(\d+)"', page)[1]
    first = client.post("/firm/clients/new/8", data={"csrf_token": token, "draft_id": draft_id})
    second = client.post("/firm/clients/new/8", data={"csrf_token": token, "draft_id": draft_id})
    client_file = _file(app, KNOWN_SIRET)
    assert first.headers["Location"].endswith(f"/firm/clients/{client_file.id}")
    assert second.status_code == 303 and second.headers["Location"].endswith(f"/firm/clients/{client_file.id}")
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(ClientFile.siret == KNOWN_SIRET)) == 1
        assert db.session.scalar(select(ClientFileDraft)) is None  # no empty draft left behind
    assert "Reprendre l'ajout du client" not in client.get("/firm/clients").get_data(as_text=True).replace("&#39;", "'")


def test_without_javascript_a_new_start_moves_the_proposed_end_or_asks(app, client, firm):
    """Item 22: a browser without JavaScript does not refresh the end when the start changes."""
    as_admin(client)
    walk_wizard(client)
    page = client.get("/firm/clients/new/3")
    shown = form_values(page.data, "wizard-form")
    assert shown["starts_on"] == "2026-01-01" and shown["ends_on"] == "2026-12-31"
    # The end was our proposal: it follows the new start (no 18-month year).
    moved = client.post("/firm/clients/new/3", data={**shown, "starts_on": "2025-07-01"})
    assert moved.status_code == 303
    summary = client.get("/firm/clients/new/8").get_data(as_text=True)
    assert "30 juin 2026" in summary and "31 déc. 2026" not in summary
    # An end the user chose: the new proposal is shown, and the user is asked to check it.
    assert step(client, 3, {"starts_on": "2025-07-01", "ends_on": "2026-03-31"}).status_code == 303
    shown = form_values(client.get("/firm/clients/new/3").data, "wizard-form")
    asked = client.post("/firm/clients/new/3", data={**shown, "starts_on": "2025-10-01"})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 422
    assert "la fin proposée est maintenant le 30 septembre 2026" in text
    assert form_values(text, "wizard-form")["ends_on"] == "2026-09-30"
    assert "31 mars 2026" in client.get("/firm/clients/new/8").get_data(as_text=True)  # nothing saved yet
    confirmed = client.post("/firm/clients/new/3", data=form_values(text, "wizard-form"))
    assert confirmed.status_code == 303
    assert "30 sept. 2026" in client.get("/firm/clients/new/8").get_data(as_text=True)
    # Both dates typed: kept as typed.
    shown = form_values(client.get("/firm/clients/new/3").data, "wizard-form")
    both = client.post("/firm/clients/new/3", data={**shown, "starts_on": "2025-01-01", "ends_on": "2026-06-30"})
    assert both.status_code == 303
    assert "30 juin 2026" in client.get("/firm/clients/new/8").get_data(as_text=True)


def test_the_company_card_shows_the_insee_label_the_address_once_and_whole_identifiers(app, client, firm):
    """Item 23: legal form 5485 reads as INSEE's label; the directory's address ends with the postcode
    and city, which are shown once; the SIRET and VAT number are grouped so they never get cut."""
    as_admin(client)
    walk_wizard(client, siret="50115839800120")  # PHARMACIE DU CENTRE, 5485, 35000 RENNES
    step2 = form_values(client.get("/firm/clients/new/2").data, "wizard-form")
    assert step2["legal_form"] == "Société d'exercice libéral à responsabilité limitée (SELARL)"
    assert step2["address"] == "1 PLACE DU MARCHE"
    assert step(client, 8).status_code == 303
    page = client.get(f"/firm/clients/{_file(app, '50115839800120').id}").get_data(as_text=True)
    assert "5485" not in page
    assert re.search(r'id="file-legal-form">Société d&#39;exercice libéral à responsabilité limitée \(SELARL\)<', page)
    assert re.search(r'id="file-address">1 PLACE DU MARCHE, 35000 RENNES<', page)
    assert re.search(r'id="file-siret">501 158 398 00120<', page)
    assert re.search(r'id="file-vat">FR \d\d 501158398<', page)


def test_legal_categories_missing_from_the_list_say_what_is_known():
    from portal.integrations.company_data import legal_form_label

    assert legal_form_label("5710") == "Société par actions simplifiée (SAS)"
    assert legal_form_label("9220") == "Association déclarée"
    # A level III code the bundled list lacks: its family (level II), and the code.
    assert legal_form_label("5401") == "Société à responsabilité limitée (SARL) (catégorie INSEE 5401)"
    assert legal_form_label("0001") == "Catégorie juridique INSEE 0001 (libellé inconnu)"
    assert legal_form_label("SARL") == "SARL"  # typed by hand


def test_a_collaborator_reads_the_same_file_counts_as_the_admin_on_the_team_page(app, client, auth, firm):
    """Item 24: the collaborator's "La gestion d'équipe" said 0 files for everyone."""
    from portal.models import ClientFileAccess, User

    with app.app_context():
        expected = {
            person_id: count
            for person_id, count in db.session.execute(
                select(User.id, func.count(ClientFileAccess.client_file_id))
                .join(ClientFileAccess, ClientFileAccess.user_id == User.id)
                .where(User.email.in_(["collaborateur@vigie.test", "collaboratrice@vigie.test"]))
                .group_by(User.id)
            )
        }
    assert expected and all(expected.values())

    def counts():
        page = client.get("/firm/settings/team").get_data(as_text=True)
        rows = re.findall(r'<tr id="member-(\d+)">.*?</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', page, re.S)
        return {int(person): cell.strip() for person, cell in rows}

    as_admin(client)
    admin_view = counts()
    auth.logout()
    auth.login("collaborateur@vigie.test")
    collaborator_view = counts()
    assert collaborator_view == admin_view
    for person_id, count in expected.items():
        assert collaborator_view[person_id] == str(count)
    assert "Rôle et dossiers" not in client.get("/firm/settings/team").get_data(as_text=True)
