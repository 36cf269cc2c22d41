"""Settings: the only module that reads the environment.

Every variable is read once into a frozen :class:`Settings`. Secrets are wrapped in
:class:`Secret` so that a stray ``repr`` or log line never shows them. Outside local development
a missing credential stops the service with the variable's name.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

# SparkPost's largest batches are a few MiB; the cap only guards memory (product.md "Receiving").
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024
DEFAULT_PORT = 8000
DEFAULT_RETENTION_DAYS = 365
DEFAULT_DATABASE_PORT = 5432
DEFAULT_DATABASE_NAME = "event_data"
DEFAULT_MAINTENANCE_INTERVAL_SECONDS = 300.0
# Exports streaming at once per process; each takes a pooled connection only per chunk.
DEFAULT_EXPORT_CONCURRENCY = 4
# The longest an export may run, however slowly its client reads; past it the download is cut.
DEFAULT_EXPORT_MAX_SECONDS = 3600.0

DEVELOPMENT = "development"
PRODUCTION = "production"

# Documented development credentials (README): only used when EVENT_DATA_ENV=development.
DEV_WEBHOOK_USER = "sparkpost"
DEV_WEBHOOK_PASSWORD = "dev-webhook-password"
DEV_OAUTH_CLIENT_ID = "sparkpost"
DEV_OAUTH_CLIENT_SECRET = "dev-oauth-secret"
DEV_API_KEY = "dev-api-key"
DEV_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/event_data"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Secret:
    """A string that does not show itself in ``repr`` or ``str``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        # Bytes: compare_digest refuses str with non-ASCII characters (TypeError).
        return isinstance(other, Secret) and hmac.compare_digest(
            self._value.encode(), other._value.encode()
        )

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with."""

    environment: str
    database_url: str
    database_password_secret: str | None
    aws_region: str
    aws_endpoint_url: str | None
    # botocore's per-service overrides; each falls back to aws_endpoint_url
    s3_endpoint_url: str | None
    sqs_endpoint_url: str | None
    secretsmanager_endpoint_url: str | None
    bucket: str
    queue_url: str
    # None: found from the queue's RedrivePolicy when a command needs it
    dlq_url: str | None
    archive_prefix: str
    host: str
    port: int
    webhook_user: str | None
    webhook_password: Secret | None
    webhook_token: Secret | None
    oauth_client_id: str | None
    oauth_client_secret: Secret | None
    oauth_token_ttl_seconds: int
    api_keys: tuple[Secret, ...]
    signing_key: Secret
    retention_days: int
    max_body_bytes: int
    archive_timeout_seconds: float
    loader_enabled: bool
    loader_concurrency: int
    db_pool_size: int
    shutdown_timeout_seconds: float
    forwarded_allow_ips: str
    log_level: str
    # seconds between maintenance rounds; 0 turns the maintenance task off
    maintenance_interval_seconds: float = DEFAULT_MAINTENANCE_INTERVAL_SECONDS
    # query API requests per minute per API key; 0 turns the limit off
    rate_limit_per_minute: int = 0
    # exports streaming at once per process (503 beyond), and the longest one may run
    export_concurrency: int = DEFAULT_EXPORT_CONCURRENCY
    export_max_seconds: float = DEFAULT_EXPORT_MAX_SECONDS
    # processes preparing batches for the loader (parse, normalise, encode); 0: a thread
    loader_processes: int = 1

    @property
    def is_development(self) -> bool:
        return self.environment == DEVELOPMENT

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL is a plain ``postgresql://`` URL; SQLAlchemy wants the driver named."""
        scheme, _, rest = self.database_url.partition("://")
        if scheme in ("postgresql", "postgres"):
            return f"postgresql+asyncpg://{rest}"
        return self.database_url


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _available_cpus() -> int:
    """The CPUs this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _non_negative(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if value < 0:
        raise ConfigError(f"{name} must be >= 0, got {value}")
    return value


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if not value > 0:
        raise ConfigError(f"{name} must be > 0, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _required(env: Mapping[str, str], name: str, dev_default: str, development: bool) -> str:
    value = _get(env, name)
    if value is not None:
        return value
    if development:
        return dev_default
    raise ConfigError(f"{name} is required")


def _derive_signing_key(parts: list[str]) -> str:
    """A stable key every task derives alike from the shared secrets when none is given."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return hmac.new(digest.digest(), b"event-data signing key", hashlib.sha256).hexdigest()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default ``os.environ``), failing fast on what is missing."""
    env = os.environ if env is None else env
    environment = (_get(env, "EVENT_DATA_ENV") or PRODUCTION).lower()
    if environment not in (DEVELOPMENT, PRODUCTION):
        raise ConfigError(f"EVENT_DATA_ENV must be {DEVELOPMENT} or {PRODUCTION}")
    dev = environment == DEVELOPMENT

    webhook_user = _get(env, "EVENT_DATA_WEBHOOK_USER")
    webhook_password = _get(env, "EVENT_DATA_WEBHOOK_PASSWORD")
    oauth_client_id = _get(env, "EVENT_DATA_OAUTH_CLIENT_ID")
    oauth_client_secret = _get(env, "EVENT_DATA_OAUTH_CLIENT_SECRET")
    if dev:
        webhook_user = webhook_user or DEV_WEBHOOK_USER
        webhook_password = webhook_password or DEV_WEBHOOK_PASSWORD
        oauth_client_id = oauth_client_id or DEV_OAUTH_CLIENT_ID
        oauth_client_secret = oauth_client_secret or DEV_OAUTH_CLIENT_SECRET
    else:
        _require_pair(webhook_user, webhook_password, oauth_client_id, oauth_client_secret)
    if (oauth_client_id is None) != (oauth_client_secret is None):
        missing = (
            "EVENT_DATA_OAUTH_CLIENT_SECRET"
            if oauth_client_secret is None
            else ("EVENT_DATA_OAUTH_CLIENT_ID")
        )
        raise ConfigError(f"{missing} is required when the other OAuth variable is set")

    raw_keys = _get(env, "EVENT_DATA_API_KEYS")
    if raw_keys is None and dev:
        raw_keys = DEV_API_KEY
    if raw_keys is None:
        raise ConfigError("EVENT_DATA_API_KEYS is required")
    api_keys = tuple(Secret(k.strip()) for k in raw_keys.split(",") if k.strip())
    if not api_keys:
        raise ConfigError("EVENT_DATA_API_KEYS must hold at least one key")

    # Without its own key, the signing key follows the webhook secrets (rotating them ends
    # outstanding tokens, as it should), never the API keys, which rotate on their own.
    signing_key = _get(env, "EVENT_DATA_SIGNING_KEY") or _derive_signing_key(
        [oauth_client_secret or "", webhook_password or ""]
    )
    prefix = _get(env, "EVENT_DATA_ARCHIVE_PREFIX") or "batches/"
    endpoint = _get(env, "AWS_ENDPOINT_URL")
    if not prefix.endswith("/"):
        prefix += "/"

    return Settings(
        environment=environment,
        database_url=_database_url(env, dev),
        database_password_secret=_get(env, "DATABASE_PASSWORD_SECRET_ARN"),
        aws_region=_get(env, "AWS_REGION") or _get(env, "AWS_DEFAULT_REGION") or "us-east-1",
        aws_endpoint_url=endpoint,
        s3_endpoint_url=_get(env, "AWS_ENDPOINT_URL_S3") or endpoint,
        sqs_endpoint_url=_get(env, "AWS_ENDPOINT_URL_SQS") or endpoint,
        # botocore's name: the service id "Secrets Manager", spaces as underscores.
        secretsmanager_endpoint_url=_get(env, "AWS_ENDPOINT_URL_SECRETS_MANAGER") or endpoint,
        bucket=_required(env, "EVENT_DATA_BUCKET", "event-data-archive", dev),
        queue_url=_required(env, "EVENT_DATA_QUEUE_URL", "", dev),
        dlq_url=_get(env, "EVENT_DATA_DLQ_URL"),
        archive_prefix=prefix,
        host=_get(env, "EVENT_DATA_HOST") or "127.0.0.1",
        port=_int(env, "EVENT_DATA_PORT", DEFAULT_PORT, minimum=1),
        webhook_user=webhook_user,
        webhook_password=Secret(webhook_password) if webhook_password is not None else None,
        webhook_token=_secret(_get(env, "EVENT_DATA_WEBHOOK_TOKEN")),
        oauth_client_id=oauth_client_id,
        oauth_client_secret=_secret(oauth_client_secret),
        oauth_token_ttl_seconds=_int(env, "EVENT_DATA_OAUTH_TOKEN_TTL_SECONDS", 3600, minimum=60),
        api_keys=api_keys,
        signing_key=Secret(signing_key),
        retention_days=_int(env, "EVENT_DATA_RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
        max_body_bytes=_int(env, "EVENT_DATA_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1),
        archive_timeout_seconds=_float(env, "EVENT_DATA_ARCHIVE_TIMEOUT_SECONDS", 6.0),
        loader_enabled=_bool(env, "EVENT_DATA_LOADER_ENABLED", True),
        loader_concurrency=_int(env, "EVENT_DATA_LOADER_CONCURRENCY", 4, minimum=1),
        loader_processes=_int(env, "EVENT_DATA_LOADER_PROCESSES", _available_cpus()),
        db_pool_size=_int(env, "EVENT_DATA_DB_POOL_SIZE", 10, minimum=1),
        shutdown_timeout_seconds=_float(env, "EVENT_DATA_SHUTDOWN_TIMEOUT_SECONDS", 15.0),
        # uvicorn's own variable: the proxies whose X-Forwarded-* headers are believed (the ALB).
        forwarded_allow_ips=_get(env, "FORWARDED_ALLOW_IPS") or "*",
        log_level=(_get(env, "EVENT_DATA_LOG_LEVEL") or "info").lower(),
        maintenance_interval_seconds=_non_negative(
            env, "EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS", DEFAULT_MAINTENANCE_INTERVAL_SECONDS
        ),
        rate_limit_per_minute=_int(env, "EVENT_DATA_RATE_LIMIT_PER_MINUTE", 0),
        export_concurrency=_int(
            env, "EVENT_DATA_EXPORT_CONCURRENCY", DEFAULT_EXPORT_CONCURRENCY, minimum=1
        ),
        export_max_seconds=_positive(
            env, "EVENT_DATA_EXPORT_MAX_SECONDS", DEFAULT_EXPORT_MAX_SECONDS
        ),
    )


def _database_url(env: Mapping[str, str], development: bool) -> str:
    """DATABASE_URL, or one assembled from its parts.

    On ECS the parts come from RDS's own secret for the master user, which Terraform never
    sees, so no URL can be written down ahead of time. With DATABASE_PASSWORD_SECRET_ARN the
    password is read from that secret as connections open (event_data.dbsecret), not from here.
    """
    url = _get(env, "DATABASE_URL")
    host = _get(env, "DATABASE_HOST")
    if url is not None or host is None:
        return url or _required(env, "DATABASE_URL", DEV_DATABASE_URL, development)
    user = _get(env, "DATABASE_USER")
    password = _get(env, "DATABASE_PASSWORD")
    if user is None:
        raise ConfigError("DATABASE_USER is required with DATABASE_HOST")
    if password is None and _get(env, "DATABASE_PASSWORD_SECRET_ARN") is None:
        raise ConfigError(
            "DATABASE_PASSWORD (or DATABASE_PASSWORD_SECRET_ARN) is required with DATABASE_HOST"
        )
    port = _int(env, "DATABASE_PORT", DEFAULT_DATABASE_PORT, minimum=1)
    name = _get(env, "DATABASE_NAME") or DEFAULT_DATABASE_NAME
    # Generated passwords hold URL characters (@, /, :, %): quote every part.
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"postgresql://{credentials}@{host}:{port}/{quote(name, safe='')}"


def _secret(value: str | None) -> Secret | None:
    return Secret(value) if value is not None else None


def _require_pair(
    user: str | None, password: str | None, client_id: str | None, client_secret: str | None
) -> None:
    """Production needs webhook credentials: basic auth, OAuth2, or both."""
    if client_id is not None and client_secret is not None and user is None and password is None:
        return
    if user is None:
        raise ConfigError("EVENT_DATA_WEBHOOK_USER is required")
    if password is None:
        raise ConfigError("EVENT_DATA_WEBHOOK_PASSWORD is required")
