"""Daily partitions of ``events``: made on demand for the days a batch needs.

A partition is made as a plain table and then attached: ``ATTACH PARTITION`` takes only a SHARE
UPDATE EXCLUSIVE lock on ``events``, so loads and queries go on meanwhile, where ``CREATE TABLE
... PARTITION OF`` would queue behind every open query and block everything queued after it.

Attaching does lock ``events_default`` exclusively, and a query whose window holds a day without
a partition reads it. So the lock is asked for with a short timeout and retried
(:mod:`event_data.store.locking`): a waiting attach never holds up the queries behind it for
longer than that. Rows of the new day waiting in ``events_default`` move into the new partition in
the same transaction (the attach would fail while the default partition holds any).

A table with a partition's name that is not attached (one detached by hand, or by a version that
detached and dropped in two steps and was stopped between them) holds that day's rows: it is
attached again, never taken for a partition that exists, which would send the day's events to
``events_default`` for good.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.database import driver_connection
from event_data.store.locking import SET_LOCK_TIMEOUT, LockBusy, retry_while_locked

PARTITION_LOCK_KEY = 0x65_76_70_61_72_74  # "evpart"
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
    """The day of a name :func:`partition_name` gives; None for any other name."""
    if not name.startswith(PARTITION_PREFIX):
        return None
    try:
        day = datetime.strptime(name[len(PARTITION_PREFIX) :], "%Y%m%d").date()
    except ValueError:
        return None
    # strptime takes one-digit months and days too: "events_p2026061" is no partition's name.
    return day if partition_name(day) == name else None


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

    async def detached(self) -> set[date]:
        """Days whose partition's table exists but is not attached to ``events``."""
        async with self._engine.connect() as conn:
            raw = await driver_connection(conn)
            rows = await raw.fetch(
                "SELECT c.relname FROM pg_class c "
                "WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace "
                "AND starts_with(c.relname, $1) AND NOT EXISTS ("
                "  SELECT 1 FROM pg_inherits i"
                "  WHERE i.inhrelid = c.oid AND i.inhparent = 'events'::regclass)",
                PARTITION_PREFIX,
            )
        return {d for r in rows if (d := partition_day(r["relname"])) is not None}

    async def reattach(self, days: Iterable[date]) -> list[date]:
        """Attach the detached tables of ``days`` again, whatever the window; return the days
        attached."""
        attached = [day for day in sorted(set(days)) if await self._create(day)]
        self._known |= set(attached)
        return attached

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
        """One partition (or a detached table of its name attached again), retried while the
        default partition is busy; False when another task made it first."""
        try:
            return await retry_while_locked(lambda: self._create_once(day))
        except LockBusy as exc:
            raise PartitionBusy(
                f"the default partition stayed busy; {partition_name(day)} not made"
            ) from exc
        except asyncpg.PostgresError as exc:
            raise PartitionError(f"{partition_name(day)} not made: {exc}") from exc

    async def _create_once(self, day: date) -> bool:
        name = partition_name(day)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        async with self._engine.connect() as conn:
            raw = await driver_connection(conn)
            async with raw.transaction():
                await raw.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
                state = await raw.fetchval(_TABLE_STATE, name)
                if state == "attached":
                    return False
                # Identifiers cannot be parameters; the name is built from a date only.
                bound = f"{name}_bound"
                if state == "detached":
                    # Its rows are checked against the day here, where only this table is
                    # locked: the attach below then skips that scan while it holds
                    # events_default.
                    await raw.execute(
                        f"ALTER TABLE {name} ADD CONSTRAINT {bound} "
                        f"CHECK (ts >= '{start.isoformat()}' AND ts < '{end.isoformat()}')"
                    )
                await raw.execute(SET_LOCK_TIMEOUT)
                await raw.execute("LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE")
                if state is None:
                    await raw.execute(
                        f"CREATE TABLE {name} "
                        "(LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
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
                if state == "detached":
                    await raw.execute(f"ALTER TABLE {name} DROP CONSTRAINT {bound}")
        return True


async def default_partition_days(engine: AsyncEngine) -> dict[date, int]:
    """The days that have rows waiting in ``events_default``, with their row counts."""
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        rows = await raw.fetch(
            "SELECT (ts AT TIME ZONE 'UTC')::date AS day, count(*) AS n "
            "FROM events_default GROUP BY 1"
        )
    return {r["day"]: int(r["n"]) for r in rows}


# 'attached' (a partition of events), 'detached' (a table of that name that is not), or NULL.
_TABLE_STATE = (
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = t.oid "
    "AND i.inhparent = 'events'::regclass) THEN 'attached' ELSE 'detached' END "
    "FROM (SELECT to_regclass($1) AS oid) t WHERE t.oid IS NOT NULL"
)
