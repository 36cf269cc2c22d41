"""Retention: the horizon, and the SQL that removes what lies before it.

Retention drops whole daily partitions, never deletes rows from them. ``DETACH PARTITION ...
CONCURRENTLY`` would spare readers the lock, but PostgreSQL refuses it on a table that has a
default partition, and ``events`` has one. A plain detach needs ACCESS EXCLUSIVE on ``events``
(and on ``events_default``) for an instant, so, like making a partition, it asks with a short
``lock_timeout`` and is retried (:mod:`event_data.store.locking`).

The table is dropped in the transaction that detached it: the lock is held already and the drop
is as quick, and done in two steps, a task stopped between them would leave a detached table
holding the day's rows that nothing counts or removes (the maintenance round now finds such
tables, and drops or attaches them again).

``events_default`` is not a daily partition, so its rows older than the horizon cannot go with a
partition: they are deleted, the one place rows are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.database import driver_connection
from event_data.store.locking import SET_LOCK_TIMEOUT, LockBusy, retry_while_locked
from event_data.store.partitions import (
    PARTITION_LOCK_KEY,
    PartitionBusy,
    PartitionError,
    partition_name,
)


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


async def drop_partition(engine: AsyncEngine, day: date) -> bool:
    """Detach and drop one day's partition, or drop its table if it is detached already; False
    when there was no table."""
    try:
        return await retry_while_locked(lambda: _drop_once(engine, day))
    except LockBusy as exc:
        raise PartitionBusy(f"events stayed busy; {partition_name(day)} not dropped") from exc
    except asyncpg.PostgresError as exc:
        raise PartitionError(f"{partition_name(day)} not dropped: {exc}") from exc


async def _drop_once(engine: AsyncEngine, day: date) -> bool:
    name = partition_name(day)
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        async with raw.transaction():
            # The same lock as making partitions: a day is never made and dropped at once.
            await raw.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
            if not await raw.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
                return False
            attached = await raw.fetchval(
                "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'events'::regclass AND c.relname = $1",
                name,
            )
            await raw.execute(SET_LOCK_TIMEOUT)
            # Identifiers cannot be parameters; the name is built from a date only.
            if attached:
                await raw.execute(f"ALTER TABLE events DETACH PARTITION {name}")
            await raw.execute(f"DROP TABLE {name}")
    return True


async def delete_expired_default_rows(engine: AsyncEngine, horizon: datetime) -> int:
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        status = await raw.execute("DELETE FROM events_default WHERE ts < $1", horizon)
    return int(status.rsplit(" ", 1)[-1])
