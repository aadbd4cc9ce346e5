from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow

OUTBOX_STATUSES = ("pending", "running", "done", "failed")
MESSAGE_STATUSES = ("queued", "sending", "sent", "delivered", "failed", "unknown")


class OutboxJob(Base):
    """Work promised in a transaction, pushed to the queue after commit."""

    __tablename__ = "outbox_job"
    __table_args__ = (Index("ix_outbox_job_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(20), default="default")
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    pushed_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    # Renewed while the job runs: a row whose heartbeat stops (killed worker) is taken over.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Message(Base):
    """One email or SMS as the recipient gets it, with its delivery state."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(5))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    segments: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
