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


def ask(files: list[ClientFile], firm: Organisation, actor: User | None) -> None:
    """Put these files on hold and ask their companies' owners (two queries; caller commits)."""
    if not files:
        return
    company_ids = {f.company_id for f in files}
    companies = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(company_ids)))}
    owners: dict[int, list[tuple[str, str]]] = {}
    for company_id, email, language in db.session.execute(
        select(Membership.organisation_id, User.email, User.language)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id.in_(company_ids), Membership.role == "owner", User.active.is_(True))
    ):
        owners.setdefault(company_id, []).append((email, language))
    link = _home_link()
    for client_file in files:
        client_file.consent = "pending"
        company = companies[client_file.company_id]
        for email, language in owners.get(company.id, []):
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
            owners=len(owners.get(company.id, [])),
        )


def _home_link() -> str:
    """The dashboard's address, in a request or in a job (PUBLIC_URL)."""
    if has_request_context():
        return url_for("main.home", _external=True)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for("main.home", _external=True)


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
