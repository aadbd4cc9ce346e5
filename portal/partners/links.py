"""Linked accounts ("comptes rattachés"): propose, accept for the group, list, unlink.

- The agency (or firm) proposes, from sheets sharing one email, a main account and the accounts
  to link under it ("Valider rattachement"); it also asks the main account to connect.
- The main account's owner accepts in two steps ("Accepter", then "Accepter groupe"). He must
  also be an owner of each account linked under it, or that account has no users yet: linking
  never hands a company's documents to someone who does not run it.
- Either company ends a link; everything is audited and the other side is told.
What the main account then reads is ``linked_documents``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.messaging import notifications
from portal.models import (
    LIVE_LINK,
    AccountLink,
    LinkRequest,
    Membership,
    Organisation,
    User,
    sort_key,
    utcnow,
)
from portal.partners import client_sheets, partnerships


class LinkError(InvalidInput):
    """A link that cannot be proposed, accepted or ended."""


def _live_roles(organisation_ids: set[int]) -> tuple[set[int], set[int]]:
    """Which of these companies are already in a live link, as secondary and as main."""
    rows = db.session.execute(
        select(AccountLink.main_id, AccountLink.secondary_id).where(
            AccountLink.status.in_(LIVE_LINK),
            or_(AccountLink.main_id.in_(organisation_ids), AccountLink.secondary_id.in_(organisation_ids)),
        )
    ).all()
    return {s for _m, s in rows if s in organisation_ids}, {m for m, _s in rows if m in organisation_ids}


def propose(tenancy: Tenancy, user: User, sheet_id: int, main_id: int | None, company_ids: list[int]) -> LinkRequest:
    """ "Valider rattachement": ask the main account's owner to accept the group."""
    row = client_sheets.get(tenancy, sheet_id)
    group = {r.company.id: r.company for r in client_sheets.group_of(tenancy, row.sheet)}
    if main_id not in group:
        raise LinkError({"main_id": _l("Choisissez le compte principal parmi les sociétés du groupe.")})
    chosen = [group[i] for i in dict.fromkeys(company_ids) if i in group and i != main_id]
    if not chosen:
        raise LinkError({"company_ids": _l("Cochez au moins une société à rattacher au compte principal.")})
    secondaries, mains = _live_roles({main_id, *(c.id for c in chosen)})
    if main_id in secondaries:
        raise LinkError({"main_id": _l("Ce compte est déjà rattaché à un autre compte principal.")})
    taken = [c.legal_name for c in chosen if c.id in secondaries or c.id in mains]
    if taken:
        raise LinkError(
            {"company_ids": _l("Déjà rattaché ou en cours de rattachement : %(names)s.", names=", ".join(taken))}
        )
    main = group[main_id]
    request = LinkRequest(agency_id=tenancy.organisation.id, main_id=main.id, requested_by_id=user.id)
    db.session.add(request)
    db.session.flush()
    for company in chosen:
        db.session.add(AccountLink(request_id=request.id, main_id=main.id, secondary_id=company.id))
    # The agency's own request to the main account comes with it, answered right after.
    partnerships.ask_unless_related(tenancy.organisation, main, user)
    audit.record(
        "account_link.requested",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        link_request_id=request.id,
        main_id=main.id,
        secondary_ids=[c.id for c in chosen],
    )
    notifications.tell_owners(
        main.id,
        "link_request",
        agency=tenancy.organisation,
        main=main,
        secondaries=chosen,
        link=url_for("main.home", _external=True),
    )
    db.session.commit()
    return request


# What a request row shows: who asks, who asked, and the accounts to link.
_REQUEST_PARTS = (
    joinedload(LinkRequest.agency),
    joinedload(LinkRequest.requested_by),
    selectinload(LinkRequest.links).joinedload(AccountLink.secondary),
)


def pending_for(tenancy: Tenancy) -> list[LinkRequest]:
    """Link requests waiting for the active organisation (as main account), oldest first."""
    return list(
        db.session.scalars(
            select(LinkRequest)
            .where(LinkRequest.main_id == tenancy.organisation.id, LinkRequest.status == "pending")
            .options(*_REQUEST_PARTS)
            .order_by(LinkRequest.requested_at)
        )
    )


def request_for(tenancy: Tenancy, request_id: int) -> LinkRequest:
    """A request addressed to the active organisation, or 404 (whatever id is guessed)."""
    request = db.session.scalar(
        select(LinkRequest)
        .where(LinkRequest.id == request_id, LinkRequest.main_id == tenancy.organisation.id)
        .options(*_REQUEST_PARTS, joinedload(LinkRequest.main))
    )
    if request is None:
        raise NotFound()
    return request


def decide(tenancy: Tenancy, user: User, request_id: int, accept: bool) -> LinkRequest:
    """ "Accepter groupe" or "Refuser": all the accounts of the request at once, or none."""
    tenancy.require_role("owner")
    request = request_for(tenancy, request_id)
    if request.status != "pending":
        raise LinkError({"decision": _l("Cette demande de rattachement a déjà reçu une réponse.")})
    links = [link for link in request.links if link.status == "pending"]
    now = utcnow()
    if accept:
        _check_runs_them(user, [link.secondary for link in links])
    for link in links:
        link.status = "accepted" if accept else "refused"
        if accept:
            link.accepted_by_id, link.accepted_at = user.id, now
    request.status = "accepted" if accept else "refused"
    request.decided_by_id, request.decided_at = user.id, now
    audit.record(
        f"account_link.{request.status}",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        link_request_id=request.id,
        secondary_ids=[link.secondary_id for link in links],
    )
    notifications.tell_owners(
        request.agency_id,
        "link_decision",
        main=tenancy.organisation,
        secondaries=[link.secondary for link in links],
        accepted=accept,
    )
    db.session.commit()
    return request


def _check_runs_them(user: User, companies: list[Organisation]) -> None:
    """The accepting owner runs each company to link: he owns it, or it has no users yet."""
    members: dict[int, dict[int, str]] = defaultdict(dict)
    for organisation_id, user_id, role in db.session.execute(
        select(Membership.organisation_id, Membership.user_id, Membership.role).where(
            Membership.organisation_id.in_([c.id for c in companies])
        )
    ):
        members[organisation_id][user_id] = role
    foreign = [c.legal_name for c in companies if members[c.id] and members[c.id].get(user.id) != "owner"]
    if foreign:
        raise LinkError(
            {
                "decision": _l(
                    "Vous n'êtes pas responsable de %(names)s sur Vigie : demandez à son responsable de vous ajouter "
                    "à son équipe, puis acceptez le groupe.",
                    names=", ".join(foreign),
                )
            }
        )


@dataclass(frozen=True)
class Links:
    secondaries: list[AccountLink]  # accounts linked under the active organisation
    main: AccountLink | None  # the main account the active organisation is linked under


def of(tenancy: Tenancy) -> Links:
    own = tenancy.organisation.id
    rows = db.session.scalars(
        select(AccountLink)
        .where(or_(AccountLink.main_id == own, AccountLink.secondary_id == own), AccountLink.status == "accepted")
        .options(joinedload(AccountLink.main), joinedload(AccountLink.secondary), joinedload(AccountLink.accepted_by))
    ).all()
    secondaries = sorted((r for r in rows if r.main_id == own), key=lambda r: sort_key(r.secondary.legal_name))
    return Links(secondaries, next((r for r in rows if r.secondary_id == own), None))


def end(tenancy: Tenancy, user: User, link_id: int) -> AccountLink:
    """Unlink, from the main account or from the linked one; the other side is told."""
    tenancy.require_role("owner")
    own = tenancy.organisation.id
    link = db.session.scalar(
        select(AccountLink)
        .where(AccountLink.id == link_id, or_(AccountLink.main_id == own, AccountLink.secondary_id == own))
        .options(joinedload(AccountLink.main), joinedload(AccountLink.secondary))
    )
    if link is None:
        raise NotFound()
    if link.status != "accepted":
        raise LinkError({"decision": _l("Ces comptes ne sont plus rattachés.")})
    link.status, link.ended_by_id, link.ended_at = "ended", user.id, utcnow()
    audit.record(
        "account_link.ended",
        user_id=user.id,
        organisation_id=own,
        link_id=link.id,
        main_id=link.main_id,
        secondary_id=link.secondary_id,
    )
    other = link.secondary if link.main_id == own else link.main
    notifications.tell_owners(other.id, "link_ended", by=tenancy.organisation, main=link.main, secondary=link.secondary)
    db.session.commit()
    return link
