"""Daily partitions of ``events``: made on demand for the days a batch needs.

A partition is made as a plain table and then attached: ``ATTACH PARTITION`` takes only a SHARE
UPDATE EXCLUSIVE lock on ``events``, so loads and queries go on meanwhile, where ``CREATE TABLE
... PARTITION OF`` would queue behind every open query and block everything queued after it.

Attaching does lock ``events_default`` exclusively, and a query whose window holds a day without
a partition reads it. So the lock is asked for with a short timeout and retried: a waiting attach
never holds up the queries behind it for longer than that. Rows of the new day waiting in
``events_default`` move into the new partition in the same transaction (the attach would fail
while the default partition holds any).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.database import driver_connection

PARTITION_LOCK_KEY = 0x65_76_70_61_72_74  # "evpart"
# How long one attempt waits for the default partition's lock, and how many attempts are made
# (about 20 s in all, with the pauses between them).
LOCK_WAIT_MS = 200
LOCK_ATTEMPTS = 20
PARTITION_PREFIX = "events_p"
# Days outside this window are not given partitions on demand: a garbled timestamp must not
# create a partition for year 2999. Such events land in `events_default`, which is watched.
EARLIEST_PARTITION_DAY = date(2000, 1, 1)
FUTURE_PARTITION_DAYS = 366
# Days ahead of today that are made before any event needs them, so that the partition for a
# day exists before queries on that day start (and lock it), and midnight waits on nothing.
DAYS_AHEAD = 2


class PartitionError(RuntimeError):
    """A partition could not be made."""


class PartitionBusy(PartitionError):
    """A partition could not be attached: the default partition stayed in use."""


def partition_name(day: date) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


def partition_day(name: str) -> date | None:
    if not name.startswith(PARTITION_PREFIX):
        return None
    try:
        return datetime.strptime(name[len(PARTITION_PREFIX) :], "%Y%m%d").date()
    except ValueError:
        return None


def upcoming_days(today: date | None = None, days_ahead: int = DAYS_AHEAD) -> set[date]:
    """Today and the next ``days_ahead`` days: made before any event needs them."""
    today = today or datetime.now(UTC).date()
    return {today + timedelta(days=n) for n in range(days_ahead + 1)}


def wants_partition(day: date, today: date) -> bool:
    return EARLIEST_PARTITION_DAY <= day <= today + timedelta(days=FUTURE_PARTITION_DAYS)


class Partitions:
    """Knows which daily partitions exist and creates missing ones."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._known: set[date] = set()

    async def existing(self) -> set[date]:
        async with self._engine.connect() as conn:
            raw = await driver_connection(conn)
            rows = await raw.fetch(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'events'::regclass"
            )
        days = {d for r in rows if (d := partition_day(r["relname"])) is not None}
        self._known = days
        return days

    def forget(self, days: Iterable[date]) -> None:
        """Days whose partitions were dropped: made again if an event ever needs them."""
        self._known -= set(days)

    async def ensure(self, days: Iterable[date], today: date | None = None) -> list[date]:
        """Create the partitions among ``days`` that are missing; return the days created."""
        today = today or datetime.now(UTC).date()
        wanted = sorted({d for d in days if wants_partition(d, today)} - self._known)
        created = [day for day in wanted if await self._create(day)]
        self._known |= set(wanted)
        return created

    async def _create(self, day: date) -> bool:
        """One partition, retried while the default partition is busy; False when another task
        made it first."""
        for attempt in range(LOCK_ATTEMPTS):
            try:
                return await self._create_once(day)
            except asyncpg.LockNotAvailableError:
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
            except asyncpg.PostgresError as exc:
                raise PartitionError(f"{partition_name(day)} not made: {exc}") from exc
        raise PartitionBusy(f"the default partition stayed busy; {partition_name(day)} not made")

    async def _create_once(self, day: date) -> bool:
        name = partition_name(day)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        async with self._engine.connect() as conn:
            raw = await driver_connection(conn)
            async with raw.transaction():
                await raw.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
                if await raw.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
                    return False
                await raw.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'")
                await raw.execute("LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE")
                # Identifiers cannot be parameters; the name is built from a date only.
                await raw.execute(
                    f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                )
                await raw.execute(
                    f"WITH moved AS (DELETE FROM events_default WHERE ts >= $1 AND ts < $2 "  # noqa: S608
                    f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
                    start,
                    end,
                )
                await raw.execute(
                    f"ALTER TABLE events ATTACH PARTITION {name} "
                    f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                )
        return True
