"""The ack path: credentials, body checks, ping, S3 outages."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import jwt
import pytest

from event_data.ingest.tokens import AUDIENCE, ISSUER
from tests.conftest import (
    WEBHOOK_AUTH,
    AppFactory,
    Aws,
    post_batch,
    sample_batch_bytes,
    settle,
    wait_for_count,
)

PING = b'[{"msys":{}}]'


def _assert_sparkpost_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert isinstance(errors, list)
    assert errors
    assert set(errors[0]) == {"message", "description", "code"}
    assert isinstance(errors[0]["code"], str)


async def test_ping_batch_is_acknowledged_and_not_archived(
    client: httpx.AsyncClient, aws: Aws
) -> None:
    response = await post_batch(client, PING)
    assert response.status_code == 200
    assert aws.archived_keys() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"sparkpost:wrong").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"someone:test-webhook-password").decode()},
        {"Authorization": "Basic not-base64!!"},
        {"Authorization": "Basic éé".encode("latin-1")},
        {"Authorization": "Bearer not-a-token"},
        {"X-MessageSystems-Webhook-Token": "wrong-token"},
        {"Authorization": "test-api-key"},  # a query API key is not a webhook credential
    ],
    ids=[
        "none",
        "wrong-password",
        "wrong-user",
        "garbled-basic",
        "non-ascii-basic",
        "bad-bearer",
        "bad-legacy",
        "api-key",
    ],
)
async def test_bad_credentials_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, aws: Aws, headers: dict[str, str | bytes]
) -> None:
    response = await client.post(
        "/webhooks/sparkpost", content=sample_batch_bytes(), headers=headers
    )
    _assert_sparkpost_error(response, 401)
    assert aws.archived_keys() == []


async def test_legacy_token_header_is_accepted(client: httpx.AsyncClient, aws: Aws) -> None:
    response = await client.post(
        "/webhooks/sparkpost",
        content=PING,
        headers={"X-MessageSystems-Webhook-Token": "test-legacy-token"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("encoding", ["json", "form", "basic"])
async def test_oauth2_client_credentials_flow(
    client: httpx.AsyncClient, aws: Aws, encoding: str
) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_id": "sparkpost-client",
        "client_secret": "test-oauth-secret",
    }
    if encoding == "json":
        response = await client.post("/oauth/token", json=fields)
    elif encoding == "form":
        response = await client.post("/oauth/token", data=fields)
    else:
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("sparkpost-client", "test-oauth-secret"),
        )
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"

    accepted = await client.post(
        "/webhooks/sparkpost",
        content=sample_batch_bytes(),
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert accepted.status_code == 200
    assert len(aws.archived_keys()) == 1


async def test_oauth2_refuses_wrong_secret_and_grant(client: httpx.AsyncClient) -> None:
    wrong = await client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": "sparkpost-client",
            "client_secret": "nope",
        },
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    grant = await client.post(
        "/oauth/token",
        json={"grant_type": "password", "client_id": "sparkpost-client", "client_secret": "x"},
    )
    assert grant.status_code == 400
    assert grant.json()["error"] == "unsupported_grant_type"
    garbage = await client.post(
        "/oauth/token", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    assert garbage.status_code == 400


def _signing_key() -> bytes:
    import hashlib
    import hmac

    return hmac.new(b"test-signing-key", b"oauth-access-token", hashlib.sha256).digest()


@pytest.mark.parametrize("case", ["expired", "tampered", "other-key", "wrong-audience", "none-alg"])
async def test_bad_bearer_tokens_are_refused(
    client: httpx.AsyncClient, aws: Aws, case: str
) -> None:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "sparkpost-client",
        "iat": now,
        "exp": now + 600,
    }
    key = _signing_key()
    if case == "expired":
        claims.update(iat=now - 7200, exp=now - 3600)
        token = jwt.encode(claims, key, algorithm="HS256")
    elif case == "tampered":
        token = jwt.encode(claims, key, algorithm="HS256")
        head, payload, signature = token.split(".")
        forged = (
            base64.urlsafe_b64encode(
                base64.urlsafe_b64decode(payload + "==").replace(
                    b"sparkpost-client", b"sparkpost-clienX"
                )
            )
            .rstrip(b"=")
            .decode()
        )
        token = f"{head}.{forged}.{signature}"
    elif case == "other-key":
        token = jwt.encode(claims, b"another-key-another-key-another-key!", algorithm="HS256")
    elif case == "wrong-audience":
        claims["aud"] = "something-else"
        token = jwt.encode(claims, key, algorithm="HS256")
    else:
        token = jwt.encode(claims, None, algorithm="none")
    response = await client.post(
        "/webhooks/sparkpost",
        content=sample_batch_bytes(),
        headers={"Authorization": f"Bearer {token}"},
    )
    _assert_sparkpost_error(response, 401)
    assert aws.archived_keys() == []


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"msys": {}}', b'"a string"', b"[1, 2", b"\xff\xfe\x00"],
    ids=["empty", "text", "object", "string", "truncated", "binary"],
)
async def test_body_that_is_not_a_json_array_is_400(
    client: httpx.AsyncClient, aws: Aws, body: bytes
) -> None:
    response = await post_batch(client, body)
    _assert_sparkpost_error(response, 400)
    assert aws.archived_keys() == []


async def test_oversized_body_is_413(app_factory: AppFactory, aws: Aws) -> None:
    client = await app_factory(EVENT_DATA_MAX_BODY_BYTES=1000)
    response = await post_batch(client, sample_batch_bytes())
    _assert_sparkpost_error(response, 413)

    # also when the length is not declared up front (chunked upload)
    async def chunks():  # type: ignore[no-untyped-def]
        yield sample_batch_bytes()

    chunked = await client.post("/webhooks/sparkpost", content=chunks(), auth=WEBHOOK_AUTH)
    _assert_sparkpost_error(chunked, 413)
    assert aws.archived_keys() == []
    assert (await post_batch(client, PING)).status_code == 200


async def test_batch_id_header_any_case_names_the_archive_object(
    client: httpx.AsyncClient, aws: Aws
) -> None:
    response = await client.post(
        "/webhooks/sparkpost",
        content=sample_batch_bytes(),
        headers={"x-messagesystems-batch-id": "0123456789abcdef0123456789abcdef"},
        auth=WEBHOOK_AUTH,
    )
    assert response.status_code == 200
    [key] = aws.archived_keys()
    assert "/0123456789abcdef0123456789abcdef--" in key
    assert key.endswith(".json.zst")
    # a hostile batch id cannot steer the key
    await post_batch(client, sample_batch_bytes(), batch_id="../../etc/passwd")
    assert all(".." not in k for k in aws.archived_keys())


async def test_s3_outage_is_503_and_nothing_half_stored(
    client: httpx.AsyncClient, aws: Aws, db: asyncpg.Connection
) -> None:
    # Take the bucket away: every PutObject now fails, as in an S3 outage or a lost permission.
    aws.s3.put_bucket_notification_configuration(Bucket=aws.bucket, NotificationConfiguration={})
    aws.s3.delete_bucket(Bucket=aws.bucket)
    response = await post_batch(client, sample_batch_bytes(), batch_id="during-outage")
    _assert_sparkpost_error(response, 503)
    assert response.headers.get("retry-after")
    await settle(0.5)
    assert await db.fetchval("SELECT count(*) FROM events") == 0
    assert await db.fetchval("SELECT count(*) FROM batches") == 0

    # S3 is back: SparkPost's retry of the same batch lands, and loads.
    aws.s3.create_bucket(Bucket=aws.bucket)
    queue_arn = aws.queue_arn(aws.queue_url)
    aws.s3.put_bucket_notification_configuration(
        Bucket=aws.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    retry = await post_batch(client, sample_batch_bytes(), batch_id="during-outage")
    assert retry.status_code == 200
    await wait_for_count(client, 19)


async def test_s3_unreachable_is_503(app_factory: AppFactory, aws: Aws) -> None:
    # An endpoint where nothing listens: connection refused, fast.
    client = await app_factory(
        AWS_ENDPOINT_URL="http://127.0.0.1:9", EVENT_DATA_LOADER_ENABLED="false"
    )
    response = await post_batch(client, sample_batch_bytes())
    _assert_sparkpost_error(response, 503)
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["s3"] == "unreachable"


@pytest.fixture
async def silent_endpoint() -> AsyncIterator[str]:
    """A server that accepts connections and reads requests but never answers: an S3 stall."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()


async def test_s3_that_never_answers_is_503_inside_sparkposts_timeout(
    app_factory: AppFactory, silent_endpoint: str
) -> None:
    client = await app_factory(
        AWS_ENDPOINT_URL=silent_endpoint,
        EVENT_DATA_LOADER_ENABLED="false",
        EVENT_DATA_ARCHIVE_TIMEOUT_SECONDS="1",
    )
    started = time.monotonic()
    response = await post_batch(client, sample_batch_bytes())
    _assert_sparkpost_error(response, 503)
    assert time.monotonic() - started < 5


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "database": "ok",
        "migrations": "current",
        "s3": "ok",
        "sqs": "ok",
    }
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "event_data_webhook_batches_total" in metrics.text
