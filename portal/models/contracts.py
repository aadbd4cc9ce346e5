"""Temp agencies' employees and their contracts, which must be signed within 48 hours of the start."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.organisations import Organisation

AWAITING = "awaiting_signature"
SIGNED_ELECTRONICALLY = "signed_electronically"
SIGNED_ON_PAPER = "signed_on_paper"
SIGNED_AT_AGENCY = "signed_at_agency"
CONTRACT_STATUSES = (AWAITING, SIGNED_ELECTRONICALLY, SIGNED_ON_PAPER, SIGNED_AT_AGENCY)
EMPLOYMENT = "employment"  # the typology the reminder wizard works on ("Contrat de travail")


class Employee(Base):
    __tablename__ = "employee"
    __table_args__ = (UniqueConstraint("agency_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    # A valid French mobile in E.164, or None with the raw value kept for correction.
    mobile_phone: Mapped[str | None] = mapped_column(String(20))
    mobile_phone_raw: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def channels(self) -> list[str]:
        """How he can be reminded: "email", "sms", or "wrong_number" (kept for correction)."""
        found = ["email"] if self.email else []
        if self.mobile_phone:
            found.append("sms")
        elif self.mobile_phone_raw:
            found.append("wrong_number")
        return found


class ContractTypology(Base):
    """ "Contrat de travail", "Contrat de mise à disposition", "Avenant" (agency_id None) or an agency's own."""

    __tablename__ = "contract_typology"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(default=100)


class Contract(Base):
    __tablename__ = "contract"
    __table_args__ = (Index("ix_contract_agency_id_status_mission_start", "agency_id", "status", "mission_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    typology_id: Mapped[int] = mapped_column(ForeignKey("contract_typology.id"))
    reference: Mapped[str] = mapped_column(String(50))
    mission_start: Mapped[date]
    mission_end: Mapped[date | None]
    signature_deadline: Mapped[datetime]  # mission start (00:00, Paris) + 48 h, in UTC
    status: Mapped[str] = mapped_column(String(24), default=AWAITING)
    signed_at: Mapped[datetime | None]
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    esign_request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    employee: Mapped[Employee] = relationship(lazy="raise")
    client: Mapped[Organisation | None] = relationship(foreign_keys=[client_id], lazy="raise")
    typology: Mapped[ContractTypology] = relationship(lazy="raise")


CAMPAIGN_STATUSES = ("draft", "confirmed", "done")


class ReminderCampaign(Base):
    """A reminder by email or SMS. As a draft it is the selection (a saved filter plus exclusions);
    confirmed, it has one recipient row per employee and is fanned out through the outbox."""

    __tablename__ = "reminder_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(5))  # "sms" or "email"
    status: Mapped[str] = mapped_column(String(10), default="draft")
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    excluded_contract_ids: Mapped[list] = mapped_column(JSON, default=list)
    excluded_employee_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]  # UTC; set when confirmed outside the sending hours
    recipients_count: Mapped[int] = mapped_column(default=0)
    contracts_count: Mapped[int] = mapped_column(default=0)
    segments_total: Mapped[int] = mapped_column(default=0)

    created_by = relationship("User", foreign_keys=[created_by_id], lazy="raise")


class ReminderRecipient(Base):
    __tablename__ = "reminder_recipient"
    __table_args__ = (UniqueConstraint("campaign_id", "employee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("reminder_campaign.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    address: Mapped[str] = mapped_column(String(254))
    contract_ids: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text, default="")  # the exact text previewed and sent
    segments: Mapped[int] = mapped_column(default=0)
    # Set in the same transaction as the message: a recipient gets one message per campaign.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), unique=True)

    employee: Mapped[Employee] = relationship(lazy="raise")


class SignatureSyncRun(Base):
    """One run of the signature sync for an agency: what it checked, signed and met."""

    __tablename__ = "signature_sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(10), default="schedule")  # schedule, manual
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    checked: Mapped[int] = mapped_column(default=0)
    signed: Mapped[int] = mapped_column(default=0)
    declined: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    error_detail: Mapped[str | None] = mapped_column(Text)


class ContractSelection(Base):
    """What a user left unchecked on the contracts page for one filter, kept across pages, reloads
    and actions (the table, the count and the reminder dialog read it). A new filter starts anew."""

    __tablename__ = "contract_selection"
    __table_args__ = (UniqueConstraint("user_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    filter_key: Mapped[str] = mapped_column(String(400), default="")
    excluded_contract_ids: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
