"""The proof file ("Dossier de preuve"): what a client shows an URSSAF inspector to prove its
vigilance with one supplier, over a period or for one engagement.

A ZIP of: ``synthese.pdf`` (the company, the engagements, each checkpoint with the document held,
its dates, who checked it and when, its verification code and SHA-256; the gaps, said as gaps),
every document file it cites, ``manifest.json`` (files, hashes, checkpoints) and ``audit.json``
(the audit events behind them). Built by a job (``build_proof``) with its progress on the page,
stored in the object store and listed with its own SHA-256, so that a copy handed over later can
be compared. "Export contrôle URSSAF" streams the same for every supplier of the client.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from portal.core import audit, clock, outbox, pdf, zips
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.storage import CorruptFile, storage
from portal.core.tenancy import Tenancy
from portal.documents import exports
from portal.models import (
    AuditEvent,
    DocumentType,
    Engagement,
    Organisation,
    ProofFile,
    User,
    utcnow,
)
from portal.partners import vigilance

STATE_FR = {
    "met": "respectée",
    "late": "documents obtenus en retard",
    "checking": "vérification en cours",
    "missed": "EN DÉFAUT",
}
HELD_FR = {
    "held": "détenu",
    "late": "obtenu en retard",
    "checking": "reçu, pas encore vérifié",
    "missing": "MANQUANT à cette date",
}


def _euros(cents: int) -> str:
    """12 500,50 € (French grouping)."""
    return f"{cents / 100:,.2f} €".replace(",", "\u202f").replace(".", ",")


def _types() -> dict[str, DocumentType]:
    return {t.code: t for t in db.session.scalars(select(DocumentType))}


class Contents:
    """What one supplier's proof holds for one client over a period (computed once, then written)."""

    def __init__(self, client: Organisation, supplier: Organisation, start: date, end: date, engagement_id=None):
        self.client, self.supplier, self.start, self.end = client, supplier, start, end
        found = vigilance.views(client.id, supplier, min(end, clock.today()))
        if engagement_id is not None:
            found = [view for view in found if view.engagement.id == engagement_id]
        self.views = found
        self.types = _types()
        self.checkpoints = [
            (view, checkpoint)
            for view in found
            if view.applies
            for checkpoint in view.checkpoints
            if not checkpoint.upcoming and start <= checkpoint.day <= end
        ]
        cited = {}
        for _view, checkpoint in self.checkpoints:
            for item in checkpoint.items:
                if item.version is not None:
                    cited[item.version.id] = item.version
        self.versions = sorted(cited.values(), key=lambda v: v.id)
        self.users = exports.users_of(self.versions)
        self.kind_of = {
            item.version.id: self.types[item.code]
            for _view, checkpoint in self.checkpoints
            for item in checkpoint.items
            if item.version is not None
        }

    def file_name(self, version) -> str:
        return exports.member_name(self.kind_of[version.id], version)

    def manifest(self) -> dict:
        return {
            "format": "vigie-proof/1",
            "client": {"siren": self.client.siren, "legal_name": self.client.legal_name},
            "supplier": {"siren": self.supplier.siren, "legal_name": self.supplier.legal_name},
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "generated_at": clock.now().isoformat(),
            "threshold_eur": vigilance.threshold_cents() // 100,
            "engagements": [
                {
                    "id": view.engagement.id,
                    "reference": view.engagement.reference,
                    "amount_ht_cents": view.engagement.amount_cents,
                    "starts_on": view.engagement.starts_on.isoformat(),
                    "ends_on": view.engagement.ends_on.isoformat() if view.engagement.ends_on else None,
                    "cumulative_12_months_cents": view.cumulative_cents,
                    "legal_duty": view.applies,
                }
                for view in self.views
            ],
            "checkpoints": [
                {
                    "engagement_id": view.engagement.id,
                    "day": checkpoint.day.isoformat(),
                    "kind": "conclusion" if checkpoint.conclusion else "six-monthly",
                    "state": checkpoint.state,
                    "documents": [
                        {
                            "accepted_types": list(item.need.codes),
                            "article": item.need.article,
                            "state": item.state,
                            "version_id": item.version.id if item.version else None,
                            "received_on": item.received_on.isoformat() if item.received_on else None,
                            "file": self.file_name(item.version)
                            if item.version and not item.version.file_removed_at
                            else None,
                            "sha256": item.version.sha256 if item.version else None,
                        }
                        for item in checkpoint.items
                    ],
                }
                for view, checkpoint in self.checkpoints
            ],
            "files": [
                {
                    **exports.version_facts(self.kind_of[v.id], v, self.users),
                    "file": self.file_name(v) if not v.file_removed_at else None,
                }
                for v in self.versions
            ],
        }

    def audit_events(self) -> list[dict]:
        """The audit events behind the file: the engagements and the decisions on the cited versions."""
        cited = {v.id for v in self.versions}
        engagement_ids = {view.engagement.id for view in self.views}
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.organisation_id.in_((self.client.id, self.supplier.id)))
            .where(AuditEvent.action.like("engagement.%") | AuditEvent.action.like("document.%"))
            .order_by(AuditEvent.id)
        )
        found = []
        for event in rows:
            details = event.details or {}
            if details.get("engagement_id") in engagement_ids or details.get("version_id") in cited:
                found.append(
                    {
                        "at": clock.paris_time(event.created_at).isoformat(),
                        "action": event.action,
                        "user_id": event.user_id,
                        "organisation_id": event.organisation_id,
                        "details": details,
                    }
                )
        return found

    def summary_pdf(self) -> bytes:
        document = pdf.new_pdf(title=f"Dossier de preuve — {self.supplier.legal_name}")
        pdf.titled_page(document, "Dossier de preuve de vigilance")
        pdf.paragraph(
            document,
            f"Donneur d'ordre : {self.client.legal_name} (SIREN {self.client.siren})\n"
            f"Cocontractant : {self.supplier.legal_name} (SIREN {self.supplier.siren})\n"
            f"Période : du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y} · établi le {clock.now():%d/%m/%Y à %H:%M}",
            after=3,
        )
        pdf.paragraph(
            document,
            "Code du travail, L8222-1 et D8222-5 : pour tout contrat d'au moins "
            f"{vigilance.threshold_cents() // 100} € HT (plusieurs contrats sur douze mois s'additionnent), le donneur "
            "d'ordre obtient l'attestation de vigilance et la preuve d'immatriculation à la conclusion, puis tous "
            "les six mois jusqu'à la fin de l'exécution ; la liste des travailleurs étrangers pour un employeur "
            "(D8254-2). Chaque document cité est joint ; son empreinte SHA-256 figure ci-dessous et dans "
            "manifest.json.",
            after=4,
        )
        if not self.views:
            pdf.paragraph(document, "Aucun engagement enregistré avec ce cocontractant.")
        for view in self.views:
            e = view.engagement
            document.set_font("DejaVu", "B", 12)
            ends = f"fin le {e.ends_on:%d/%m/%Y}" if e.ends_on else "en cours"
            pdf.paragraph(
                document,
                f"{e.reference} — {_euros(e.amount_cents)} HT · conclu le {e.starts_on:%d/%m/%Y} · {ends}",
            )
            document.set_font("DejaVu", "", 10)
            if not view.applies:
                pdf.paragraph(
                    document,
                    f"Sous le seuil légal ({_euros(view.cumulative_cents)} HT sur douze mois) : pas d'obligation.",
                    after=3,
                )
                continue
            shown = [c for v, c in self.checkpoints if v is view]
            if not shown:
                pdf.paragraph(document, "Aucune échéance dans la période.", after=3)
            for checkpoint in shown:
                kind = "conclusion" if checkpoint.conclusion else "contrôle semestriel"
                document.set_font("DejaVu", "B", 10)
                pdf.paragraph(document, f"{checkpoint.day:%d/%m/%Y} ({kind}) : {STATE_FR[checkpoint.state]}")
                document.set_font("DejaVu", "", 9)
                for item in checkpoint.items:
                    labels = " ou ".join(self.types[code].label_fr for code in item.need.codes if code in self.types)
                    line = f"• {labels} (art. {item.need.article}) : {HELD_FR[item.state]}"
                    v = item.version
                    if v is not None:
                        reviewer = self.users.get(v.reviewed_by_id)
                        checked = (
                            "automatiquement"
                            if v.validated_automatically
                            else f"par {reviewer.full_name if reviewer else 'Vigie'}"
                        )
                        line += (
                            f" — document du {(v.certified_on or v.issued_on):%d/%m/%Y}"
                            + (f", valable jusqu'au {v.valid_until:%d/%m/%Y}" if v.valid_until else "")
                            + f", reçu le {item.received_on:%d/%m/%Y}"
                            + (
                                f", vérifié {checked} le {clock.paris_date(v.reviewed_at):%d/%m/%Y}"
                                if v.reviewed_at
                                else ", non vérifié"
                            )
                            + (f", code {v.verification_code}" if v.verification_code else "")
                            + f", SHA-256 {v.sha256}"
                        )
                    pdf.paragraph(document, line, height=5)
                document.ln(2)
            document.ln(2)
        return pdf.to_bytes(document)

    def members(self, prefix: str = "", progress=None) -> Iterator[zips.Member]:
        yield prefix + "synthese.pdf", self.summary_pdf()
        yield prefix + "manifest.json", zips.as_json(self.manifest())
        yield prefix + "audit.json", zips.as_json(self.audit_events())
        stored = [
            (prefix + self.file_name(v), v.storage_key, v.size, v.sha256)
            for v in self.versions
            if not v.file_removed_at
        ]
        for index, member in enumerate(exports.file_members(stored), start=1):
            yield member
            if progress is not None:
                progress(index, len(stored))


# --- requesting and building ----------------------------------------------------------------------


def _supplier_of_client(tenancy: Tenancy, supplier_id: int) -> Organisation:
    """A supplier the client asked itself, partner now or in the past (a proof outlives the
    partnership), or 404."""
    return vigilance.client_partnership(tenancy, supplier_id, (*vigilance.LIVE, "ended"))[1]


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    errors = {}
    if start is None:
        errors["start"] = _l("Indiquez le début de la période.")
    if end is None:
        errors["end"] = _l("Indiquez la fin de la période.")
    if start and end and end < start:
        errors["end"] = _l("La fin de la période ne peut pas précéder son début.")
    if start and start.year < 2000:
        errors["start"] = _l("Cette date n'est pas plausible.")
    if errors:
        raise InvalidInput(errors)
    return start, end


def request(
    tenancy: Tenancy,
    user: User,
    supplier_id: int,
    *,
    start: date | None = None,
    end: date | None = None,
    engagement_id: int | None = None,
) -> ProofFile:
    """Queue a proof file for a period, or for one engagement (its whole life up to today)."""
    tenancy.require_role("owner", "member", "collaborator")
    supplier = _supplier_of_client(tenancy, supplier_id)
    if engagement_id is not None:
        engagement = vigilance.own_engagement(tenancy, engagement_id)
        if engagement.supplier_id != supplier.id:
            raise NotFound()
        start, end = engagement.starts_on, min(engagement.ends_on or clock.today(), clock.today())
        end = max(end, start)
    else:
        start, end = _period(start, end)
    proof = ProofFile(
        client_id=tenancy.organisation.id,
        supplier_id=supplier.id,
        engagement_id=engagement_id,
        period_start=start,
        period_end=end,
        requested_by_id=user.id,
    )
    db.session.add(proof)
    db.session.flush()
    audit.record(
        "proof.requested",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        proof_id=proof.id,
        supplier_id=supplier.id,
        engagement_id=engagement_id,
        start=start.isoformat(),
        end=end.isoformat(),
    )
    outbox.enqueue("build_proof", proof_id=proof.id)
    db.session.commit()
    return proof


def build(proof_id: int) -> None:
    """The job: writes the ZIP, stores it with its SHA-256; safe to run twice (a ready file stays)."""
    proof = db.session.get(ProofFile, proof_id)
    if proof is None or proof.status == "ready":
        return
    proof.status, proof.progress = "building", 0
    db.session.commit()
    client = db.session.get(Organisation, proof.client_id)
    supplier = db.session.get(Organisation, proof.supplier_id)
    contents = Contents(client, supplier, proof.period_start, proof.period_end, proof.engagement_id)

    def progress(done: int, total: int) -> None:
        proof.progress = min(99, 10 + 85 * done // max(total, 1))
        db.session.commit()

    proof.progress = 10
    db.session.commit()
    try:
        data = b"".join(zips.stream(contents.members(progress=progress)))
    except CorruptFile as exc:  # a cited file no longer matches its hash: said, never shipped
        db.session.rollback()
        proof.status, proof.error, proof.finished_at = "failed", str(exc)[:300], utcnow()
        audit.record("proof.failed", organisation_id=proof.client_id, proof_id=proof.id, error=proof.error)
        db.session.commit()
        return
    stored = storage().save(data)
    proof.storage_key, proof.size, proof.sha256 = stored.key, len(data), hashlib.sha256(data).hexdigest()
    proof.status, proof.progress, proof.finished_at = "ready", 100, utcnow()
    audit.record("proof.built", organisation_id=proof.client_id, proof_id=proof.id, sha256=proof.sha256)
    db.session.commit()


def listed(tenancy: Tenancy, supplier_id: int) -> list[ProofFile]:
    return list(
        db.session.scalars(
            select(ProofFile)
            .where(ProofFile.client_id == tenancy.organisation.id, ProofFile.supplier_id == supplier_id)
            .order_by(ProofFile.id.desc())
            .limit(20)
        )
    )


def own(tenancy: Tenancy, proof_id: int) -> ProofFile:
    proof = db.session.get(ProofFile, proof_id) if 0 < proof_id < 2**31 else None
    if proof is None or proof.client_id != tenancy.organisation.id:
        raise NotFound()
    return proof


def file_of(tenancy: Tenancy, proof_id: int) -> tuple[Iterator[bytes], str, int]:
    proof = own(tenancy, proof_id)
    if proof.status != "ready":
        raise NotFound()
    supplier = db.session.get(Organisation, proof.supplier_id)
    name = f"dossier-de-preuve-{supplier.siren}-{proof.period_start:%Y%m%d}-{proof.period_end:%Y%m%d}.zip"
    return storage().stream(proof.storage_key, size=proof.size, sha256=proof.sha256), name, proof.size


# --- "Export contrôle URSSAF" ----------------------------------------------------------------------


def urssaf_export(tenancy: Tenancy, user: User, start: date | None, end: date | None) -> tuple[Iterator[bytes], str]:
    """Every supplier of the client with engagements over the period, one folder each, streamed."""
    tenancy.require_role("owner", "member", "collaborator")
    start, end = _period(start, end)
    client = tenancy.organisation
    suppliers = list(
        db.session.scalars(
            select(Organisation)
            .where(
                select(Engagement.id)
                .where(Engagement.client_id == client.id, Engagement.supplier_id == Organisation.id)
                .exists()
            )
            .order_by(Organisation.legal_name, Organisation.id)
        )
    )
    audit.record(
        "proof.urssaf_export",
        user_id=user.id,
        organisation_id=client.id,
        start=start.isoformat(),
        end=end.isoformat(),
        suppliers=len(suppliers),
    )
    db.session.commit()

    def members() -> Iterator[zips.Member]:
        index = []
        for supplier in suppliers:
            contents = Contents(client, supplier, start, end)
            folder = f"{supplier.siren}-{''.join(c if c.isalnum() else '-' for c in supplier.legal_name)[:40]}/"
            index.append(
                {
                    "siren": supplier.siren,
                    "legal_name": supplier.legal_name,
                    "folder": folder,
                    "checkpoints": {
                        state: sum(1 for _v, c in contents.checkpoints if c.state == state) for state in STATE_FR
                    },
                }
            )
            yield from contents.members(prefix=folder)
        yield (
            "index.json",
            zips.as_json({"client": client.siren, "period": [start.isoformat(), end.isoformat()], "suppliers": index}),
        )

    return zips.stream(members()), f"export-controle-urssaf-{client.siren}-{start:%Y%m%d}-{end:%Y%m%d}.zip"


def default_period() -> tuple[date, date]:
    today = clock.today()
    return today - timedelta(days=365), today
