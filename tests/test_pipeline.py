"""End to end: a webhook batch posted over HTTP, archived in S3, loaded through SQS, read back
through the Events API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import zstandard

from event_data.store.partitions import partition_name
from tests.conftest import (
    PREFIX,
    SAMPLE_WINDOW,
    Aws,
    post_batch,
    query,
    sample_batch_bytes,
    settle,
    wait_for_count,
)


def _expected_flat(inner: dict[str, Any]) -> dict[str, Any]:
    """The Events API form of a webhook event (product.md, Decisions 8)."""
    expected = dict(inner)
    expected["timestamp"] = "2016-02-02T19:50:00.000Z"
    for name in ("customer_id", "subaccount_id"):
        if name in expected:
            expected[name] = int(expected[name])
    return expected


async def test_sample_batch_is_archived_loaded_and_returned_intact(
    client: httpx.AsyncClient, aws: Aws, db: asyncpg.Connection
) -> None:
    raw = sample_batch_bytes()
    response = await post_batch(client, raw, batch_id="sample-batch-0001")
    assert response.status_code == 200, response.text

    keys = aws.archived_keys()
    assert len(keys) == 1
    key = keys[0]
    assert key.startswith(PREFIX)
    assert "/sample-batch-0001--" in key
    assert key.endswith(".json.zst")
    obj = aws.s3.get_object(Bucket=aws.bucket, Key=key)
    assert obj["Metadata"]["batch-id"] == "sample-batch-0001"
    assert obj["Metadata"]["content-digest"][:16] in key
    assert "received-at" in obj["Metadata"]
    stored = obj["Body"].read()
    assert len(stored) < len(raw)
    assert zstandard.ZstdDecompressor().decompressobj().decompress(stored) == raw

    body = await wait_for_count(client, 19, per_page="100")
    assert body["total_count"] == 19
    assert body["links"] == {}
    returned = body["results"]
    assert len(returned) == 19

    sent = [next(iter(element["msys"].values())) for element in json.loads(raw)]
    by_type = {event["type"]: event for event in returned}
    assert len(by_type) == 19
    for inner in sent:
        expected = _expected_flat(inner)
        if inner["type"] == "sms_status":
            assert "event_id" not in by_type["sms_status"]
        assert by_type[inner["type"]] == expected, inner["type"]

    batches = await db.fetch("SELECT batch_id, events_total, events_loaded FROM batches")
    assert [tuple(r) for r in batches] == [("sample-batch-0001", 19, 19)]


async def test_same_batch_three_times_is_stored_once(
    client: httpx.AsyncClient, aws: Aws, db: asyncpg.Connection
) -> None:
    raw = sample_batch_bytes()
    for _ in range(3):
        assert (await post_batch(client, raw, batch_id="repeat-1")).status_code == 200
    # the same events under new batch ids, as SparkPost's duplicates can arrive
    for batch_id in ("repeat-2", "repeat-3"):
        assert (await post_batch(client, raw, batch_id=batch_id)).status_code == 200
    # and with no batch id header at all: the content hash names the batch
    assert (await post_batch(client, raw)).status_code == 200

    await wait_for_count(client, 19)
    await _wait_until_queue_empty(aws)
    assert await db.fetchval("SELECT count(*) FROM events") == 19
    loaded = await db.fetchval("SELECT sum(events_loaded) FROM batches")
    assert loaded == 19


async def test_a_different_batch_reusing_a_batch_id_is_kept_and_loaded(
    client: httpx.AsyncClient, aws: Aws, db: asyncpg.Connection
) -> None:
    first = sample_batch_bytes()
    other = first.replace(b"92356927693813856", b"22222222222222222")
    assert (await post_batch(client, first, batch_id="reused")).status_code == 200
    assert (await post_batch(client, other, batch_id="reused")).status_code == 200
    # 18 more: the sms_status event has no event_id and the same content in both.
    await wait_for_count(client, 37)
    assert len(aws.archived_keys()) == 2
    # The two load concurrently: either may be the one whose sms_status event is a duplicate.
    rows = await db.fetch("SELECT batch_id, events_loaded FROM batches")
    assert sorted(tuple(r) for r in rows) == [("reused", 18), ("reused", 19)]


async def test_same_bytes_under_another_batch_id_add_nothing_even_undated_events(
    client: httpx.AsyncClient, aws: Aws, db: asyncpg.Connection
) -> None:
    # An event whose timestamp cannot be read is filed at the batch's received time, which
    # differs between deliveries: only recognising the bytes keeps it from being stored twice.
    batch = json.dumps(
        [{"msys": {"message_event": {"type": "delivery", "event_id": "u1", "timestamp": "?"}}}]
    ).encode()
    assert (await post_batch(client, batch, batch_id="first-id")).status_code == 200
    assert (await post_batch(client, batch, batch_id="second-id")).status_code == 200
    await _wait_until_queue_empty(aws)
    await settle(0.3)
    assert await db.fetchval("SELECT count(*) FROM events") == 1
    assert await db.fetchval("SELECT count(*) FROM batches") == 1


async def test_sqs_redelivery_and_duplicate_s3_events_add_nothing(
    client: httpx.AsyncClient, aws: Aws, db: asyncpg.Connection
) -> None:
    raw = sample_batch_bytes()
    assert (await post_batch(client, raw, batch_id="redeliver")).status_code == 200
    await wait_for_count(client, 19)
    await _wait_until_queue_empty(aws)
    key = aws.archived_keys()[0]

    # A duplicate S3 event for the same object, and a redelivery of an identical message.
    notification = json.dumps(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": aws.bucket}, "object": {"key": key}},
                }
            ]
        }
    )
    for _ in range(2):
        aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=notification)
    # A copy of the object under another key (as a replay tool or a person might make).
    aws.s3.copy_object(
        Bucket=aws.bucket, Key=f"{PREFIX}manual/copy.json.zst", CopySource=f"{aws.bucket}/{key}"
    )
    await _wait_until_queue_empty(aws)
    await settle(0.5)
    assert await db.fetchval("SELECT count(*) FROM events") == 19
    assert (await query(client, **SAMPLE_WINDOW)).json()["total_count"] == 19


async def _wait_until_queue_empty(aws: Aws, timeout: float = 20.0) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if aws.queue_depth(aws.queue_url) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the queue did not drain")


async def test_each_day_gets_its_partition_and_far_off_dates_are_kept(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    def event(event_id: str, timestamp: object) -> dict[str, Any]:
        return {
            "msys": {
                "message_event": {
                    "type": "delivery",
                    "event_id": event_id,
                    "timestamp": timestamp,
                    "rcpt_to": "someone@example.com",
                }
            }
        }

    batch = [
        event("1", "1454442600"),  # 2016-02-02
        event("2", "1999999999"),  # 2033-05-18: years ahead, beyond on-demand partitions
        event("3", "946684700"),  # 1999-12-31: before the earliest on-demand partition
    ]
    assert (await post_batch(client, json.dumps(batch).encode(), "dates")).status_code == 200
    await wait_for_count(client, 3, **{"from": "1999-01-01T00:00Z", "to": "2034-01-01T00:00Z"})
    partitions = {
        r["relname"]: r["rows"]
        for r in await db.fetch(
            "SELECT c.relname, (SELECT count(*) FROM events e WHERE e.tableoid = c.oid) AS rows "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'events'::regclass"
        )
    }
    assert partitions["events_p20160202"] == 1
    assert partitions["events_default"] == 2
    # Today and the next two days are made ahead, before any event needs them.
    today = datetime.now(UTC).date()
    for ahead in range(3):
        assert partitions[partition_name(today + timedelta(days=ahead))] == 0


async def test_events_older_than_retention_stay_in_the_archive_only(
    app_factory: Any, aws: Aws, db: asyncpg.Connection
) -> None:
    client = await app_factory(EVENT_DATA_RETENTION_DAYS="30")
    assert (await post_batch(client, sample_batch_bytes(), "old")).status_code == 200
    await _wait_until_queue_empty(aws)
    await settle(0.3)
    row = await db.fetchrow("SELECT events_total, events_loaded, events_expired FROM batches")
    assert row is not None
    assert tuple(row) == (19, 0, 19)
    assert await db.fetchval("SELECT count(*) FROM events") == 0
    assert len(aws.archived_keys()) == 1
