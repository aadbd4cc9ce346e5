"""The daily expiry sweep, tested across dates: states move, reminders go once, at the right days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.core import clock, schedule
from portal.core.extensions import db
from portal.documents import expiry
from portal.models import DocumentVersion, ExpiryReminder, Notice, OutboxJob, PeriodicRun, User
from tests.support.data import drain


@pytest.mark.parametrize(
    ("days_left", "kind"),
    [
        (45, None),
        (30, "before-30"),
        (12, "before-30"),
        (7, "before-7"),
        (3, "before-7"),
        (0, "before-0"),
        (-1, None),
        (-6, None),
        (-7, "expired-1"),
        (-13, "expired-1"),
        (-14, "expired-2"),
    ],
)
def test_reminder_kinds(days_left, kind):
    today = date(2026, 11, 22)
    assert expiry.reminder_kind(today + timedelta(days=days_left), today, [30, 7, 0], 7) == kind


def _sweep(app, on: date):
    with app.test_request_context():
        return expiry.sweep(on)


def _kbis(app) -> DocumentVersion:
    with app.app_context():
        return db.session.scalars(select(DocumentVersion).where(DocumentVersion.original_filename == "kbis.pdf")).one()


def _reminders(app, about: str = "Extrait Kbis") -> list[str]:
    """The expiry reminders made for the supplier's owner (they wait for his daily digest)."""
    with app.app_context():
        lines = db.session.scalars(
            select(Notice.line)
            .join(User, User.id == Notice.user_id)
            .where(User.email == "fournisseur@vigie.test", Notice.kind.in_(("legal_expiry", "other_expiry")))
            .order_by(Notice.id)
        )
        return [line for line in lines if line.startswith(f"« {about}")]


def test_sweep_across_dates_moves_states_and_reminds_once(app, demo_file):
    kbis = _kbis(app)  # valid until today + 10
    start = clock.today()
    _sweep(app, start)
    _sweep(app, start)  # twice the same day: nothing more
    until = f"{kbis.valid_until:%d/%m/%Y}"
    assert _reminders(app) == [f"« Extrait Kbis » expire dans 10 jours, le {until}."]
    _sweep(app, start + timedelta(days=3))  # 7 days left
    _sweep(app, start + timedelta(days=3))
    _sweep(app, start + timedelta(days=10))  # last valid day
    with app.app_context():
        assert db.session.get(DocumentVersion, kbis.id).status == "expiring"
    _sweep(app, start + timedelta(days=11))
    with app.app_context():
        assert db.session.get(DocumentVersion, kbis.id).status == "expired"
    _sweep(app, start + timedelta(days=17))
    _sweep(app, start + timedelta(days=18))
    assert _reminders(app)[1:] == [
        f"« Extrait Kbis » expire dans 7 jours, le {until}.",
        "« Extrait Kbis » expire aujourd'hui.",
        f"« Extrait Kbis » a expiré le {until} : vos clients le voient comme expiré.",
    ]
    with app.app_context():
        kinds = db.session.scalars(select(ExpiryReminder.kind).where(ExpiryReminder.version_id == kbis.id)).all()
    assert sorted(kinds) == ["before-0", "before-30", "before-7", "expired-1"]


def test_a_valid_version_becomes_expiring_inside_the_window(app, demo_file):
    with app.app_context():
        rc = db.session.scalars(select(DocumentVersion).where(DocumentVersion.original_filename == "rc_pro.pdf")).one()
    _sweep(app, rc.valid_until - timedelta(days=31))
    with app.app_context():
        assert db.session.get(DocumentVersion, rc.id).status == "valid"
    _sweep(app, rc.valid_until - timedelta(days=30))
    with app.app_context():
        assert db.session.get(DocumentVersion, rc.id).status == "expiring"


def test_no_reminder_while_a_replacement_awaits_review(app, client, auth, demo_file):
    from tests.support.documents import pdf, upload

    auth.login("fournisseur@vigie.test")
    upload(client, "KBIS", pdf("KBIS"), verification_code="AB12CD34EF")
    _sweep(app, clock.today())
    assert _reminders(app) == []
    # The URSSAF attestation expired 17 days ago and has no replacement: its weekly reminder goes.
    [line] = _reminders(app, "Attestation de vigilance")
    assert line.startswith("« Attestation de vigilance URSSAF / MSA » a expiré le ")


def test_the_daily_slot_is_enqueued_once_and_the_job_runs(app, demo_file):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    with app.app_context():

        def sweeps(*moment):
            return [key for key in schedule.tick(datetime(*moment, tzinfo=paris)) if key.startswith("expiry")]

        assert sweeps(2026, 11, 22, 5, 59) == []
        assert sweeps(2026, 11, 22, 6, 1) == ["expiry-sweep@2026-11-22T06:00"]
        assert sweeps(2026, 11, 22, 6, 30) == []
        assert db.session.scalar(select(PeriodicRun.key).where(PeriodicRun.key.like("expiry%"))) == (
            "expiry-sweep@2026-11-22T06:00"
        )
        assert db.session.scalar(select(OutboxJob.job).where(OutboxJob.job == "sweep_expiries")) == "sweep_expiries"
    assert "done" in drain(app)
    assert _reminders(app) == [f"« Extrait Kbis » expire dans 10 jours, le {_kbis(app).valid_until:%d/%m/%Y}."]
