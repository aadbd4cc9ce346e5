"""Sync with external compliance platforms (Attestation Légale, Actradis), per company (SIREN).

A connection links one of our companies to its account on a platform; while it is enabled a job
fetches the platform's documents and files the newer ones as versions of the company's file.
Each run is kept (``PlatformSyncRun``) with what it added, archived, left alone and failed on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.organisations import Organisation

SYNC_TRIGGERS = ("periodic", "manual", "reactivation")
SYNC_RUN_STATUSES = ("running", "ok", "partial", "failed")


class PlatformConnection(Base):
    __tablename__ = "platform_connection"
    __table_args__ = (UniqueConstraint("organisation_id", "platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    platform: Mapped[str] = mapped_column(String(30))
    # The company's account at the platform, and its API credentials sealed by portal.core.secrets.
    account_ref: Mapped[str] = mapped_column(String(100), default="")
    credentials: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Document type codes the platform provided at its last successful run.
    provided_types: Mapped[list] = mapped_column(JSON, default=list)
    last_synced_at: Mapped[datetime | None]
    # When a run was last asked for (switched on, connected, "Synchroniser maintenant"): the page says
    # "en cours" until a run started after it ends.
    requested_at: Mapped[datetime | None]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="raise")


class PlatformSyncRun(Base):
    __tablename__ = "platform_sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("platform_connection.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(12), default="periodic")
    status: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    new: Mapped[int] = mapped_column(default=0)
    archived: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    # Why the run stopped ("down", "credentials", "answer", "internal"), read in the reader's language
    # by portal.platforms.history; error_message keeps the technical detail for support.
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(Text)
    # One dict per document that failed or was left alone (portal.platforms.history.note); older
    # runs kept French lines.
    notes: Mapped[list] = mapped_column(JSON, default=list)
