"""The duty of vigilance (Code du travail L8222-1): a client's engagements with a supplier, and the
proof files built from them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.organisations import Organisation


class Engagement(Base):
    """A contract or an order a client concluded with a supplier: its amount decides whether the
    legal duty applies, its dates when the client had to hold the documents."""

    __tablename__ = "engagement"
    __table_args__ = (Index("ix_engagement_client_id_supplier_id", "client_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    reference: Mapped[str] = mapped_column(String(80))
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # excluding VAT (HT)
    starts_on: Mapped[date]  # the conclusion date
    ends_on: Mapped[date | None]  # None: "en cours"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    supplier: Mapped[Organisation] = relationship(foreign_keys=[supplier_id], lazy="raise")


class CheckpointReminder(Base):
    """A supplier reminded ahead of one checkpoint of one engagement: at most once."""

    __tablename__ = "checkpoint_reminder"
    __table_args__ = (UniqueConstraint("engagement_id", "checkpoint_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id", ondelete="CASCADE"))
    checkpoint_on: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProofFile(Base):
    """A "Dossier de preuve": a ZIP built by a job for one supplier over a period (or for one
    engagement), kept in the object store with its SHA-256."""

    __tablename__ = "proof_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagement.id", ondelete="SET NULL"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued, building, ready, failed
    progress: Mapped[int] = mapped_column(default=0)  # percent
    storage_key: Mapped[str | None] = mapped_column(String(80))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(300))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    supplier: Mapped[Organisation] = relationship(foreign_keys=[supplier_id], lazy="raise")
