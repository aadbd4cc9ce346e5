"""Batie Construction's employees and contracts: 604 employees with 853 unsigned employment contracts
this month (some employees have several), 2 wrong mobile numbers, a few employees without email,
other typologies, contracts signed by the three routes, a few overdue from the 3rd of the month.
Created once, relative to the current month: the figures hold whatever the day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from portal.contracts.manage import signature_deadline
from portal.core import clock
from portal.core.extensions import db
from portal.models import Contract, ContractTypology, Employee, Organisation, User, utcnow
from portal.models.contracts import AWAITING, SIGNED_AT_AGENCY, SIGNED_ELECTRONICALLY, SIGNED_ON_PAPER

EMPLOYEES, UNSIGNED_EMPLOYMENT = 604, 853
WRONG_NUMBERS = {7: "06 12 34 56", 300: "0700 12 34 56"}  # too short; a machine-to-machine number
FIRST_NAMES = ("Lucas", "Emma", "Hugo", "Léa", "Nathan", "Chloé", "Louis", "Manon", "Jules", "Camille", "Théo",
               "Sarah", "Mathis", "Inès", "Rayan", "Jade", "Adam", "Lina", "Enzo", "Zoé")  # fmt: skip
LAST_NAMES = ("Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
              "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
              "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure",
              "André", "Mercier", "Blanc")  # fmt: skip


def _ascii(text: str) -> str:
    return text.lower().translate(str.maketrans("éèëêïîàç", "eeeeiiac"))


def seed_batie_contracts() -> None:
    agency = db.session.scalar(select(Organisation).where(Organisation.siren == "790456123"))
    if agency is None or db.session.scalar(select(Employee.id).where(Employee.agency_id == agency.id).limit(1)):
        return
    agency.reminders_enabled = True
    clients = db.session.scalars(
        select(Organisation.id).where(Organisation.siren.in_(("521087437", "830124590"))).order_by(Organisation.id)
    ).all()
    agent = db.session.scalar(select(User.id).where(User.email == "agence@vigie.test"))
    typologies = {t.code: t.id for t in db.session.scalars(select(ContractTypology))}
    site = ContractTypology(agency_id=agency.id, code="site", label="Contrat de chantier", sort_order=40)
    db.session.add(site)
    db.session.flush()

    rows = []
    for i in range(EMPLOYEES):
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i * 7) % len(LAST_NAMES)]
        wrong = WRONG_NUMBERS.get(i)
        rows.append(
            {
                "agency_id": agency.id,
                "first_name": first,
                "last_name": last,
                "email": None if i % 50 == 13 else f"{_ascii(first)}.{_ascii(last)}.{i}@interim.test",
                "mobile_phone": None if wrong else f"+3367{i:07d}",
                "mobile_phone_raw": wrong,
                "external_id": f"SAL-{i + 1:05d}",
                "created_at": utcnow(),
            }
        )
    db.session.execute(insert(Employee), rows)
    employees = db.session.scalars(
        select(Employee.id).where(Employee.agency_id == agency.id).order_by(Employee.id)
    ).all()

    today = clock.today()
    first_day = today.replace(day=1)
    last_day = (first_day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    soon = max(first_day, today - timedelta(days=1))  # not overdue yet
    span = (last_day - soon).days + 1

    def contract(n: int, employee: int, typology: int, start, status: str = AWAITING, **extra) -> dict:
        return {
            "agency_id": agency.id,
            "employee_id": employee,
            "client_id": clients[n % len(clients)],
            "typology_id": typology,
            "reference": f"CT-{today:%Y%m}-{n + 1:05d}",
            "mission_start": start,
            "mission_end": start + timedelta(days=4 + n % 20),
            "signature_deadline": signature_deadline(start),
            "status": status,
            "created_at": utcnow(),
            **extra,
        }

    contracts, n = [], 0
    # A few overdue: 48 hours late, as early in the month as that can be (none on the 1st and 2nd:
    # no contract of the month is 48 hours old yet).
    late = today - timedelta(days=2)
    # 35 requests wait at the simulated e-signature provider (statuses: portal.integrations.esign):
    # 23 employment contracts it says are declined (12) or ongoing (11), and 12 assignment contracts
    # it says are done, so the next sync signs 12 without moving the wizard's employment figures.
    waiting = {index * 37: f"sim-{25 + k if k < 12 else 50 + k - 12:05d}" for k, index in enumerate(range(23))}
    # 853 unsigned employment contracts: one per employee, and a second one for the first 249.
    for index in range(UNSIGNED_EMPLOYMENT):
        employee = employees[index % EMPLOYEES]
        start = soon + timedelta(days=index % span)
        if index % 170 == 5 and late >= first_day:
            start = late
        extra = {"esign_request_id": waiting[index]} if index in waiting else {}
        contracts.append(contract(n, employee, typologies["employment"], start, **extra))
        n += 1
    for code, count in (("assignment", 40), ("amendment", 15)):
        for index in range(count):
            extra = {"esign_request_id": f"sim-{index:05d}"} if code == "assignment" and index < 12 else {}
            contracts.append(
                contract(n, employees[index * 3], typologies[code], soon + timedelta(days=index % span), **extra)
            )
            n += 1
    for index in range(5):
        contracts.append(contract(n, employees[index * 5], site.id, soon))
        n += 1
    signed_at = utcnow() - timedelta(hours=5)
    for status, count in ((SIGNED_ELECTRONICALLY, 10), (SIGNED_ON_PAPER, 8), (SIGNED_AT_AGENCY, 6)):
        for index in range(count):
            marked = None if status == SIGNED_ELECTRONICALLY else agent
            contracts.append(
                contract(
                    n,
                    employees[index * 11],
                    typologies["employment"],
                    first_day,
                    status,
                    signed_at=signed_at,
                    marked_by_id=marked,
                )
            )
            n += 1
    db.session.execute(insert(Contract), contracts)
    db.session.commit()
