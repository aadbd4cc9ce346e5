"""Invitations that follow up: a partner request or an executive's invitation not accepted is
reminded on the inviting company's cadence (default J+2, J+4, J+6, J+20, J+30, J+60, J+90),
and stops as soon as it is accepted, refused, stopped by the inviting side, or its address
bounces. A step is recorded with a unique row before its message goes: the daily sweep run twice
sends nothing twice, and a step missed while Vigie was down is not replayed (the latest due
step goes, once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from portal.accounts import invitations
from portal.core import audit, clock, outbox, tokens
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.messaging import notices, notifications, sms_rules
from portal.models import FollowUp, FollowUpSend, Invitation, Organisation, Partnership, User, utcnow

MAX_DAYS = 365
MAX_STEPS = 12


def default_days() -> list[int]:
    return parse_days(current_app.config["FOLLOW_UP_DAYS"])


def parse_days(text: str) -> list[int]:
    """ "2, 4, 6" or "J+2 J+4" → [2, 4, 6]; raises InvalidInput with a French message."""
    cleaned = text.upper().replace("J+", " ").replace(";", ",").replace(",", " ").split()
    try:
        days = [int(part) for part in cleaned]
    except ValueError:
        raise InvalidInput(
            {"days": _l("Écrivez des nombres de jours séparés par des virgules : 2, 4, 6, 20.")}
        ) from None
    if not days:
        raise InvalidInput({"days": _l("Donnez au moins un jour de relance.")})
    if any(d < 1 or d > MAX_DAYS for d in days) or len(days) > MAX_STEPS:
        raise InvalidInput(
            {
                "days": _l(
                    "Entre 1 et %(max_days)d jours, %(max_steps)d relances au plus.",
                    max_days=MAX_DAYS,
                    max_steps=MAX_STEPS,
                )
            }
        )
    if days != sorted(set(days)):
        raise InvalidInput({"days": _l("Chaque relance vient après la précédente : 2, 4, 6, 20…")})
    return days


def days_of(organisation: Organisation) -> list[int]:
    return parse_days(organisation.follow_up_days) if organisation.follow_up_days else default_days()


def set_days(tenancy: Tenancy, user: User, text: str) -> list[int]:
    tenancy.require_role("owner", "member")
    days = parse_days(text)
    organisation = tenancy.organisation
    organisation.follow_up_days = None if days == default_days() else ",".join(map(str, days))
    audit.record("follow_up.cadence_changed", user_id=user.id, organisation_id=organisation.id, days=days)
    db.session.commit()
    return days


def _next_on(started: datetime, days: list[int], sent: int) -> date | None:
    """The day of the step after ``sent`` steps, None when none is left."""
    return started.date() + timedelta(days=days[sent]) if sent < len(days) else None


def start(
    organisation: Organisation, *, partnership: Partnership | None = None, invitation: Invitation | None = None
) -> FollowUp:
    """The follow-up of an invitation just sent (caller commits)."""
    follow_up = FollowUp(
        organisation_id=organisation.id,
        partnership_id=partnership.id if partnership else None,
        invitation_id=invitation.id if invitation else None,
        email=invitation.email if invitation else None,
        started_at=clock.stored_now(),
    )
    follow_up.next_on = _next_on(follow_up.started_at, days_of(organisation), 0)
    db.session.add(follow_up)
    db.session.flush()
    return follow_up


def stop_for(*, partnership_id: int | None = None, invitation_id: int | None = None, reason: str) -> None:
    """Stop at once what an answer ends (acceptance, refusal), in the caller's transaction."""
    query = select(FollowUp).where(FollowUp.stopped_at.is_(None))
    if partnership_id is not None:
        query = query.where(FollowUp.partnership_id == partnership_id)
    else:
        query = query.where(FollowUp.invitation_id == invitation_id)
    for follow_up in db.session.scalars(query):
        _stop(follow_up, reason)


def _stop(follow_up: FollowUp, reason: str, user_id: int | None = None) -> None:
    follow_up.stopped_at, follow_up.stop_reason, follow_up.next_on = clock.stored_now(), reason, None
    follow_up.stopped_by_id = user_id


def stop(tenancy: Tenancy, user: User, follow_up_id: int) -> FollowUp:
    """The inviting side stops the reminders of one invitation."""
    tenancy.require_role("owner", "member", "collaborator")
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.organisation_id != tenancy.organisation.id:
        raise NotFound()
    if follow_up.stopped_at is None:
        _stop(follow_up, "stopped", user.id)
        audit.record(
            "follow_up.stopped", user_id=user.id, organisation_id=tenancy.organisation.id, follow_up_id=follow_up.id
        )
        db.session.commit()
    return follow_up


# --- what the inviting side sees ----------------------------------------------------------------


@dataclass
class Row:
    follow_up: FollowUp
    who: str  # the company or the address invited
    what: str  # "partner" or "executive"

    @property
    def open(self) -> bool:
        return self.follow_up.stopped_at is None


def of(tenancy: Tenancy) -> list[Row]:
    """The company's follow-ups, open first (two queries)."""
    organisation = tenancy.organisation
    follow_ups = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.organisation_id == organisation.id)
        .order_by(FollowUp.stopped_at.is_not(None), FollowUp.started_at.desc())
        .limit(500)
    ).all()
    targets = dict(
        db.session.execute(
            select(Partnership.id, Organisation.legal_name)
            .join(Organisation, Organisation.id == Partnership.target_id)
            .where(Partnership.id.in_([f.partnership_id for f in follow_ups if f.partnership_id]))
        ).all()
    )
    return [
        Row(f, f.email or targets.get(f.partnership_id, ""), "partner" if f.partnership_id else "executive")
        for f in follow_ups
    ]


# --- the sweep ----------------------------------------------------------------------------------


def _due_step(started: datetime, days: list[int], on: date) -> int:
    """How many steps are due by ``on`` (the latest one is the one to send)."""
    return sum(1 for d in days if started.date() + timedelta(days=d) <= on)


def sweep(on: date | None = None) -> dict:
    """Daily: each open follow-up whose step is due is stopped (answered, bounced) or reminded."""
    on = on or clock.today()
    counts = {"sent": 0, "stopped": 0}
    open_ups = db.session.scalars(
        select(FollowUp).where(FollowUp.stopped_at.is_(None), FollowUp.next_on.is_not(None), FollowUp.next_on <= on)
    ).all()
    if not open_ups:
        return counts
    partnerships = {
        p.id: p
        for p in db.session.scalars(
            select(Partnership).where(Partnership.id.in_([f.partnership_id for f in open_ups if f.partnership_id]))
        )
    }
    invitation_rows = {
        i.id: i
        for i in db.session.scalars(
            select(Invitation).where(Invitation.id.in_([f.invitation_id for f in open_ups if f.invitation_id]))
        )
    }
    organisations = {
        o.id: o
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_(
                    {f.organisation_id for f in open_ups}
                    | {p.target_id for p in partnerships.values()}
                    | {i.organisation_id for i in invitation_rows.values()}
                )
            )
        )
    }
    bounced = notifications.bounced_since({f.email for f in open_ups if f.email})
    owners = notifications.owners(set(organisations))
    for follow_up in open_ups:
        partnership = partnerships.get(follow_up.partnership_id)
        invitation = invitation_rows.get(follow_up.invitation_id)
        reason = _stop_reason(follow_up, partnership, invitation, bounced)
        if reason:
            _stop(follow_up, reason)
            counts["stopped"] += 1
            db.session.commit()
            continue
        inviter = organisations[follow_up.organisation_id]
        days = days_of(inviter)
        step = _due_step(follow_up.started_at, days, on)
        if step <= follow_up.sent_count:
            follow_up.next_on = _next_on(follow_up.started_at, days, step)
            db.session.commit()
            continue
        send = FollowUpSend(follow_up_id=follow_up.id, step=step)
        try:
            db.session.add(send)
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            continue
        _remind(follow_up, send, inviter, partnership, invitation, organisations, owners)
        follow_up.sent_count, follow_up.last_sent_at = step, clock.stored_now()
        follow_up.next_on = _next_on(follow_up.started_at, days, step)
        if follow_up.next_on is None:
            _stop(follow_up, "done")
        db.session.commit()
        counts["sent"] += 1
    return counts


def _stop_reason(follow_up, partnership, invitation, bounced) -> str | None:
    if partnership is not None and partnership.status != "pending":
        return {"accepted": "accepted", "refused": "refused"}.get(partnership.status, "stopped")
    if invitation is not None and invitation.revoked_at is not None:
        return "stopped"
    if invitation is not None and invitation.accepted_at is not None and partnership is None:
        return "accepted"
    if partnership is None and invitation is None:
        return "stopped"
    not_yet_in = invitation is not None and invitation.accepted_at is None
    if not_yet_in and follow_up.email in bounced and bounced[follow_up.email] >= follow_up.started_at:
        return "bounced"
    return None


def _ordinal(step: int):
    return _l("1re relance") if step == 1 else _l("%(num)de relance", num=step)


def _remind(follow_up, send, inviter, partnership, invitation, organisations, owners_of) -> None:
    step = send.step
    if invitation is not None and invitation.accepted_at is None:  # no account yet: the invitation again
        invitation.expires_at = invitations.invitation_expiry()
        company = organisations[invitation.organisation_id]
        by = db.session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
        invitations.send_invitation(
            invitation,
            company,
            by or owners_of.get(inviter.id, [None])[0],
            requester=inviter if partnership is not None else None,
            firm=None if partnership is not None else inviter,
            reminder=step,
        )
    else:  # a company on Vigie: its owners' notice (their digest), and an SMS with the option
        target = organisations[partnership.target_id]
        owners = owners_of.get(target.id, [])
        notices.notify(
            owners,
            target.id,
            "partner_request",
            f"follow_up:{follow_up.id}:{step}",
            _l(
                "Rappel : %(client)s attend votre réponse à sa demande de mise en relation du %(date)s.",
                client=inviter.legal_name,
                date=f"{partnership.requested_at:%d/%m/%Y}",
            ),
            asked_by=_l(
                "%(client)s (SIREN %(siren)s) vous l'a demandé. Vous ne le connaissez pas ? Refusez la demande.",
                client=inviter.legal_name,
                siren=inviter.siren,
            ),
            action=_l("Accepter ou refuser"),
            link=notices.url("notifications.inviters"),
        )
        if inviter.reminders_enabled:
            when = sms_rules.next_opening(clock.now())
            for owner in owners:
                if not owner.mobile_phone:
                    continue
                with force_locale(owner.language):
                    text = str(
                        _l(
                            "Vigie : %(client)s attend votre réponse à sa demande de mise en relation. %(link)s",
                            client=inviter.legal_name[:60],
                            link=notices.url("notifications.inviters"),
                        )
                    )
                message = notifications.queue_sms(
                    owner.mobile_phone, text, tag="follow_up", organisation_id=inviter.id, deliver_later=False
                )
                job = outbox.enqueue("deliver_message", queue="sms", message_id=message.id)
                job.run_after = when.astimezone(UTC).replace(tzinfo=None)  # SMS hours only
                send.by_sms = True
    if partnership is not None:  # the inviting side's weekly summary
        notices.notify(
            owners_of.get(inviter.id, []),
            inviter.id,
            "request_waiting",
            f"follow_up:{follow_up.id}:{step}:waiting",
            _l(
                "%(who)s n'a pas encore répondu à votre demande : %(ordinal)s envoyée.",
                who=follow_up.email or organisations[partnership.target_id].legal_name,
                ordinal=_ordinal(step),
            ),
            action=_l("Voir les relances"),
            link=notices.url("notifications.follow_ups"),
        )


# --- "je ne connais pas cette entreprise" -------------------------------------------------------

DECLINE_MAX_AGE = 400 * 24 * 3600


def invitation_to_decline(token: str) -> tuple[Invitation, Organisation]:
    """The open invitation behind a refusal link, and who sent it (404 otherwise)."""
    try:
        data = tokens.read(invitations.DECLINE, token, DECLINE_MAX_AGE)
    except tokens.InvalidToken:
        raise NotFound() from None
    invitation = db.session.get(Invitation, data.get("iid"))
    if invitation is None:
        raise NotFound()
    follow_up = db.session.scalar(select(FollowUp).where(FollowUp.invitation_id == invitation.id))
    inviter = db.session.get(Organisation, follow_up.organisation_id) if follow_up else None
    return invitation, inviter


def decline(token: str) -> Invitation:
    """The invited person refuses: the link stops working, the request is refused, reminders stop,
    and the inviting company is told."""
    invitation, inviter = invitation_to_decline(token)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = utcnow()
    partnership = db.session.scalar(
        select(Partnership)
        .join(FollowUp, FollowUp.partnership_id == Partnership.id)
        .where(FollowUp.invitation_id == invitation.id, Partnership.status == "pending")
    )
    if partnership is not None:
        partnership.status, partnership.decided_at = "refused", utcnow()
    stop_for(invitation_id=invitation.id, reason="refused")
    audit.record(
        "invitation.declined",
        organisation_id=inviter.id if inviter else None,
        invitation_id=invitation.id,
        partnership_id=partnership.id if partnership else None,
    )
    if inviter is not None:
        company = db.session.get(Organisation, invitation.organisation_id)
        notifications.tell_owners(inviter.id, "invitation_declined", company=company, email=invitation.email)
    db.session.commit()
    return invitation
