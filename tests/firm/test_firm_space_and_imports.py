"""Accounting firms: the executive's invitation and space, firm settings, bulk import."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.models import (
    ClientFile,
    FolderDocument,
    ImportBatch,
    ImportRow,
    Invitation,
    Message,
    PartnerApp,
    TemplateFolder,
    utcnow,
)
from tests.support.data import drain
from tests.support.documents import pdf
from tests.support.firm import as_admin, seed_firm
from tests.support.http import HTMX, csrf_from, post


@pytest.fixture
def firm(app):
    return seed_firm(app)


def _invite_link(app, email: str) -> str:
    with app.app_context():
        message = db.session.scalars(
            select(Message).where(Message.recipient == email).order_by(Message.id.desc())
        ).first()
        return re.search(r"http://localhost(/invitation/\S+)", message.body_text).group(1)


def _garage_invitation(app, client, firm) -> str:
    as_admin(client)
    file_id = firm["files"]["Garage Morel"]
    assert post(client, f"/firm/clients/{file_id}/invite", {"resend": "1"}).status_code == 303
    post(client, "/logout")
    return _invite_link(app, "paul.morel@garage-morel.test")


def test_the_executive_accepts_his_invitation_uploads_and_the_firm_sees_it_flagged(app, client, firm):
    link = _garage_invitation(app, client, firm)
    page = client.get(link)
    assert page.status_code == 200
    token = csrf_from(page.data)
    accepted = client.post(
        link,
        data={
            "csrf_token": token,
            "first_name": "Paul",
            "last_name": "Morel",
            "password": "un-mot-de-passe-solide",
            "confirm": "un-mot-de-passe-solide",
        },
    )
    assert accepted.status_code == 303 and accepted.headers["Location"].endswith("/space")
    space = client.get("/space", follow_redirects=True).get_data(as_text=True)
    assert "Cabinet Durand" in space and "Achats" in space
    assert "Révision" not in space and "Travail du cabinet" not in space  # internal to the firm
    file_id = firm["files"]["Garage Morel"]
    folder = re.search(rf'href="/space/{file_id}/folders/(\d+)">Statuts', space).group(1)
    upload_page = client.get(f"/space/{file_id}/folders/{folder}")
    path = re.search(r'<nav [^>]*id="folder-path">(.*?)</nav>', upload_page.get_data(as_text=True), re.S).group(1)
    assert re.findall(r"<li[^>]*>(?:<a [^>]*>)?([^<]+)", path) == ["Garage Morel", "Juridique", "Statuts"]
    token = csrf_from(upload_page.data)
    bad = client.post(
        f"/space/{file_id}/folders/{folder}",
        data={"csrf_token": token, "file": (io.BytesIO(b"MZ not a pdf"), "virus.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "PDF, un JPEG ou un PNG" in bad.get_data(as_text=True)
    sent = client.post(
        f"/space/{file_id}/folders/{folder}",
        data={"csrf_token": token, "file": (io.BytesIO(pdf()), "statuts.pdf")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    with app.app_context():
        document = db.session.scalar(select(FolderDocument).where(FolderDocument.client_file_id == file_id))
    download = client.get(f"/space/{file_id}/files/{document.id}")
    assert download.headers["Content-Disposition"].startswith("attachment") and download.data.startswith(b"%PDF")
    # The link is single use.
    assert client.get(link).status_code == 410
    post(client, "/logout")
    as_admin(client)
    listing = client.get("/firm/clients?q=garage").get_data(as_text=True)
    assert "1 nouveau" in listing
    firm_view = client.get(f"/firm/documents/{file_id}/folders/{folder}").get_data(as_text=True)
    assert "statuts.pdf" in firm_view and "Nouveau" in firm_view
    assert "1 nouveau" not in client.get("/firm/clients?q=garage").get_data(as_text=True)


def test_an_expired_invitation_link_is_refused(app, client, firm):
    link = _garage_invitation(app, client, firm)
    with app.app_context():
        for invitation in db.session.scalars(select(Invitation)):
            invitation.expires_at = utcnow()
        db.session.commit()
    page = client.get(link)
    assert page.status_code == 410 and "expiré" in page.get_data(as_text=True)


def test_a_folder_shows_its_path_and_its_parents_count_the_news_below(app, client, firm):
    """Item 26: four "Octobre 2025" folders looked the same; a client's upload deep in the tree was
    flagged only on its own folder, hidden under folded parents."""
    from portal.models import Folder

    drain(app)  # the demo's trees
    file_id = firm["files"]["Boulangerie Fabre"]
    with app.app_context():
        folders = {f.id: f for f in db.session.scalars(select(Folder).where(Folder.client_file_id == file_id))}
        month = next(
            f
            for f in folders.values()
            if f.name == "Octobre 2026" and folders[folders[f.parent_id].parent_id].name == "Achats"
        )
        year, achats = folders[month.parent_id], folders[folders[month.parent_id].parent_id]
        comptabilite = folders[achats.parent_id]
        db.session.add(
            FolderDocument(
                client_file_id=file_id,
                folder_id=month.id,
                filename="facture.pdf",
                content_type="application/pdf",
                size=1000,
                sha256="0" * 64,
                storage_key="none",
            )
        )
        db.session.commit()
        month_id, year_id, achats_id, top_id = month.id, year.id, achats.id, comptabilite.id
        year_name = year.name
        unseen = [
            d.folder_id
            for d in db.session.scalars(select(FolderDocument).where(FolderDocument.client_file_id == file_id))
            if d.seen_at is None and not d.from_firm
        ]

    def below(folder_id):  # the unseen uploads in the folder's sub-folders, walked here
        total = 0
        for folder_with_upload in unseen:
            parent = folders[folder_with_upload].parent_id
            while parent is not None:
                total += parent == folder_id
                parent = folders[parent].parent_id
        return total

    as_admin(client)
    tree = client.get(f"/firm/documents/{file_id}").get_data(as_text=True)

    def badges(folder_id):
        item = re.search(rf'folders/{folder_id}">[^<]*</a>(.*?)(?:<details|</li>)', tree, re.S).group(1)
        return re.findall(r'<span class="badge[^"]*">([^<]+)</span>', item)

    assert badges(month_id) == ["1 nouveau"]
    assert below(top_id) >= below(achats_id) >= below(year_id) >= 1
    for parent in (year_id, achats_id, top_id):
        count = below(parent)
        assert badges(parent) == [f"{count} nouveau{'x' if count > 1 else ''} dans les sous-répertoires"], parent
    page = client.get(f"/firm/documents/{file_id}/folders/{month_id}").get_data(as_text=True)
    path = re.search(r'<nav [^>]*id="folder-path">(.*?)</nav>', page, re.S).group(1)
    assert re.findall(r"<li[^>]*>(?:<a [^>]*>)?([^<]+)", path) == [
        "Boulangerie Fabre",
        "Comptabilité",
        "Achats",
        year_name,
        "Octobre 2026",
    ]
    assert f'href="/firm/documents/{file_id}/folders/{year_id}"' in path
    assert f"<title>Octobre 2026 — {year_name} — Achats — Comptabilité — Boulangerie Fabre" in page
    before = below(year_id)
    unseen.remove(month_id)  # opened: no longer new
    tree = client.get(f"/firm/documents/{file_id}").get_data(as_text=True)
    assert badges(month_id) == []
    expected = [f"{below(year_id)} nouveau{'x' if below(year_id) > 1 else ''} dans les sous-répertoires"]
    assert below(year_id) == before - 1 and badges(year_id) == (expected if below(year_id) else [])


def test_the_executive_reads_only_his_themes_and_never_another_company(app, client, auth, firm):
    auth.login("dirigeant@vigie.test")
    own = firm["files"]["Boulangerie Fabre"]
    other = firm["files"]["Garage Morel"]
    assert client.get(f"/space/{other}").status_code == 404
    with app.app_context():
        internal = db.session.execute(
            select(FolderDocument.id, FolderDocument.folder_id).where(FolderDocument.client_file_id == own)
        ).all()
        from portal.models import Folder

        hidden = db.session.scalar(select(Folder.id).where(Folder.client_file_id == own, Folder.name == "Révision"))
    assert client.get(f"/space/{own}/folders/{hidden}").status_code == 404
    assert len(internal) == 3
    assert client.get("/firm/clients").status_code == 403


def test_the_executive_invites_an_employee_who_sees_only_the_themes_given(app, client, auth, firm):
    auth.login("dirigeant@vigie.test")
    own = firm["files"]["Boulangerie Fabre"]
    page = client.get(f"/space/{own}").get_data(as_text=True)
    themes = {label.strip(): value for value, label in re.findall(r'value="(\d+)"> ?<label[^>]*>([^<]+)<', page)}
    assert set(themes) == {"Comptabilité", "Social", "Juridique", "Fiscal"}
    token = csrf_from(page)
    missing = client.post(f"/space/{own}/employees", data={"csrf_token": token, "email": "vendeuse@fabre.test"})
    assert missing.status_code == 422 and "au moins un thème" in missing.get_data(as_text=True)
    sent = client.post(
        f"/space/{own}/employees",
        data={
            "csrf_token": token,
            "email": "vendeuse@fabre.test",
            "first_name": "Lina",
            "theme_ids": [themes["Social"]],
        },
    )
    assert sent.status_code == 303
    post(client, "/logout")
    link = _invite_link(app, "vendeuse@fabre.test")
    token = csrf_from(client.get(link).data)
    client.post(
        link,
        data={
            "csrf_token": token,
            "first_name": "Lina",
            "last_name": "V",
            "password": "un-mot-de-passe-solide",
            "confirm": "un-mot-de-passe-solide",
        },
    )
    space = client.get(f"/space/{own}").get_data(as_text=True)
    assert "Bulletins de paie" in space and "Achats" not in space


def test_team_management_invites_changes_roles_and_assigns_files(app, client, auth, firm):
    as_admin(client)
    page = client.get("/firm/settings/team").get_data(as_text=True)
    assert "Emma Garnier" in page and "Collaborateur" in page
    token = csrf_from(page)
    bad = client.post(
        "/firm/settings/team", data={"csrf_token": token, "email": "nope", "role": "collaborator"}, headers=HTMX
    )
    assert bad.status_code == 422
    invited = client.post(
        "/firm/settings/team", data={"csrf_token": token, "email": "nouveau@durand.test", "role": "collaborator"}
    )
    assert invited.status_code == 303
    emma = firm["users"]["collaboratrice@vigie.test"]
    garage = firm["files"]["Garage Morel"]
    member = client.get(f"/firm/settings/team/{emma}").get_data(as_text=True)
    token = csrf_from(member)
    saved = client.post(
        f"/firm/settings/team/{emma}", data={"csrf_token": token, "action": "files", "file_ids": [str(garage)]}
    )
    assert saved.status_code == 303
    role = client.post(f"/firm/settings/team/{emma}", data={"csrf_token": token, "action": "role", "role": "owner"})
    assert role.status_code == 303
    last_admin = client.post(
        f"/firm/settings/team/{firm['users']['cabinet@vigie.test']}",
        data={"csrf_token": token, "action": "role", "role": "collaborator"},
    )
    assert last_admin.status_code == 303  # Emma is an admin now, so Julien may step down
    post(client, "/logout")
    auth.login("collaboratrice@vigie.test")
    assert client.get(f"/firm/clients/{garage}").status_code == 200
    assert client.get("/firm/settings/team/999").status_code == 404


def test_the_last_admin_cannot_step_down(app, client, firm):
    as_admin(client)
    me = firm["users"]["cabinet@vigie.test"]
    token = csrf_from(client.get(f"/firm/settings/team/{me}").data)
    answer = client.post(
        f"/firm/settings/team/{me}", data={"csrf_token": token, "action": "role", "role": "collaborator"}
    )
    assert answer.status_code == 422 and "au moins un administrateur" in answer.get_data(as_text=True)


def test_tree_templates_get_folders_and_themes(app, client, auth, firm):
    as_admin(client)
    page = client.get("/firm/settings/trees").get_data(as_text=True)
    assert "Arborescence standard" in page and "Arborescence simplifiée" in page and "interne au cabinet" in page
    token = csrf_from(page)
    assert (
        client.post("/firm/settings/trees", data={"csrf_token": token, "name": "Arborescence standard"}).status_code
        == 422
    )
    assert client.post("/firm/settings/trees", data={"csrf_token": token, "name": "Associations"}).status_code == 303
    assert (
        client.post("/firm/settings/themes", data={"csrf_token": token, "name": "Paie", "shared": "y"}).status_code
        == 303
    )
    with app.app_context():
        from portal.models import Theme, TreeTemplate

        template = db.session.scalar(select(TreeTemplate).where(TreeTemplate.name == "Associations"))
        theme = db.session.scalar(select(Theme).where(Theme.name == "Paie"))
    added = client.post(
        f"/firm/settings/trees/{template.id}/folders",
        data={"csrf_token": token, "name": "Subventions", "parent_id": "0", "theme_id": str(theme.id), "fiscal": "y"},
    )
    assert added.status_code == 303
    with app.app_context():
        folder = db.session.scalar(select(TemplateFolder).where(TemplateFolder.name == "Subventions"))
        assert folder.fiscal and folder.parent_id is None
    removed = client.post(f"/firm/settings/trees/{template.id}/folders/{folder.id}/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    post(client, "/logout")
    auth.login("collaboratrice@vigie.test")
    assert post(client, "/firm/settings/trees", {"name": "Interdite"}).status_code == 403


def test_partner_app_secrets_are_encrypted_and_never_shown_back(app, client, firm):
    as_admin(client)
    page = client.get("/firm/settings/apps").get_data(as_text=True)
    assert "demo-sftp-secret" not in page and "jamais réaffiché" in page
    token = csrf_from(page)
    bad_url = client.post(
        "/firm/settings/apps/urssaf", data={"csrf_token": token, "name": "Urssaf", "url": "javascript:alert(1)"}
    )
    assert bad_url.status_code == 422 and "https://" in bad_url.get_data(as_text=True)
    kept = client.post(
        "/firm/settings/apps/sftp",
        data={"csrf_token": token, "host": "sftp.durand.test", "login": "vigie", "password": ""},
    )
    assert kept.status_code == 303
    changed = client.post(
        "/firm/settings/apps/sftp",
        data={"csrf_token": token, "host": "sftp.durand.test", "login": "vigie", "password": "nouveau-secret"},
    )
    assert changed.status_code == 303
    with app.app_context():
        from portal.core.secrets import open_sealed

        sftp = db.session.scalar(select(PartnerApp).where(PartnerApp.app_key == "sftp"))
        assert "nouveau-secret" not in sftp.secrets and open_sealed(sftp.secrets) == {"password": "nouveau-secret"}
    assert "nouveau-secret" not in client.get("/firm/settings/apps").get_data(as_text=True)
    assert client.post("/firm/settings/apps/sftp", data={"csrf_token": token, "action": "disable"}).status_code == 303
    assert client.post("/firm/settings/apps/unknown", data={"csrf_token": token}).status_code == 404


# --- Bulk import -----------------------------------------------------------------------------------

HEADER = (
    "siret;raison_sociale;debut_exercice;fin_exercice;email_dirigeant;nom_dirigeant;prenom_dirigeant;"
    "collaborateurs;arborescence\n"
)
GOOD = (
    "50100001200127;Boulangerie Petit;01/01/2026;;chef@petit.test;Petit;Jean;collaboratrice@vigie.test;\n"
    "50107920600121;Garage Lefort;01/07/2025;30/06/2026;;;;;Arborescence simplifiée\n"
)
BAD = (
    "12345678901234;SIRET faux;01/01/2026;;;;;;\n"
    "50115839800120;Pharmacie du Centre;31/02/2026;;pas-un-email;;;inconnu@vigie.test;\n"
)


def _upload(client, content: bytes, name: str = "clients.csv", **kwargs):
    token = csrf_from(client.get("/firm/imports").data)
    return client.post(
        "/firm/imports",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def test_import_previews_errors_imports_the_rest_and_never_twice(app, client, firm):
    as_admin(client)
    answer = _upload(client, (HEADER + GOOD + BAD).encode())
    assert answer.status_code == 303
    batch_url = answer.headers["Location"]
    preview = client.get(batch_url).get_data(as_text=True)
    assert "SIRET invalide" in preview and "Date de début invalide" in preview
    assert (
        "E-mail du dirigeant invalide" in preview and "Collaborateur inconnu du cabinet : inconnu@vigie.test" in preview
    )
    assert "Importer les 2 lignes valides" in preview
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(ClientFile).where(ClientFile.siret == "50100001200127"))
            == 0
        )
    token = csrf_from(preview)
    assert client.post(batch_url + "/confirm", data={"csrf_token": token}).status_code == 303
    assert 'hx-trigger="every 2s"' in client.get(batch_url + "/progress").get_data(as_text=True)
    drain(app)
    done = client.get(batch_url).get_data(as_text=True)
    assert "Import terminé : 2 dossiers créés" in done
    report = client.get(batch_url + "/report.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    assert "créé" in report.get_data(as_text=True) and "SIRET invalide" in report.get_data(as_text=True)
    assert client.post(batch_url + "/confirm", data={"csrf_token": token}).status_code == 409
    again = client.get(_upload(client, (HEADER + GOOD).encode()).headers["Location"]).get_data(as_text=True)
    assert again.count("Déjà client du cabinet") == 2 and "Aucune ligne valide" in again
    with app.app_context():
        created = db.session.scalars(select(ClientFile).where(ClientFile.import_batch_id.is_not(None))).all()
        assert len(created) == 2
        petit = next(f for f in created if f.siret == "50100001200127")
        assert petit.tree_status == "ready"
        from portal.models import ClientFileAccess

        assert (
            db.session.scalar(select(ClientFileAccess.user_id).where(ClientFileAccess.client_file_id == petit.id))
            == firm["users"]["collaboratrice@vigie.test"]
        )


def test_an_import_cut_short_resumes_without_duplicates(app, client, firm, monkeypatch):
    from portal.core import clock
    from portal.firm import import_run

    as_admin(client)
    lines = "".join(f"{s};Client {i};01/01/2026;;;;;;\n" for i, s in enumerate(_sirets(7)))
    batch_url = _upload(client, (HEADER + lines).encode()).headers["Location"]
    batch_id = int(batch_url.rsplit("/", 1)[1])
    post(client, batch_url + "/confirm")
    with app.app_context():
        import_run.run(batch_id, chunk=3, stop_after=1)  # a worker killed after one chunk
        assert db.session.get(ImportBatch, batch_id).created == 3
    assert "Le reprendre" not in client.get(batch_url).get_data(as_text=True)  # it moved a moment ago
    later = clock.now() + timedelta(minutes=3)
    monkeypatch.setattr("portal.core.clock.now", lambda: later)
    assert "Le reprendre" in client.get(batch_url).get_data(as_text=True)
    assert post(client, batch_url + "/resume").status_code == 303
    drain(app)
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).status == "done"
        assert (
            db.session.scalar(
                select(func.count()).select_from(ClientFile).where(ClientFile.import_batch_id == batch_id)
            )
            == 7
        )
        assert (
            db.session.scalar(select(func.count()).where(ImportRow.batch_id == batch_id, ImportRow.status == "created"))
            == 7
        )


def test_the_import_page_follows_the_run_and_the_preview_shows_every_column(app, client, firm):
    """Item 25: the rows said "Sera créé" after "Import terminé" until a reload; "Le reprendre" showed
    at once; "1 dossiers créés"; the preview had no tree nor collaborator column."""
    as_admin(client)
    one = "50100001200127;Boulangerie Petit;01/01/2026;;;;;collaboratrice@vigie.test;Arborescence simplifiée\n"
    batch_url = _upload(client, (HEADER + one).encode()).headers["Location"]
    preview = client.get(batch_url).get_data(as_text=True)
    row = re.search(r'<tr id="line-2">(.*?)</tr>', preview, re.S).group(1)
    assert "Arborescence simplifiée" in row and "Emma Garnier" in row and "Sera créé" in row
    assert ">Arborescence<" in preview and ">Collaborateurs<" in preview
    post(client, batch_url + "/confirm")
    running = client.get(batch_url + "/progress", headers=HTMX).get_data(as_text=True)
    assert "Import en cours" in running and "Le reprendre" not in running
    drain(app)
    poll = client.get(batch_url + "/progress", headers=HTMX).get_data(as_text=True)
    assert "Import terminé : 1 dossier créé. Son arborescence se crée en arrière-plan." in poll
    assert 'hx-trigger="every 2s"' not in poll  # the poll stops
    rows = re.search(r'<section id="import-valid-section" hx-swap-oob="true">(.*?)</section>', poll, re.S).group(1)
    assert "Sera créé" not in rows and re.search(r'<a href="/firm/clients/\d+">Créé</a>', rows)


def _sirets(count: int) -> list[str]:
    from stdnum import luhn

    found = []
    for n in range(count):
        siren = f"6{n:07d}"
        siren += luhn.calc_check_digit(siren)
        head = siren + "0001"
        found.append(head + luhn.calc_check_digit(head))
    return found


def test_malformed_files_formulas_and_huge_files_are_refused(app, client, firm):
    from openpyxl import Workbook

    as_admin(client)
    missing = _upload(client, b"nom;ville\nA;B\n")
    assert missing.status_code == 422 and "Colonnes manquantes" in missing.get_data(as_text=True)
    # A PDF, or bytes no text encoding reads (0x81 is undefined in Windows-1252 too): said, never a 500.
    for content, name in ((pdf("KBIS"), "kbis.pdf"), (b"siret;raison_sociale\n\x81\x8d\x90;x\n", "clients.csv")):
        answer = _upload(client, content, name)
        assert answer.status_code == 422, name
        assert "Ce fichier n&#39;est ni un CSV ni un classeur XLSX." in answer.get_data(as_text=True), name
    assert _upload(client, b"").status_code == 422
    book = Workbook()
    sheet = book.active
    sheet.append(["siret", "raison_sociale", "debut_exercice"])
    sheet.append(["50100001200127", "Boulangerie", "=TODAY()"])
    out = io.BytesIO()
    book.save(out)
    formulas = _upload(client, out.getvalue(), "clients.xlsx")
    assert formulas.status_code == 422 and "formules (cellule C2)" in formulas.get_data(as_text=True)
    huge = _upload(client, b"x" * (50 * 1024 * 1024), "huge.xlsx")
    assert huge.status_code == 413 and "ou découpez-le" in huge.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_an_xlsx_file_and_the_templates(app, client, firm):
    from openpyxl import load_workbook

    as_admin(client)
    template = client.get("/firm/imports/template.xlsx")
    assert template.headers["Content-Disposition"].startswith("attachment")
    rows = list(load_workbook(io.BytesIO(template.data)).active.values)
    assert rows[0][0] == "siret"
    assert client.get("/firm/imports/template.csv").data.decode("utf-8-sig").startswith("siret;raison_sociale")
    answer = _upload(client, template.data, "modele.xlsx")
    assert answer.status_code == 303
    assert "Importer les 2 lignes valides" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_another_firm_cannot_read_or_confirm_our_import(app, client, auth, firm):
    from tests.support.data import other_company

    as_admin(client)
    batch_url = _upload(client, (HEADER + GOOD).encode()).headers["Location"]
    post(client, "/logout")
    other_company(app, "rival@cabinet.test", 78, legal_name="Cabinet Rival", is_accounting_firm=True)
    auth.login("rival@cabinet.test")
    for suffix in ("", "/progress", "/report.csv"):
        assert client.get(batch_url + suffix).status_code == 404
    assert post(client, batch_url + "/confirm").status_code == 404


def test_a_collaborator_opens_only_his_own_imports_and_an_admin_every_one(app, client, auth, firm):
    """An import lists SIRETs, names and emails of files a collaborator may not be assigned to."""
    as_admin(client)
    admins = _upload(client, (HEADER + GOOD).encode()).headers["Location"]
    post(client, "/logout")
    auth.login("collaboratrice@vigie.test")
    assert f'href="{admins}"' not in client.get("/firm/imports").get_data(as_text=True)
    for suffix in ("", "/progress", "/report.csv"):
        assert client.get(admins + suffix).status_code == 404, suffix
    assert post(client, admins + "/confirm").status_code == 404
    assert post(client, admins + "/resume").status_code == 404
    hers = _upload(client, (HEADER + GOOD).encode()).headers["Location"]
    assert client.get(hers).status_code == 200 and client.get(hers + "/report.csv").status_code == 200
    post(client, "/logout")
    as_admin(client)
    assert client.get(hers).status_code == 200 and client.get(admins).status_code == 200
    assert f'href="{hers}"' in client.get("/firm/imports").get_data(as_text=True)


def test_espace_cabinet_is_in_the_menu_of_a_firm_client_only(app, client, auth, firm):
    auth.login("dirigeant@vigie.test")
    assert 'href="/space"' in client.get("/", follow_redirects=True).get_data(as_text=True)
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    assert 'href="/space"' not in client.get("/").get_data(as_text=True)
    assert "Aucun cabinet comptable ne suit" in client.get("/space").get_data(as_text=True)


def test_the_executive_lands_on_his_espace_cabinet_and_the_firm_has_distinct_client_menus(app, client, auth, firm):
    """Item 27: the executive landed on a supplier-like dashboard; the firm had "Dossiers clients"
    and "Mes clients" side by side."""
    answer = auth.login("dirigeant@vigie.test")
    landing = client.get(answer.headers["Location"], follow_redirects=True)
    text = landing.get_data(as_text=True)
    assert landing.request.path.startswith("/space") and "Cabinet Durand" in text and "Comptabilité" in text
    menu = re.search(r'<nav class="mainnav".*?</nav>', text, re.S).group(0)
    assert "Espace cabinet" in menu and "Tableau de bord" not in menu
    post(client, "/logout")
    as_admin(client)
    menu = re.search(r'<nav class="mainnav".*?</nav>', client.get("/").get_data(as_text=True), re.S).group(0)
    labels = re.findall(r"<a [^>]*>([^<]+)</a>", menu)
    assert "Dossiers clients" in labels and "Fiches clients (vigilance)" in labels and "Mes clients" not in labels
    sheets = client.get("/clients").get_data(as_text=True)
    assert "<h1>Fiches clients (vigilance)</h1>" in sheets and "Vos dossiers comptables sont dans" in sheets
    assert "« Fiches clients (vigilance) »" in client.get("/firm/clients").get_data(as_text=True)
    post(client, "/logout")
    auth.login("agence@vigie.test")  # the reference's name where there is no other client menu
    menu = re.search(r'<nav class="mainnav".*?</nav>', client.get("/").get_data(as_text=True), re.S).group(0)
    assert "Mes clients" in menu and "Fiches clients" not in menu


def test_the_login_page_lists_every_demo_account_in_development(app, client, firm):
    from portal.models import User

    with app.app_context():
        demo = [u.email for u in db.session.scalars(select(User)) if u.check_password("vigie-demo")]
    assert len(demo) >= 8
    hint = re.search(
        r'<section [^>]*id="demo-accounts".*?</section>', client.get("/login").get_data(as_text=True), re.S
    )
    listed = re.findall(r"<code>([^<]+)</code>", hint.group(0))
    assert sorted(listed) == sorted(demo)
    assert "dirigeant de Boulangerie Fabre" in hint.group(0)


def test_the_firm_shares_a_document_the_executive_downloads(app, client, auth, firm):
    as_admin(client)
    documents = client.get("/firm/documents").get_data(as_text=True)
    assert "Choisissez un dossier client." in documents and "Boulangerie Fabre" in documents
    own = firm["files"]["Boulangerie Fabre"]
    with app.app_context():
        from portal.models import Folder

        folder_id = db.session.scalar(
            select(Folder.id).where(Folder.client_file_id == own, Folder.name == "Assemblées")
        )
    page = client.get(f"/firm/documents/{own}/folders/{folder_id}")
    token = csrf_from(page.data)
    empty = client.post(f"/firm/documents/{own}/folders/{folder_id}", data={"csrf_token": token})
    assert empty.status_code == 422 and "vide" in empty.get_data(as_text=True)
    shared = client.post(
        f"/firm/documents/{own}/folders/{folder_id}",
        data={"csrf_token": token, "file": (io.BytesIO(pdf()), "pv-ag-2026.pdf")},
        content_type="multipart/form-data",
    )
    assert shared.status_code == 303
    with app.app_context():
        document = db.session.scalar(select(FolderDocument).where(FolderDocument.filename == "pv-ag-2026.pdf"))
        assert document.from_firm and document.seen_at is not None  # never flagged "nouveau" to the firm
    firm_copy = client.get(f"/firm/documents/{own}/files/{document.id}")
    assert firm_copy.headers["Content-Disposition"].startswith("attachment")
    assert firm_copy.headers["X-Content-Type-Options"] == "nosniff"
    post(client, "/logout")
    auth.login("dirigeant@vigie.test")
    folder = client.get(f"/space/{own}/folders/{folder_id}").get_data(as_text=True)
    assert "pv-ag-2026.pdf" in folder and "Cabinet Durand" in folder
    assert client.get(f"/space/{own}/files/{document.id}").data.startswith(b"%PDF")
    other = firm["files"]["Garage Morel"]
    assert client.get(f"/space/{other}/files/{document.id}").status_code == 404


def test_the_company_data_provider_follows_the_configuration(make_app):
    from portal.integrations import company_data

    app = make_app(COMPANY_DATA_BACKEND="api", COMPANY_DATA_API_URL="http://127.0.0.1:9/")
    with app.app_context():
        assert isinstance(company_data.directory(), company_data.RechercheEntreprises)
        assert company_data.directory() is company_data.directory()  # one cache per app
    with make_app().app_context():
        assert isinstance(company_data.directory(), company_data.OfflineDirectory)


def test_the_import_report_never_hands_a_formula_to_the_spreadsheet(app, client, firm):
    as_admin(client)
    row = '12345678901234;=HYPERLINK("http://evil.example");01/01/2026;;;;;;\n'
    batch_url = _upload(client, (HEADER + row).encode()).headers["Location"]
    line = client.get(batch_url + "/report.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()[1]
    assert line.startswith('2;12345678901234;"\'=HYPERLINK(""http://evil.example"")";erreur;')


def _declaring(ref: str, last_row: int | None = None) -> bytes:
    """A tiny workbook whose sheet declares ``ref`` (and, if asked, holds one cell far below)."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["siret", "raison_sociale", "debut_exercice"])
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="{ref}" />'.encode(), data)
                if last_row:
                    far = f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>x</t></is></c></row>'
                    data = data.replace(b"</sheetData>", far.encode() + b"</sheetData>")
            copy.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("ref", "last_row", "said"),
    [
        ("A1:XFD3000", 3000, "déclare 3000 lignes et 16384 colonnes"),
        ("A1:XFD1048576", None, "déclare 1048576 lignes"),
        ("A1:C1", 1048576, "dépasse 20000 lignes"),
    ],
)
def test_a_workbook_declaring_a_huge_sheet_is_refused_at_once(client, firm, ref, last_row, said):
    import time

    as_admin(client)
    data = _declaring(ref, last_row)
    assert len(data) < 10_000
    started = time.perf_counter()
    answer = _upload(client, data, "clients.xlsx")
    assert time.perf_counter() - started < 3
    assert answer.status_code == 422 and said in answer.get_data(as_text=True)
