"""Shared fixtures: a real PostgreSQL (a database cloned from a migrated template per test), a
moto server for S3 and SQS (fresh bucket and queues per test), and the app driven over HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import httpx
import pytest
from asgi_lifespan import LifespanManager

from event_data import devstack
from event_data.app import create_app
from event_data.config import Settings, load_settings
from event_data.store.admin import create_database_if_missing, drop_database
from event_data.store.database import create_engine
from event_data.store.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "sparkpost"
SAMPLE_BATCH = FIXTURES / "webhook-batch-all-types-2016.json"
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WEBHOOK_AUTH = ("sparkpost", "test-webhook-password")
API_KEY = "test-api-key"
PREFIX = "batches/"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _db_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    devstack.ensure_fake_credentials()
    # Port 0: moto binds a free port itself, so no other process can take it between a probe
    # and the bind.
    server = devstack.start_moto("127.0.0.1", 0)
    _host, port = server.get_host_and_port()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
async def template_db() -> AsyncIterator[str]:
    """A database migrated once; every test gets a copy (CREATE DATABASE ... TEMPLATE)."""
    name = f"event_data_tpl_{os.getpid()}"
    url = _db_url(name)
    await drop_database(url)
    await create_database_if_missing(url)
    settings = make_settings(database_url=url)
    engine = create_engine(settings)
    await migrate(engine)
    await engine.dispose()
    yield name
    await drop_database(url)


@pytest.fixture
async def database_url(template_db: str) -> AsyncIterator[str]:
    url = _db_url(f"event_data_t_{uuid.uuid4().hex[:12]}")
    await create_database_if_missing(url, template=template_db)
    yield url
    await drop_database(url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@dataclass
class Aws:
    endpoint: str
    bucket: str
    queue_url: str
    dlq_url: str
    s3: Any
    sqs: Any

    def archived_keys(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    def queue_arn(self, url: str) -> str:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn: str = attrs["Attributes"]["QueueArn"]
        return arn

    def queue_depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )


@pytest.fixture
def aws(moto_endpoint: str) -> Aws:
    suffix = uuid.uuid4().hex[:10]
    local = devstack.provision(
        moto_endpoint,
        region=REGION,
        bucket=f"archive-{suffix}",
        queue_name=f"batches-{suffix}",
        prefix=PREFIX,
        max_receive_count=2,
        visibility_timeout=2,
    )
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    # Drop the s3:TestEvent that configuring the notification sent: the loader skips it anyway.
    return Aws(moto_endpoint, local.bucket, local.queue_url, local.dlq_url, s3, sqs)


def make_settings(**overrides: Any) -> Settings:
    env = {
        "EVENT_DATA_ENV": "production",
        "DATABASE_URL": overrides.pop("database_url", ADMIN_URL),
        "AWS_REGION": REGION,
        "EVENT_DATA_BUCKET": "unused",
        "EVENT_DATA_QUEUE_URL": "http://unused/queue",
        "EVENT_DATA_WEBHOOK_USER": WEBHOOK_AUTH[0],
        "EVENT_DATA_WEBHOOK_PASSWORD": WEBHOOK_AUTH[1],
        "EVENT_DATA_OAUTH_CLIENT_ID": "sparkpost-client",
        "EVENT_DATA_OAUTH_CLIENT_SECRET": "test-oauth-secret",
        "EVENT_DATA_WEBHOOK_TOKEN": "test-legacy-token",
        "EVENT_DATA_API_KEYS": f"other-key,{API_KEY}",
        "EVENT_DATA_SIGNING_KEY": "test-signing-key",
        "EVENT_DATA_RETENTION_DAYS": "0",
        "EVENT_DATA_LOADER_CONCURRENCY": "4",
        # In-process apps prepare batches in a thread; the worker processes are exercised by
        # the tests that run `event-data serve` (test_process, test_chaos, test_clients).
        "EVENT_DATA_LOADER_PROCESSES": "0",
        # Off unless a test turns it on: its rounds would make partitions under other tests.
        "EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS": "0",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return load_settings(env)


AppFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def app_factory(database_url: str, aws: Aws) -> AsyncIterator[AppFactory]:
    """Start the app (lifespan: migrations, AWS clients, loader) and hand back an HTTP client."""
    managers: list[LifespanManager] = []
    clients: list[httpx.AsyncClient] = []

    async def start(**overrides: Any) -> httpx.AsyncClient:
        settings = make_settings(
            **{
                "database_url": database_url,
                "AWS_ENDPOINT_URL": aws.endpoint,
                "EVENT_DATA_BUCKET": aws.bucket,
                "EVENT_DATA_QUEUE_URL": aws.queue_url,
                **overrides,
            }
        )
        manager = LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30)
        await manager.__aenter__()
        managers.append(manager)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        )
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.aclose()
    for manager in reversed(managers):
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def client(app_factory: AppFactory) -> httpx.AsyncClient:
    return await app_factory()


def sample_batch_bytes() -> bytes:
    return SAMPLE_BATCH.read_bytes()


async def post_batch(
    client: httpx.AsyncClient, body: bytes, batch_id: str | None = None, **headers: str
) -> httpx.Response:
    all_headers = {"Content-Type": "application/json", **headers}
    if batch_id is not None:
        all_headers["X-MessageSystems-Batch-ID"] = batch_id
    return await client.post(
        "/webhooks/sparkpost", content=body, headers=all_headers, auth=WEBHOOK_AUTH
    )


async def query(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.get(
        "/api/v1/events/message", params=params, headers={"Authorization": API_KEY}
    )


SAMPLE_WINDOW = {"from": "2016-02-01T00:00Z", "to": "2016-02-03T00:00Z"}


async def wait_for_count(
    client: httpx.AsyncClient, expected: int, timeout: float = 20.0, **params: str
) -> dict[str, Any]:
    """Poll the query API until ``total_count`` reaches ``expected``; fail on timeout."""
    params = {**SAMPLE_WINDOW, **params}
    deadline = asyncio.get_running_loop().time() + timeout
    body: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        response = await query(client, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["total_count"] >= expected:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {expected} events, saw {body.get('total_count')}")


async def settle(seconds: float = 1.5) -> None:
    """Give the loader time to act on anything still queued (for asserting nothing changed)."""
    await asyncio.sleep(seconds)
