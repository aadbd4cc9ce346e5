"""Keys of the public API (``/api/v1``): one company's, with scopes, stored hashed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.organisations import Organisation

API_SCOPES = (
    "suppliers:read",
    "documents:read",
    "documents:write",
    "requirements:write",
    "partners:write",
    "webhooks:write",
    "engagements:write",
)


class ApiKey(Base):
    """The secret is ``vk_<prefix>_<secret>``: the prefix finds the row, the SHA-256 of the whole
    key checks it (a random 256-bit secret needs no slow hash). The key acts as its creator's
    membership of the company: it stops working when that membership ends."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="raise")
