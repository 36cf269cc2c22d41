"""The loader's own binary COPY encoding: PostgreSQL reads back exactly the rows that asyncpg's
encoder would have sent, for every column type, NULLs and edge values included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import orjson

from event_data.events.codec import StoredEvent, encode
from event_data.events.normalise import normalise_batch
from event_data.store.copy_binary import encode_rows
from event_data.store.loading import EVENT_COLUMNS
from event_data.synth import EventGenerator, GeneratorConfig


def _generated() -> list[StoredEvent]:
    config = GeneratorConfig(
        seed=9, start=datetime(2026, 5, 1, tzinfo=UTC), end=datetime(2026, 5, 3, tzinfo=UTC)
    )
    rows: list[StoredEvent] = []
    for body in EventGenerator(config).batch_bytes(400):
        events = normalise_batch(orjson.loads(body), datetime.now(UTC)).events
        rows += [encode(event, 42) for event in events]
    return rows


def _edges(template: StoredEvent) -> list[StoredEvent]:
    required = {"ts", "batch_no", "event_id", "type", "body"}
    nothing = {name: None for name in EVENT_COLUMNS if name not in required}
    return [
        # every nullable column NULL
        template._replace(**nothing, event_id="e-null", body=b""),
        # before PostgreSQL's epoch, another offset, extremes of each integer width
        template._replace(
            ts=datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-5))),
            event_id="e-old",
            batch_no=2**63 - 1,
            subaccount_id=-(2**31),
            ab_test_version=2**31 - 1,
            bounce_class=-(2**15),
        ),
        template._replace(
            ts=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
            event_id="e-far",
            bounce_class=2**15 - 1,
            subject="Grüße — 日本語 🎉 \\ \" '",
            rcpt_meta='{"ключ": "значение", "n": 9.50, "deep": {"a": [1, null, true]}}',
            rcpt_tags='["ü", ""]',
            body=bytes(range(256)) * 3,
        ),
    ]


async def test_binary_payload_reads_back_as_the_rows_themselves(db: asyncpg.Connection) -> None:
    rows = _generated()
    rows += _edges(rows[0])
    await db.execute("CREATE TEMP TABLE by_records (LIKE events)")
    await db.execute("CREATE TEMP TABLE by_payload (LIKE events)")
    await db.copy_records_to_table("by_records", records=rows, columns=EVENT_COLUMNS)
    encoded = encode_rows(rows)
    assert encoded.count == len(rows)
    status = await db.copy_to_table(
        "by_payload", source=encoded.chunks(), columns=EVENT_COLUMNS, format="binary"
    )
    assert status == f"COPY {len(rows)}"
    order = "ORDER BY ts, event_id, type"
    expected = await db.fetch(f"SELECT * FROM by_records {order}")
    actual = await db.fetch(f"SELECT * FROM by_payload {order}")
    assert len(actual) == len(rows)
    assert [tuple(r) for r in actual] == [tuple(r) for r in expected]
    # and jsonb kept its number text as sent, as the records path does
    meta = await db.fetchval("SELECT rcpt_meta::text FROM by_payload WHERE event_id = 'e-far'")
    assert '"n": 9.50' in meta
