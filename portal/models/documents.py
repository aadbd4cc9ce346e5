"""The compliance file: document types, documents, their versions, requirements, mandates, quitus."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.organisations import Organisation

VALIDITY_RULES = ("months_from_issue", "printed_end_date", "end_of_year")
VERSION_STATUSES = ("submitted", "valid", "refused", "expiring", "expired", "archived")


# The documents the law asks of a co-contractor (Code du travail L8222-1), with their article.
# Every other type is a client's own requirement: binding on a supplier only through a contract.
LEGAL_BASIS = {
    "URSSAF_VIGILANCE": "D8222-5 1°",
    "KBIS": "D8222-5 2°",
    "RNE_CERT": "D8222-5 2°",
    "LNTE": "D8254-2",
    "FOREIGN_VAT": "D8222-7",
    "FOREIGN_SOCIAL": "D8222-7",
    "FOREIGN_REGISTRATION": "D8222-7",
}


class DocumentType(Base):
    __tablename__ = "document_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    validity_rule: Mapped[str] = mapped_column(String(20))
    validity_months: Mapped[int | None]
    has_verification_code: Mapped[bool] = mapped_column(default=False)
    collectable: Mapped[bool] = mapped_column(default=False)
    # A type that can stand in for another one in a requirement (RNE_CERT for KBIS).
    alternative_to: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=100)
    # Operators may let Vigie validate on its own a native PDF whose every fact the reader is sure of.
    auto_validate: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Years a version's file is kept after it stops being valid; then the file is removed and its
    # metadata and SHA-256 kept (portal.documents.retention).
    retention_years: Mapped[int] = mapped_column(default=10, server_default="10")

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_fr

    @property
    def legal_basis(self) -> str | None:
        """The article that makes it a legal obligation, None for a client's own requirement."""
        return LEGAL_BASIS.get(self.code)


class RefusalReason(Base):
    __tablename__ = "refusal_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=100)

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_fr


class Requirement(Base):
    """A document type a client asks of one supplier, or of all its suppliers (``supplier_id`` empty).

    It applies while the client and the supplier are partners (accepted); the platform's default
    set is not stored."""

    __tablename__ = "requirement"
    __table_args__ = (UniqueConstraint("supplier_id", "document_type_id", "requested_by_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    document_type_id: Mapped[int] = mapped_column(ForeignKey("document_type.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    requested_by: Mapped[Organisation] = relationship(foreign_keys=[requested_by_id], lazy="raise")


class Document(Base):
    """One document of a company (one per type); its versions are its history."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("organisation_id", "document_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    document_type_id: Mapped[int] = mapped_column(ForeignKey("document_type.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document_type: Mapped[DocumentType] = relationship(lazy="raise")
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", lazy="raise", order_by="DocumentVersion.id.desc()"
    )


class DocumentVersion(Base):
    __tablename__ = "document_version"
    __table_args__ = (
        Index("ix_document_version_status_uploaded_at", "status", "uploaded_at"),
        # A platform's document is filed once, whatever the number of runs (NULLs never collide).
        UniqueConstraint("organisation_id", "source_platform", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    storage_key: Mapped[str] = mapped_column(String(80))
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[date]
    valid_until: Mapped[date | None]
    verification_code: Mapped[str | None] = mapped_column(String(40))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]
    # Validated by Vigie on its own ("validé automatiquement"), no operator involved.
    validated_automatically: Mapped[bool] = mapped_column(default=False, server_default=false())
    refusal_reason_id: Mapped[int | None] = mapped_column(ForeignKey("refusal_reason.id"))
    refusal_comment: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    mandate_id: Mapped[int | None] = mapped_column(ForeignKey("mandate.id"))
    precheck: Mapped[dict] = mapped_column(JSON, default=dict)
    # Provenance of a version fetched from an external platform ("synchronisé depuis …").
    source_platform: Mapped[str | None] = mapped_column(String(30))
    external_id: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[datetime | None]
    # The date the document certifies (an URSSAF attestation's situation date), when known.
    certified_on: Mapped[date | None]
    # Set when the retention job removed the file: what it was (name, size, hash) stays.
    file_removed_at: Mapped[datetime | None]

    document: Mapped[Document] = relationship(back_populates="versions", lazy="raise")
    refusal_reason: Mapped[RefusalReason | None] = relationship(lazy="raise")
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id], lazy="raise")


class ExpiryReminder(Base):
    """One reminder sent for one version; the unique key makes the daily job safe to run twice."""

    __tablename__ = "expiry_reminder"
    __table_args__ = (UniqueConstraint("version_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mandate(Base):
    """The supplier lets the platform collect some document types on its behalf."""

    __tablename__ = "mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    type_codes: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft, submitted, active, refused, revoked
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_storage_key: Mapped[str | None] = mapped_column(String(80))
    signed_filename: Mapped[str | None] = mapped_column(String(255))
    signed_content_type: Mapped[str | None] = mapped_column(String(40))
    signed_at: Mapped[datetime | None]
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    validated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Quitus(Base):
    """A membership certificate, as issued: its code lets anyone check it on /verifier/<code>."""

    __tablename__ = "quitus"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    snapshot: Mapped[list] = mapped_column(JSON, default=list)


class PeriodicRun(Base):
    """One slot of a periodic job; the unique key lets only one worker enqueue it."""

    __tablename__ = "periodic_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
