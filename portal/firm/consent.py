"""A company already on Vigie joins a firm's clients only when one of its owners accepts.

A firm may open a client file for any SIRET (it is the firm's own record). When the company
already has users on Vigie, the file starts "pending": its owners are emailed and see the request
in "Partenaires à confirmer"; until one of them accepts, the company's users get no "Espace
cabinet" and the firm shares nothing with them. A company created by the firm (nobody on Vigie
yet) needs no consent: its executive joins by the firm's invitation.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden, NotFound

from portal.core import audit
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.messaging import notifications
from portal.models import ClientFile, Membership, Organisation, User, utcnow


def companies_with_members(company_ids: list[int]) -> set[int]:
    """Of these companies, those someone already runs on Vigie (one query)."""
    if not company_ids:
        return set()
    return set(
        db.session.scalars(select(Membership.organisation_id).where(Membership.organisation_id.in_(company_ids)))
    )


def ask(client_file: ClientFile, firm: Organisation, actor: User | None) -> None:
    """Put the file on hold and ask the company's owners (caller commits)."""
    client_file.consent = "pending"
    owners = db.session.execute(
        select(User.email, User.language)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == client_file.company_id, Membership.role == "owner", User.active.is_(True))
    ).all()
    company = db.session.get(Organisation, client_file.company_id)
    if has_request_context():
        link = url_for("main.home", _external=True)
    else:
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
            link = url_for("main.home", _external=True)
    for email, language in owners:
        notifications.queue_email(
            email,
            "firm_consent_request",
            language=language,
            organisation_id=company.id,
            firm=firm,
            company=company,
            link=link,
        )
    audit.record(
        "client_file.consent_asked",
        user_id=actor.id if actor else None,
        organisation_id=firm.id,
        client_file_id=client_file.id,
        company_id=company.id,
        owners=len(owners),
    )


def pending_for(tenancy: Tenancy) -> list[ClientFile]:
    """The firms waiting for the active company's answer."""
    return list(
        db.session.scalars(
            select(ClientFile)
            .where(ClientFile.company_id == tenancy.organisation.id, ClientFile.consent == "pending")
            .options(joinedload(ClientFile.firm))
            .order_by(ClientFile.created_at)
        )
    )


def decide(tenancy: Tenancy, user: User, file_id: int, *, accept: bool) -> ClientFile:
    """ "Accepter" / "Refuser": an owner of the company only."""
    client_file = db.session.scalar(
        select(ClientFile)
        .where(ClientFile.id == file_id, ClientFile.company_id == tenancy.organisation.id)
        .options(joinedload(ClientFile.firm))
    )
    if client_file is None:
        raise NotFound()
    if tenancy.role != "owner":
        raise Forbidden()
    if client_file.consent != "pending":
        raise InvalidInput({"decision": _l("Cette demande a déjà reçu une réponse.")})
    client_file.consent = "accepted" if accept else "refused"
    client_file.consent_decided_at = utcnow()
    client_file.consent_decided_by_id = user.id
    audit.record(
        "client_file.consent_given" if accept else "client_file.consent_refused",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        client_file_id=client_file.id,
        firm_id=client_file.firm_id,
    )
    db.session.commit()
    return client_file
