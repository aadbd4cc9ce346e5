"""Every model, importable from one place (Alembic reads Base.metadata from here)."""

from portal.models.audit import AuditEvent
from portal.models.base import Base, utcnow
from portal.models.contracts import (
    CONTRACT_STATUSES,
    Contract,
    ContractTypology,
    Employee,
    ReminderCampaign,
    ReminderRecipient,
    SignatureSyncRun,
)
from portal.models.documents import (
    Document,
    DocumentType,
    DocumentVersion,
    ExpiryReminder,
    Mandate,
    PeriodicRun,
    Quitus,
    RefusalReason,
    Requirement,
)
from portal.models.links import LIVE_LINK, AccountLink, ClientSheet, LinkRequest
from portal.models.organisations import Establishment, Organisation
from portal.models.outbox import Message, OutboxJob
from portal.models.partners import LIVE_STATUSES, Partnership
from portal.models.users import ROLES, Invitation, Membership, User, normalise_email, to_e164

__all__ = [
    "CONTRACT_STATUSES",
    "Contract",
    "ContractTypology",
    "Employee",
    "ReminderCampaign",
    "ReminderRecipient",
    "SignatureSyncRun",
    "LIVE_LINK",
    "AccountLink",
    "ClientSheet",
    "LinkRequest",
    "LIVE_STATUSES",
    "Partnership",
    "Document",
    "DocumentType",
    "DocumentVersion",
    "ExpiryReminder",
    "Mandate",
    "PeriodicRun",
    "Quitus",
    "RefusalReason",
    "Requirement",
    "ROLES",
    "AuditEvent",
    "Base",
    "Establishment",
    "Invitation",
    "Membership",
    "Message",
    "Organisation",
    "OutboxJob",
    "User",
    "normalise_email",
    "to_e164",
    "utcnow",
]
