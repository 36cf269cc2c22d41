"""The database password follows RDS's secret: read as connections open, cached briefly."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import boto3
import pytest

from event_data.dbsecret import SecretPassword
from event_data.store.database import connect_with_secret, create_engine, ping
from tests.conftest import REGION, make_settings


@pytest.fixture
def secret_arn(moto_endpoint: str) -> str:
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name=REGION)
    created = client.create_secret(
        Name=f"rds-master-{uuid.uuid4().hex[:10]}",
        SecretString=json.dumps({"username": "event_data", "password": "first"}),
    )
    arn: str = created["ARN"]
    return arn


def _rotate(moto_endpoint: str, arn: str, password: str) -> None:
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name=REGION)
    client.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": "event_data", "password": password})
    )


async def test_a_rotated_password_is_read_once_the_cache_expires(
    moto_endpoint: str, secret_arn: str
) -> None:
    cached = SecretPassword(secret_arn, region=REGION, endpoint_url=moto_endpoint)
    fresh = SecretPassword(secret_arn, region=REGION, endpoint_url=moto_endpoint, cache_seconds=0)
    assert await cached() == "first"
    assert await fresh() == "first"
    _rotate(moto_endpoint, secret_arn, "second")
    assert await cached() == "first"  # within the cache: no call per connection
    assert await fresh() == "second"


async def test_the_last_password_serves_while_the_secret_cannot_be_read(
    moto_endpoint: str, secret_arn: str
) -> None:
    password = SecretPassword(
        secret_arn, region=REGION, endpoint_url=moto_endpoint, cache_seconds=0
    )
    assert await password() == "first"
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name=REGION)
    client.delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)
    assert await password() == "first"


def _parts_settings(database_url: str, moto_endpoint: str, secret: str) -> dict[str, str]:
    db = urlsplit(database_url)
    return {
        "database_url": "",
        "DATABASE_HOST": db.hostname or "127.0.0.1",
        "DATABASE_PORT": str(db.port or 5432),
        "DATABASE_NAME": db.path.lstrip("/"),
        "DATABASE_USER": db.username or "postgres",
        "DATABASE_PASSWORD_SECRET_ARN": secret,
        "AWS_ENDPOINT_URL": moto_endpoint,
    }


async def test_the_pool_connects_with_the_secret(
    database_url: str, moto_endpoint: str, secret_arn: str
) -> None:
    settings = make_settings(**_parts_settings(database_url, moto_endpoint, secret_arn))
    assert settings.database_password_secret == secret_arn
    assert ":" not in urlsplit(settings.database_url).netloc.split("@")[0]  # no password in it
    engine = create_engine(settings)
    try:
        await ping(engine)
    finally:
        await engine.dispose()


async def test_the_secrets_manager_endpoint_of_its_own_wins_over_the_global_one(
    database_url: str, moto_endpoint: str, secret_arn: str
) -> None:
    parts = _parts_settings(database_url, moto_endpoint, secret_arn)
    # Nothing listens on the global endpoint: only the per-service one can give the password.
    parts["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    parts["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = moto_endpoint
    engine = create_engine(make_settings(**parts))
    try:
        await ping(engine)
    finally:
        await engine.dispose()


async def test_a_secret_that_cannot_be_read_fails_the_connection(
    database_url: str, moto_endpoint: str
) -> None:
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:absent-AbCdEf"
    engine = create_engine(make_settings(**_parts_settings(database_url, moto_endpoint, missing)))
    try:
        with pytest.raises(Exception, match="ResourceNotFound"):
            await ping(engine)
    finally:
        await engine.dispose()


class _PasswordCheckingServer:
    """The real PostgreSQL, behind a login that checks the password.

    This machine's PostgreSQL trusts every local login (pg_hba: ``trust`` on 127.0.0.1), so it
    never refuses a password, whatever a role's is. The check RDS does is made here, with the
    error asyncpg raises for it; the connection itself is a real one."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.refused = 0

    async def connect(self, *args: Any, password: Any, **kwargs: Any) -> asyncpg.Connection:
        given = await password()
        if given != self.password:
            self.refused += 1
            raise asyncpg.InvalidPasswordError('password authentication failed for user "x"')
        return await asyncpg.connect(*args, **kwargs)


async def test_a_login_refused_after_a_rotation_reads_the_secret_again(
    database_url: str, moto_endpoint: str, secret_arn: str
) -> None:
    server = _PasswordCheckingServer("first")
    secret = SecretPassword(secret_arn, region=REGION, endpoint_url=moto_endpoint)
    connect = connect_with_secret(secret, server.connect)
    conn = await connect(database_url)
    await conn.close()

    # RDS rotates: the server and the secret change together; the cache still says "first".
    _rotate(moto_endpoint, secret_arn, "second")
    server.password = "second"
    conn = await connect(database_url)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    assert server.refused == 1
    assert await secret() == "second"  # cached from now on


async def test_a_password_still_refused_after_reading_the_secret_again_fails(
    database_url: str, moto_endpoint: str, secret_arn: str
) -> None:
    server = _PasswordCheckingServer("not-in-the-secret")
    secret = SecretPassword(secret_arn, region=REGION, endpoint_url=moto_endpoint)
    with pytest.raises(asyncpg.InvalidPasswordError):
        await connect_with_secret(secret, server.connect)(database_url)
    assert server.refused == 2  # tried once more, not in a loop
