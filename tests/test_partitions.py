"""Daily partitions made on demand: indexed like their parent, made without blocking readers,
and taking over their day's rows from the default partition."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.events.codec import encode
from event_data.events.normalise import normalise_batch
from event_data.store.database import create_engine
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from event_data.store.partitions import Partitions, partition_name
from tests.conftest import make_settings


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url=database_url))
    yield engine
    await engine.dispose()


async def _load(engine: AsyncEngine, batch_id: str, timestamps: list[int]) -> None:
    elements = [
        {"msys": {"message_event": {"type": "delivery", "event_id": str(i), "timestamp": ts}}}
        for i, ts in enumerate(timestamps)
    ]
    events = normalise_batch(elements, datetime.now(UTC)).events
    batch_no = await next_batch_no(engine)
    rows = [encode(event, batch_no) for event in events]
    record = BatchRecord(batch_no, batch_id, batch_id, batch_id, None, len(rows), 0, 0)
    await load_batch(engine, record, rows)


async def _partition_rows(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT c.relname, (SELECT count(*) FROM events e WHERE e.tableoid = c.oid) AS n "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass"
    )
    return {r["relname"]: r["n"] for r in rows}


async def test_a_new_partition_has_every_index_of_its_parent(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    await Partitions(engine).ensure({date(2026, 3, 1)})
    parent = await db.fetchval("SELECT count(*) FROM pg_index WHERE indrelid = 'events'::regclass")
    child = await db.fetchval(
        "SELECT count(*) FROM pg_index WHERE indrelid = $1::regclass",
        partition_name(date(2026, 3, 1)),
    )
    assert parent == child == 12  # primary key, 3 indexes of 0001, 8 of 0002
    has_pkey = await db.fetchval(
        "SELECT count(*) FROM pg_index WHERE indrelid = $1::regclass AND indisprimary",
        partition_name(date(2026, 3, 1)),
    )
    assert has_pkey == 1


async def test_making_a_partition_does_not_wait_for_open_readers(
    engine: AsyncEngine, database_url: str
) -> None:
    partitions = Partitions(engine)
    await partitions.ensure({date(2026, 3, 1)})
    reader = await asyncpg.connect(database_url)
    try:
        tx = reader.transaction()
        await tx.start()
        # A query on a day that has its partition holds its locks until it ends.
        await reader.fetchval(
            "SELECT count(*) FROM events WHERE ts >= '2026-03-01Z' AND ts < '2026-03-02Z'"
        )
        created = await asyncio.wait_for(partitions.ensure({date(2026, 3, 2)}), 5)
        assert created == [date(2026, 3, 2)]
        await tx.rollback()
    finally:
        await reader.close()


async def test_a_day_waiting_in_the_default_partition_moves_into_its_own(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    # 2033-05-18 is past the on-demand window today, so its event waits in events_default.
    far = 1999999999
    await _load(engine, "far", [far])
    assert (await _partition_rows(db)) == {"events_default": 1}

    # Years later the day comes within reach: its partition takes the row over.
    partitions = Partitions(engine)
    created = await partitions.ensure({date(2033, 5, 18)}, today=date(2033, 5, 1))
    assert created == [date(2033, 5, 18)]
    assert (await _partition_rows(db)) == {"events_default": 0, "events_p20330518": 1}

    # and the same event loaded again is recognised as already there
    await _load(engine, "far-again", [far])
    assert await db.fetchval("SELECT count(*) FROM events") == 1


async def test_tasks_racing_to_make_the_same_day_make_it_once(engine: AsyncEngine) -> None:
    days = {date(2026, 4, d) for d in range(1, 6)}
    results = await asyncio.gather(*(Partitions(engine).ensure(days) for _ in range(4)))
    made = sorted(day for result in results for day in result)
    assert made == sorted(days)


async def test_a_detached_table_of_the_days_name_is_attached_not_taken_for_made(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    day = date(2026, 3, 1)
    await Partitions(engine).ensure({day})
    await _load(engine, "before", [1772323200 + 60])  # 2026-03-01T00:01Z
    await db.execute(f"ALTER TABLE events DETACH PARTITION {partition_name(day)}")

    partitions = Partitions(engine)
    await partitions.existing()
    assert await partitions.detached() == {day}
    assert await partitions.ensure({day}) == [day]
    assert await partitions.detached() == set()
    await _load(engine, "after", [1772323200 + 120])
    assert (await _partition_rows(db))[partition_name(day)] == 2
    assert (await _partition_rows(db))["events_default"] == 0
