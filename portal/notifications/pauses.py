"""A supplier asks one client to pause its reminders, with a reason; the client decides: paused
until a day, the relationship ended, or refused with an answer. Every step is audited and told.

While a pause is granted and its day not past, the reminders sent on behalf of that client (its
requirements, its checkpoints, documents only it asks) are skipped (``notices.paused_clients``)."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased
from werkzeug.exceptions import NotFound

from portal.core import audit, clock
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.messaging import notices, notifications
from portal.models import PAUSE_REASONS, Organisation, Partnership, ReminderPause, User, utcnow
from portal.partners import partnerships

REASON_LABELS = {
    "contract_ended": _l("Contrat terminé"),
    "unknown_client": _l("Je ne connais pas ce client"),
    "not_applicable": _l("Document non applicable à mon entreprise"),
    "sent_elsewhere": _l("Documents déjà transmis par un autre moyen"),
    "other": _l("Autre raison"),
}
STATUS_LABELS = {
    "pending": _l("En attente de la décision du client"),
    "granted": _l("Relances en pause"),
    "refused": _l("Pause refusée"),
    "cancelled": _l("Demande retirée"),
    "ended": _l("Relation terminée"),
}
DECISIONS = {"pause": "granted", "end": "ended", "refuse": "refused"}  # decision → audited outcome
MAX_PAUSE_DAYS = 366
COMMENT_MAX = 500


def latest(partnership_ids: list[int]) -> dict[int, ReminderPause]:
    """Each partnership's latest pause request (one query)."""
    if not partnership_ids:
        return {}
    found = {}
    for pause in db.session.scalars(
        select(ReminderPause).where(ReminderPause.partnership_id.in_(partnership_ids)).order_by(ReminderPause.id)
    ):
        found[pause.partnership_id] = pause
    return found


def is_active(pause: ReminderPause | None, on: date | None = None) -> bool:
    return (
        pause is not None
        and pause.status == "granted"
        and pause.paused_until is not None
        and pause.paused_until >= (on or clock.today())
    )


def _supplier_partnership(tenancy: Tenancy, partnership_id: int) -> Partnership:
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None or partnership.target_id != tenancy.organisation.id or partnership.status != "accepted":
        raise NotFound()
    return partnership


def ask(tenancy: Tenancy, user: User, partnership_id: int, reason: str, comment: str) -> ReminderPause:
    """The supplier's request; the client's owners are told (their preference decides when)."""
    tenancy.require_role("owner", "member")
    partnership = _supplier_partnership(tenancy, partnership_id)
    comment = (comment or "").strip()
    errors = {}
    if reason not in PAUSE_REASONS:
        errors["reason"] = _l("Choisissez une raison.")
    if reason == "other" and not comment:
        errors["comment"] = _l("Dites en quelques mots pourquoi.")
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _l("%(max)d caractères au plus.", max=COMMENT_MAX)
    current = latest([partnership.id]).get(partnership.id)
    if current is not None and current.status == "pending":
        errors["reason"] = _l("Une demande de pause attend déjà la décision de ce client.")
    elif is_active(current):
        errors["reason"] = _l(
            "Les relances de ce client sont déjà en pause jusqu'au %(date)s.", date=f"{current.paused_until:%d/%m/%Y}"
        )
    if errors:
        raise InvalidInput(errors)
    pause = ReminderPause(partnership_id=partnership.id, asked_by_id=user.id, reason=reason, comment=comment)
    db.session.add(pause)
    db.session.flush()
    audit.record(
        "reminder_pause.asked",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        partnership_id=partnership.id,
        pause_id=pause.id,
        reason=reason,
    )
    supplier = tenancy.organisation
    owners = notifications.owners({partnership.requester_id}).get(partnership.requester_id, [])
    notices.notify(
        owners,
        partnership.requester_id,
        "pause_request",
        f"pause:{pause.id}:asked",
        _l(
            "%(supplier)s demande une pause de vos relances : %(reason)s.",
            supplier=supplier.legal_name,
            reason=REASON_LABELS[reason],
        ),
        asked_by=_l("Commentaire : %(comment)s", comment=comment) if comment else "",
        action=_l("Décider"),
        link=notices.url("notifications.pauses", _anchor=f"pause-{pause.id}"),
    )
    db.session.commit()
    return pause


def cancel(tenancy: Tenancy, user: User, pause_id: int) -> ReminderPause:
    """The supplier withdraws a request, or ends a pause early: reminders come back."""
    tenancy.require_role("owner", "member")
    pause = db.session.get(ReminderPause, pause_id)
    partnership = db.session.get(Partnership, pause.partnership_id) if pause else None
    if partnership is None or partnership.target_id != tenancy.organisation.id:
        raise NotFound()
    if pause.status not in ("pending", "granted"):
        raise InvalidInput({"pause": _l("Cette demande n'est plus en cours.")})
    pause.status = "cancelled"
    audit.record(
        "reminder_pause.cancelled", user_id=user.id, organisation_id=tenancy.organisation.id, pause_id=pause.id
    )
    db.session.commit()
    return pause


def for_client(tenancy: Tenancy) -> list[tuple[ReminderPause, Organisation, User]]:
    """The client's pause requests, those to decide first, then the latest (one query)."""
    asker = aliased(User)
    rows = db.session.execute(
        select(ReminderPause, Organisation, asker)
        .join(Partnership, Partnership.id == ReminderPause.partnership_id)
        .join(Organisation, Organisation.id == Partnership.target_id)
        .join(asker, asker.id == ReminderPause.asked_by_id)
        .where(Partnership.requester_id == tenancy.organisation.id)
        .order_by((ReminderPause.status != "pending"), ReminderPause.asked_at.desc())
        .limit(200)
    ).all()
    return [tuple(row) for row in rows]


def decide(
    tenancy: Tenancy, user: User, pause_id: int, decision: str, *, until: date | None, answer: str
) -> ReminderPause:
    """The client's decision on a pending request; the supplier who asked is told."""
    tenancy.require_role("owner", "member")
    pause = db.session.get(ReminderPause, pause_id)
    partnership = db.session.get(Partnership, pause.partnership_id) if pause else None
    if partnership is None or partnership.requester_id != tenancy.organisation.id:
        raise NotFound()
    answer = (answer or "").strip()
    errors = {}
    today = clock.today()
    if pause.status != "pending":
        errors["decision"] = _l("Cette demande a déjà reçu une réponse.")
    elif decision not in DECISIONS:
        errors["decision"] = _l("Choisissez une décision.")
    elif decision == "pause" and (until is None or until <= today):
        errors["until"] = _l("Indiquez une date à venir (JJ/MM/AAAA).")
    elif decision == "pause" and until > today + timedelta(days=MAX_PAUSE_DAYS):
        errors["until"] = _l(
            "Une pause dure un an au plus : choisissez une date avant le %(date)s.",
            date=f"{today + timedelta(days=MAX_PAUSE_DAYS):%d/%m/%Y}",
        )
    elif decision == "refuse" and not answer:
        errors["answer"] = _l("Expliquez au fournisseur pourquoi ses relances continuent.")
    if len(answer) > COMMENT_MAX:
        errors["answer"] = _l("%(max)d caractères au plus.", max=COMMENT_MAX)
    if errors:
        raise InvalidInput(errors)
    pause.decided_by_id, pause.decided_at, pause.answer = user.id, utcnow(), answer
    if decision == "pause":
        pause.status, pause.paused_until = "granted", until
    elif decision == "refuse":
        pause.status = "refused"
    audit.record(
        f"reminder_pause.{DECISIONS[decision]}",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        pause_id=pause.id,
        partnership_id=partnership.id,
        paused_until=until.isoformat() if decision == "pause" else None,
    )
    line = {
        "pause": _l(
            "%(client)s met ses relances en pause jusqu'au %(date)s.",
            client=tenancy.organisation.legal_name,
            date=f"{until:%d/%m/%Y}" if until else "",
        ),
        "end": _l(
            "%(client)s a mis fin à votre relation : ses relances s'arrêtent.", client=tenancy.organisation.legal_name
        ),
        "refuse": _l("%(client)s refuse de mettre ses relances en pause.", client=tenancy.organisation.legal_name),
    }[decision]
    asker = db.session.get(User, pause.asked_by_id)
    told = [asker] if asker and asker.active else []
    if decision == "end":
        # partnerships.change tells the supplier's owners the relationship ended, with the answer,
        # whatever their preferences: an asker among them is not told a second time.
        owners = notifications.owners({partnership.target_id}).get(partnership.target_id, [])
        told = [u for u in told if u not in owners]
    notices.notify(
        told,
        partnership.target_id,
        "pause_answer",
        f"pause:{pause.id}:answer",
        line,
        asked_by=_l("Réponse : %(answer)s", answer=answer) if answer else "",
        action=_l("Voir mes clients"),
        link=notices.url("notifications.inviters"),
    )
    db.session.flush()
    if decision == "end":
        pause.status = "ended"
        partnerships.change(tenancy, user, partnership.id, "end", answer=answer)  # commits
    else:
        db.session.commit()
    return pause
