"""What Vigie tells people, and when: preferences per kind, notices waiting for a digest, the
digests sent, pauses a supplier asks of a client, and invitations that follow up."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow

CADENCES = ("immediate", "daily", "weekly", "never")
PAUSE_REASONS = ("contract_ended", "unknown_client", "not_applicable", "sent_elsewhere", "other")
PAUSE_STATUSES = ("pending", "granted", "refused", "cancelled", "ended")
FOLLOW_UP_STOPS = ("accepted", "refused", "bounced", "stopped", "expired", "done")


class NotificationPreference(Base):
    """A user's choice for one kind of message; no row: the kind's default."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    cadence: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Digest(Base):
    """The one digest email a user got on a day (unique: never two a day)."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    day: Mapped[date]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    item_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(Base):
    """One thing to tell one user, once (``key``): sent at once, kept for a digest, or skipped
    (his preference says never, or every client it is sent for paused its reminders)."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notice_waiting", "sent_at", "skipped", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))
    urgency: Mapped[int] = mapped_column(default=5)
    due_on: Mapped[date | None]  # the day that matters (an expiry, a checkpoint)
    line: Mapped[str] = mapped_column(String(500))  # in the user's language
    asked_by: Mapped[str] = mapped_column(String(500), default="")  # which companies ask, and why
    action: Mapped[str] = mapped_column(String(80), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    cadence: Mapped[str] = mapped_column(String(10))  # as chosen when it was made
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    skipped: Mapped[str | None] = mapped_column(String(10))  # "never" or "paused"
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digest.id"), index=True)


class ReminderPause(Base):
    """A supplier asks one client to pause its reminders; the client decides."""

    __tablename__ = "reminder_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    paused_until: Mapped[date | None]
    answer: Mapped[str] = mapped_column(Text, default="")


class EmailBounce(Base):
    """An address the mail server or Brevo said cannot receive email (hard bounce)."""

    __tablename__ = "email_bounce"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    source: Mapped[str] = mapped_column(String(10))  # "smtp" or "brevo"
    reason: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUp(Base):
    """The reminders of one invitation not accepted yet: a partner request (``partnership_id``) or
    an executive's invitation (``invitation_id``), on the inviting company's cadence."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnership.id"), unique=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))  # an invitation's address (no account yet)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_count: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None]
    next_on: Mapped[date | None]
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(String(10))
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class FollowUpSend(Base):
    """One reminder of a follow-up (unique: a step is never sent twice)."""

    __tablename__ = "follow_up_send"
    __table_args__ = (UniqueConstraint("follow_up_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id"))
    step: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    by_sms: Mapped[bool] = mapped_column(default=False)
