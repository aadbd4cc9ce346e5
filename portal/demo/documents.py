"""Demo compliance file of Menuiserie Martin: an expired URSSAF attestation, a Kbis expiring in
10 days, a refused LNTE ("Document illisible"), a valid RC Pro, an optional Qualibat certificate,
and two documents waiting in the operators' queue. Created once (skipped when it exists)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.core import clock
from portal.core.extensions import db
from portal.core.storage import storage
from portal.demo import samples
from portal.documents import partner_status, prechecks, versions
from portal.models import Document, DocumentType, DocumentVersion, Organisation, RefusalReason, User, utcnow


def _version(
    organisation: Organisation,
    kind: DocumentType,
    issued: date,
    *,
    status: str,
    until: date | None = None,
    operator: User | None = None,
    uploader: User | None = None,
    data: bytes | None = None,
    filename: str | None = None,
    **extra,
) -> DocumentVersion:
    data = data or samples.one(kind.code, organisation.siren, organisation.legal_name, issued)
    stored = storage().save(data)
    document = versions.document_for(organisation.id, kind.id)
    check = prechecks.run(
        data,
        "application/pdf",
        organisation.siren,
        kind.validity_rule,
        kind.validity_months,
        kind.has_verification_code,
        expected_type=kind.code,
        name=organisation.legal_name,
    ).as_dict()
    version = DocumentVersion(
        document_id=document.id,
        organisation_id=organisation.id,
        status=status,
        storage_key=stored.key,
        original_filename=filename or f"{kind.code.lower()}.pdf",
        content_type="application/pdf",
        size=stored.size,
        sha256=stored.sha256,
        issued_on=issued,
        valid_until=until or prechecks.validity_end(kind.validity_rule, kind.validity_months, issued),
        verification_code=check.get("verification_code"),
        uploaded_by_id=uploader.id if uploader else None,
        uploaded_at=utcnow() - timedelta(days=(clock.today() - issued).days),
        reviewed_by_id=operator.id if operator and status != "submitted" else None,
        reviewed_at=utcnow() - timedelta(days=2) if status != "submitted" else None,
        precheck=check,
        **extra,
    )
    db.session.add(version)
    return version


def _company(siren: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.siren == siren))


def _without_documents(siren: str) -> Organisation | None:
    """The demo company, unless its documents were seeded already (seeding is idempotent)."""
    organisation = _company(siren)
    if organisation is None or db.session.scalar(
        select(Document.id).where(Document.organisation_id == organisation.id).limit(1)
    ):
        return None
    return organisation


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _types() -> dict[str, DocumentType]:
    return {t.code: t for t in db.session.scalars(select(DocumentType))}


def seed_menuiserie_martin() -> None:
    organisation = _without_documents("812345676")
    if organisation is None:
        return
    types = _types()
    supplier = _user("fournisseur@vigie.test")
    operator = _user("operateur@vigie.test")
    illegible = db.session.scalar(select(RefusalReason).where(RefusalReason.label_fr == "Document illisible"))
    today = clock.today()
    _version(
        organisation,
        types["URSSAF_VIGILANCE"],
        today - timedelta(days=200),
        status="expired",
        operator=operator,
        uploader=supplier,
    )
    kbis_until = today + timedelta(days=10)
    # Issued three months before it ends (art. 641 CPC). On the few days a month end makes that
    # impossible (no date + 3 months is 31 May), the end is kept and the issue date is the 28 Feb.
    _version(
        organisation,
        types["KBIS"],
        clock.add_months(kbis_until, -3),
        until=kbis_until,
        status="expiring",
        operator=operator,
        uploader=supplier,
    )
    _version(
        organisation,
        types["LNTE"],
        today - timedelta(days=5),
        status="refused",
        operator=operator,
        uploader=supplier,
        refusal_reason_id=illegible.id,
        refusal_comment="Le scan est flou : la colonne des numéros de titre de séjour ne se lit pas.",
    )
    _version(
        organisation,
        types["RC_PRO"],
        today - timedelta(days=60),
        status="valid",
        until=today + timedelta(days=305),
        operator=operator,
        uploader=supplier,
    )
    _version(
        organisation,
        types["QUALIBAT"],
        today - timedelta(days=120),
        status="valid",
        until=today + timedelta(days=600),
        operator=operator,
        uploader=supplier,
    )
    db.session.commit()
    for code, issued in (("MUTUELLE", today - timedelta(days=3)), ("FISCAL", today - timedelta(days=1))):
        kind = types[code]
        data = samples.one(code, organisation.siren, organisation.legal_name, issued)
        until = issued + timedelta(days=364) if kind.validity_rule == "printed_end_date" else None
        versions.submit(organisation, supplier, code, versions.Upload(data, f"{code.lower()}.pdf", issued, until))


def seed_demolitor() -> None:
    """Demolitor SAS has its own Kbis and URSSAF attestation, and reads Menuiserie Martin's file."""
    from portal.models import Partnership

    demolitor = _without_documents("830124590")
    if demolitor is None:
        return
    martin = _company("812345676")
    types = _types()
    owner = _user("constructor@vigie.test")
    operator = _user("operateur@vigie.test")
    today = clock.today()
    for code, issued in (("KBIS", today - timedelta(days=20)), ("URSSAF_VIGILANCE", today - timedelta(days=30))):
        _version(
            demolitor,
            types[code],
            issued,
            status="valid",
            operator=operator,
            uploader=owner,
            filename=f"demolitor-{code.lower()}.pdf",
        )
    db.session.add(
        Partnership(
            requester_id=demolitor.id,
            target_id=martin.id,
            requested_by_id=owner.id,
            status="accepted",
            decided_at=utcnow() - timedelta(days=40),
            requested_at=utcnow() - timedelta(days=41),
        )
    )
    db.session.flush()
    partner_status.refresh_client(demolitor.id)
    db.session.commit()


def seed_batie_file() -> None:
    """Batie Construction, the temp agency, keeps its own file: its clients read it once connected."""
    batie = _without_documents("790456123")
    if batie is None:
        return
    types = _types()
    owner = _user("agence@vigie.test")
    operator = _user("operateur@vigie.test")
    today = clock.today()
    for code, issued in (("KBIS", today - timedelta(days=25)), ("URSSAF_VIGILANCE", today - timedelta(days=50))):
        _version(
            batie,
            types[code],
            issued,
            status="valid",
            operator=operator,
            uploader=owner,
            filename=f"batie-{code.lower()}.pdf",
        )
    db.session.commit()


TRADES = ("Plomberie", "Électricité", "Maçonnerie", "Couverture", "Menuiserie", "Peinture", "Carrelage", "Charpente",
          "Serrurerie", "Terrassement")  # fmt: skip
NAMES = ("Dupont", "Lefèvre", "Moreau", "Girard", "Rousseau", "Fontaine", "Chevalier", "Lambert", "Bonnet", "Mercier",
         "Faure", "Blanc", "Garnier", "Perrin", "Morel")  # fmt: skip
CITIES = ("Lyon", "Villeurbanne", "Grenoble", "Saint-Étienne", "Annecy", "Valence", "Mâcon", "Vienne")


def seed_constructor_suppliers(count: int = 50) -> None:
    """About fifty more suppliers for Constructor SA, accepted partners in mixed states."""
    from portal.models import Partnership

    constructor = _company("521087437")
    if constructor is None or db.session.scalar(
        select(Partnership.id).where(Partnership.requester_id == constructor.id, Partnership.status == "accepted")
    ):
        return
    types = _types()
    today = clock.today()
    data = samples.one("RC_PRO", "000000000", "Fournisseur", today)
    for index in range(count):
        base = f"{34_000_000 + index * 7919:08d}"
        siren = base + samples.luhn.calc_check_digit(base)
        name = f"{TRADES[index % len(TRADES)]} {NAMES[(index * 7) % len(NAMES)]}"
        organisation = Organisation(
            siren=siren,
            legal_name=name,
            legal_form=("SARL", "SAS", "EURL")[index % 3],
            city=CITIES[index % len(CITIES)],
            is_supplier=True,
        )
        db.session.add(organisation)
        db.session.flush()
        profile = index % 5  # 0 compliant, 1 expiring, 2 expired URSSAF, 3 missing décennale, 4 refused LNTE
        ages = {"URSSAF_VIGILANCE": 40, "KBIS": 20, "LNTE": 15, "RC_PRO": 90, "DECENNALE": 100}
        plan = {code: ("valid", today - timedelta(days=days)) for code, days in ages.items()}
        if profile == 1:
            plan["KBIS"] = ("valid", today - timedelta(days=80))
        if profile == 2:
            plan["URSSAF_VIGILANCE"] = ("valid", today - timedelta(days=200))
        if profile == 3:
            del plan["DECENNALE"]
        if profile == 4:
            plan["LNTE"] = ("refused", today - timedelta(days=4))
        for code, (status, issued) in plan.items():
            kind = types[code]
            until = issued + timedelta(days=364) if kind.validity_rule == "printed_end_date" else None
            _version(organisation, kind, issued, status=status, until=until, data=data)
        db.session.add(
            Partnership(
                requester_id=constructor.id,
                target_id=organisation.id,
                status="accepted",
                decided_at=utcnow() - timedelta(days=index + 1),
            )
        )
    db.session.flush()
    partner_status.refresh_client(constructor.id)
    db.session.commit()


def seed_engagements() -> None:
    """Constructor SA's engagements with some of its suppliers: checkpoints met (green), missed
    (red), late and to come, for the "Vigilance légale" timeline and the dashboard's filters."""
    from portal.models import Engagement, Partnership

    constructor = _company("521087437")
    if constructor is None or db.session.scalar(select(Engagement.id).where(Engagement.client_id == constructor.id)):
        return
    owner = db.session.scalar(select(User.id).where(User.email == "constructor@vigie.test"))
    suppliers = db.session.scalars(
        select(Partnership.target_id)
        .where(Partnership.requester_id == constructor.id, Partnership.status == "accepted")
        .order_by(Partnership.id)
    ).all()
    today = clock.today()
    # (supplier index: profile = index % 5, reference, amount HT in cents, concluded days ago, ends)
    plan = (
        (0, "MARCHE-2026-014", 4_800_000, 10, None),  # compliant: met at conclusion
        (2, "CMD-2026-203", 1_250_000, 10, None),  # URSSAF expired: missed
        (5, "MARCHE-2025-118", 9_600_000, 240, None),  # missed, then late, then to come
        (10, "CMD-2026-077", 320_000, 30, today + timedelta(days=60)),  # under the threshold
    )
    for index, reference, cents, days_ago, ends in plan:
        if index < len(suppliers):
            db.session.add(
                Engagement(
                    client_id=constructor.id,
                    supplier_id=suppliers[index],
                    reference=reference,
                    amount_cents=cents,
                    starts_on=today - timedelta(days=days_ago),
                    ends_on=ends,
                    created_by_id=owner,
                )
            )
    db.session.flush()
    partner_status.refresh_client(constructor.id)
    db.session.commit()
