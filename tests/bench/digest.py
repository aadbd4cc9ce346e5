"""``make bench``, notifications: the daily digest run for 10,000 suppliers with 5 notices waiting
each, on PostgreSQL, with 2 real RQ workers: time from the run's start until every digest is
sent, one email per user (aim < 60 s)."""

from __future__ import annotations

import os
import sys
import time
from datetime import date

from sqlalchemy import func, insert, select

from portal.core.extensions import db
from portal.demo.seed import seed_demo
from portal.models import Digest, Membership, Message, Notice, Organisation, User, utcnow
from tests.bench.dashboard import analyze, bench_app, empty_database, rq_workers
from tests.support.data import valid_siren

REDIS = os.environ.get("VIGIE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SUPPLIERS, NOTICES = int(os.environ.get("VIGIE_BENCH_DIGEST_SUPPLIERS", "10000")), 5
DAY = date(2026, 12, 2)
LINES = (
    ("document_refused", 0, "Votre document « Extrait Kbis » a été refusé : Document illisible."),
    ("legal_expiry", 1, "« Attestation de vigilance URSSAF / MSA » expire dans 7 jours, le 09/12/2026."),
    ("vigilance_checkpoint", 2, "Échéance de vigilance de Constructor SA le 15/01/2027 : URSSAF à renouveler."),
    ("partner_request", 3, "Constructor SA (SIREN 521087437) vous demande une mise en relation."),
    ("other_expiry", 5, "« Certificat Qualibat » expire dans 30 jours, le 01/01/2027."),
)


def seed() -> None:
    app = empty_database()
    with app.app_context():
        seed_demo(with_documents=False)
        now = utcnow()
        db.session.execute(
            insert(Organisation),
            [
                {"siren": valid_siren(70000000 + i), "legal_name": f"Fournisseur {i:05d}", "is_supplier": True}
                for i in range(SUPPLIERS)
            ],
        )
        db.session.execute(
            insert(User),
            [
                {"email": f"gerant{i}@fournisseur.test", "first_name": f"Gérant{i}", "language": "fr"}
                for i in range(SUPPLIERS)
            ],
        )
        organisations = db.session.scalars(
            select(Organisation.id).where(Organisation.legal_name.like("Fournisseur %")).order_by(Organisation.id)
        ).all()
        users = db.session.scalars(select(User.id).where(User.email.like("gerant%")).order_by(User.id)).all()
        db.session.execute(
            insert(Membership),
            [{"user_id": u, "organisation_id": o, "role": "owner"} for u, o in zip(users, organisations, strict=True)],
        )
        db.session.execute(
            insert(Notice),
            [
                {
                    "user_id": u,
                    "organisation_id": o,
                    "kind": kind,
                    "key": f"bench:{u}:{kind}",
                    "urgency": urgency,
                    "line": line,
                    "asked_by": "Demandé par : Constructor SA.",
                    "action": "Mettre à jour",
                    "link": "https://vigie.example/documents",
                    "cadence": "daily",
                    "created_at": now,
                }
                for u, o in zip(users, organisations, strict=True)
                for kind, urgency, line in LINES
            ],
        )
        db.session.commit()
        analyze()
        db.engine.dispose()


def run() -> None:
    from redis import Redis

    from portal.messaging import notices

    app = bench_app(QUEUE_BACKEND="rq", REDIS_URL=REDIS, MAIL_BACKEND="outbox")
    Redis.from_url(REDIS).flushdb()
    with rq_workers(app, REDIS):
        time.sleep(3)  # the workers start
        started = time.perf_counter()
        with app.test_request_context():
            users = notices.run(DAY)
        deadline = time.monotonic() + 600
        sent = 0
        while time.monotonic() < deadline:
            with app.app_context():
                sent = db.session.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.template == "digest", Message.status == "sent")
                )
                db.session.remove()
            if sent >= SUPPLIERS:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        with app.app_context():
            digests = db.session.scalar(select(func.count()).select_from(Digest))
            twice = db.session.scalar(
                select(func.count()).select_from(
                    select(Digest.user_id).group_by(Digest.user_id, Digest.day).having(func.count() > 1).subquery()
                )
            )
            emails = db.session.scalar(select(func.count()).select_from(Message).where(Message.template == "digest"))
            left = db.session.scalar(select(func.count()).select_from(Notice).where(Notice.sent_at.is_(None)))
        if sent < SUPPLIERS:
            sys.exit(f"only {sent} of {SUPPLIERS} digests sent in time")
        print(
            f"digest run: {users} users with {NOTICES} notices each → {emails} emails ({digests} digests, "
            f"{twice} users with two, {left} notices left) sent in {elapsed:.1f} s with 2 workers (aim < 60 s)"
        )


def main() -> None:
    seed()
    run()


if __name__ == "__main__":
    main()
