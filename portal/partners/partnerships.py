"""Mise en relation: ask a company to share its compliance file, accept or refuse, suspend or end.

While a partnership is accepted, each side reads the other's compliance file, documents sent
before included: the requester (a client, an agency, a firm) always reads the target's; the
target reads the requester's when the requester keeps one (a temp agency's own attestations).
Suspended or ended, neither reads anything (404). A main account answers the requests made to the
accounts linked under it, from its own "Partenaires à confirmer".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from email_validator import EmailNotValidError
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased, joinedload
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number
from werkzeug.exceptions import NotFound

from portal.accounts import invitations
from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.documents import compliance, partner_status
from portal.messaging import notices, notifications, webhooks
from portal.models import (
    AccountLink,
    Document,
    DocumentType,
    DocumentVersion,
    Establishment,
    Organisation,
    Partnership,
    User,
    normalise_email,
    utcnow,
)
from portal.notifications import follow_ups

ASK_AGAIN_AFTER = timedelta(days=30)


class PartnershipError(InvalidInput):
    """A request or a change that cannot be made."""


@dataclass(frozen=True)
class Found:
    organisation: Organisation
    relation: Partnership | None


def search(tenancy: Tenancy, query: str) -> list[Found]:
    """Companies on Vigie by SIREN, SIRET or name, with where we stand with each (two queries)."""
    text = "".join(query.split())
    if not text:
        return []
    own = tenancy.organisation.id
    if text.isascii() and text.isdigit() and len(text) == 14 and siret_number.is_valid(text):
        condition = Organisation.siren == text[:9]
    elif text.isascii() and text.isdigit() and len(text) == 9:
        condition = Organisation.siren == text
    else:
        condition = func.lower(Organisation.legal_name).contains(query.strip().lower())
    organisations = db.session.scalars(
        select(Organisation)
        .where(condition, Organisation.id != own, Organisation.is_operator.is_(False))
        .order_by(Organisation.legal_name)
        .limit(20)
    ).all()
    relations = _latest_relations(own, [o.id for o in organisations])
    return [Found(o, relations.get(o.id)) for o in organisations]


def _latest_relations(requester_id: int, target_ids: list[int]) -> dict[int, Partnership]:
    if not target_ids:
        return {}
    rows = db.session.scalars(
        select(Partnership)
        .where(Partnership.requester_id == requester_id, Partnership.target_id.in_(target_ids))
        .order_by(Partnership.id)
    )
    return {row.target_id: row for row in rows}


def _check_can_ask(requester_id: int, target_id: int) -> None:
    latest = _latest_relations(requester_id, [target_id]).get(target_id)
    if latest is None:
        return
    if latest.status == "pending":
        raise PartnershipError({"target": _l("Une demande est déjà en attente de réponse.")})
    if latest.status in ("accepted", "suspended"):
        raise PartnershipError({"target": _l("Vous êtes déjà en relation avec cette entreprise.")})
    if latest.status == "refused" and latest.decided_at and latest.decided_at + ASK_AGAIN_AFTER > utcnow():
        again = (latest.decided_at + ASK_AGAIN_AFTER).date()
        raise PartnershipError(
            {
                "target": _l(
                    "Demande refusée le %(refused)s : nouvelle demande possible à partir du %(again)s.",
                    refused=f"{latest.decided_at:%d/%m/%Y}",
                    again=f"{again:%d/%m/%Y}",
                )
            }
        )


def request(tenancy: Tenancy, user: User, target_id: int) -> Partnership:
    tenancy.require_role("owner", "member", "collaborator")
    target = db.session.get(Organisation, target_id)
    if target is None or target.id == tenancy.organisation.id or target.is_operator:
        raise NotFound()
    _check_can_ask(tenancy.organisation.id, target.id)
    partnership = ask(tenancy.organisation, target, user)
    db.session.commit()
    return partnership


def ask(requester: Organisation, target: Organisation, user: User) -> Partnership:
    """Add a request and tell the target's owners (in the caller's transaction)."""
    partnership = Partnership(requester_id=requester.id, target_id=target.id, requested_by_id=user.id)
    db.session.add(partnership)
    db.session.flush()
    audit.record(
        "partnership.requested",
        user_id=user.id,
        organisation_id=requester.id,
        partnership_id=partnership.id,
        target_id=target.id,
    )
    notices.notify(
        _owners(target.id),
        target.id,
        "partner_request",
        f"partner_request:{partnership.id}",
        _l(
            "%(org)s (SIREN %(siren)s) vous demande une mise en relation : acceptée, elle verra vos documents.",
            org=requester.legal_name,
            siren=requester.siren,
        ),
        asked_by=_l(
            "Demande de %(person)s (%(org)s) le %(date)s. Vous ne connaissez pas cette entreprise ? Refusez-la.",
            person=user.full_name,
            org=requester.legal_name,
            date=f"{partnership.requested_at:%d/%m/%Y}",
        ),
        action=_l("Accepter ou refuser"),
        link=url_for("notifications.inviters", _external=True),
        template="partner_request",
        requester=requester,
    )
    follow_ups.start(requester, partnership=partnership)
    return partnership


def ask_unless_related(requester: Organisation, target: Organisation, user: User) -> Partnership | None:
    """Ask when nothing stands in the way (no live relation, no recent refusal); else do nothing."""
    try:
        _check_can_ask(requester.id, target.id)
    except PartnershipError:
        return None
    return ask(requester, target, user)


def valid_siret(siret: str) -> str:
    siret = "".join(siret.split())
    if not siret_number.is_valid(siret):
        raise PartnershipError({"siret": _l("Ce SIRET n'est pas valide (14 chiffres, clé de contrôle).")})
    return siret


def invite(tenancy: Tenancy, user: User, *, email: str, siret: str, legal_name: str) -> Partnership:
    """Invite a company that is not on Vigie yet: its account is created by the invitation link."""
    tenancy.require_role("owner", "member", "collaborator")
    siret = valid_siret(siret)
    try:  # the form checks it too; the API sends it as typed
        email = checked_email(email)
    except EmailNotValidError:
        raise PartnershipError({"email": _l("Cette adresse e-mail n'est pas valide.")}) from None
    if db.session.scalar(select(Organisation.id).where(Organisation.siren == siret[:9])):
        raise PartnershipError({"siret": _l("Cette entreprise est déjà sur Vigie : recherchez-la par son SIREN.")})
    partnership = invite_company(tenancy.organisation, user, email=email, siret=siret, legal_name=legal_name)
    db.session.commit()
    return partnership


def invite_company(
    requester: Organisation, user: User, *, email: str, siret: str, legal_name: str, kind: str = "supplier"
) -> Partnership:
    """Create the company, invite its contact as owner and ask it to connect (caller commits)."""
    organisation = Organisation(siren=siren_number.compact(siret[:9]), legal_name=legal_name.strip())
    setattr(organisation, f"is_{kind}", True)
    db.session.add(organisation)
    db.session.flush()
    db.session.add(
        Establishment(organisation_id=organisation.id, siret=siret, name=legal_name.strip(), is_head_office=True)
    )
    invitation = invitations.new_invitation(organisation.id, email, user, role="owner")
    partnership = Partnership(
        requester_id=requester.id,
        target_id=organisation.id,
        requested_by_id=user.id,
        invited_email=normalise_email(email),
    )
    db.session.add(partnership)
    db.session.flush()
    invitations.send_invitation(invitation, organisation, user, requester=requester)
    follow_ups.start(requester, partnership=partnership, invitation=invitation)
    audit.record(
        "partnership.invited",
        user_id=user.id,
        organisation_id=requester.id,
        partnership_id=partnership.id,
        siret=siret,
        email=invitation.email,
    )
    return partnership


def _owners(organisation_id: int) -> list[User]:
    return notifications.owners({organisation_id}).get(organisation_id, [])


def keeping_a_file(organisation_ids: set[int]) -> set[int]:
    """Those of these companies that keep a compliance file on Vigie (a version not archived)."""
    if not organisation_ids:
        return set()
    return set(
        db.session.scalars(
            select(DocumentVersion.organisation_id)
            .where(DocumentVersion.organisation_id.in_(organisation_ids), DocumentVersion.status != "archived")
            .distinct()
        )
    )


def _answered_for(tenancy: Tenancy):
    """The organisations whose requests the active one answers: itself and its linked accounts."""
    linked = select(AccountLink.secondary_id).where(
        AccountLink.main_id == tenancy.organisation.id, AccountLink.status == "accepted"
    )
    return or_(Partnership.target_id == tenancy.organisation.id, Partnership.target_id.in_(linked))


def pending_for(tenancy: Tenancy) -> list[Partnership]:
    """Requests waiting for the active organisation's answer, or for an account linked under it,
    oldest first (one query)."""
    return list(
        db.session.scalars(
            select(Partnership)
            .where(_answered_for(tenancy), Partnership.status == "pending")
            .options(
                joinedload(Partnership.requester), joinedload(Partnership.requested_by), joinedload(Partnership.target)
            )
            .order_by(Partnership.requested_at)
        )
    )


def decide(tenancy: Tenancy, user: User, partnership_id: int, accept: bool) -> Partnership:
    tenancy.require_role("owner", "member")
    partnership = db.session.scalar(
        select(Partnership)
        .where(Partnership.id == partnership_id, _answered_for(tenancy))
        .options(joinedload(Partnership.requester), joinedload(Partnership.target))
    )
    if partnership is None:
        raise NotFound()
    if partnership.status != "pending":
        raise PartnershipError({"decision": _l("Cette demande a déjà reçu une réponse.")})
    partnership.status = "accepted" if accept else "refused"
    partnership.decided_by_id = user.id
    partnership.decided_at = utcnow()
    target = partnership.target  # the active organisation, or an account linked under it
    audit.record(
        f"partnership.{partnership.status}",
        user_id=user.id,
        organisation_id=target.id,
        partnership_id=partnership.id,
        answered_from=tenancy.organisation.id,
    )
    notifications.tell_owners(partnership.requester_id, "partner_decision", partner=target, accepted=accept)
    follow_ups.stop_for(partnership_id=partnership.id, reason="accepted" if accept else "refused")
    if accept:
        partner_status.refresh(partnership, target)
        _tell_endpoints("partnership.accepted", partnership, partnership.requester, target)
    db.session.commit()
    return partnership


@dataclass(frozen=True)
class Partner:
    partnership: Partnership
    other: Organisation
    we_asked: bool
    decided_by: User | None
    we_read: bool = True  # we read its file
    they_read: bool = True  # it reads ours


PER_PAGE = 50


@dataclass(frozen=True)
class PartnersPage:
    partners: list[Partner]
    total: int
    page: int
    pages: int
    search: str


def partners_of(tenancy: Tenancy, *, search: str = "", page: int = 1) -> PartnersPage:
    """Accepted and suspended relationships, both directions, with who accepted: one page of 50
    in alphabetical order, filtered by name or SIREN (three queries whatever the number)."""
    own = tenancy.organisation.id
    requester, target = aliased(Organisation), aliased(Organisation)
    decider = aliased(User)
    query = (
        select(Partnership, requester, target, decider)
        .join(requester, requester.id == Partnership.requester_id)
        .join(target, target.id == Partnership.target_id)
        .outerjoin(decider, decider.id == Partnership.decided_by_id)
        .where(
            or_(Partnership.requester_id == own, Partnership.target_id == own),
            Partnership.status.in_(("accepted", "suspended")),
        )
    )
    search = " ".join(search.split())[:100]
    if search:
        digits = "".join(search.split())
        condition = or_(
            (Partnership.requester_id == own) & func.lower(target.legal_name).contains(search.lower()),
            (Partnership.target_id == own) & func.lower(requester.legal_name).contains(search.lower()),
        )
        if digits.isascii() and digits.isdigit():
            condition = or_(
                condition,
                (Partnership.requester_id == own) & (target.siren == digits[:9]),
                (Partnership.target_id == own) & (requester.siren == digits[:9]),
            )
        query = query.where(condition)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(max(page, 1), pages)
    other_name = func.lower(case((Partnership.requester_id == own, target.legal_name), else_=requester.legal_name))
    rows = db.session.execute(
        query.order_by(other_name, Partnership.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    keeping = keeping_a_file({own} | {p.target_id if p.requester_id == own else p.requester_id for p, *_ in rows})
    found = []
    for p, r, t, d in rows:
        we_asked = p.requester_id == own
        other = t if we_asked else r
        found.append(Partner(p, other, we_asked, d, we_asked or other.id in keeping, not we_asked or own in keeping))
    return PartnersPage(found, total, page, pages, search)


CHANGES = {"suspend": ("accepted", "suspended"), "resume": ("suspended", "accepted"), "end": (None, "ended")}


def change(tenancy: Tenancy, user: User, partnership_id: int, action: str, *, answer: str = "") -> Partnership:
    """Suspend, resume or end a relationship, from either side; the other side's owners are told,
    whatever their preferences (with ``answer``, the words of the decision that ended it)."""
    tenancy.require_role("owner", "member")
    partnership = db.session.get(Partnership, partnership_id)
    own = tenancy.organisation.id
    if partnership is None or own not in (partnership.requester_id, partnership.target_id):
        raise NotFound()
    expected, new_status = CHANGES[action]
    if partnership.status not in ((expected,) if expected else ("accepted", "suspended")):
        raise PartnershipError({"decision": _l("Cette relation ne permet pas cette action.")})
    partnership.status = new_status
    partnership.changed_by_id = user.id
    partnership.changed_at = utcnow()
    other = partnership.target_id if partnership.requester_id == own else partnership.requester_id
    audit.record(f"partnership.{new_status}", user_id=user.id, organisation_id=own, partnership_id=partnership.id)
    notifications.tell_owners(other, "partner_status", partner=tenancy.organisation, status=new_status, answer=answer)
    if new_status == "ended":
        requester = db.session.get(Organisation, partnership.requester_id)
        target = db.session.get(Organisation, partnership.target_id)
        _tell_endpoints("partnership.ended", partnership, requester, target)
    db.session.commit()
    return partnership


def _tell_endpoints(event: str, partnership: Partnership, requester: Organisation, target: Organisation) -> None:
    """partnership.* to both sides' webhooks: who asked, who was asked."""
    data = {
        "partnership_id": partnership.id,
        "client": webhooks.company(requester),
        "supplier": webhooks.company(target),
        "status": partnership.status,
    }
    webhooks.emit(event, {requester.id: data, target.id: data})


def shared_with(tenancy: Tenancy, owner_id: int) -> Organisation:
    """The company whose file the active organisation may read, or 404: an accepted partnership it
    asked for, or one the company asked for when the company keeps a file."""
    own = tenancy.organisation.id
    requesters = set(
        db.session.scalars(
            select(Partnership.requester_id).where(
                or_(
                    (Partnership.requester_id == own) & (Partnership.target_id == owner_id),
                    (Partnership.requester_id == owner_id) & (Partnership.target_id == own),
                ),
                Partnership.status == "accepted",
            )
        )
    )
    if own not in requesters and not (owner_id in requesters and keeping_a_file({owner_id})):
        raise NotFound()
    return db.session.get(Organisation, owner_id)


def shared_version(tenancy: Tenancy, owner_id: int, version_id: int) -> DocumentVersion:
    """A version the partner's page of that company lists (each document's current validated
    version), or 404: never a refused, under-review or replaced one, whatever id is typed."""
    organisation = shared_with(tenancy, owner_id)
    listed = {row.active.id for row in compliance.load(organisation).online if row.active is not None}
    if version_id not in listed:
        raise NotFound()
    return db.session.get(DocumentVersion, version_id)


def sent_by(tenancy: Tenancy) -> list[Partnership]:
    return list(
        db.session.scalars(
            select(Partnership)
            .where(Partnership.requester_id == tenancy.organisation.id, Partnership.status.in_(("pending", "refused")))
            .options(joinedload(Partnership.target))
            .order_by(Partnership.requested_at.desc())
        )
    )


@dataclass(frozen=True)
class DeclaredFigures:
    headcount: int | None
    payroll: int | None
    certified_on: date | None  # of the URSSAF attestation they are printed on


def declared_figures(tenancy: Tenancy, organisation_id: int) -> DeclaredFigures | None:
    """The headcount (and payroll) printed on the partner's valid URSSAF attestation, as read by the
    document reader: holding an attestation is only a presumption when the headcount obviously
    cannot do the work (Cass. 2e civ., 2 juin 2022). None when none is printed (one query)."""
    shared_with(tenancy, organisation_id)
    row = db.session.execute(
        select(DocumentVersion.precheck, DocumentVersion.issued_on)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(DocumentType, DocumentType.id == Document.document_type_id)
        .where(
            DocumentVersion.organisation_id == organisation_id,
            DocumentType.code == "URSSAF_VIGILANCE",
            DocumentVersion.status.in_(("valid", "expiring")),
        )
        .order_by(DocumentVersion.issued_on.desc(), DocumentVersion.id.desc())
        .limit(1)
    ).first()
    if row is None or not (row.precheck or {}).get("headcount"):
        return None
    return DeclaredFigures(row.precheck["headcount"], row.precheck.get("payroll"), row.issued_on)
