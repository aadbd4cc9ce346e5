"""The legal duty of vigilance: what the law asked a client about a supplier, at each date.

Code du travail L8222-1 and D8222-5: a client that concludes a contract of 5 000 € HT or more
(D8222-1; several contracts with one supplier add up) must obtain the supplier's documents at its
conclusion and every six months until the end of its performance. Vigie records the client's
engagements, computes those **checkpoints**, and says at each one whether the client held each
document the law asks, which version, received when and checked by whom:

- the URSSAF (or MSA) attestation of vigilance (D8222-5 1°), checked;
- the registration proof: Kbis or its alternative, the RNE attestation (D8222-5 2°);
- the list of foreign workers for an employer (D8254-2);
- for a company established abroad (it says so in "Mes préférences"), instead of the first two:
  its VAT identification, its social cover (A1) and its registration (D8222-7).

A document is *held* on a day when a validated version covering that day (from the date it
certifies to its end of validity) had been received by the end of it. A checkpoint whose documents
came afterwards is *late*; one still waiting for an operator's check is *checking* (Vigie does not
know yet); one without them is *missed*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from portal.core import audit, clock, spreadsheets
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.labels import Joined
from portal.core.tenancy import Tenancy
from portal.messaging import notices, notifications
from portal.models import (
    LEGAL_BASIS,
    CheckpointReminder,
    Document,
    DocumentType,
    DocumentVersion,
    Engagement,
    Organisation,
    Partnership,
    User,
)

CHECK_EVERY_MONTHS = 6
MAX_CENTS = 10**13  # 100 billion euros: beyond, a typing slip
VALIDATED = ("valid", "expiring", "expired")


@dataclass(frozen=True)
class Need:
    """One document the law asks at a checkpoint: any of ``codes`` will do."""

    codes: tuple[str, ...]
    article: str


def needs(supplier: Organisation) -> list[Need]:
    if supplier.established_abroad:  # D8222-7: its VAT number, its social cover (A1), its registration
        codes = ("FOREIGN_VAT", "FOREIGN_SOCIAL", "FOREIGN_REGISTRATION")
        found = [Need((code,), LEGAL_BASIS[code]) for code in codes]
    else:
        found = [
            Need(("URSSAF_VIGILANCE",), LEGAL_BASIS["URSSAF_VIGILANCE"]),
            Need(("KBIS", "RNE_CERT"), LEGAL_BASIS["KBIS"]),
        ]
    if supplier.has_employees:
        found.append(Need(("LNTE",), LEGAL_BASIS["LNTE"]))
    return found


@dataclass
class Held:
    """One need at one checkpoint: ``held``, ``late``, ``checking``, ``missing``; for an upcoming
    checkpoint ``covered`` (today's version covers it) or ``to_renew``."""

    need: Need
    state: str
    version: DocumentVersion | None = None
    received_on: date | None = None
    code: str | None = None  # the version's type: one of need.codes


def _held(need: Need, state: str, version: DocumentVersion, versions: dict[str, list[DocumentVersion]]) -> Held:
    code = next(code for code in need.codes if version in versions.get(code, ()))
    return Held(need, state, version, received_on(version), code)


@dataclass
class Checkpoint:
    day: date
    conclusion: bool
    items: list[Held]
    upcoming: bool = False

    @property
    def state(self) -> str:
        """met, late, checking, missed (past); upcoming or at_risk (to come)."""
        states = {item.state for item in self.items}
        if self.upcoming:
            return "at_risk" if "to_renew" in states else "upcoming"
        for worst, state in (("missing", "missed"), ("checking", "checking"), ("late", "late")):
            if worst in states:
                return state
        return "met"


@dataclass
class EngagementView:
    engagement: Engagement
    cumulative_cents: int
    applies: bool
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def in_progress(self) -> bool:
        today = clock.today()
        return self.engagement.starts_on <= today and (
            self.engagement.ends_on is None or self.engagement.ends_on >= today
        )

    @property
    def latest(self) -> Checkpoint | None:
        past = [c for c in self.checkpoints if not c.upcoming]
        return past[-1] if past else None

    @property
    def next(self) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.upcoming), None)


def threshold_cents() -> int:
    return int(current_app.config["VIGILANCE_THRESHOLD_EUROS"]) * 100


# --- reading ------------------------------------------------------------------------------------


def _versions(supplier_id: int) -> dict[str, list[DocumentVersion]]:
    """The supplier's versions of the legal types, newest first, by type code (one query)."""
    rows = db.session.execute(
        select(DocumentVersion, DocumentType.code)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(DocumentType, DocumentType.id == Document.document_type_id)
        .options(joinedload(DocumentVersion.reviewed_by))
        .where(DocumentVersion.organisation_id == supplier_id, DocumentType.code.in_(tuple(LEGAL_BASIS)))
        .order_by(DocumentVersion.id.desc())
    ).all()
    found: dict[str, list[DocumentVersion]] = {}
    for version, code in rows:
        found.setdefault(code, []).append(version)
    return found


def was_validated(version: DocumentVersion) -> bool:
    """Validated, even if replaced since (an archived version that had not been refused)."""
    if version.status in VALIDATED:
        return True
    return version.status == "archived" and version.reviewed_at is not None and version.refusal_reason_id is None


def covers(version: DocumentVersion, day: date) -> bool:
    start = version.certified_on or version.issued_on
    return start <= day and (version.valid_until is None or day <= version.valid_until)


def received_on(version: DocumentVersion) -> date:
    return clock.paris_date(version.uploaded_at)


def _judge(need: Need, versions: dict[str, list[DocumentVersion]], day: date, until: date) -> Held:
    """Whether the client held ``need`` on ``day``; else whether it came late (by ``until``)."""
    candidates = [v for code in need.codes for v in versions.get(code, [])]
    candidates.sort(key=lambda v: v.uploaded_at)
    held = [v for v in candidates if was_validated(v) and covers(v, day) and received_on(v) <= day]
    if held:
        return _held(need, "held", held[-1], versions)
    waiting = [v for v in candidates if v.status == "submitted" and covers(v, day) and received_on(v) <= day]
    if waiting:
        return _held(need, "checking", waiting[-1], versions)
    late = [v for v in candidates if was_validated(v) and day < received_on(v) <= until and covers(v, received_on(v))]
    if late:
        return _held(need, "late", late[0], versions)
    waiting_late = [v for v in candidates if v.status == "submitted" and day < received_on(v) <= until]
    if waiting_late:
        return _held(need, "checking", waiting_late[0], versions)
    return Held(need, "missing")


def _ahead(need: Need, versions: dict[str, list[DocumentVersion]], day: date) -> Held:
    """For a checkpoint to come: does a version the client holds today already cover it?"""
    current = [v for code in need.codes for v in versions.get(code, []) if v.status in VALIDATED and covers(v, day)]
    if current:
        return _held(need, "covered", current[0], versions)
    return Held(need, "to_renew")


def checkpoint_days(engagement: Engagement, today: date) -> list[tuple[date, bool]]:
    """The conclusion, then every six months until the end; for one still running, the next one to
    come too. Each day with ``True`` when it is yet to come."""
    days, k = [], 0
    while True:
        day = clock.add_months(engagement.starts_on, CHECK_EVERY_MONTHS * k)
        if engagement.ends_on is not None and day > engagement.ends_on:
            break
        days.append((day, day > today))
        if day > today:
            break
        k += 1
    return days


def cumulative(engagement: Engagement, all_of_pair: list[Engagement]) -> int:
    """This engagement's amount and those of the others with the supplier concluded in the twelve
    months up to its conclusion (D8222-1: several contracts add up)."""
    since = engagement.starts_on - timedelta(days=365)
    return sum(e.amount_cents for e in all_of_pair if since < e.starts_on <= engagement.starts_on)


def views(client_id: int, supplier: Organisation, today: date | None = None) -> list[EngagementView]:
    """The client's engagements with the supplier, newest first, with their checkpoints (2 queries)."""
    today = today or clock.today()
    engagements = list(
        db.session.scalars(
            select(Engagement)
            .where(Engagement.client_id == client_id, Engagement.supplier_id == supplier.id)
            .order_by(Engagement.starts_on.desc(), Engagement.id.desc())
        )
    )
    if not engagements:
        return []
    versions = _versions(supplier.id)
    found = []
    for engagement in engagements:
        total = cumulative(engagement, engagements)
        view = EngagementView(engagement, total, total >= threshold_cents())
        if view.applies:
            days = checkpoint_days(engagement, today)
            for index, (day, upcoming) in enumerate(days):
                if upcoming:
                    items = [_ahead(need, versions, day) for need in needs(supplier)]
                else:
                    following = days[index + 1][0] - timedelta(days=1) if index + 1 < len(days) else today
                    until = min(following, today)
                    items = [_judge(need, versions, day, until) for need in needs(supplier)]
                view.checkpoints.append(Checkpoint(day, index == 0, items, upcoming))
        found.append(view)
    return found


def summary(found: list[EngagementView]) -> tuple[str | None, date | None]:
    """What the dashboard keeps: the worst state at the latest checkpoint of the engagements in
    progress (None: the duty applies to none), and the next checkpoint's day."""
    running = [view for view in found if view.applies and view.in_progress]
    states = {view.latest.state for view in running if view.latest is not None}
    status = None
    if running:
        status = next((s for s in ("missed", "checking", "late") if s in states), "met")
    upcoming = [view.next.day for view in running if view.next is not None]
    return status, min(upcoming) if upcoming else None


def refresh(partnership: Partnership, supplier: Organisation) -> None:
    """Keep the partnership's vigilance summary up to date (called with its compliance status)."""
    status, next_on = summary(views(partnership.requester_id, supplier))
    partnership.vigilance_status, partnership.next_checkpoint_on = status, next_on


# --- recording ----------------------------------------------------------------------------------


LIVE = ("accepted", "suspended")


def _find(tenancy: Tenancy, supplier_id: int, statuses=LIVE) -> tuple[Partnership, Organisation] | None:
    """The client's own partnership with that supplier (accepted or suspended unless told)."""
    row = db.session.execute(
        select(Partnership, Organisation)
        .join(Organisation, Organisation.id == Partnership.target_id)
        .where(
            Partnership.requester_id == tenancy.organisation.id,
            Partnership.target_id == supplier_id,
            Partnership.status.in_(statuses),
        )
        .order_by(Partnership.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def client_partnership(tenancy: Tenancy, supplier_id: int, statuses=LIVE) -> tuple[Partnership, Organisation]:
    found = _find(tenancy, supplier_id, statuses)
    if found is None:
        raise NotFound()
    return found


def parse_amount(text: str) -> int | None:
    """Euros as people type them ("12 500,50", "12500.5", "12 500 €") in cents; None if unreadable."""
    cleaned = (text or "").replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace("€", "")
    cleaned = cleaned.replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        return None
    try:
        value = Decimal(cleaned)
        if not value.is_finite():
            return None
        if abs(value) * 100 >= MAX_CENTS:  # refused as too large, not as unreadable
            return MAX_CENTS
        if value != value.quantize(Decimal("0.01")):
            return None
    except InvalidOperation:
        return None
    return int(value * 100)


def _checked(reference: str, amount_cents: int | None, starts_on: date | None, ends_on: date | None) -> dict:
    errors = {}
    if not reference:
        errors["reference"] = _l("Indiquez la référence du contrat ou de la commande.")
    elif len(reference) > 80:
        errors["reference"] = _l("80 caractères au plus.")
    if amount_cents is None:
        errors["amount"] = _l("Indiquez le montant hors taxes en euros (par exemple 12 500 ou 12 500,50).")
    elif amount_cents <= 0 or amount_cents >= MAX_CENTS:
        errors["amount"] = _l("Le montant doit être positif (et inférieur à 100 milliards d'euros).")
    if starts_on is None:
        errors["starts_on"] = _l("Indiquez la date de conclusion.")
    elif starts_on.year < 2000 or starts_on > clock.today() + timedelta(days=366 * 5):
        errors["starts_on"] = _l("Cette date n'est pas plausible.")
    if ends_on is not None and starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _l("La fin ne peut pas précéder la conclusion.")
    return errors


def record(
    tenancy: Tenancy,
    user: User,
    supplier_id: int,
    *,
    reference: str,
    amount_cents: int | None,
    starts_on: date | None,
    ends_on: date | None,
) -> Engagement:
    tenancy.require_role("owner", "member", "collaborator")
    partnership, supplier = client_partnership(tenancy, supplier_id)
    reference = (reference or "").strip()
    errors = _checked(reference, amount_cents, starts_on, ends_on)
    if errors:
        raise InvalidInput(errors)
    engagement = Engagement(
        client_id=tenancy.organisation.id,
        supplier_id=supplier.id,
        reference=reference,
        amount_cents=amount_cents,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=user.id,
    )
    db.session.add(engagement)
    db.session.flush()
    refresh(partnership, supplier)
    audit.record(
        "engagement.recorded",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        engagement_id=engagement.id,
        supplier_id=supplier.id,
        reference=reference,
        amount_cents=amount_cents,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat() if ends_on else None,
    )
    db.session.commit()
    return engagement


def own_engagement(tenancy: Tenancy, engagement_id: int) -> Engagement:
    engagement = db.session.get(Engagement, engagement_id) if 0 < engagement_id < 2**31 else None
    if engagement is None or engagement.client_id != tenancy.organisation.id:
        raise NotFound()
    return engagement


def remove(tenancy: Tenancy, user: User, engagement_id: int) -> None:
    tenancy.require_role("owner", "member", "collaborator")
    engagement = own_engagement(tenancy, engagement_id)
    partnership, supplier = client_partnership(tenancy, engagement.supplier_id)
    audit.record(
        "engagement.removed",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        engagement_id=engagement.id,
        supplier_id=supplier.id,
        reference=engagement.reference,
    )
    db.session.delete(engagement)
    db.session.flush()
    refresh(partnership, supplier)
    db.session.commit()


def timeline(tenancy: Tenancy, supplier_id: int) -> list[EngagementView] | None:
    """What the supplier's page shows the client; None when the client did not ask this company
    itself (it reads the file of a company that asked it: no engagement to record)."""
    found = _find(tenancy, supplier_id)
    return views(tenancy.organisation.id, found[1]) if found is not None else None


# --- the daily sweep ----------------------------------------------------------------------------


def sweep(on: date | None = None) -> dict[str, int]:
    """Daily: every partnership with engagements gets its summary for the day (checkpoints move
    with the calendar), and a supplier whose next checkpoint comes within VIGILANCE_REMIND_DAYS
    without a document covering it is reminded, once per checkpoint (a unique row says so)."""
    on = on or clock.today()
    remind_days = current_app.config["VIGILANCE_REMIND_DAYS"]
    pairs = db.session.execute(
        select(Partnership, Organisation)
        .join(Organisation, Organisation.id == Partnership.target_id)
        .where(
            Partnership.status.in_(("accepted", "suspended")),
            select(Engagement.id)
            .where(Engagement.client_id == Partnership.requester_id, Engagement.supplier_id == Partnership.target_id)
            .exists(),
        )
    ).all()
    counts = {"refreshed": 0, "reminders": 0}
    kinds = {
        t.code: t for t in db.session.scalars(select(DocumentType).where(DocumentType.code.in_(tuple(LEGAL_BASIS))))
    }
    owners = notifications.owners({supplier.id for _, supplier in pairs})
    clients = {
        o.id: o
        for o in db.session.scalars(select(Organisation).where(Organisation.id.in_({p.requester_id for p, _ in pairs})))
    }
    for partnership, supplier in pairs:
        found = views(partnership.requester_id, supplier, on)
        partnership.vigilance_status, partnership.next_checkpoint_on = summary(found)
        counts["refreshed"] += 1
        db.session.commit()
        for view in found:
            upcoming = view.next
            if not view.applies or upcoming is None or (upcoming.day - on).days > remind_days:
                continue
            missing = [item for item in upcoming.items if item.state == "to_renew"]
            if not missing or partnership.status != "accepted":
                continue
            try:
                db.session.add(CheckpointReminder(engagement_id=view.engagement.id, checkpoint_on=upcoming.day))
                db.session.flush()
            except IntegrityError:
                db.session.rollback()
                continue
            client = clients[partnership.requester_id]
            notices.notify(
                owners.get(supplier.id, []),
                supplier.id,
                "vigilance_checkpoint",
                f"checkpoint:{view.engagement.id}:{upcoming.day.isoformat()}",
                _l(
                    "Échéance de vigilance de %(client)s le %(date)s : %(kinds)s à renouveler.",
                    client=client.legal_name,
                    date=f"{upcoming.day:%d/%m/%Y}",
                    kinds=Joined(kinds[item.need.codes[0]] for item in missing),
                ),
                asked_by=_l(
                    "Obligation légale de votre client (Code du travail, L8222-1) : il doit détenir vos documents "
                    "à jour à cette date."
                ),
                action=_l("Mettre à jour"),
                link=url_for("documents.pending", _external=True),
                due_on=upcoming.day,
                for_clients=[client.id],
                template="vigilance_checkpoint",
                client=client,
                day=upcoming.day,
                kinds=[kinds[item.need.codes[0]] for item in missing],
            )
            db.session.commit()
            counts["reminders"] += 1
    return counts


# --- importing engagements ----------------------------------------------------------------------

IMPORT_COLUMNS = (
    ("siren", True, _l("SIREN (9 chiffres) ou SIRET du fournisseur, partenaire accepté")),
    ("reference", True, _l("Référence du contrat ou de la commande")),
    ("montant_ht", True, _l("Montant hors taxes en euros (12 500 ou 12 500,50)")),
    ("date_conclusion", True, _l("Date de conclusion, JJ/MM/AAAA")),
    ("date_fin", False, _l("Fin de l'exécution, JJ/MM/AAAA (vide : en cours)")),
)
IMPORT_SAMPLE = (("812345676", "MARCHE-2026-12", "48 000", "02/03/2026", ""),)


class ImportRejected(InvalidInput):
    """Lines with errors: nothing of the file was saved."""

    def __init__(self, lines: list[tuple[int, list[str]]]):
        super().__init__({"file": _l("Rien n'a été importé : corrigez les lignes signalées.")})
        self.lines = lines


def import_template() -> str:
    return spreadsheets.csv_text([name for name, _r, _h in IMPORT_COLUMNS], IMPORT_SAMPLE)


def import_file(tenancy: Tenancy, user: User, filename: str, data: bytes) -> int:
    """Every line of the file becomes an engagement, or none does (the errors by line)."""
    tenancy.require_role("owner", "member", "collaborator")
    rows = spreadsheets.read_rows(filename, data, IMPORT_COLUMNS)
    partners = dict(
        db.session.execute(
            select(Organisation.siren, Organisation.id)
            .join(Partnership, Partnership.target_id == Organisation.id)
            .where(
                Partnership.requester_id == tenancy.organisation.id,
                Partnership.status.in_(("accepted", "suspended")),
            )
        ).all()
    )
    problems, engagements = [], []
    for row in rows:
        digits = "".join(row["siren"].split())[:9]
        starts_on, ends_on = spreadsheets.parse_date(row["date_conclusion"]), spreadsheets.parse_date(row["date_fin"])
        reference = row["reference"].strip()
        amount = parse_amount(row["montant_ht"])
        errors = [str(message) for message in _checked(reference, amount, starts_on, ends_on).values()]
        if row["date_conclusion"].strip() and starts_on is None:
            errors.append(str(_l("Date de conclusion illisible (JJ/MM/AAAA).")))
        if row["date_fin"].strip() and ends_on is None:
            errors.append(str(_l("Date de fin illisible (JJ/MM/AAAA).")))
        if digits not in partners:
            errors.append(str(_l("%(siren)s n'est pas un de vos fournisseurs partenaires.", siren=digits or "—")))
        if errors:
            problems.append((row["line"], errors))
            continue
        engagements.append(
            Engagement(
                client_id=tenancy.organisation.id,
                supplier_id=partners[digits],
                reference=reference,
                amount_cents=amount,
                starts_on=starts_on,
                ends_on=ends_on,
                created_by_id=user.id,
            )
        )
    if problems:
        raise ImportRejected(problems)
    db.session.add_all(engagements)
    db.session.flush()
    for supplier_id in {e.supplier_id for e in engagements}:
        partnership, supplier = client_partnership(tenancy, supplier_id)
        refresh(partnership, supplier)
    audit.record(
        "engagement.imported",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        filename=(filename or "")[:255],
        engagements=len(engagements),
    )
    db.session.commit()
    return len(engagements)
