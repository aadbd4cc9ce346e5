"""Sync with external compliance platforms, per company: on, off, back on, nothing lost."""

from __future__ import annotations

import html
import io
import re
import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal.core import clock
from portal.core.extensions import db
from portal.demo import platforms as demo_platforms
from portal.integrations import compliance_platforms as platforms
from portal.integrations import platform_simulator
from portal.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Membership,
    OutboxJob,
    PlatformConnection,
    PlatformSyncRun,
    User,
)
from portal.platforms import sync
from tests.support.data import drain, other_company
from tests.support.documents import pdf
from tests.support.http import HTMX, csrf_from, post
from tests.support.services import free_port

MARTIN = "Menuiserie Martin"


@pytest.fixture
def synced(app):
    from portal.demo.seed import seed_demo
    from portal.models import Organisation

    with app.app_context():
        seed_demo(with_documents=True, with_platforms=True)
        martin = db.session.scalar(select(Organisation.id).where(Organisation.legal_name == MARTIN))
        demolitor = db.session.scalar(select(Organisation.id).where(Organisation.legal_name == "Demolitor SAS"))
        connection = db.session.scalar(
            select(PlatformConnection.id).where(PlatformConnection.organisation_id == martin)
        )
    return {"martin": martin, "demolitor": demolitor, "connection": connection}


def _versions(app, organisation_id: int, code: str) -> list[DocumentVersion]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(DocumentVersion)
                .join(Document, Document.id == DocumentVersion.document_id)
                .join(DocumentType, DocumentType.id == Document.document_type_id)
                .where(DocumentVersion.organisation_id == organisation_id, DocumentType.code == code)
                .order_by(DocumentVersion.id)
            )
        )


def _publish(app, external_id: str, code: str, days_ago: int, data: bytes | None = None) -> None:
    """The platform gets a new document for Menuiserie Martin."""
    from portal.demo import samples

    with app.app_context():
        issued = clock.today() - timedelta(days=days_ago)
        sync.simulator().add(
            "attestation_legale",
            "812345676",
            {
                "id": external_id,
                "type": code,
                "issued_on": issued.isoformat(),
                "certified_on": issued.isoformat(),
                "valid_until": (issued + timedelta(days=364)).isoformat() if code in ("RC_PRO", "QUALIBAT") else None,
                "verification_code": "PLATEFORME12345" if code == "URSSAF_VIGILANCE" else None,
            },
            data if data is not None else samples.one(code, "812345676", MARTIN, issued),
        )


def _run(app, connection_id: int) -> PlatformSyncRun | None:
    """What the ``sync_platform`` job does (it runs with a request context, for links and labels)."""
    with app.test_request_context():
        found = sync.run(connection_id, "manual")
        if found is not None:
            db.session.expunge(found)
        return found


def test_the_first_sync_replaces_the_older_urssaf_and_leaves_the_newer_kbis(app, client, auth, synced):
    urssaf = _versions(app, synced["martin"], "URSSAF_VIGILANCE")
    assert [v.status for v in urssaf] == ["archived", "valid"]
    assert urssaf[0].archived_at is not None and urssaf[1].source_platform == "attestation_legale"
    assert urssaf[1].external_id == "AL-URSSAF-2026-118" and urssaf[1].fetched_at is not None
    assert urssaf[1].precheck  # the automatic pre-checks still run and are kept
    kbis = _versions(app, synced["martin"], "KBIS")
    assert [(v.status, v.source_platform) for v in kbis] == [("expiring", None)]
    auth.login("fournisseur@vigie.test")
    online = client.get("/documents/online").get_data(as_text=True)
    assert "synchronisé depuis Attestation Légale" in online and "Vérifications automatiques" in online
    page = client.get(f"/organisations/{synced['martin']}").get_data(as_text=True)
    assert "Historique des synchronisations" in page
    assert re.search(r"Extrait Kbis du [^(]+\(AL-KBIS-2026-031\) sur Attestation Légale : pas plus récent", page)


def test_running_twice_changes_nothing_the_second_time(app, synced):
    before = _versions(app, synced["martin"], "URSSAF_VIGILANCE")
    run = _run(app, synced["connection"])
    assert (run.new, run.archived, run.unchanged, run.errors, run.status) == (0, 0, 2, 0, "ok")
    assert [v.id for v in _versions(app, synced["martin"], "URSSAF_VIGILANCE")] == [v.id for v in before]


def test_an_older_external_version_never_replaces_a_newer_local_one(app, synced):
    _publish(app, "AL-URSSAF-OLD", "URSSAF_VIGILANCE", days_ago=300)
    run = _run(app, synced["connection"])
    assert run.new == 0 and run.unchanged == 3
    statuses = [(v.external_id, v.status) for v in _versions(app, synced["martin"], "URSSAF_VIGILANCE")]
    assert ("AL-URSSAF-2026-118", "valid") in statuses and all(e != "AL-URSSAF-OLD" for e, _s in statuses)


def test_a_sync_switched_off_fetches_nothing(app, synced):
    with app.app_context():
        connection = db.session.get(PlatformConnection, synced["connection"])
        connection.enabled = False
        db.session.commit()
    _publish(app, "AL-URSSAF-NEW", "URSSAF_VIGILANCE", days_ago=1)
    assert _run(app, synced["connection"]) is None
    with app.app_context():
        assert sync.run_all() == 0  # Demolitor's sync is off as well
        jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.job == "sync_platform")).all()
    assert all(j.args["connection_id"] != synced["connection"] for j in jobs)
    assert all(v.external_id != "AL-URSSAF-NEW" for v in _versions(app, synced["martin"], "URSSAF_VIGILANCE"))


def test_deactivate_upload_by_hand_then_reactivate_and_the_newer_platform_version_replaces_it(
    app, client, auth, synced
):
    auth.login("fournisseur@vigie.test")
    martin = synced["martin"]
    assert "Gérer mes organisations" in client.get("/").get_data(as_text=True)
    assert MARTIN in client.get("/organisations").get_data(as_text=True)
    page = client.get(f"/organisations/{martin}").get_data(as_text=True)
    assert "Désactiver la synchronisation Attestation Légale" in page and "81234567600017" in page
    url = f"/organisations/{martin}/sync/attestation_legale/deactivate"
    dialog = client.get(url, headers=HTMX).get_data(as_text=True)
    assert "<dialog" in dialog and "Aucun document n'est retiré" in dialog and "Tous les établissements" in dialog
    assert "mettre à jour vos documents ici" in dialog
    assert "<html" in client.get(url).get_data(as_text=True)  # a page without JavaScript
    assert post(client, url).status_code == 303
    page = client.get(f"/organisations/{martin}").get_data(as_text=True)
    assert "Réactiver la synchronisation Attestation Légale" in page
    assert len(_versions(app, martin, "URSSAF_VIGILANCE")) == 2  # nothing removed
    # While off, the platform gets a newer attestation, and the supplier uploads an older one here.
    _publish(app, "AL-URSSAF-2026-140", "URSSAF_VIGILANCE", days_ago=2)
    form = client.get("/documents/URSSAF_VIGILANCE/update").get_data(as_text=True)
    assert 'id="sync-warning"' not in form
    issued = clock.today() - timedelta(days=5)
    sent = client.post(
        "/documents/URSSAF_VIGILANCE/update",
        data={
            "csrf_token": csrf_from(form),
            "file": (io.BytesIO(pdf("URSSAF_VIGILANCE", issued)), "urssaf.pdf"),
            "issued_on": issued.isoformat(),
            "verification_code": "ABCDEFGHJKLMNPQ",
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    reactivate = f"/organisations/{martin}/sync/attestation_legale/reactivate"
    confirm = client.get(reactivate).get_data(as_text=True)
    assert "la version plus ancienne sera archivée et remplacée" in confirm
    assert post(client, reactivate).status_code == 303
    drain(app)  # the sync runs at once, as a job
    latest = _versions(app, martin, "URSSAF_VIGILANCE")
    mine = next(v for v in latest if v.source_platform is None and v.issued_on == issued)
    theirs = next(v for v in latest if v.external_id == "AL-URSSAF-2026-140")
    assert mine.status == "archived" and theirs.status == "valid"
    page = client.get(f"/organisations/{martin}").get_data(as_text=True)
    assert "Désactiver la synchronisation Attestation Légale" in page
    with app.app_context():
        from portal.models import AuditEvent

        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("platform_sync.%"))))
    assert actions == {"platform_sync.disabled", "platform_sync.enabled"}


def test_while_on_a_manual_upload_of_a_synced_type_asks_for_confirmation(app, client, auth, synced):
    auth.login("fournisseur@vigie.test")
    form = client.get("/documents/URSSAF_VIGILANCE/update").get_data(as_text=True)
    assert 'id="sync-warning"' in form and "pourra l'archiver et la remplacer" in form
    issued = clock.today() - timedelta(days=1)

    def send(extra: dict):
        return client.post(
            "/documents/URSSAF_VIGILANCE/update",
            data={
                "csrf_token": csrf_from(form),
                "file": (io.BytesIO(pdf("URSSAF_VIGILANCE", issued)), "urssaf.pdf"),
                "issued_on": issued.isoformat(),
                "verification_code": "ABCDEFGHJKLMNPQ",
                **extra,
            },
            content_type="multipart/form-data",
            headers=HTMX,
        )

    refused = send({})
    assert refused.status_code == 422 and 'id="confirm_sync-error"' in refused.get_data(as_text=True)
    assert send({"confirm_sync": "y"}).status_code == 200
    assert 'id="sync-warning"' not in client.get("/documents/RC_PRO/update").get_data(as_text=True)


def test_only_an_owner_changes_the_sync_and_other_companies_are_404(app, client, auth, synced):
    with app.app_context():
        user = User(email="employe@martin.test", first_name="Léo", last_name="Bois")
        user.set_password("vigie-demo")
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=synced["martin"], role="member"))
        db.session.commit()
    auth.login("employe@martin.test")
    page = client.get(f"/organisations/{synced['martin']}").get_data(as_text=True)
    assert "Synchronisée avec Attestation Légale" in page and "Désactiver la synchronisation" not in page
    url = f"/organisations/{synced['martin']}/sync/attestation_legale/deactivate"
    assert client.get(url).status_code == 403
    assert post(client, url).status_code == 403
    with app.app_context():
        assert db.session.get(PlatformConnection, synced["connection"]).enabled
    post(client, "/logout")
    other_company(app, "rival@fournisseur.test", 91, legal_name="Rival SARL", is_supplier=True)
    auth.login("rival@fournisseur.test")
    assert client.get(f"/organisations/{synced['martin']}").status_code == 404
    assert post(client, url).status_code == 404
    assert client.get(f"/organisations/{synced['martin']}/sync/actradis/deactivate").status_code == 404
    assert client.get(f"/organisations/{synced['martin']}/sync/attestation_legale/explode").status_code == 404


def test_a_platform_down_or_a_malformed_answer_changes_nothing_and_says_why(app, client, auth, synced):
    _publish(app, "AL-URSSAF-NEW", "URSSAF_VIGILANCE", days_ago=1)
    with app.app_context():
        sync.simulator().down.add("attestation_legale")
    down = _run(app, synced["connection"])
    assert (down.status, down.error_code) == ("failed", "down") and "is down" in down.error_message
    with app.app_context():
        state = sync.simulator()
        state.down.clear()
        state.malformed.add("attestation_legale")
    malformed = _run(app, synced["connection"])
    assert (malformed.status, malformed.error_code) == ("failed", "answer")
    assert all(v.external_id != "AL-URSSAF-NEW" for v in _versions(app, synced["martin"], "URSSAF_VIGILANCE"))
    auth.login("fournisseur@vigie.test")
    page = _history(client, synced["martin"])
    assert "Attestation Légale ne répond pas : rien n'a changé, la synchronisation reprendra d'elle-même" in page
    assert "Attestation Légale a envoyé une réponse que Vigie ne comprend pas : rien n'a été modifié" in page
    assert "Détail technique" in page  # the technical words stay out of the sentence


def test_a_file_that_is_not_a_pdf_is_not_filed(app, client, auth, synced):
    _publish(app, "AL-RC-PNG", "RC_PRO", days_ago=1, data=b"\x89PNG\r\n\x1a\n not really")
    run = _run(app, synced["connection"])
    assert run.status == "partial" and run.errors == 1
    assert [n["code"] for n in run.notes if n["id"] == "AL-RC-PNG"] == ["not_pdf"]
    auth.login("fournisseur@vigie.test")
    history = _history(client, synced["martin"])
    assert "(AL-RC-PNG) : le fichier reçu n'est pas un PDF, il n'a pas été repris." in history
    assert all(v.external_id != "AL-RC-PNG" for v in _versions(app, synced["martin"], "RC_PRO"))


def test_an_outage_mid_run_leaves_nothing_half_done_and_the_next_run_catches_up(app, synced):
    _publish(app, "AL-RC-1", "RC_PRO", days_ago=1)
    _publish(app, "AL-QUALIBAT-1", "QUALIBAT", days_ago=1)
    with app.app_context():
        sync.simulator().fail_after_files["attestation_legale"] = 1
    cut = _run(app, synced["connection"])
    assert cut.status == "failed" and cut.new == 1
    with app.app_context():
        filed = set(
            db.session.scalars(select(DocumentVersion.external_id).where(DocumentVersion.external_id.is_not(None)))
        )
        assert len(filed) == 2  # the URSSAF of the first sync and exactly one of the two new ones
        blobs = db.session.scalar(select(func.count()).select_from(DocumentVersion))
        state = sync.simulator()
        state.down.clear()
        state.fail_after_files.clear()
    again = _run(app, synced["connection"])
    assert again.status == "ok" and again.new == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DocumentVersion)) == blobs + 1


def test_the_hourly_slot_runs_once_and_only_the_latest(app, synced):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.core import schedule

    paris = ZoneInfo("Europe/Paris")
    with app.app_context():
        claimed = [k for k in schedule.tick(datetime(2026, 11, 23, 10, 30, tzinfo=paris)) if k.startswith("platform")]
        assert claimed == ["platform-sync@2026-11-23T10:05"]
        assert [
            k for k in schedule.tick(datetime(2026, 11, 23, 10, 50, tzinfo=paris)) if k.startswith("platform")
        ] == []
    drain(app)  # sync_platforms fans out one job per enabled connection, which runs
    with app.app_context():
        # The seed's first run, and this one (Demolitor's sync is off: no run).
        assert db.session.scalar(select(func.count()).where(PlatformSyncRun.trigger == "periodic")) == 2


# The HTTP client, against the simulator served over HTTP -------------------------------------------


@pytest.fixture
def served(app):
    with app.app_context():
        state = demo_platforms.demo_state(clock.today())
    server = make_server("127.0.0.1", 0, platform_simulator.simulator_app(state, "key"), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _client(base: str, platform: str = "attestation_legale", key: str = "key", **kwargs):
    return platforms.PlatformClient(f"{base}/{platform}/api/v1", key, sleep=lambda _s: None, **kwargs)


def test_the_http_client_lists_and_fetches_from_both_platforms(served):
    _state, base = served
    documents = _client(base).list_documents("812345676")
    assert {d.type_code for d in documents} == {"URSSAF_VIGILANCE", "KBIS"}
    assert _client(base).fetch(documents[0].external_id).startswith(b"%PDF")
    assert [d.external_id for d in _client(base, "actradis").list_documents("830124590")] == ["ACT-URSSAF-77"]


def test_the_http_client_retries_then_says_the_platform_is_down(served):
    state, base = served
    state.down.add("attestation_legale")
    waits = []
    client = platforms.PlatformClient(f"{base}/attestation_legale/api/v1", "key", sleep=waits.append, retries=3)
    with pytest.raises(platforms.PlatformDown):
        client.list_documents("812345676")
    assert waits == [0.5, 1.0, 2.0]  # exponential backoff
    with pytest.raises(platforms.PlatformDown, match="ConnectionError"):
        platforms.PlatformClient(f"http://127.0.0.1:{free_port()}/api/v1", "key", retries=0).list_documents("x")
    silent = socket.socket()  # accepts connections, never answers: a timeout
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v1"
        with pytest.raises(platforms.PlatformDown, match="Timeout"):
            platforms.PlatformClient(url, "key", timeout=0.3, retries=0).list_documents("x")
    finally:
        silent.close()


def test_the_http_client_refuses_bad_credentials_and_malformed_answers(served):
    state, base = served
    with pytest.raises(platforms.PlatformError, match="credentials refused"):
        _client(base, key="wrong").list_documents("812345676")
    state.malformed.add("attestation_legale")
    with pytest.raises(platforms.PlatformError, match="malformed"):
        _client(base).list_documents("812345676")


def test_sync_uses_the_http_client_with_the_connection_credentials(app, synced, served):
    _state, base = served
    app.config.update(
        PLATFORM_BACKEND="http", PLATFORM_API_URLS={"attestation_legale": f"{base}/attestation_legale/api/v1"}
    )
    with app.app_context():
        from portal.core.secrets import seal

        connection = db.session.get(PlatformConnection, synced["connection"])
        connection.credentials = seal({"api_key": "key"})
        db.session.commit()
    run = _run(app, synced["connection"])
    assert run.status == "ok" and run.unchanged == 2


def test_an_owner_connects_a_platform_and_the_first_sync_runs_at_once(app, client, auth, synced):
    auth.login("constructor@vigie.test")
    demolitor = synced["demolitor"]
    page = client.get(f"/organisations/{demolitor}").get_data(as_text=True)
    assert 'id="connect-platform"' in page and 'value="attestation_legale"' in page
    assert 'value="actradis"' not in page  # already connected (switched off)
    token = csrf_from(page)
    again = client.post(f"/organisations/{demolitor}/sync", data={"csrf_token": token, "platform": "actradis"})
    assert again.status_code == 422 and "déjà connectée" in again.get_data(as_text=True)
    unknown = client.post(f"/organisations/{demolitor}/sync", data={"csrf_token": token, "platform": "autre"})
    assert unknown.status_code == 422 and 'id="platform-error"' in unknown.get_data(as_text=True)
    connected = client.post(
        f"/organisations/{demolitor}/sync",
        data={"csrf_token": token, "platform": "attestation_legale", "account_ref": "", "api_key": "cle-secrete-42"},
    )
    assert connected.status_code == 303
    assert "cle-secrete-42" not in client.get(f"/organisations/{demolitor}").get_data(as_text=True)
    with app.app_context():
        connection = db.session.scalar(
            select(PlatformConnection).where(
                PlatformConnection.organisation_id == demolitor, PlatformConnection.platform == "attestation_legale"
            )
        )
        assert connection.account_ref == "830124590" and "cle-secrete-42" not in connection.credentials
    assert "done" in drain(app)
    with app.app_context():
        run = db.session.scalar(select(PlatformSyncRun).where(PlatformSyncRun.connection_id == connection.id))
        assert (run.trigger, run.status, run.new) == ("manual", "ok", 0)  # nothing for Demolitor there


def test_sync_now_for_members_and_never_when_off_or_for_strangers(app, client, auth, synced):
    auth.login("fournisseur@vigie.test")
    martin = synced["martin"]
    assert post(client, f"/organisations/{martin}/sync/attestation_legale/run").status_code == 303
    drain(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(PlatformSyncRun.trigger == "manual")) == 1
    post(client, f"/organisations/{martin}/sync/attestation_legale/deactivate")
    off = post(client, f"/organisations/{martin}/sync/attestation_legale/run")
    assert off.status_code == 403 and "réactivez-la" in off.get_data(as_text=True)
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    assert post(client, f"/organisations/{martin}/sync/attestation_legale/run").status_code == 404
    assert post(client, f"/organisations/{martin}/sync", {"platform": "actradis"}).status_code == 404


def test_a_bug_of_ours_mid_run_is_recorded_failed_and_the_job_retried(app, synced, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync, "_file", broken)
    _publish(app, "AL-RC-2", "RC_PRO", days_ago=1)
    with pytest.raises(RuntimeError):
        _run(app, synced["connection"])
    with app.app_context():
        last = db.session.scalars(select(PlatformSyncRun).order_by(PlatformSyncRun.id.desc())).first()
        assert last.status == "failed" and last.error_message == "Erreur interne : RuntimeError"


def test_another_companys_document_on_the_platform_is_never_filed_valid(app, client, auth, synced):
    """The account at the platform holds Demolitor's URSSAF attestation: Martin's file gets it
    only in the review queue, with the reason, and its own valid versions stay as they are."""
    from portal.demo import samples

    martin = synced["martin"]
    before = [(v.id, v.status) for v in _versions(app, martin, "URSSAF_VIGILANCE")]
    someone_else = samples.one("URSSAF_VIGILANCE", "830124590", "Demolitor SAS", clock.today() - timedelta(days=1))
    _publish(app, "AL-URSSAF-OTHER", "URSSAF_VIGILANCE", days_ago=1, data=someone_else)
    run = _run(app, synced["connection"])
    after = _versions(app, martin, "URSSAF_VIGILANCE")
    assert [(v.id, v.status) for v in after if v.external_id != "AL-URSSAF-OTHER"] == before
    other = next(v for v in after if v.external_id == "AL-URSSAF-OTHER")
    assert other.status == "submitted" and other.reviewed_at is None
    assert [n["code"] for n in run.notes if n["id"] == "AL-URSSAF-OTHER"] == ["siren_missing"]
    auth.login("fournisseur@vigie.test")
    assert "(AL-URSSAF-OTHER) : le SIREN 812345676 n'apparaît pas dans le document" in _history(client, martin)


@pytest.mark.parametrize("account", ["../../admin/export?all=1#", "812 345 676", "a/b", "é"])
def test_an_account_id_that_is_not_one_is_refused_next_to_its_field(app, client, auth, synced, account):
    auth.login("constructor@vigie.test")
    demolitor = synced["demolitor"]
    answer = post(
        client,
        f"/organisations/{demolitor}/sync",
        {"platform": "attestation_legale", "account_ref": account, "api_key": "k"},
    )
    assert answer.status_code == 422 and "identifiant de compte n&#39;est pas valide" in answer.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(PlatformConnection.id).where(
                    PlatformConnection.organisation_id == demolitor, PlatformConnection.platform == "attestation_legale"
                )
            )
            is None
        )


def test_the_http_client_encodes_ids_into_the_path():
    asked = []

    class Session:
        def get(self, url, **_kwargs):
            asked.append(url)
            raise platforms.PlatformDown("stop here")

    client = platforms.PlatformClient("https://platform.test/api/v1", "key", session=Session(), retries=0)
    for call in (lambda: client.list_documents("../admin?x=1#"), lambda: client.fetch("a/../b")):
        with pytest.raises(platforms.PlatformDown):
            call()
    assert asked == [
        "https://platform.test/api/v1/companies/..%2Fadmin%3Fx%3D1%23/documents",
        "https://platform.test/api/v1/documents/a%2F..%2Fb/file",
    ]


def test_a_scan_from_the_platform_waits_for_an_operator_and_the_run_says_it_could_not_be_read(
    app, client, auth, synced
):
    """A PDF without text: nobody can tell whose it is, and the run says so (not "not there")."""
    from portal.core.pdf import new_pdf, to_bytes

    blank = new_pdf(title="scan")
    blank.add_page()
    _publish(app, "AL-URSSAF-SCAN", "URSSAF_VIGILANCE", days_ago=1, data=to_bytes(blank))
    run = _run(app, synced["connection"])
    scan = next(v for v in _versions(app, synced["martin"], "URSSAF_VIGILANCE") if v.external_id == "AL-URSSAF-SCAN")
    assert scan.status == "submitted"
    assert [n["code"] for n in run.notes if n["id"] == "AL-URSSAF-SCAN"] == ["siren_unreadable"]
    auth.login("fournisseur@vigie.test")
    page = _history(client, synced["martin"])
    assert "(AL-URSSAF-SCAN) : le SIREN 812345676 n'a pas pu être lu dans le document" in page


def test_reactivating_the_demo_actradis_sync_brings_a_newer_urssaf_that_archives_the_older(app, client, auth, synced):
    """Item 28: reactivating Demolitor's Actradis sync always failed ("ACT-URSSAF-77 : Le code ne
    contient que des lettres et des chiffres"), so the demo could not show the reference's rule."""
    demolitor = synced["demolitor"]
    before = _versions(app, demolitor, "URSSAF_VIGILANCE")
    assert [v.status for v in before] == ["valid"] and before[0].source_platform is None
    auth.login("constructor@vigie.test")
    page = client.get(f"/organisations/{demolitor}").get_data(as_text=True)
    assert "Réactiver la synchronisation Actradis" in page
    reactivate = f"/organisations/{demolitor}/sync/actradis/reactivate"
    assert "la version plus ancienne sera archivée et remplacée" in client.get(reactivate).get_data(as_text=True)
    assert post(client, reactivate).status_code == 303
    # Item 29: until the run ends, the page says so and refreshes itself.
    waiting = client.get(f"/organisations/{demolitor}").get_data(as_text=True)
    assert "Synchronisation en cours avec Actradis…" in waiting
    assert re.search(r'<div id="sync-live" hx-get="[^"]+/sync/live" hx-trigger="every 2s"', waiting)
    assert "Synchroniser maintenant" not in waiting  # no second run asked while one waits
    drain(app)
    done = client.get(f"/organisations/{demolitor}/sync/live", headers=HTMX).get_data(as_text=True)
    assert done.startswith("{# ") is False and "en cours" not in done and "hx-trigger" not in done
    assert "Synchronisée avec Actradis" in done
    after = _versions(app, demolitor, "URSSAF_VIGILANCE")
    older = next(v for v in after if v.id == before[0].id)
    newer = next(v for v in after if v.external_id == "ACT-URSSAF-77")
    assert older.status == "archived" and newer.status == "valid" and newer.source_platform == "actradis"
    assert newer.verification_code.isalnum() and newer.issued_on > older.issued_on
    with app.app_context():
        run = db.session.scalar(
            select(PlatformSyncRun)
            .where(PlatformSyncRun.connection_id == _connection(app, demolitor))
            .order_by(PlatformSyncRun.id.desc())
        )
        assert (run.status, run.new, run.archived, run.errors) == ("ok", 1, 1, 0)


def test_a_switched_off_sync_says_who_and_when_leads_to_the_documents_and_its_page_can_be_cancelled(
    app, client, auth, synced
):
    """Item 29: the state said neither who switched the sync off nor when; the reference's next step
    ("Documents") had no link; the confirmation page without JavaScript had no way back."""
    demolitor, martin = synced["demolitor"], synced["martin"]
    auth.login("constructor@vigie.test")  # owner of Constructor SA (active) and of Demolitor SAS
    page = client.get(f"/organisations/{demolitor}").get_data(as_text=True)
    state = re.search(r'<div class="notice sync-state" id="sync-state-actradis".*?</div>', page, re.S).group(0)
    assert re.search(r"Synchronisation Actradis désactivée par Claire Bernard le \d\d/\d\d/\d{4}", state)
    # Demolitor is not the company being worked for: the button switches to it, then opens its documents.
    assert 'name="next" value="/documents' in page and "Aller aux documents de Demolitor SAS" in page
    switched = post(client, "/organisations/switch", {"organisation_id": str(demolitor), "next": "/documents"})
    assert switched.status_code == 303 and switched.headers["Location"].startswith("/documents")
    assert (
        post(
            client, "/organisations/switch", {"organisation_id": str(demolitor), "next": "https://evil.test/"}
        ).headers["Location"]
        == "/"
    )
    confirm = client.get(f"/organisations/{demolitor}/sync/actradis/reactivate").get_data(as_text=True)
    assert re.search(
        rf'<a class="button secondary" id="sync-cancel" href="/organisations/{demolitor}">Annuler</a>', confirm
    )
    post(client, "/logout")
    auth.login("fournisseur@vigie.test")
    assert post(client, f"/organisations/{martin}/sync/attestation_legale/deactivate").status_code == 303
    state = client.get(f"/organisations/{martin}").get_data(as_text=True)
    assert re.search(r'<a class="button small secondary" href="/documents" id="to-documents">', state)
    assert "désactivée par Paul Martin le" in state


def test_the_sync_history_reads_in_english_and_a_run_cut_short_is_not_said_running(app, client, auth, synced):
    """Item 6 (rest) and 29: the history was stored as French text; a run whose worker died stayed
    "en cours" for ever."""
    from portal.models import utcnow

    _publish(app, "AL-RC-PNG", "RC_PRO", days_ago=1, data=b"\x89PNG\r\n\x1a\n not really")
    _run(app, synced["connection"])
    with app.app_context():
        db.session.add(
            PlatformSyncRun(
                connection_id=synced["connection"],
                organisation_id=synced["martin"],
                started_at=utcnow() - timedelta(hours=2),
            )
        )
        db.session.commit()
    auth.login("fournisseur@vigie.test")
    post(client, "/language", {"language": "en"})
    history = _history(client, synced["martin"])
    assert "(AL-RC-PNG): the file received is not a PDF; it was not taken." in history
    assert "on Attestation Légale: not newer than Vigie's version, left aside." in history
    assert "n'est pas" not in history and "interrupted" in history
    page = client.get(f"/organisations/{synced['martin']}").get_data(as_text=True)
    assert "Syncing with" not in page and 'hx-trigger="every 2s"' not in page


def _history(client, organisation_id: int) -> str:
    page = client.get(f"/organisations/{organisation_id}").get_data(as_text=True)
    return html.unescape(re.search(r'<table class="table" id="sync-runs">.*?</table>', page, re.S).group(0))


def _connection(app, organisation_id: int) -> int:
    return db.session.scalar(select(PlatformConnection.id).where(PlatformConnection.organisation_id == organisation_id))


def test_a_document_of_another_type_or_date_than_the_platform_says_waits_for_an_operator(app, client, auth, synced):
    """Issue 16: the reader, not the platform's word, decides. Martin's Kbis filed as an URSSAF
    attestation, and an attestation certifying another date than announced, replace nothing."""
    from portal.demo import samples

    martin = synced["martin"]
    before = [(v.id, v.status) for v in _versions(app, martin, "URSSAF_VIGILANCE")]
    kbis = samples.one("KBIS", "812345676", MARTIN, clock.today() - timedelta(days=1))
    _publish(app, "AL-KBIS-AS-URSSAF", "URSSAF_VIGILANCE", days_ago=1, data=kbis)
    older = samples.one("URSSAF_VIGILANCE", "812345676", MARTIN, clock.today() - timedelta(days=40))
    _publish(app, "AL-URSSAF-OLD", "URSSAF_VIGILANCE", days_ago=0, data=older)
    run = _run(app, synced["connection"])
    after = _versions(app, martin, "URSSAF_VIGILANCE")
    assert [(v.id, v.status) for v in after if v.id in dict(before)] == before  # nothing archived
    for external_id in ("AL-KBIS-AS-URSSAF", "AL-URSSAF-OLD"):
        assert next(v for v in after if v.external_id == external_id).status == "submitted"
    codes = {n["id"]: n["code"] for n in run.notes}
    assert codes["AL-KBIS-AS-URSSAF"] == "type_mismatch" and codes["AL-URSSAF-OLD"] == "date_mismatch"
    auth.login("fournisseur@vigie.test")
    history = _history(client, martin)
    assert "mais il ressemble à « Extrait Kbis » ; il attend la vérification d'un opérateur" in history
    assert "le document certifie la situation au" in history and "pas à la date annoncée par" in history
