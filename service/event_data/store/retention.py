"""Retention and the default partition: the SQL of the maintenance task.

Retention drops whole daily partitions, never deletes rows from them. A partition is detached
and then dropped: ``DETACH PARTITION ... CONCURRENTLY`` would spare readers the lock, but
PostgreSQL refuses it on a table that has a default partition, and ``events`` has one. A plain
detach needs ACCESS EXCLUSIVE on ``events`` (and on ``events_default``) for an instant, so, like
making a partition, it asks with a short ``lock_timeout`` and is retried: a waiting detach never
holds up the queries queued behind it for longer than that. The detached table is then dropped
on its own, which locks nothing anyone else reads.

``events_default`` is not a daily partition, so its rows older than the horizon cannot go with a
partition: they are deleted, the one place rows are.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.database import driver_connection
from event_data.store.partitions import (
    LOCK_ATTEMPTS,
    LOCK_WAIT_MS,
    PARTITION_LOCK_KEY,
    PartitionBusy,
    PartitionError,
    partition_name,
)

MAINTENANCE_LOCK_KEY = 0x65_76_6D_61_69_6E  # "evmain"


def retention_horizon(now: datetime, retention_days: int) -> datetime | None:
    """The instant before which events are past retention; None when everything is kept.

    The loader does not load events older than this, and the maintenance task drops the
    partitions whose whole day lies before it: one definition for both."""
    if retention_days <= 0:
        return None
    return now.astimezone(UTC) - timedelta(days=retention_days)


def expired_day(day: date, horizon: datetime) -> bool:
    """Every instant of ``day`` (UTC) lies before the horizon."""
    day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return day_end <= horizon


@asynccontextmanager
async def maintenance_lock(engine: AsyncEngine) -> AsyncIterator[bool]:
    """Whether this task holds the maintenance lock for the duration of the block.

    A session-level advisory lock, on a connection kept for the round: if the task dies, the
    connection closes and the lock goes with it."""
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        held = bool(await raw.fetchval("SELECT pg_try_advisory_lock($1)", MAINTENANCE_LOCK_KEY))
        try:
            yield held
        finally:
            if held:
                await raw.execute("SELECT pg_advisory_unlock($1)", MAINTENANCE_LOCK_KEY)


async def drop_partition(engine: AsyncEngine, day: date) -> bool:
    """Detach and drop one day's partition; False when it was not there."""
    for attempt in range(LOCK_ATTEMPTS):
        try:
            return await _drop_once(engine, day)
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        except asyncpg.PostgresError as exc:
            raise PartitionError(f"{partition_name(day)} not dropped: {exc}") from exc
    raise PartitionBusy(f"events stayed busy; {partition_name(day)} not dropped")


async def _drop_once(engine: AsyncEngine, day: date) -> bool:
    name = partition_name(day)
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        async with raw.transaction():
            # The same lock as making partitions: a day is never made and dropped at once.
            await raw.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
            attached = await raw.fetchval(
                "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'events'::regclass AND c.relname = $1",
                name,
            )
            if attached:
                await raw.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'")
                # Identifiers cannot be parameters; the name is built from a date only.
                await raw.execute(f"ALTER TABLE events DETACH PARTITION {name}")
            elif not await raw.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
                return False
        # A table detached by an earlier round that failed before its DROP is dropped too.
        await raw.execute(f"DROP TABLE IF EXISTS {name}")
    return True


async def delete_expired_default_rows(engine: AsyncEngine, horizon: datetime) -> int:
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        status = await raw.execute("DELETE FROM events_default WHERE ts < $1", horizon)
    return int(status.rsplit(" ", 1)[-1])


async def default_partition_days(engine: AsyncEngine) -> dict[date, int]:
    """The days that have rows waiting in ``events_default``, with their row counts."""
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        rows = await raw.fetch(
            "SELECT (ts AT TIME ZONE 'UTC')::date AS day, count(*) AS n "
            "FROM events_default GROUP BY 1"
        )
    return {r["day"]: int(r["n"]) for r in rows}
