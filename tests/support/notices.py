"""What users are told: the notices waiting for them, and the digests a run sends."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.core.extensions import db
from portal.models import Digest, Message, Notice, User
from tests.support.data import drain


def waiting(app, email: str, kind: str | None = None) -> list[Notice]:
    """The notices waiting for this user's next digest."""
    with app.app_context():
        query = (
            select(Notice)
            .join(User, User.id == Notice.user_id)
            .where(User.email == email, Notice.sent_at.is_(None), Notice.skipped.is_(None))
            .order_by(Notice.id)
        )
        if kind:
            query = query.where(Notice.kind == kind)
        return list(db.session.scalars(query))


def send_digests(app, day: date) -> list[Message]:
    """The daily run for ``day`` and its chunk jobs; returns the digests this run made."""
    from portal.messaging import notices

    with app.app_context():
        before = list(db.session.scalars(select(Digest.id)))
    with app.test_request_context():
        notices.run(day)
    drain(app)
    with app.app_context():
        made = select(Message).join(Digest, Digest.message_id == Message.id).where(Digest.id.not_in(before))
        return list(db.session.scalars(made.order_by(Message.id)))
