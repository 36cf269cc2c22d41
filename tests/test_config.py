"""Settings fail fast, naming the variable; secrets never show themselves."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from event_data.config import ConfigError, load_settings

PRODUCTION = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x",
    "EVENT_DATA_BUCKET": "b",
    "EVENT_DATA_QUEUE_URL": "http://q",
    "EVENT_DATA_WEBHOOK_USER": "u",
    "EVENT_DATA_WEBHOOK_PASSWORD": "p",
    "EVENT_DATA_API_KEYS": "k1, k2",
}


@pytest.mark.parametrize(
    "missing",
    [
        "DATABASE_URL",
        "EVENT_DATA_BUCKET",
        "EVENT_DATA_QUEUE_URL",
        "EVENT_DATA_WEBHOOK_USER",
        "EVENT_DATA_WEBHOOK_PASSWORD",
        "EVENT_DATA_API_KEYS",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


def test_oauth_alone_is_enough_webhook_credentials() -> None:
    env = {
        k: v
        for k, v in PRODUCTION.items()
        if k not in ("EVENT_DATA_WEBHOOK_USER", "EVENT_DATA_WEBHOOK_PASSWORD")
    }
    env |= {"EVENT_DATA_OAUTH_CLIENT_ID": "c", "EVENT_DATA_OAUTH_CLIENT_SECRET": "s"}
    settings = load_settings(env)
    assert settings.webhook_user is None
    assert settings.oauth_client_id == "c"


def test_half_an_oauth_pair_is_refused() -> None:
    with pytest.raises(ConfigError, match="EVENT_DATA_OAUTH_CLIENT_SECRET"):
        load_settings(PRODUCTION | {"EVENT_DATA_OAUTH_CLIENT_ID": "c"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EVENT_DATA_PORT", "eighty"),
        ("EVENT_DATA_RETENTION_DAYS", "-1"),
        ("EVENT_DATA_MAX_BODY_BYTES", "0"),
        ("EVENT_DATA_LOADER_ENABLED", "maybe"),
        ("EVENT_DATA_ENV", "staging"),
        ("EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS", "-5"),
        ("EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS", "often"),
        ("EVENT_DATA_RATE_LIMIT_PER_MINUTE", "-1"),
        ("EVENT_DATA_EXPORT_CONCURRENCY", "0"),
        ("EVENT_DATA_EXPORT_MAX_SECONDS", "0"),
        ("EVENT_DATA_EXPORT_MAX_SECONDS", "long"),
    ],
)
def test_malformed_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(PRODUCTION | {name: value})


def test_defaults_and_parsing() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.port == 8000
    assert settings.retention_days == 365
    assert settings.max_body_bytes == 25 * 1024 * 1024
    assert [k.reveal() for k in settings.api_keys] == ["k1", "k2"]
    assert settings.sqlalchemy_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/x"
    assert settings.archive_prefix == "batches/"
    assert settings.maintenance_interval_seconds == 300
    assert settings.rate_limit_per_minute == 0
    assert settings.dlq_url is None
    assert settings.export_concurrency == 4
    assert settings.export_max_seconds == 3600
    tuned = load_settings(
        PRODUCTION
        | {
            "EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS": "0",
            "EVENT_DATA_RATE_LIMIT_PER_MINUTE": "120",
            "EVENT_DATA_DLQ_URL": "http://dlq",
            "EVENT_DATA_EXPORT_CONCURRENCY": "8",
            "EVENT_DATA_EXPORT_MAX_SECONDS": "600",
        }
    )
    assert (tuned.export_concurrency, tuned.export_max_seconds) == (8, 600)
    assert tuned.maintenance_interval_seconds == 0
    assert tuned.rate_limit_per_minute == 120
    assert tuned.dlq_url == "http://dlq"


def test_secrets_do_not_show_in_repr() -> None:
    settings = load_settings(
        PRODUCTION
        | {"EVENT_DATA_OAUTH_CLIENT_ID": "c", "EVENT_DATA_OAUTH_CLIENT_SECRET": "oauth-s3cret"}
    )
    text = repr(settings)
    for secret in ("oauth-s3cret", "k1", "k2"):
        assert secret not in text
    assert "p'" not in text


def test_development_has_documented_defaults() -> None:
    settings = load_settings({"EVENT_DATA_ENV": "development"})
    assert settings.webhook_user == "sparkpost"
    assert settings.api_keys[0].reveal() == "dev-api-key"


def test_serve_without_credentials_exits_naming_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVENT_DATA_", "DATABASE_URL"))}
    env |= {k: v for k, v in PRODUCTION.items() if k != "EVENT_DATA_API_KEYS"}
    result = subprocess.run(
        [sys.executable, "-m", "event_data.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "EVENT_DATA_API_KEYS" in result.stderr


PARTS = {k: v for k, v in PRODUCTION.items() if k != "DATABASE_URL"} | {
    "DATABASE_HOST": "db.example.internal",
    "DATABASE_USER": "event_data",
    "DATABASE_PASSWORD": "p@ss:w/rd%?#",
}


def test_database_url_is_assembled_from_parts_with_a_password_of_url_characters() -> None:
    from sqlalchemy.engine import make_url

    url = make_url(load_settings(PARTS | {"DATABASE_PORT": "6432"}).sqlalchemy_url)
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port, url.database) == ("db.example.internal", 6432, "event_data")
    assert (url.username, url.password) == ("event_data", "p@ss:w/rd%?#")


def test_database_url_wins_over_parts() -> None:
    settings = load_settings(PARTS | {"DATABASE_URL": PRODUCTION["DATABASE_URL"]})
    assert settings.database_url == PRODUCTION["DATABASE_URL"]


@pytest.mark.parametrize("missing", ["DATABASE_USER", "DATABASE_PASSWORD"])
def test_database_parts_name_what_is_missing(missing: str) -> None:
    env = {k: v for k, v in PARTS.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


def test_s3_and_sqs_endpoints_can_be_set_apart_like_botocore() -> None:
    plain = load_settings(PRODUCTION)
    assert (plain.s3_endpoint_url, plain.sqs_endpoint_url, plain.dlq_url) == (None, None, None)
    shared = load_settings({**PRODUCTION, "AWS_ENDPOINT_URL": "http://aws"})
    assert (shared.s3_endpoint_url, shared.sqs_endpoint_url) == ("http://aws", "http://aws")
    apart = load_settings(
        {**PRODUCTION, "AWS_ENDPOINT_URL": "http://aws", "AWS_ENDPOINT_URL_S3": "http://s3"}
    )
    assert (apart.s3_endpoint_url, apart.sqs_endpoint_url) == ("http://s3", "http://aws")
    assert apart.secretsmanager_endpoint_url == "http://aws"
    # The per-service setting wins over the global one, as in botocore.
    secrets = load_settings(
        {
            **PRODUCTION,
            "AWS_ENDPOINT_URL": "http://aws",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://secrets",
        }
    )
    assert secrets.secretsmanager_endpoint_url == "http://secrets"
    assert (secrets.s3_endpoint_url, secrets.sqs_endpoint_url) == ("http://aws", "http://aws")


def test_the_dead_letter_queue_is_optional() -> None:
    settings = load_settings({**PRODUCTION, "EVENT_DATA_DLQ_URL": "http://q-dlq"})
    assert settings.dlq_url == "http://q-dlq"
