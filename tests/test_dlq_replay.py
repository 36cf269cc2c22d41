"""The operator commands: ``event-data dlq list``, ``dlq redrive`` and ``replay``, over a moto
server and the real database."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from event_data import cli
from event_data.store.admin import create_database_if_missing, drop_database
from event_data.synth import EventGenerator, GeneratorConfig
from tests.conftest import (
    API_KEY,
    PREFIX,
    REGION,
    WEBHOOK_AUTH,
    AppFactory,
    Aws,
    _db_url,
    post_batch,
    sample_batch_bytes,
    wait_for_count,
)


class Cli:
    """Runs ``event-data ...`` in this process, with the environment a deployment gives it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        # The commands configure JSON logging to stdout; tests keep structlog's defaults.
        monkeypatch.setattr(cli, "configure_logging", lambda level: None)

    def environ(self, database_url: str, aws: Aws, **extra: str) -> None:
        for name in list(os.environ):
            if name.startswith("EVENT_DATA_"):
                self._monkeypatch.delenv(name)
        env = {
            "EVENT_DATA_ENV": "production",
            "DATABASE_URL": database_url,
            "AWS_ENDPOINT_URL": aws.endpoint,
            "AWS_REGION": REGION,
            "EVENT_DATA_BUCKET": aws.bucket,
            "EVENT_DATA_QUEUE_URL": aws.queue_url,
            "EVENT_DATA_WEBHOOK_USER": WEBHOOK_AUTH[0],
            "EVENT_DATA_WEBHOOK_PASSWORD": WEBHOOK_AUTH[1],
            "EVENT_DATA_API_KEYS": API_KEY,
            "EVENT_DATA_RETENTION_DAYS": "0",
            **extra,
        }
        for name, value in env.items():
            self._monkeypatch.setenv(name, value)

    async def __call__(self, *args: str) -> tuple[int, str, str]:
        self._capsys.readouterr()
        status = await asyncio.to_thread(cli.main, list(args))
        out, err = self._capsys.readouterr()
        return status, out, err


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(monkeypatch, capsys)


def _notification(bucket: str, key: str) -> str:
    """An S3 ObjectCreated notification, as S3 sends it (the key URL-encoded)."""
    record: dict[str, Any] = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key.replace(" ", "+")}},
    }
    return json.dumps({"Records": [record]})


def _dead_letter_good_batch(aws: Aws) -> str:
    """Archive the sample batch by hand and move its notification to the DLQ, as if its loads
    had failed maxReceiveCount times (a database down too long, say)."""
    key = f"{PREFIX}2026/01/02/03/dead-1--0000.json"
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=sample_batch_bytes())
    for message in _drain(aws, aws.queue_url):
        aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody=message["Body"])
    return key


def _drain(aws: Aws, url: str) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    for _ in range(20):
        got = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            break
        for message in messages:
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if "s3:TestEvent" not in message["Body"]:
                taken.append(message)
    return taken


async def test_dlq_list_shows_each_key_with_its_receives_and_last_reason(
    run: Cli, aws: Aws, database_url: str, db: asyncpg.Connection
) -> None:
    poison = f"{PREFIX}2026/01/02/03/poison--0000.json"
    aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody=_notification(aws.bucket, poison))
    aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody="not a notification")
    for n, reason in enumerate(["PoisonBatch: first", "PoisonBatch: batch is not valid JSON"]):
        await db.execute(
            "INSERT INTO batch_failures (bucket, archive_key, receive_count, reason, failed_at)"
            " VALUES ($1, $2, $3::int, $4, now() + $3::int * interval '1 second')",
            aws.bucket,
            poison,
            n + 1,
            reason,
        )
    run.environ(database_url, aws)

    status, out, _err = await run("dlq", "list")

    assert status == 0
    assert f"2 message(s) in {aws.dlq_url}" in out
    [line] = [line for line in out.splitlines() if line.startswith(poison)]
    assert "PoisonBatch: batch is not valid JSON (2 failures" in line
    assert "received 0x" in line
    assert "sent 20" in line
    assert "(not an S3 notification)" in out
    # Listing leaves the messages in the DLQ, visible again at once.
    assert aws.queue_depth(aws.dlq_url) == 2
    again = aws.sqs.receive_message(QueueUrl=aws.dlq_url, MaxNumberOfMessages=10)
    assert len(again.get("Messages", [])) == 2


async def test_dlq_url_comes_from_the_setting_or_the_queues_redrive_policy(
    run: Cli, aws: Aws, database_url: str, moto_endpoint: str
) -> None:
    aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody=_notification(aws.bucket, "k"))
    other = aws.sqs.create_queue(QueueName=f"other-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]

    run.environ(database_url, aws)
    assert (await run("dlq", "list"))[1].startswith(f"1 message(s) in {aws.dlq_url}")

    run.environ(database_url, aws, EVENT_DATA_DLQ_URL=other)
    assert (await run("dlq", "list"))[1].startswith(f"0 message(s) in {other}")

    # A queue without a redrive policy and no setting: the command says what to set.
    plain = aws.sqs.create_queue(QueueName=f"plain-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    run.environ(database_url, aws, EVENT_DATA_QUEUE_URL=plain)
    status, _out, err = await run("dlq", "redrive")
    assert status == 2
    assert "EVENT_DATA_DLQ_URL" in err


async def test_redriven_batches_load(
    run: Cli, aws: Aws, database_url: str, app_factory: AppFactory
) -> None:
    _dead_letter_good_batch(aws)
    assert aws.queue_depth(aws.dlq_url) == 1
    run.environ(database_url, aws)

    status, out, _err = await run("dlq", "redrive")

    assert status == 0
    assert "moved 1 message(s)" in out
    assert aws.queue_depth(aws.dlq_url) == 0
    assert aws.queue_depth(aws.queue_url) == 1
    assert (await run("dlq", "redrive"))[1].startswith("moved 0 message(s)")
    # The loader takes it from the main queue as it took the original.
    client = await app_factory()
    body = await wait_for_count(client, 19)
    assert body["total_count"] == 19


class _DeletesFail:
    """An SQS client whose DLQ deletes fail for every other message (a lost receipt handle,
    say): sends go through, as to the real main queue."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs

    async def receive_message(self, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._sqs.receive_message, **kwargs)

    async def send_message_batch(self, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._sqs.send_message_batch, **kwargs)

    async def change_message_visibility_batch(self, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._sqs.change_message_visibility_batch, **kwargs)

    async def delete_message_batch(self, QueueUrl: str, Entries: list[Any]) -> Any:  # noqa: N803
        kept, dropped = Entries[::2], Entries[1::2]
        response = await asyncio.to_thread(
            self._sqs.delete_message_batch, QueueUrl=QueueUrl, Entries=kept
        )
        failed = [
            {"Id": e["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid"} for e in dropped
        ]
        return {"Successful": response.get("Successful", []), "Failed": failed}


async def test_redrive_counts_failed_deletes_apart_and_exits_1(
    run: Cli, aws: Aws, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from event_data.loader import dlq

    for n in range(4):
        aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody=_notification(aws.bucket, f"k{n}"))
    before = aws.queue_depth(aws.queue_url)  # the bucket's s3:TestEvent

    result = await dlq.redrive(_DeletesFail(aws.sqs), aws.dlq_url, aws.queue_url, 4)  # type: ignore[arg-type]

    assert (result.moved, result.failed, result.not_deleted) == (2, 0, 2)
    assert aws.queue_depth(aws.queue_url) == before + 4  # every message was sent
    assert aws.queue_depth(aws.dlq_url) == 2  # the undeleted ones are still there

    async def report(*_args: Any) -> dlq.RedriveResult:
        return dlq.RedriveResult(moved=2, failed=0, not_deleted=2)

    monkeypatch.setattr(dlq, "redrive", report)
    run.environ(database_url, aws)
    status, out, _err = await run("dlq", "redrive")
    assert status == 1
    assert "moved 2 message(s)" in out
    assert "2 message(s) were sent but could not be deleted from the DLQ" in out


async def test_a_listing_that_dies_hides_the_dlq_only_briefly(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from event_data.loader import dlq

    for n in range(3):
        aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody=_notification(aws.bucket, f"k{n}"))

    async def killed(*_args: Any) -> None:
        """A listing killed with -9 never hands its messages back."""

    monkeypatch.setattr(dlq, "_release", killed)
    letters = await dlq.list_dead_letters(_DeletesFail(aws.sqs), aws.dlq_url, 10)  # type: ignore[arg-type]
    assert sorted(k for d in letters for k in d.keys) == ["k0", "k1", "k2"]

    # Visible again within seconds (the hold), not minutes: a redrive would find them.
    deadline = time.monotonic() + 30
    visible: set[str] = set()
    while len(visible) < 3 and time.monotonic() < deadline:
        got = aws.sqs.receive_message(
            QueueUrl=aws.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        )
        visible.update(m["MessageId"] for m in got.get("Messages", []))
    assert len(visible) == 3


@pytest.fixture
async def fresh_database_url(template_db: str) -> AsyncIterator[str]:
    """A second, empty database: where a replay rebuilds what the archive holds."""
    url = _db_url(f"event_data_r_{uuid.uuid4().hex[:12]}")
    await create_database_if_missing(url, template=template_db)
    yield url
    await drop_database(url)


async def _events(url: str) -> set[tuple[str, str, datetime]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT event_id, type, ts FROM events")
    finally:
        await conn.close()
    return {(r["event_id"], r["type"], r["ts"]) for r in rows}


async def test_replay_rebuilds_a_fresh_database_from_the_archive_and_adds_nothing_twice(
    run: Cli,
    aws: Aws,
    client: httpx.AsyncClient,
    database_url: str,
    fresh_database_url: str,
) -> None:
    config = GeneratorConfig(seed=3, batch_size=100)
    bodies = list(EventGenerator(config).batch_bytes(300))
    posted, one_day = datetime.now(UTC), timedelta(days=1)
    for n, body in enumerate([sample_batch_bytes(), *bodies]):
        assert (await post_batch(client, body, f"replay-{n}")).status_code == 200
    await wait_for_count(client, 19)
    # The in-process loader takes its time on a loaded machine: a deadline, not a count.
    deadline = time.monotonic() + 60
    original = await _events(database_url)
    while len(original) < 319 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        original = await _events(database_url)
    assert len(original) == 319
    # The archive keys carry the day of receipt: a day either side of the posting covers
    # batches received either side of midnight UTC.
    run.environ(fresh_database_url, aws)

    status, out, _err = await run(
        "replay",
        "--from",
        f"{posted - one_day:%Y-%m-%d}",
        "--to",
        f"{datetime.now(UTC) + one_day:%Y-%m-%d}",
        "--quiet",
    )

    assert status == 0, out
    assert "replayed 4 of 4 batch(es): 4 loaded, 0 already loaded" in out
    assert "events: 319 inserted, 0 duplicate" in out
    assert await _events(fresh_database_url) == original

    status, out, _err = await run("replay", "--prefix", PREFIX, "--quiet")
    assert status == 0
    assert "replayed 4 of 4 batch(es): 0 loaded, 4 already loaded; events: 0 inserted" in out
    assert await _events(fresh_database_url) == original


async def test_replay_into_a_database_that_lost_its_events_after_wiping_the_batch_log(
    run: Cli, aws: Aws, client: httpx.AsyncClient, database_url: str, db: asyncpg.Connection
) -> None:
    assert (await post_batch(client, sample_batch_bytes(), "wiped")).status_code == 200
    await wait_for_count(client, 19)
    await db.execute("TRUNCATE events, batches")
    run.environ(database_url, aws)

    status, out, _err = await run("replay", "--prefix", PREFIX, "--quiet")

    assert status == 0
    assert "events: 19 inserted" in out
    assert await db.fetchval("SELECT count(*) FROM events") == 19


async def test_replay_reports_unreadable_batches_and_loads_the_rest(
    run: Cli, aws: Aws, database_url: str, db: asyncpg.Connection
) -> None:
    aws.s3.put_object(Bucket=aws.bucket, Key=f"{PREFIX}x/bad.json", Body=b"{ not json")
    aws.s3.put_object(Bucket=aws.bucket, Key=f"{PREFIX}x/good.json", Body=sample_batch_bytes())
    run.environ(database_url, aws)

    status, out, err = await run("replay", "--prefix", f"{PREFIX}x/", "--quiet")

    assert status == 1
    assert "replayed 1 of 2 batch(es)" in out
    assert "failed: batches/x/bad.json: PoisonBatch" in err
    assert await db.fetchval("SELECT count(*) FROM events") == 19


async def test_replay_refuses_a_backwards_range(run: Cli, aws: Aws, database_url: str) -> None:
    run.environ(database_url, aws)
    status, _out, err = await run("replay", "--from", "2026-02-02", "--to", "2026-02-01")
    assert status == 2
    assert "before" in err
