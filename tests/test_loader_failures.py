"""A batch that can never load reaches the dead-letter queue, is recorded with its reason, and
does not hold up the batches behind it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx

from tests.conftest import PREFIX, Aws, post_batch, sample_batch_bytes, wait_for_count

# The test queues' visibility timeout (tests/conftest.py, the aws fixture).
TEST_VISIBILITY_TIMEOUT_SECONDS = 2


async def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met in time")


async def test_poison_object_reaches_dlq_without_blocking_good_batches(
    client: httpx.AsyncClient, aws: Aws, db: asyncpg.Connection
) -> None:
    poison_key = f"{PREFIX}manual/not-a-batch.json"
    aws.s3.put_object(Bucket=aws.bucket, Key=poison_key, Body=b"this is { not json")
    assert (await post_batch(client, sample_batch_bytes(), batch_id="good-1")).status_code == 200

    # The good batch loads while the poison one is still being retried.
    await wait_for_count(client, 19)

    # maxReceiveCount is 2 in the test queues: two failed receives, then the DLQ.
    await _wait_for(lambda: aws.queue_depth(aws.dlq_url) == 1)
    assert aws.queue_depth(aws.queue_url) == 0
    [message] = aws.sqs.receive_message(QueueUrl=aws.dlq_url, MaxNumberOfMessages=1)["Messages"]
    assert "not-a-batch.json" in message["Body"]

    failures = await db.fetch("SELECT archive_key, receive_count, reason FROM batch_failures")
    assert len(failures) >= 2
    assert {f["archive_key"] for f in failures} == {poison_key}
    assert all("not valid JSON" in f["reason"] for f in failures)
    assert await db.fetchval("SELECT count(*) FROM events") == 19


async def test_plain_and_gzip_objects_copied_into_the_bucket_load(
    client: httpx.AsyncClient, aws: Aws
) -> None:
    import gzip

    raw = sample_batch_bytes()
    aws.s3.put_object(Bucket=aws.bucket, Key=f"{PREFIX}manual/plain batch.json", Body=raw)
    await wait_for_count(client, 19)
    # Other events (new ids), gzip-compressed, under a key with characters S3 URL-encodes.
    other = raw.replace(b"92356927693813856", b"11111111111111111")
    aws.s3.put_object(
        Bucket=aws.bucket, Key=f"{PREFIX}manual/b+c%d.json.gz", Body=gzip.compress(other)
    )
    # 18 new events: the sms_status event has no event_id, so its identity comes from its
    # content, which did not change, and it is not stored twice.
    body = await wait_for_count(client, 37)
    assert body["total_count"] == 37


async def test_a_slow_batch_keeps_its_message_invisible_until_it_commits(
    client: httpx.AsyncClient, aws: Aws, database_url: str
) -> None:
    from structlog.testing import capture_logs

    # Hold the batches table for longer than the queue's 2 s visibility timeout: without the
    # heartbeat, the message would become visible again and be received a second time.
    blocker = await asyncpg.connect(database_url)
    try:
        with capture_logs() as logs:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE batches IN ACCESS EXCLUSIVE MODE")
            assert (await post_batch(client, sample_batch_bytes(), "slow")).status_code == 200
            await asyncio.sleep(5)
            await tx.rollback()
            await wait_for_count(client, 19)
            await asyncio.sleep(0.5)
    finally:
        await blocker.close()
    loaded = [entry for entry in logs if entry["event"] == "loader.batch_loaded"]
    assert len(loaded) == 1
    assert loaded[0]["already_loaded"] is False
    assert not [entry for entry in logs if entry["event"] == "loader.message_failed"]
    assert aws.queue_depth(aws.queue_url) == 0


async def _wait_for_log(logs: list[dict[str, Any]], event: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(entry["event"] == event for entry in logs):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {event} in time")
        await asyncio.sleep(0.05)


async def test_database_outage_pauses_the_loader_instead_of_spending_retries(
    client: httpx.AsyncClient, aws: Aws, database_url: str
) -> None:
    from structlog.testing import capture_logs

    name = database_url.rsplit("/", 1)[1]
    dlq_arn = aws.queue_arn(aws.dlq_url)
    aws.sqs.set_queue_attributes(
        QueueUrl=aws.queue_url,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "4"})
        },
    )
    admin = await asyncpg.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    try:
        # The database goes away: no new connections, existing ones cut.
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        with capture_logs() as logs:
            assert (await post_batch(client, sample_batch_bytes(), "outage")).status_code == 200
            # The first receive fails its load: from here the loader is paused.
            await _wait_for_log(logs, "loader.message_failed")
            # Five visibility timeouts from then: a loader that kept receiving would have spent
            # the message's four receives and sent it to the dead-letter queue. A paused one
            # has spent one, or two if a long poll was already waiting when the outage was
            # noticed. However slow the machine, the receives it made are in the log.
            await asyncio.sleep(5 * TEST_VISIBILITY_TIMEOUT_SECONDS)
        failed = [entry for entry in logs if entry["event"] == "loader.message_failed"]
        assert 1 <= len(failed) <= 2
        assert aws.queue_depth(aws.dlq_url) == 0
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    await wait_for_count(client, 19, timeout=30)
    assert aws.queue_depth(aws.dlq_url) == 0


async def _wait_for_lock_wait(database_url: str, timeout: float = 30.0) -> None:
    """Until a session of the database waits for a lock (a load blocked by the test)."""
    name = database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(database_url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            name,
        ):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("no load waiting on the lock in time")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def test_stopping_mid_batch_hands_the_message_back_at_once(
    aws: Aws, database_url: str
) -> None:
    from asgi_lifespan import LifespanManager
    from structlog.testing import capture_logs

    from event_data.app import create_app
    from tests.conftest import make_settings

    # A long visibility timeout: a message not handed back would stay hidden for 30 s.
    aws.sqs.set_queue_attributes(QueueUrl=aws.queue_url, Attributes={"VisibilityTimeout": "30"})
    # Only the batch's message may be in flight: drop the s3:TestEvent of the set-up.
    aws.sqs.purge_queue(QueueUrl=aws.queue_url)
    settings = make_settings(
        database_url=database_url,
        AWS_ENDPOINT_URL=aws.endpoint,
        EVENT_DATA_BUCKET=aws.bucket,
        EVENT_DATA_QUEUE_URL=aws.queue_url,
        EVENT_DATA_SHUTDOWN_TIMEOUT_SECONDS="1",
    )
    blocker = await asyncpg.connect(database_url)
    manager = LifespanManager(create_app(settings), startup_timeout=30, shutdown_timeout=30)
    try:
        tx = blocker.transaction()
        await tx.start()
        # The load cannot finish: the batch log is locked.
        await blocker.execute("LOCK TABLE batches IN ACCESS EXCLUSIVE MODE")
        await manager.__aenter__()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client:
            assert (await post_batch(client, sample_batch_bytes(), "stuck")).status_code == 200

        def hidden() -> int:
            attrs = aws.sqs.get_queue_attributes(
                QueueUrl=aws.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
            )
            return int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"])

        await _wait_for(lambda: hidden() == 1)
        # Received is not yet loading: wait until the load is stuck on the lock.
        await _wait_for_lock_wait(database_url)
        with capture_logs() as logs:
            await manager.__aexit__(None, None, None)
        await tx.rollback()
    finally:
        await blocker.close()
    [stopped] = [entry for entry in logs if entry["event"] == "loader.stopped"]
    assert stopped["released"] == 1
    visible = aws.sqs.receive_message(QueueUrl=aws.queue_url, WaitTimeSeconds=0)
    assert len(visible.get("Messages", [])) == 1
