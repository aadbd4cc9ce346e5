"""One digest a day instead of a stream: preferences per kind, the daily run across dates (the
clock moved), urgent messages sent at once and never repeated, legal reminders never off."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.core import clock, schedule
from portal.core.extensions import db
from portal.messaging import notices
from portal.models import Digest, Message, Notice, NotificationPreference, Organisation, User
from tests.api.support import MARTIN
from tests.support.http import HTMX, post
from tests.support.notices import send_digests, waiting

PARIS = clock.PARIS
SUPPLIER = "fournisseur@vigie.test"
MONDAY = date(2026, 12, 7)


def freeze(monkeypatch, day: date, hour: int = 10) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime.combine(day, time(hour, 0), tzinfo=PARIS))


def _user(email: str = SUPPLIER) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def tell(app, kind: str, key: str, line: str, email: str = SUPPLIER, **extra) -> list[Notice]:
    """A notice as a feature makes one (in a request, so links resolve)."""
    with app.test_request_context():
        user = _user(email)
        organisation_id = db.session.scalar(select(Organisation.id).where(Organisation.siren == MARTIN))
        made = notices.notify([user], organisation_id, kind, key, line, link="http://localhost/documents", **extra)
        db.session.commit()
        return made


def digests_of(app, email: str = SUPPLIER) -> list[tuple[date, str]]:
    with app.app_context():
        return [
            (day, body)
            for day, body in db.session.execute(
                select(Digest.day, Message.body_text)
                .join(Message, Message.id == Digest.message_id)
                .join(User, User.id == Digest.user_id)
                .where(User.email == email)
                .order_by(Digest.day)
            )
        ]


def test_a_days_notices_go_in_one_digest_most_urgent_first_and_never_two_a_day(app, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    tell(app, "other_expiry", "a", "« Qualibat » expire dans 30 jours.")
    tell(app, "legal_expiry", "b", "« Extrait Kbis » expire dans 7 jours.")
    tell(app, "new_requirement", "c", "Constructor SA vous demande désormais : RC Pro.")
    tell(app, "legal_expiry", "b", "the same key again: nothing more")
    [digest] = send_digests(app, date(2026, 12, 2))
    assert digest.recipient == SUPPLIER
    assert digest.subject == "Vigie : 3 choses à faire"
    body = digest.body_text
    assert body.index("Extrait Kbis") < body.index("RC Pro") < body.index("Qualibat")  # legal first
    assert "the same key again" not in body
    assert digest.status == "sent"  # delivered by the chunk itself (dev outbox)
    # Something new the same day waits for tomorrow: a second run that day sends nothing.
    tell(app, "other_expiry", "d", "« Certificat Qualibat » a expiré.")
    assert send_digests(app, date(2026, 12, 2)) == []
    assert [n.line for n in waiting(app, SUPPLIER)] == ["« Certificat Qualibat » a expiré."]
    [tomorrow] = send_digests(app, date(2026, 12, 3))
    assert "Certificat Qualibat" in tomorrow.body_text and "Extrait Kbis" not in tomorrow.body_text
    assert [day for day, _ in digests_of(app)] == [date(2026, 12, 2), date(2026, 12, 3)]


def test_a_chunk_run_twice_makes_no_second_digest_and_sends_once(app, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    tell(app, "legal_expiry", "a", "« Extrait Kbis » expire dans 7 jours.")
    with app.test_request_context():
        user_id = _user().id
        assert notices.send_chunk([user_id], date(2026, 12, 2)) == 1
        assert notices.send_chunk([user_id], date(2026, 12, 2)) == 0  # a worker died and the job ran again
        assert db.session.scalar(select(func.count()).select_from(Message).where(Message.template == "digest")) == 1
        assert db.session.scalar(select(Message.status).where(Message.template == "digest")) == "sent"


def operator_tenancy(app):
    from portal.core.tenancy import Tenancy
    from portal.models import Membership

    operator = _user("operateur@vigie.test")
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == operator.id).options(joinedload(Membership.organisation))
    )
    return Tenancy(membership=membership, memberships=[membership]), operator


def test_a_refusal_goes_at_once_and_is_not_repeated_in_the_digest(app, demo_file, monkeypatch):
    from portal.documents import review
    from portal.models import DocumentVersion, RefusalReason

    freeze(monkeypatch, date(2026, 12, 2))
    tell(app, "legal_expiry", "a", "« Extrait Kbis » expire dans 7 jours.")
    with app.test_request_context():
        martin = db.session.scalar(select(Organisation.id).where(Organisation.siren == MARTIN))
        version = db.session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.organisation_id == martin, DocumentVersion.status == "submitted"
            )
        ).first()
        reason = db.session.scalars(select(RefusalReason).order_by(RefusalReason.id)).first()
        tenancy, operator = operator_tenancy(app)
        review.refuse(tenancy, operator, version.id, reason.id, "Page 2 manquante")
        refused = db.session.scalars(
            select(Message).where(Message.template == "document_refused").order_by(Message.id.desc())
        ).first()
    assert refused.recipient == SUPPLIER and "Page 2 manquante" in refused.body_text  # at once, the reason with it
    [digest] = send_digests(app, date(2026, 12, 2))
    assert "expire dans 7 jours" in digest.body_text and "a été refusé" not in digest.body_text


def test_who_wants_refusals_in_the_digest_gets_them_there(app, client, auth, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    auth.login(SUPPLIER)
    assert post(client, "/notifications/preferences", {"document_refused": "daily"}).status_code == 303
    tell(app, "document_refused", "refused:x", "Votre document « Extrait Kbis » a été refusé : Document illisible.")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message).where(Message.template == "notice")) == 0
    [digest] = send_digests(app, date(2026, 12, 2))
    assert digest.subject == "Vigie : 1 chose à faire (dont 1 urgente)"
    assert "a été refusé" in digest.body_text


def test_weekly_notices_wait_for_monday(app, client, auth, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))  # a Wednesday
    auth.login(SUPPLIER)
    assert post(client, "/notifications/preferences", {"other_expiry": "weekly"}).status_code == 303
    tell(app, "other_expiry", "q", "« Qualibat » expire dans 30 jours.")
    tell(app, "legal_expiry", "k", "« Extrait Kbis » expire dans 7 jours.")
    [wednesday] = send_digests(app, date(2026, 12, 2))
    assert "Extrait Kbis" in wednesday.body_text and "Qualibat" not in wednesday.body_text
    for day in (date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6)):
        assert send_digests(app, day) == []
    [monday] = send_digests(app, MONDAY)
    assert "Qualibat" in monday.body_text


def test_an_optional_kind_can_be_switched_off_a_legal_one_only_grouped(app, client, auth, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    auth.login(SUPPLIER)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Documents obligatoires qui expirent ou ont expiré" in page and "Obligation légale" in page
    assert 'name="legal_expiry" value="never" disabled' in page
    # A tampered form: refused next to the field, and nothing saved (not even the valid choice).
    refused = post(client, "/notifications/preferences", {"legal_expiry": "never", "other_expiry": "never"})
    assert refused.status_code == 422
    assert "obligation légale : il peut être regroupé, pas désactivé.</p>" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0
    htmx = post(client, "/notifications/preferences", {"legal_expiry": "never"}, headers=HTMX)
    assert htmx.status_code == 422
    assert post(client, "/notifications/preferences", {"other_expiry": "never"}).status_code == 303
    tell(app, "other_expiry", "q", "« Qualibat » expire dans 30 jours.")
    assert waiting(app, SUPPLIER) == []
    # Even a row written by hand cannot switch a legal reminder off: it is grouped daily.
    with app.app_context():
        db.session.add(NotificationPreference(user_id=_user().id, kind="legal_expiry", cadence="never"))
        db.session.commit()
    tell(app, "legal_expiry", "k", "« Extrait Kbis » expire dans 7 jours.")
    assert [n.cadence for n in waiting(app, SUPPLIER)] == ["daily"]


def test_the_schedule_says_what_goes_and_when(app, client, auth, demo_file, monkeypatch):
    from babel.dates import format_date

    from portal.models import DocumentVersion

    today = clock.today()
    freeze(monkeypatch, today, hour=9)  # past today's digest: what waits goes tomorrow
    tell(app, "new_requirement", "r", "Constructor SA vous demande désormais : RC Pro.")
    with app.app_context():
        kbis = db.session.scalar(
            select(DocumentVersion.valid_until).where(DocumentVersion.original_filename == "kbis.pdf")
        )
    auth.login(SUPPLIER)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    tomorrow = format_date(today + timedelta(days=1), "full", locale="fr")
    assert f"<strong>{tomorrow}</strong> — Menuiserie Martin : Constructor SA vous demande désormais : RC Pro." in page
    # The Kbis (valid 10 more days) brings its J-7 reminder in that morning's digest...
    j7 = kbis - timedelta(days=7)
    line = f"— Menuiserie Martin : « Extrait Kbis » expire le {kbis:%d/%m/%Y}"
    assert f"<strong>{format_date(j7, 'full', locale='fr')}</strong> {line}" in page
    # ... and in the Monday digest for who groups legal reminders weekly.
    assert post(client, "/notifications/preferences", {"legal_expiry": "weekly"}).status_code == 303
    monday = j7 + timedelta(days=(7 - j7.weekday()) % 7)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert f"<strong>{format_date(monday, 'full', locale='fr')}</strong> {line}" in page
    # A new Kbis sent for review: the sweep will not remind the old one, so neither does the page.
    from tests.support.documents import pdf, upload

    upload(client, "KBIS", pdf("KBIS"), verification_code="AB12CD34EF")
    assert "« Extrait Kbis » expire le" not in client.get("/notifications/preferences").get_data(as_text=True)


def test_the_digest_slot_is_claimed_once_at_eight_paris_time(app, demo):
    with app.app_context():

        def slots(*moment):
            return [k for k in schedule.tick(datetime(*moment, tzinfo=PARIS)) if k.startswith("digest")]

        assert slots(2026, 12, 2, 7, 59) == []
        assert slots(2026, 12, 2, 8, 0) == ["digest@2026-12-02T08:00"]
        assert slots(2026, 12, 2, 9, 0) == []


def test_the_dev_outbox_shows_a_digest_as_its_user_gets_it(app, client, auth, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    tell(app, "legal_expiry", "k", "« Extrait Kbis » expire dans 7 jours.", action="Mettre à jour")
    [digest] = send_digests(app, date(2026, 12, 2))
    auth.login("constructor@vigie.test")
    listing = client.get("/dev/outbox").get_data(as_text=True)
    assert "Vigie : 1 chose à faire" in listing
    html = client.get(f"/dev/outbox/{digest.id}/html").get_data(as_text=True)
    assert "Menuiserie Martin" in html and "Mettre à jour</a>" in html


def test_a_client_hears_of_a_supplier_no_longer_in_order_in_its_monday_summary(app, demo_file, monkeypatch):
    """Demolitor SAS reads Martin's file; the status it last saw was "compliant", Martin's file is
    not: a refresh says so, and Demolitor's owner gets it on Monday (his default), not before."""
    from portal.documents import partner_status
    from portal.models import Partnership

    freeze(monkeypatch, date(2026, 12, 2))
    with app.test_request_context():
        martin = db.session.scalar(select(Organisation).where(Organisation.siren == MARTIN))
        partnership = db.session.scalar(
            select(Partnership).where(Partnership.target_id == martin.id, Partnership.status == "accepted")
        )
        partnership.compliance_status = "compliant"
        partner_status.refresh(partnership, martin)
        partner_status.refresh(partnership, martin)  # again: told once
        db.session.commit()
    [notice] = waiting(app, "constructor@vigie.test", "supplier_noncompliant")
    assert notice.line.startswith("Menuiserie Martin n'est plus en règle : documents")
    assert notice.cadence == "weekly"
    assert [m for m in send_digests(app, date(2026, 12, 2)) if m.recipient == "constructor@vigie.test"] == []
    [monday] = [m for m in send_digests(app, MONDAY) if m.recipient == "constructor@vigie.test"]
    assert "Menuiserie Martin n'est plus en règle" in monday.body_text and "Voir le fournisseur" in monday.body_text


def test_an_english_user_reads_his_digest_in_english(app, demo, monkeypatch):
    freeze(monkeypatch, date(2026, 12, 2))
    from flask_babel import lazy_gettext as _l

    with app.app_context():
        _user().language = "en"
        db.session.commit()
    from portal.core.labels import Localised
    from portal.models import DocumentType

    with app.app_context():
        kbis = db.session.scalar(select(DocumentType).where(DocumentType.code == "KBIS"))
        line = _l("« %(label)s » expire aujourd'hui.", label=Localised(kbis))
        tell(app, "legal_expiry", "k", line)
    [digest] = send_digests(app, date(2026, 12, 2))
    assert digest.subject == "Vigie: 1 thing to do"
    assert "“Kbis extract” expires today." in digest.body_text
    assert "Your digest of Wednesday, December 2, 2026, most urgent first:" in digest.body_text
