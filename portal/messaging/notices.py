"""What Vigie tells each user, and when: one digest a day at most instead of a stream.

A feature that has something to tell calls ``notify`` with the users, a kind and a unique key.
The user's preference for that kind decides:

- ``immediate``: the kind's own email goes now, and the notice is marked sent (a refusal sent at
  once is never repeated in a digest);
- ``daily`` / ``weekly``: the notice waits; ``run`` (08:00 Paris) sends every waiting notice of a
  user in **one** email, most urgent first, the weekly ones on Mondays only. A ``Digest`` row,
  unique per user and day, makes a second digest the same day impossible;
- ``never``: kept as skipped, for the optional kinds only: legal reminders can be grouped, never
  switched off.

A notice sent on behalf of clients (``for_clients``) is skipped when every one of them has paused
its reminders to this supplier (``ReminderPause`` granted until a day not past).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from portal.core import clock, outbox
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.messaging import notifications
from portal.models import (
    Digest,
    Notice,
    NotificationPreference,
    Organisation,
    Partnership,
    ReminderPause,
    User,
    utcnow,
)


@dataclass(frozen=True)
class Kind:
    code: str
    side: str  # "supplier": about the company's own file; "client": about its suppliers
    label: object
    legal: bool  # a legal reminder: grouped at most, never switched off
    default: str
    urgency: int  # 0 first


KINDS = (
    Kind("document_refused", "supplier", _l("Document refusé, à remplacer"), True, "immediate", 0),
    Kind("legal_expiry", "supplier", _l("Documents obligatoires qui expirent ou ont expiré"), True, "daily", 1),
    Kind("vigilance_checkpoint", "supplier", _l("Échéances de vigilance légale de vos clients"), True, "daily", 2),
    Kind("partner_request", "supplier", _l("Demandes de mise en relation en attente"), False, "daily", 3),
    Kind("new_requirement", "supplier", _l("Nouvelles exigences d'un client"), False, "daily", 4),
    Kind("other_expiry", "supplier", _l("Autres documents qui expirent"), False, "daily", 5),
    Kind("pause_answer", "supplier", _l("Réponses à vos demandes de pause"), False, "immediate", 6),
    Kind("pause_request", "client", _l("Demandes de pause des relances"), False, "immediate", 0),
    Kind("supplier_noncompliant", "client", _l("Fournisseurs devenus non conformes"), False, "weekly", 1),
    Kind("supplier_expiring", "client", _l("Documents de fournisseurs expirant sous 30 jours"), False, "weekly", 2),
    Kind("request_waiting", "client", _l("Demandes envoyées toujours sans réponse"), False, "weekly", 3),
)
BY_CODE = {kind.code: kind for kind in KINDS}
CADENCE_LABELS = {
    "immediate": _l("Tout de suite"),
    "daily": _l("Récapitulatif du jour"),
    "weekly": _l("Récapitulatif du lundi"),
    "never": _l("Jamais"),
}


def url(endpoint: str, **values) -> str:
    """An absolute link for a message, from a request or from a job (``PUBLIC_URL``)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


# --- preferences --------------------------------------------------------------------------------


def cadences(user_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    """Every stored choice of these users (one query); absent: the kind's default."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.kind, NotificationPreference.cadence).where(
            NotificationPreference.user_id.in_(ids)
        )
    )
    return {(user_id, kind): cadence for user_id, kind, cadence in rows}


def chosen(stored: dict[tuple[int, str], str], user_id: int, kind: str) -> str:
    cadence = stored.get((user_id, kind), BY_CODE[kind].default)
    return "daily" if cadence == "never" and BY_CODE[kind].legal else cadence


def preferences_of(user: User) -> dict[str, str]:
    stored = cadences([user.id])
    return {kind.code: chosen(stored, user.id, kind.code) for kind in KINDS}


def save_preferences(user: User, choices: dict[str, str]) -> dict[str, str]:
    """Store a user's choices (every kind given); the waiting notices follow the new choice.
    Returns the kinds that changed (caller audits and commits)."""
    errors = {}
    for code, cadence in choices.items():
        kind = BY_CODE.get(code)
        if kind is None or cadence not in CADENCE_LABELS:
            errors[code] = _l("Choisissez une des propositions.")
        elif cadence == "never" and kind.legal:
            errors[code] = _l("Rappel d'une obligation légale : il peut être regroupé, pas désactivé.")
    if errors:
        raise InvalidInput(errors)
    stored = {
        p.kind: p
        for p in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    before = {(user.id, kind): row.cadence for kind, row in stored.items()}
    changed = {code: cadence for code, cadence in choices.items() if chosen(before, user.id, code) != cadence}
    for code, cadence in changed.items():
        row = stored.get(code) or NotificationPreference(user_id=user.id, kind=code, cadence=cadence)
        row.cadence, row.updated_at = cadence, utcnow()
        db.session.add(row)
        waiting = update(Notice).where(
            Notice.user_id == user.id, Notice.kind == code, Notice.sent_at.is_(None), Notice.skipped.is_(None)
        )
        if cadence == "never":
            db.session.execute(waiting.values(skipped="never"))
        else:  # what waits goes with the next digest, even for "immediate"
            db.session.execute(waiting.values(cadence="daily" if cadence == "immediate" else cadence))
    return changed


# --- pauses -------------------------------------------------------------------------------------


def paused_clients(supplier_ids: Iterable[int], on: date | None = None) -> dict[int, set[int]]:
    """For each supplier, the clients whose reminders it asked to pause and that granted it."""
    ids = list(set(supplier_ids))
    if not ids:
        return {}
    on = on or clock.today()
    found: dict[int, set[int]] = {}
    rows = db.session.execute(
        select(Partnership.target_id, Partnership.requester_id)
        .join(ReminderPause, ReminderPause.partnership_id == Partnership.id)
        .where(
            Partnership.target_id.in_(ids),
            ReminderPause.status == "granted",
            ReminderPause.paused_until >= on,
        )
    )
    for supplier_id, client_id in rows:
        found.setdefault(supplier_id, set()).add(client_id)
    return found


# --- notifying ----------------------------------------------------------------------------------


def notify(
    users: Iterable[User],
    organisation_id: int,
    kind: str,
    key: str,
    line,
    *,
    link: str,
    action=None,
    due_on: date | None = None,
    asked_by=None,
    for_clients: Iterable[int] = (),
    paused: set[int] | None = None,
    template: str | None = None,
    stored: dict | None = None,
    **context,
) -> list[Notice]:
    """Tell these users one thing once (``key``): now, in a digest, or not at all (see module).

    ``line``, ``action`` and ``asked_by`` are lazy strings, read in each user's language;
    ``template`` and ``context``: the kind's own email, for those who want it at once.
    ``stored`` and ``paused``: preferences and pauses already read (sweeps read them in bulk).
    Added in the caller's transaction; a key already known for a user is left as it is."""
    users = list(users)
    if not users:
        return []
    clients = set(for_clients)
    if paused is None and clients:
        paused = paused_clients([organisation_id]).get(organisation_id, set())
    skipped_for_pause = bool(clients) and clients <= (paused or set())
    stored = stored if stored is not None else cadences(u.id for u in users)
    known = set(
        db.session.scalars(select(Notice.user_id).where(Notice.key == key, Notice.user_id.in_([u.id for u in users])))
    )
    made = []
    for user in users:
        if user.id in known:
            continue
        cadence = chosen(stored, user.id, kind)
        with force_locale(user.language):
            notice = Notice(
                user_id=user.id,
                organisation_id=organisation_id,
                kind=kind,
                key=key,
                urgency=BY_CODE[kind].urgency,
                due_on=due_on,
                line=str(line)[:500],
                asked_by=str(asked_by or "")[:500],
                action=str(action or _l("Ouvrir"))[:80],
                link=link,
                cadence=cadence,
            )
        if skipped_for_pause:
            notice.skipped = "paused"
        elif cadence == "never":
            notice.skipped = "never"
        elif cadence == "immediate":
            message = notifications.queue_email(
                user.email,
                template or "notice",
                language=user.language,
                organisation_id=organisation_id,
                user=user,
                notice=notice,
                link=link,
                **context,
            )
            notice.sent_at, notice.message_id = utcnow(), message.id
        db.session.add(notice)
        made.append(notice)
    db.session.flush()
    return made


# --- when ---------------------------------------------------------------------------------------


def digest_time() -> time:
    return time.fromisoformat(current_app.config["DIGEST_TIMES"][0].strip())


def next_send_day(cadence: str, moment: datetime | None = None) -> date | None:
    """The day a notice waiting now goes out (the next digest), None when it never does."""
    if cadence == "never":
        return None
    local = (moment or clock.now()).astimezone(clock.PARIS)
    day = local.date() if local.time() < digest_time() else local.date() + timedelta(days=1)
    if cadence == "weekly":
        day += timedelta(days=(7 - day.weekday()) % 7)
    return day


def waiting(user: User) -> list[tuple[date, Notice]]:
    """What this user's next digests hold, soonest first."""
    notices = db.session.scalars(
        select(Notice)
        .where(Notice.user_id == user.id, Notice.sent_at.is_(None), Notice.skipped.is_(None))
        .order_by(Notice.urgency, Notice.due_on, Notice.id)
    ).all()
    now = clock.now()
    planned = [(next_send_day(n.cadence, now), n) for n in notices]
    return sorted(planned, key=lambda pair: pair[0])


# --- the digest run -----------------------------------------------------------------------------


def _due_cadences(day: date) -> tuple[str, ...]:
    return ("daily", "weekly") if day.weekday() == 0 else ("daily",)


def run(day: date | None = None) -> int:
    """The daily job: one chunk job per batch of users who have something waiting."""
    day = day or clock.today()
    already = exists().where(Digest.user_id == Notice.user_id, Digest.day == day)
    user_ids = sorted(
        db.session.scalars(
            select(Notice.user_id)
            .where(
                Notice.sent_at.is_(None),
                Notice.skipped.is_(None),
                Notice.cadence.in_(_due_cadences(day)),
                ~already,
            )
            .distinct()
        )
    )
    size = current_app.config["DIGEST_CHUNK_USERS"]
    for start in range(0, len(user_ids), size):
        chunk = user_ids[start : start + size]
        outbox.enqueue("send_digest_chunk", queue="email", user_ids=",".join(map(str, chunk)), day=day.isoformat())
    db.session.commit()
    return len(user_ids)


def send_chunk(user_ids: list[int], day: date) -> int:
    """One digest per user of the chunk, then their delivery, at most once each. Run twice (a
    worker died), it makes no second digest and only delivers what is still queued."""
    due = _due_cadences(day)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids), User.active.is_(True)))}
    done = set(db.session.scalars(select(Digest.user_id).where(Digest.user_id.in_(user_ids), Digest.day == day)))
    rows = db.session.execute(
        select(Notice, Organisation.legal_name)
        .join(Organisation, Organisation.id == Notice.organisation_id)
        .where(
            Notice.user_id.in_([i for i in users if i not in done]),
            Notice.sent_at.is_(None),
            Notice.skipped.is_(None),
            Notice.cadence.in_(due),
        )
        .order_by(Notice.user_id, Notice.urgency, Notice.due_on, Notice.id)
    ).all()
    by_user: dict[int, list[tuple[Notice, str]]] = {}
    for notice, company in rows:
        by_user.setdefault(notice.user_id, []).append((notice, company))
    made = 0
    links = {"preferences": url("notifications.preferences"), "inviters": url("notifications.inviters")}
    for user_id, items in by_user.items():
        user = users[user_id]
        digest = Digest(user_id=user_id, day=day, item_count=len(items))
        db.session.add(digest)
        try:
            db.session.flush()
        except IntegrityError:  # another run made it: never two a day
            db.session.rollback()
            continue
        groups: dict[str, list[Notice]] = {}
        for notice, company in items:
            groups.setdefault(company, []).append(notice)
        message = notifications.queue_email(
            user.email,
            "digest",
            language=user.language,
            organisation_id=items[0][0].organisation_id,
            deliver_later=False,
            user=user,
            day=day,
            groups=groups,
            count=len(items),
            urgent=sum(1 for n, _ in items if n.urgency == 0),
            **links,
        )
        digest.message_id = message.id
        now = utcnow()
        for notice, _ in items:
            notice.sent_at, notice.digest_id = now, digest.id
        made += 1
        if made % 100 == 0:
            db.session.commit()
    db.session.commit()
    queued = db.session.scalars(
        select(Digest.message_id).where(Digest.user_id.in_(user_ids), Digest.day == day, Digest.message_id.is_not(None))
    ).all()
    for message_id in notifications.deliver_many(list(queued), notifications.mailer()):
        job = outbox.enqueue("deliver_message", queue="email", message_id=message_id)  # the mail server
        job.run_after = utcnow() + timedelta(minutes=5)  # was not there: try again later
    db.session.commit()
    return made
