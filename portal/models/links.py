"""Back-office client sheets and linked accounts ("comptes rattachés").

An agency or a firm keeps a sheet per client company with a contact email. When one person (one
email) runs several of those companies, the agency proposes to link them under a main account;
the main account's owner accepts for the group, and the main account then reads the documents
exchanged by each linked (secondary) account. Access flows one way only: main → secondary.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.organisations import Organisation

LINK_REQUEST_STATUSES = ("pending", "accepted", "refused")
ACCOUNT_LINK_STATUSES = ("pending", "accepted", "refused", "ended")
LIVE_LINK = ("pending", "accepted")


class ClientSheet(Base):
    __tablename__ = "client_sheet"
    __table_args__ = (UniqueConstraint("owner_id", "company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    contact_email: Mapped[str] = mapped_column(String(254))
    # Set when an edit gave this sheet an email another sheet already uses (not on creation).
    link_proposed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    company: Mapped[Organisation] = relationship(foreign_keys=[company_id], lazy="raise")


class LinkRequest(Base):
    """One "Valider rattachement": a main account and the accounts to link under it."""

    __tablename__ = "link_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    main_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]

    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id], lazy="raise")
    main: Mapped[Organisation] = relationship(foreign_keys=[main_id], lazy="raise")
    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="raise")
    links: Mapped[list[AccountLink]] = relationship(back_populates="request", lazy="raise", order_by="AccountLink.id")


class AccountLink(Base):
    __tablename__ = "account_link"
    __table_args__ = (
        Index("ix_account_link_main_id_status", "main_id", "status"),
        # A company is the secondary account of one main account at most (pending or accepted).
        Index(
            "uq_account_link_live_secondary",
            "secondary_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'accepted')"),
            postgresql_where=text("status IN ('pending', 'accepted')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("link_request.id"), index=True)
    main_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    secondary_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    accepted_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None]

    request: Mapped[LinkRequest] = relationship(back_populates="links", lazy="raise")
    main: Mapped[Organisation] = relationship(foreign_keys=[main_id], lazy="raise")
    secondary: Mapped[Organisation] = relationship(foreign_keys=[secondary_id], lazy="raise")
    accepted_by = relationship("User", foreign_keys=[accepted_by_id], lazy="raise")
