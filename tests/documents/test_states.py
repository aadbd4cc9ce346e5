"""A document's state follows its valid version; a newer version under review or refused is a line
under it, and what partners see moves only when the valid version does. Every transition of the
table in ``portal/documents/compliance.py`` is played here through the pages, by the supplier, the
operator and the daily sweep; the expected words are written out, never read from that table."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.documents import compliance, expiry
from portal.models import DocumentVersion, Organisation, Partnership, RefusalReason
from tests.support.data import drain
from tests.support.documents import pdf, upload
from tests.support.http import login, post

MARTIN = "812345676"


def _newest(app, code: str) -> DocumentVersion:
    with app.app_context():
        return db.session.scalars(
            select(DocumentVersion)
            .join(DocumentVersion.document)
            .where(DocumentVersion.document.has(document_type_id=_type_id(code)))
            .order_by(DocumentVersion.id.desc())
        ).first()


def _type_id(code: str) -> int:
    from portal.models import DocumentType

    return db.session.scalar(select(DocumentType.id).where(DocumentType.code == code))


def _as(client, email: str) -> None:
    post(client, "/logout")
    login(client, email)


def _send(client, code: str, **fields) -> None:
    _as(client, "fournisseur@vigie.test")
    fields.setdefault("valid_until", (clock.today() + timedelta(days=360)).isoformat())
    if code in ("KBIS", "URSSAF_VIGILANCE"):
        fields.setdefault("verification_code", "ABCDEFGH12345XY")
    response = upload(client, code, pdf(code), **fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def _decide(app, client, version_id: int, decision: str, comment: str = "") -> None:
    _as(client, "operateur@vigie.test")
    if decision == "validate":
        data = {"valid_until": (clock.today() + timedelta(days=365)).isoformat()}
    else:
        with app.app_context():
            reason = db.session.scalar(select(RefusalReason.id).where(RefusalReason.label_fr == "Document non signé"))
        data = {"reason": reason, "comment": comment}
    assert post(client, f"/operations/review/{version_id}/{decision}", data).status_code == 303


def _page(client, path: str) -> str:
    return client.get(path).get_data(as_text=True).replace("&#39;", "'")


def _cell(page: str, marker: str, length: int = 1500) -> str:
    start = page.index(marker)
    end = page.find("</tr>", start)
    return page[start : end if end > 0 else start + length]


def _pending_item(page: str, code: str) -> str | None:
    marker = f'id="pending-{code}"'
    if marker not in page:
        return None
    start = page.index(marker)
    return page[start : page.index("</article>", start)]


def _partnership(app) -> Partnership:
    with app.app_context():
        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == MARTIN))
        return db.session.scalars(
            select(Partnership).where(Partnership.target_id == martin, Partnership.status == "accepted")
        ).first()


def _accept_constructor(app, client) -> int:
    with app.app_context():
        request_id = db.session.scalar(select(Partnership.id).where(Partnership.status == "pending"))
    _as(client, "fournisseur@vigie.test")
    post(client, f"/partners/requests/{request_id}/accept")
    with app.app_context():
        return db.session.get(Partnership, request_id).requester_id


def _constructor_sees(app, client, martin_id: int) -> str:
    _as(client, "constructor@vigie.test")
    page = _page(client, f"/partners/companies/{martin_id}")
    return _cell(page, "Attestation d'assurance RC professionnelle")


def _status_of_martin_for_constructor(app, constructor_id: int) -> str:
    with app.app_context():
        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == MARTIN))
        return db.session.scalar(
            select(Partnership.compliance_status).where(
                Partnership.requester_id == constructor_id, Partnership.target_id == martin
            )
        )


def test_a_refused_renewal_leaves_the_valid_version_in_force_everywhere(app, client, auth, demo_file):
    """The reproduction: RC Pro valid until next year, a new version refused."""
    martin = demo_file["orgs"]["Menuiserie Martin"]
    constructor = _accept_constructor(app, client)
    valid = _newest(app, "RC_PRO")
    until = f"{valid.valid_until.day}(er)? "
    before = _status_of_martin_for_constructor(app, constructor)

    _send(client, "RC_PRO")
    renewal = _newest(app, "RC_PRO")
    online = _cell(_page(client, "/documents/online"), 'id="online-RC_PRO"')
    assert re.search(r'state-label">Valide</span>\s*— jusqu.au ' + until, online)
    assert "en cours de vérification" in online and "Nouvelle version du" in online
    assert _pending_item(_page(client, "/documents"), "RC_PRO") is None
    partner = _constructor_sees(app, client, martin)
    assert ">Valide</span>" in partner and "Nouvelle version du" in partner
    assert _status_of_martin_for_constructor(app, constructor) == before

    _decide(app, client, renewal.id, "refuse", "Signature absente en page 3.")
    _as(client, "fournisseur@vigie.test")
    tab = _page(client, "/documents")
    item = _pending_item(tab, "RC_PRO")
    assert item is not None, "a refused renewal is in the orange tab"
    assert re.search(r'state-label">Valide</span>\s*— jusqu.au ' + until, item)
    assert "Nouvelle version refusée." in item and "Document non signé — Signature absente en page 3." in item
    assert "Refusé" not in item.split("refusal")[0]  # the state itself never says "Refusé"
    online = _cell(_page(client, "/documents/online"), 'id="online-RC_PRO"')
    assert 'state-label">Valide</span>' in online
    assert "Motif du refus : Document non signé — Signature absente en page 3." in online  # versions list

    partner = _constructor_sees(app, client, martin)
    assert 'state-label">Valide</span>' in partner and "Refusé" not in partner
    assert "Signature absente" not in partner  # the supplier's exchange with the operator stays his
    assert "la version valide ci-dessus reste en vigueur" in partner
    download = client.get(f"/partners/companies/{martin}/versions/{valid.id}/download")
    assert download.status_code == 200
    assert client.get(f"/partners/companies/{martin}/versions/{renewal.id}/download").status_code == 404
    assert _status_of_martin_for_constructor(app, constructor) == before

    _as(client, "fournisseur@vigie.test")
    post(client, "/documents/quitus")
    with app.app_context():
        from portal.models import Quitus

        snapshot = db.session.scalars(select(Quitus).order_by(Quitus.id.desc())).first().snapshot
    assert {row["code"]: row["state"] for row in snapshot}["RC_PRO"] == "valid"


def test_withdrawing_a_refused_version_takes_it_out_of_the_tab(app, client, auth, demo_file):
    _send(client, "RC_PRO")
    renewal = _newest(app, "RC_PRO")
    _decide(app, client, renewal.id, "refuse")
    _as(client, "fournisseur@vigie.test")
    badge = int(re.search(r'id="pending-count"[^>]*>(\d+)<', _page(client, "/documents"))[1])
    response = post(client, f"/documents/versions/{renewal.id}/withdraw")
    assert response.status_code == 303
    page = _page(client, "/documents")
    assert "Version refusée retirée : Attestation d'assurance RC professionnelle." in page
    assert _pending_item(page, "RC_PRO") is None
    assert int(re.search(r'id="pending-count"[^>]*>(\d+)<', page)[1]) == badge - 1
    online = _cell(_page(client, "/documents/online"), 'id="online-RC_PRO"')
    assert "Nouvelle version" not in online and 'status-archived">Archivé' in online
    # Twice, or a valid version, or another company's version: refused, nothing changes.
    again = post(client, f"/documents/versions/{renewal.id}/withdraw")
    assert again.status_code == 303
    assert "Seule une version refusée" in _page(client, "/documents")
    valid = [v for v in _versions(app, "RC_PRO") if v.status == "valid"][0]
    post(client, f"/documents/versions/{valid.id}/withdraw")
    assert [v for v in _versions(app, "RC_PRO") if v.id == valid.id][0].status == "valid"
    _as(client, "constructor@vigie.test")
    assert post(client, f"/documents/versions/{renewal.id}/withdraw").status_code in (403, 404)


def _versions(app, code: str) -> list[DocumentVersion]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(DocumentVersion).where(DocumentVersion.document.has(document_type_id=_type_id(code)))
            )
        )


def test_a_first_version_goes_in_review_then_valid_or_refused(app, client, auth, demo_file):
    # missing → in_review (DECENNALE: Martin has none)
    _send(client, "DECENNALE")
    online = _cell(_page(client, "/documents/online"), 'id="online-DECENNALE"')
    assert 'state-label">En cours de vérification</span>' in online and "Nouvelle version" not in online
    first = _newest(app, "DECENNALE")
    # in_review → refused: the state says it, with the reason
    _decide(app, client, first.id, "refuse", "Mauvaise entreprise.")
    _as(client, "fournisseur@vigie.test")
    item = _pending_item(_page(client, "/documents"), "DECENNALE")
    assert item is not None and 'state-label">Refusé</span>' in item and "Mauvaise entreprise." in item
    assert "Nouvelle version refusée" not in item
    # refused → in_review with a corrected version
    _send(client, "DECENNALE")
    assert _pending_item(_page(client, "/documents"), "DECENNALE") is None
    # in_review → valid
    _decide(app, client, _newest(app, "DECENNALE").id, "validate")
    _as(client, "fournisseur@vigie.test")
    online = _cell(_page(client, "/documents/online"), 'id="online-DECENNALE"')
    assert 'state-label">Valide</span>' in online


def test_refused_first_version_withdrawn_is_missing_again(app, client, auth, demo_file):
    lnte = _newest(app, "LNTE")  # the demo's refused Liste nominative
    auth.login("fournisseur@vigie.test")
    assert post(client, f"/documents/versions/{lnte.id}/withdraw").status_code == 303
    item = _pending_item(_page(client, "/documents"), "LNTE")
    assert item is not None and 'state-label">Manquant</span>' in item  # required: still to send


def test_validating_a_renewal_replaces_the_valid_version(app, client, auth, demo_file):
    old = _newest(app, "RC_PRO")
    _send(client, "RC_PRO")
    renewal = _newest(app, "RC_PRO")
    _decide(app, client, renewal.id, "validate")
    statuses = {v.id: v.status for v in _versions(app, "RC_PRO")}
    assert statuses[old.id] == "archived" and statuses[renewal.id] == "valid"
    _as(client, "fournisseur@vigie.test")
    online = _cell(_page(client, "/documents/online"), 'id="online-RC_PRO"')
    until = clock.today() + timedelta(days=365)
    assert re.search(rf"jusqu'au {until.day}(er)? ", online) and "Nouvelle version" not in online


def test_expiry_while_a_renewal_is_under_review(app, client, auth, demo_file):
    """The Kbis expires in 10 days; its renewal is sent, the sweep runs past the end, then it is validated."""
    constructor = _accept_constructor(app, client)
    with app.app_context():
        martin = db.session.scalar(select(Organisation).where(Organisation.siren == MARTIN))
    _send(client, "KBIS")
    renewal = _newest(app, "KBIS")
    item = _pending_item(_page(client, "/documents"), "KBIS")
    # expiring, with the renewal under review: still in the tab (it is required and not yet replaced)
    assert item is not None and 'state-label">Expire bientôt</span>' in item and "en cours de vérification" in item
    later = clock.today() + timedelta(days=12)
    with app.test_request_context():
        expiry.sweep(later)
        file = compliance.load(db.session.get(Organisation, martin.id), later)
        row = file.row_for("KBIS")
        assert (row.state, row.renewal_state) == ("expired", "in_review")
        assert compliance.summary(file)[0] == "expired"
    assert _status_of_martin_for_constructor(app, constructor) == "expired"
    drain(app)
    _decide(app, client, renewal.id, "validate")
    with app.test_request_context():
        row = compliance.load(db.session.get(Organisation, martin.id), later).row_for("KBIS")
        assert (row.state, row.renewal_state) == ("valid", None)


def test_the_sweep_moves_a_valid_version_to_expiring_then_expired_under_a_refused_renewal(app, client, auth, demo_file):
    _send(client, "RC_PRO")
    renewal = _newest(app, "RC_PRO")
    _decide(app, client, renewal.id, "refuse")
    with app.app_context():
        valid = [v for v in _versions(app, "RC_PRO") if v.status == "valid"][0]
        martin = db.session.scalar(select(Organisation).where(Organisation.siren == MARTIN))
    for days, state in (
        ((valid.valid_until - clock.today()).days - 5, "expiring"),
        (
            (valid.valid_until - clock.today()).days + 1,
            "expired",
        ),
    ):
        on = clock.today() + timedelta(days=days)
        with app.test_request_context():
            expiry.sweep(on)
            row = compliance.load(db.session.get(Organisation, martin.id), on).row_for("RC_PRO")
            assert (row.state, row.renewal_state) == (state, "refused")


def test_the_readme_repeats_the_state_table():
    """The README's table of states is the code's (documentation that stays true)."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("### Document states") :]
    section = section[: section.index("\n## ")]
    for state in compliance.STATES:
        assert f"`{state}`" in section
    for before, renewal, event, after, renewal_after in compliance.TRANSITIONS:
        assert event in section, event
