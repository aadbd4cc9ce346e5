from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, event, false, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from portal.models.base import Base, utcnow


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    naf_code: Mapped[str] = mapped_column(String(6), default="")
    is_supplier: Mapped[bool] = mapped_column(default=False)
    is_client: Mapped[bool] = mapped_column(default=False)
    is_agency: Mapped[bool] = mapped_column(default=False)
    is_accounting_firm: Mapped[bool] = mapped_column(default=False)
    is_operator: Mapped[bool] = mapped_column(default=False)
    # Employers must provide the list of foreign workers (LNTE).
    has_employees: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Established abroad without an establishment in France (Code du travail D8222-7): the law then
    # asks its foreign documents instead of the URSSAF attestation and the Kbis. Said by the company.
    established_abroad: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Paid option "Relances par Mail ou SMS", switched on by a platform operator.
    reminders_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The days after an invitation its reminders go ("2,4,6,20,30,60,90"); empty: Vigie's default.
    follow_up_days: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishments: Mapped[list[Establishment]] = relationship(
        back_populates="organisation", lazy="raise", order_by="Establishment.siret"
    )

    @validates("siren")
    def _check_siren(self, _key: str, value: str) -> str:
        return siren_number.validate(value)

    @property
    def kinds(self) -> list[str]:
        flags = {
            "supplier": self.is_supplier,
            "client": self.is_client,
            "agency": self.is_agency,
            "accounting_firm": self.is_accounting_firm,
            "operator": self.is_operator,
        }
        return [kind for kind, on in flags.items() if on]

    def __repr__(self) -> str:
        return f"<Organisation {self.siren} {self.legal_name!r}>"


class Establishment(Base):
    __tablename__ = "establishment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    is_head_office: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="establishments", lazy="raise")

    @validates("siret")
    def _check_siret(self, _key: str, value: str) -> str:
        return siret_number.validate(value)

    def belongs_to(self, siren: str) -> bool:
        return self.siret[:9] == siren


@event.listens_for(Establishment, "before_insert")
@event.listens_for(Establishment, "before_update")
def _siret_belongs_to_siren(_mapper, connection, establishment: Establishment) -> None:
    siren = connection.scalar(select(Organisation.siren).where(Organisation.id == establishment.organisation_id))
    if siren is not None and not establishment.belongs_to(siren):
        raise ValueError(f"SIRET {establishment.siret} does not belong to SIREN {siren}")
