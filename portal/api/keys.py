"""API keys: created by an owner for his company, shown once, stored hashed, revocable.

A key acts as the membership of the owner who created it (same use-cases, same tenant rules as
his pages), narrowed by its scopes; it stops working when it expires, is revoked, or when that
owner is no longer an owner of the company.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import contains_eager

from portal.core import audit, clock
from portal.core import tenancy as tenancy_rules
from portal.core.exceptions import InvalidInput
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.models import API_SCOPES, ApiKey, Membership, User

PREFIX_BYTES, SECRET_BYTES = 6, 32
# Writing last_used_at on every request would make each read a write: once a minute is enough.
LAST_USED_EVERY = timedelta(minutes=1)
SCOPE_LABELS = {
    "suppliers:read": _l("Lire mes fournisseurs et leur conformité"),
    "documents:read": _l("Lire et télécharger les documents"),
    "documents:write": _l("Déposer mes propres documents"),
    "requirements:write": _l("Modifier les documents demandés"),
    "partners:write": _l("Envoyer des demandes de mise en relation"),
    "webhooks:write": _l("Gérer les webhooks"),
    "engagements:write": _l("Enregistrer mes engagements (contrats, commandes)"),
}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def listed(tenancy: Tenancy) -> list[ApiKey]:
    tenancy.require_role("owner")
    return list(
        db.session.scalars(
            select(ApiKey).where(ApiKey.organisation_id == tenancy.organisation.id).order_by(ApiKey.id.desc())
        )
    )


def create(
    tenancy: Tenancy, user: User, *, name: str, scopes: list[str], expires_on: date | None
) -> tuple[ApiKey, str]:
    """The new key and its secret, which is never shown again."""
    tenancy.require_role("owner")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _l("Donnez un nom à cette clé (par exemple « ERP achats »).")
    elif len(name) > 80:
        errors["name"] = _l("80 caractères au plus.")
    if not scopes or any(scope not in API_SCOPES for scope in scopes):
        errors["scopes"] = _l("Choisissez au moins un droit.")
    if expires_on is not None and expires_on <= clock.today():
        errors["expires_on"] = _l("La date d'expiration doit être dans le futur.")
    if errors:
        raise InvalidInput(errors)
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = f"vk_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    # Valid through that Paris day: it ends at the next midnight.
    expires_at = clock.stored_midnight(expires_on + timedelta(days=1)) if expires_on is not None else None
    key = ApiKey(
        organisation_id=tenancy.organisation.id,
        created_by_id=user.id,
        name=name,
        prefix=prefix,
        key_hash=_hash(secret),
        scopes=[scope for scope in API_SCOPES if scope in scopes],
        expires_at=expires_at,
    )
    db.session.add(key)
    db.session.flush()
    audit.record("api_key.created", user_id=user.id, organisation_id=key.organisation_id, key_id=key.id, name=name)
    db.session.commit()
    return key, secret


def last_day(key: ApiKey) -> date | None:
    """The last Paris day a key works (what its owner chose), None when it does not expire."""
    return clock.paris_date(key.expires_at) - timedelta(days=1) if key.expires_at is not None else None


def revoke(tenancy: Tenancy, user: User, key_id: int) -> ApiKey:
    tenancy.require_role("owner")
    key = tenancy_rules.owned(ApiKey, key_id, tenancy.organisation.id)
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by_id = clock.stored_now(), user.id
        audit.record("api_key.revoked", user_id=user.id, organisation_id=key.organisation_id, key_id=key.id)
        db.session.commit()
    return key


@dataclass(frozen=True)
class Caller:
    """Who an API request acts for: a valid key, as plain values read with it, and (loaded when a
    use-case needs them) the tenancy and user of its creator's membership."""

    key_id: int
    organisation_id: int
    user_id: int
    membership_id: int
    scopes: tuple[str, ...]
    last_used_at: datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    @functools.cached_property
    def tenancy(self) -> Tenancy:
        membership = db.session.scalars(
            select(Membership)
            .join(Membership.organisation)
            .join(Membership.user)
            .options(contains_eager(Membership.organisation), contains_eager(Membership.user))
            .where(Membership.id == self.membership_id)
        ).one()
        return Tenancy(membership=membership, memberships=[membership])

    @property
    def user(self) -> User:
        return self.tenancy.membership.user


# Plain columns, not entities: this runs on every API request, and most answer from the key alone.
KEY_WITH_OWNER = (
    select(
        ApiKey.id,
        ApiKey.organisation_id,
        ApiKey.created_by_id,
        ApiKey.key_hash,
        ApiKey.scopes,
        ApiKey.expires_at,
        ApiKey.revoked_at,
        ApiKey.last_used_at,
        Membership.id.label("membership_id"),
    )
    .join(
        Membership,
        (Membership.user_id == ApiKey.created_by_id)
        & (Membership.organisation_id == ApiKey.organisation_id)
        & (Membership.role == "owner"),
    )
    .join(User, (User.id == ApiKey.created_by_id) & User.active)
    .where(ApiKey.prefix == bindparam("prefix"))
)


def authenticate(presented: str) -> Caller | None:
    """The caller a bearer key names, or None (unknown, wrong, revoked, expired, owner gone or
    deactivated): one query."""
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != "vk" or len(parts[1]) != PREFIX_BYTES * 2:
        return None
    row = db.session.connection().execute(KEY_WITH_OWNER, {"prefix": parts[1]}).first()
    if row is None or not hmac.compare_digest(row.key_hash, _hash(presented)):
        return None
    now = clock.stored_now()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return Caller(
        key_id=row.id,
        organisation_id=row.organisation_id,
        user_id=row.created_by_id,
        membership_id=row.membership_id,
        scopes=tuple(row.scopes),
        last_used_at=row.last_used_at,
    )


def record_use(caller: Caller, method: str, path: str, status: int) -> None:
    """Every use in the audit log; last_used_at at most once a minute. Commits."""
    now = clock.stored_now()
    audit.record_now(
        "api.request",
        user_id=caller.user_id,
        organisation_id=caller.organisation_id,
        key_id=caller.key_id,
        method=method,
        path=path[:300],
        status=status,
    )
    if caller.last_used_at is None or caller.last_used_at < now - LAST_USED_EVERY:
        db.session.execute(update(ApiKey).where(ApiKey.id == caller.key_id).values(last_used_at=now))
    db.session.commit()
