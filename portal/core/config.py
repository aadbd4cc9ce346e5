"""Settings, read from the environment only."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    pass


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(env: str, instance_path: Path) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError("SECRET_KEY must be set when VIGIE_ENV=production.")
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _hourly(every: int) -> list[str]:
    """The times of day of a sync every N hours (Europe/Paris), at five past."""
    if not 1 <= every <= 24:
        raise ConfigError("PLATFORM_SYNC_EVERY_HOURS must be between 1 and 24.")
    return [f"{hour:02d}:05" for hour in range(0, 24, every)]


def load(instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = os.environ.get("VIGIE_ENV", "development")
    if env not in {"development", "production"}:
        raise ConfigError("VIGIE_ENV must be 'development' or 'production'.")
    instance = Path(instance_path)
    production = env == "production"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'vigie.db'}"
    if production and database_url.startswith("sqlite"):
        raise ConfigError("DATABASE_URL must point to PostgreSQL when VIGIE_ENV=production.")
    redis_url = os.environ.get("REDIS_URL") or None
    sms_sender = os.environ.get("SMS_SENDER", "Vigie")
    if not re.fullmatch(r"[A-Za-z0-9]{1,11}", sms_sender):
        raise ConfigError("SMS_SENDER must be 1 to 11 letters or digits (an alphanumeric SMS sender).")
    return {
        "VIGIE_ENV": env,
        "SECRET_KEY": _secret_key(env, instance),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "QUEUE_BACKEND": "rq" if redis_url else "inprocess",
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Redis down: the limiter counts in memory meanwhile (and says so in the log) instead of
        # answering 500 on the login and password-reset forms.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per 15 minutes"),
        # Looser, against password spraying: offices and proxies put many people behind one address.
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "100 per 15 minutes"),
        # How many proxies in front of Vigie set X-Forwarded-For (0: trust none, use the peer address).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # A login lasts a working day, or 30 days with "Rester connecté" (never more).
        "SESSION_HOURS": int(os.environ.get("SESSION_HOURS", "24")),
        "REMEMBER_DAYS": min(int(os.environ.get("REMEMBER_DAYS", "30")), 30),
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "SERVER_NAME": os.environ.get("SERVER_NAME") or None,
        # In development the site is where `make run` serves it: `PORT=5101 make run` links to 5101.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '5000'}",
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ["fr", "en"],
        "PASSWORD_HASH_METHOD": "scrypt",
        "PASSWORD_RESET_MAX_AGE": 3600,
        "INVITATION_MAX_AGE": 14 * 24 * 3600,
        "OUTBOX_SWEEP_AFTER": 60,
        # Untrusted files are read and drawn in a child process within these limits (core.sandbox).
        "PREVIEW_SECONDS": 10,
        "PREVIEW_MEMORY_MB": 1024,
        "PRECHECK_REQUEST_SECONDS": 3,  # past this, the pre-check goes on in a job
        "PRECHECK_JOB_SECONDS": 60,
        # The share of the documents eligible to automatic validation still checked by an operator.
        # The issuers' verification pages ({code}: the code, when the page takes it in its address).
        "VERIFY_URSSAF_URL": os.environ.get(
            "VERIFY_URSSAF_URL",
            "https://www.urssaf.fr/accueil/outils-documentation/outils/verification-attestation.html",
        ),
        "VERIFY_KBIS_URL": os.environ.get(
            "VERIFY_KBIS_URL", "https://www.infogreffe.fr/controle/verif?codeVerif={code}"
        ),
        "AUTO_VALIDATION_SAMPLE": float(os.environ.get("AUTO_VALIDATION_SAMPLE", "0.10")),
        "PRECHECK_MEMORY_MB": 768,
        # A running job renews its lease every OUTBOX_HEARTBEAT s; after OUTBOX_LEASE s without one
        # (its worker was killed) the sweeper hands it over again.
        "OUTBOX_HEARTBEAT": float(os.environ.get("OUTBOX_HEARTBEAT", "15")),
        "OUTBOX_LEASE": float(os.environ.get("OUTBOX_LEASE", "60")),
        "EXPIRY_WARNING_DAYS": int(os.environ.get("EXPIRY_WARNING_DAYS", "30")),
        "EXPIRY_REMINDER_DAYS": [int(d) for d in os.environ.get("EXPIRY_REMINDER_DAYS", "30,7,0").split(",")],
        "EXPIRED_REMINDER_EVERY_DAYS": int(os.environ.get("EXPIRED_REMINDER_EVERY_DAYS", "7")),
        # The duty of vigilance (L8222-1, D8222-1): from this amount HT, engagements with one
        # supplier in twelve months; suppliers reminded this many days before a checkpoint.
        "VIGILANCE_THRESHOLD_EUROS": int(os.environ.get("VIGILANCE_THRESHOLD_EUROS", "5000")),
        "VIGILANCE_REMIND_DAYS": int(os.environ.get("VIGILANCE_REMIND_DAYS", "30")),
        "VIGILANCE_SWEEP_TIMES": os.environ.get("VIGILANCE_SWEEP_TIMES", "06:15").split(","),
        # One digest a day at most per user (08:00 Paris; Mondays also the weekly notices), in jobs
        # of this many users; invitations not accepted are reminded these days after (per company).
        "DIGEST_TIMES": os.environ.get("DIGEST_TIMES", "08:00").split(","),
        "DIGEST_CHUNK_USERS": int(os.environ.get("DIGEST_CHUNK_USERS", "250")),
        "FOLLOW_UP_DAYS": os.environ.get("FOLLOW_UP_DAYS", "2,4,6,20,30,60,90"),
        "FOLLOW_UP_SWEEP_TIMES": os.environ.get("FOLLOW_UP_SWEEP_TIMES", "07:30").split(","),
        "EXPIRY_SWEEP_TIMES": os.environ.get("EXPIRY_SWEEP_TIMES", "06:00").split(","),
        # After the sweep: the day's compliance of every partnership, for the clients' 12-month curve.
        "COMPLIANCE_SNAPSHOT_TIMES": os.environ.get("COMPLIANCE_SNAPSHOT_TIMES", "06:30").split(","),
        "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "UPLOAD_ROOT": os.environ.get("UPLOAD_ROOT") or None,
        # Files: unset or file:///path (a local directory), or s3://bucket/prefix (any S3 store).
        "STORAGE_URL": os.environ.get("STORAGE_URL") or None,
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
        "STORAGE_SWEEP_TIMES": os.environ.get("STORAGE_SWEEP_TIMES", "04:00").split(","),
        # Files past their type's retention (document_type.retention_years) are removed then.
        "RETENTION_SWEEP_TIMES": os.environ.get("RETENTION_SWEEP_TIMES", "03:30").split(","),
        "OUTBOX_MAX_ATTEMPTS": int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "5")),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND") or ("smtp" if os.environ.get("MAIL_SERVER") else "outbox"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(os.environ.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(os.environ.get("MAIL_USE_SSL")),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Vigie <no-reply@vigie.test>"),
        # The development SMS outbox reports each SMS delivered this many seconds after it went.
        "DEV_SMS_REPORT_SECONDS": float(os.environ.get("DEV_SMS_REPORT_SECONDS", "3")),
        "SMS_BACKEND": os.environ.get("SMS_BACKEND") or ("brevo" if os.environ.get("SMS_API_KEY") else "outbox"),
        "SMS_API_URL": os.environ.get("SMS_API_URL", "https://api.brevo.com/v3"),
        "SMS_API_KEY": os.environ.get("SMS_API_KEY") or None,
        "SMS_SENDER": sms_sender,
        "SMS_TIMEOUT": float(os.environ.get("SMS_TIMEOUT", "10")),
        "SMS_WEBHOOK_TOKEN": os.environ.get("SMS_WEBHOOK_TOKEN") or None,
        # Brevo's transactional email webhook (hard bounces), sent with "Authorization: Bearer <token>".
        "MAIL_WEBHOOK_TOKEN": os.environ.get("MAIL_WEBHOOK_TOKEN") or None,
        "SMS_WEBHOOK_URL": os.environ.get("SMS_WEBHOOK_URL") or None,
        # E-signature provider: the bundled simulator unless a Yousign API key is given.
        "ESIGN_BACKEND": os.environ.get("ESIGN_BACKEND")
        or ("yousign" if os.environ.get("YOUSIGN_API_KEY") else "simulator"),
        "YOUSIGN_API_URL": os.environ.get("YOUSIGN_API_URL", "https://api-sandbox.yousign.app/v3"),
        "YOUSIGN_API_KEY": os.environ.get("YOUSIGN_API_KEY") or None,
        "YOUSIGN_WEBHOOK_SECRET": os.environ.get("YOUSIGN_WEBHOOK_SECRET") or None,
        "ESIGN_TIMEOUT": float(os.environ.get("ESIGN_TIMEOUT", "10")),
        # Encrypts secrets kept in the database (a Fernet key); derived from SECRET_KEY when unset.
        "ENCRYPTION_KEY": os.environ.get("ENCRYPTION_KEY") or None,
        # Company data for "Ajouter un client": the bundled set, or the public API Recherche d'entreprises.
        "COMPANY_DATA_BACKEND": os.environ.get("COMPANY_DATA_BACKEND", "offline"),
        "COMPANY_DATA_API_URL": os.environ.get("COMPANY_DATA_API_URL", "https://recherche-entreprises.api.gouv.fr"),
        "COMPANY_DATA_TIMEOUT": float(os.environ.get("COMPANY_DATA_TIMEOUT", "5")),
        "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
        "IMPORT_MAX_ROWS": int(os.environ.get("IMPORT_MAX_ROWS", "20000")),
        # Requests per API key (limits' syntax); answers carry RateLimit-* headers, 429 Retry-After.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute"),
        # Outgoing webhooks: seconds a receiver has to answer, how long a delivery is retried, after how
        # many days of failures an endpoint is switched off; BACKOFF_SCALE shortens the delays (tests).
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", "10")),
        "WEBHOOK_RETRY_HOURS": int(os.environ.get("WEBHOOK_RETRY_HOURS", "24")),
        "WEBHOOK_DISABLE_AFTER_DAYS": int(os.environ.get("WEBHOOK_DISABLE_AFTER_DAYS", "3")),
        "WEBHOOK_BACKOFF_SCALE": float(os.environ.get("WEBHOOK_BACKOFF_SCALE", "1")),
        # Rows created per transaction by the import job (each chunk commits with its rows' outcome).
        "IMPORT_CHUNK": int(os.environ.get("IMPORT_CHUNK", "250")),
        # External compliance platforms: the bundled simulator, or their HTTP API (one URL each).
        "PLATFORM_BACKEND": os.environ.get("PLATFORM_BACKEND", "simulator"),
        "PLATFORM_API_URLS": {
            "attestation_legale": os.environ.get("ATTESTATION_LEGALE_API_URL", ""),
            "actradis": os.environ.get("ACTRADIS_API_URL", ""),
        },
        "PLATFORM_TIMEOUT": float(os.environ.get("PLATFORM_TIMEOUT", "10")),
        "PLATFORM_RETRIES": int(os.environ.get("PLATFORM_RETRIES", "3")),
        "PLATFORM_SYNC_TIMES": _hourly(int(os.environ.get("PLATFORM_SYNC_EVERY_HOURS", "1"))),
        "SIGNATURE_SYNC_TIMES": os.environ.get("SIGNATURE_SYNC_TIMES", "07:00,13:00").split(","),
    }


def _normalise_db_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
