"""Accounting firms: client files, fiscal years, folder trees, partner apps and bulk imports.

A firm ("cabinet") keeps one client file per client company. The file holds the company's
fiscal years and a folder tree built from one of the firm's templates; folders marked "lié à
l'exercice" get one sub-folder per fiscal year and, inside, one per month. Each folder has a
theme, shared with the client or internal to the firm; the client's users see the folders of
the shared themes granted to them (``ThemeGrant``, keyed by email so it can precede the account).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.base import Base, sort_key, utcnow
from portal.models.organisations import Organisation

TREE_STATUSES = ("pending", "building", "ready")
IMPORT_STATUSES = ("preview", "queued", "running", "done", "cancelled")
IMPORT_ROW_STATUSES = ("invalid", "valid", "created", "skipped")


class Theme(Base):
    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("firm_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Shared with the client's users, or internal to the firm.
    shared: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class TreeTemplate(Base):
    """An "arborescence": the folders every client file built from it gets."""

    __tablename__ = "tree_template"
    __table_args__ = (UniqueConstraint("firm_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    folders: Mapped[list[TemplateFolder]] = relationship(
        back_populates="template", lazy="raise", order_by="TemplateFolder.position", cascade="all, delete-orphan"
    )


class TemplateFolder(Base):
    __tablename__ = "template_folder"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("tree_template.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("template_folder.id"))
    name: Mapped[str] = mapped_column(String(100))
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id"))
    # "Lié à l'exercice": one sub-folder per month of each fiscal year.
    fiscal: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    template: Mapped[TreeTemplate] = relationship(back_populates="folders", lazy="raise")
    theme: Mapped[Theme] = relationship(lazy="raise")


class PartnerApp(Base):
    """An app of the catalogue (``portal.firm_apps``) enabled by a firm."""

    __tablename__ = "partner_app"
    __table_args__ = (UniqueConstraint("firm_id", "app_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    app_key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500), default="")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Secret settings (passwords), encrypted with portal.core.secrets; never shown back.
    secrets: Mapped[str | None] = mapped_column(Text)
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientFile(Base):
    __tablename__ = "client_file"
    __table_args__ = (
        UniqueConstraint("firm_id", "company_id"),
        Index("ix_client_file_firm_id_sort_name", "firm_id", "sort_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The name the firm knows the client by (the company's own data belongs to the company).
    name: Mapped[str] = mapped_column(String(200))
    # The name as a French reader sorts it (accents and case ignored), kept for paging in SQL.
    sort_name: Mapped[str] = mapped_column(String(200), default="")
    siret: Mapped[str] = mapped_column(String(14), default="")
    vat_number: Mapped[str] = mapped_column(String(13), default="")
    template_id: Mapped[int | None] = mapped_column(ForeignKey("tree_template.id"))
    executive_email: Mapped[str] = mapped_column(String(254), default="")
    executive_first_name: Mapped[str] = mapped_column(String(100), default="")
    executive_last_name: Mapped[str] = mapped_column(String(100), default="")
    executive_invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"))
    tree_status: Mapped[str] = mapped_column(String(10), default="pending")
    tree_total: Mapped[int] = mapped_column(default=0)
    tree_done: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A company already on Vigie joins a firm only when one of its owners accepts: until then the
    # file is "pending" and the company's users see no "Espace cabinet" ("refused": they said no).
    consent: Mapped[str] = mapped_column(String(10), default="accepted")
    consent_decided_at: Mapped[datetime | None]
    consent_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    company: Mapped[Organisation] = relationship(foreign_keys=[company_id], lazy="raise")
    firm: Mapped[Organisation] = relationship(foreign_keys=[firm_id], lazy="raise")

    @validates("name")
    def _sortable(self, _key: str, value: str) -> str:
        self.sort_name = sort_key(value)[:200]
        return value


class ClientFileAccess(Base):
    """A collaborator assigned to a client file (admins see every file)."""

    __tablename__ = "client_file_access"
    __table_args__ = (UniqueConstraint("client_file_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_file_id: Mapped[int] = mapped_column(ForeignKey("client_file.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)


class ClientApp(Base):
    __tablename__ = "client_app"
    __table_args__ = (UniqueConstraint("client_file_id", "app_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_file_id: Mapped[int] = mapped_column(ForeignKey("client_file.id"))
    app_id: Mapped[int] = mapped_column(ForeignKey("partner_app.id"), index=True)
    on_home: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    secrets: Mapped[str | None] = mapped_column(Text)

    app: Mapped[PartnerApp] = relationship(lazy="raise")


class FiscalYear(Base):
    __tablename__ = "fiscal_year"
    __table_args__ = (UniqueConstraint("client_file_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_file_id: Mapped[int] = mapped_column(ForeignKey("client_file.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Folder(Base):
    __tablename__ = "folder"
    # ``key`` names a folder by what it comes from (template folder, fiscal year, month): building a
    # tree twice, or after adding a fiscal year, only adds what is missing.
    __table_args__ = (UniqueConstraint("client_file_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_file_id: Mapped[int] = mapped_column(ForeignKey("client_file.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("folder.id"))
    key: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(120))
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id"))
    fiscal_year_id: Mapped[int | None] = mapped_column(ForeignKey("fiscal_year.id"))
    month: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(default=0)


class FolderDocument(Base):
    __tablename__ = "folder_document"
    __table_args__ = (Index("ix_folder_document_client_file_id_seen_at", "client_file_id", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_file_id: Mapped[int] = mapped_column(ForeignKey("client_file.id"))
    folder_id: Mapped[int] = mapped_column(ForeignKey("folder.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Sent by the firm (shared with the client) or by the client (flagged new until the firm looks).
    from_firm: Mapped[bool] = mapped_column(default=False)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None]

    @hybrid_property
    def new_to_firm(self) -> bool:
        """Sent by the client and not opened by anyone at the firm yet (the "nouveau" flag)."""
        return self.seen_at is None and not self.from_firm

    @new_to_firm.inplace.expression
    @classmethod
    def _new_to_firm(cls):
        return and_(cls.seen_at.is_(None), cls.from_firm.is_(False))


class ThemeGrant(Base):
    """The shared themes one person of the client company sees in this file (by email)."""

    __tablename__ = "theme_grant"
    __table_args__ = (UniqueConstraint("client_file_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_file_id: Mapped[int] = mapped_column(ForeignKey("client_file.id"))
    email: Mapped[str] = mapped_column(String(254))
    theme_ids: Mapped[list] = mapped_column(JSON, default=list)


class ClientFileDraft(Base):
    """ "Ajouter un client" left half-way: the steps answered so far."""

    __tablename__ = "client_file_draft"
    __table_args__ = (UniqueConstraint("firm_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    step: Mapped[int] = mapped_column(default=1)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportBatch(Base):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="preview")
    total: Mapped[int] = mapped_column(default=0)
    valid: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    # The last time the job handled rows: an import that stopped moving may be resumed.
    progressed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImportRow(Base):
    __tablename__ = "import_row"
    __table_args__ = (
        UniqueConstraint("batch_id", "line"),
        Index("ix_import_row_batch_id_status", "batch_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))
    line: Mapped[int]
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="valid")
    client_file_id: Mapped[int | None] = mapped_column(ForeignKey("client_file.id"))
