"""Partnerships ("mise en relation"): the requester sees the target's compliance file once accepted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.organisations import Organisation

PARTNERSHIP_STATUSES = ("pending", "accepted", "refused", "suspended", "ended")
LIVE_STATUSES = ("pending", "accepted", "suspended")


class Partnership(Base):
    __tablename__ = "partnership"
    __table_args__ = (Index("ix_partnership_target_id_status", "target_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime | None]
    invited_email: Mapped[str | None] = mapped_column(String(254))
    # The target's compliance as the requester sees it (its own requirements), kept up to date by
    # portal.documents.partner_status so that dashboards are one indexed query.
    compliance_status: Mapped[str] = mapped_column(String(12), default="incomplete", server_default="incomplete")
    expiring_count: Mapped[int] = mapped_column(default=0, server_default="0")
    status_updated_at: Mapped[datetime | None]
    # The legal duty of vigilance as the requester's engagements make it (portal.partners.vigilance):
    # None when no engagement makes it apply, "met", "late", "checking" or "missed" at the latest checkpoint,
    # and the next checkpoint's day (the dashboard's filters read them).
    vigilance_status: Mapped[str | None] = mapped_column(String(10))
    next_checkpoint_on: Mapped[date | None]

    requester: Mapped[Organisation] = relationship(foreign_keys=[requester_id], lazy="raise")
    target: Mapped[Organisation] = relationship(foreign_keys=[target_id], lazy="raise")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="raise")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="raise")


class ComplianceSnapshot(Base):
    """One accepted partnership's compliance status on one day, kept by the daily job
    (``snapshot_compliance``): the client's compliance rate over time is read from these, never
    recomputed from today's documents."""

    __tablename__ = "compliance_snapshot"
    __table_args__ = (
        UniqueConstraint("partnership_id", "day"),
        Index("ix_compliance_snapshot_client_id_day", "client_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(String(12))
