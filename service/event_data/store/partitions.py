"""Daily partitions of ``events``: made on demand for the days a batch needs.

Creating a partition takes a lock on the parent table, so it happens in a short transaction of
its own, before the batch's load, serialised across tasks by an advisory lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.database import driver_connection

PARTITION_LOCK_KEY = 0x65_76_70_61_72_74  # "evpart"
PARTITION_PREFIX = "events_p"
# Days outside this window are not given partitions on demand: a garbled timestamp must not
# create a partition for year 2999. Such events land in `events_default`, which is watched.
EARLIEST_PARTITION_DAY = date(2000, 1, 1)
FUTURE_PARTITION_DAYS = 366


def partition_name(day: date) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


def partition_day(name: str) -> date | None:
    if not name.startswith(PARTITION_PREFIX):
        return None
    try:
        return datetime.strptime(name[len(PARTITION_PREFIX) :], "%Y%m%d").date()
    except ValueError:
        return None


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

    async def ensure(self, days: Iterable[date], today: date | None = None) -> list[date]:
        """Create the partitions among ``days`` that are missing; return the days created."""
        today = today or datetime.now(UTC).date()
        wanted = {d for d in days if wants_partition(d, today)} - self._known
        if not wanted:
            return []
        created: list[date] = []
        async with self._engine.connect() as conn:
            raw = await driver_connection(conn)
            async with raw.transaction():
                await raw.execute("SET LOCAL lock_timeout = '10s'")
                await raw.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
                for day in sorted(wanted):
                    exists = await raw.fetchval(
                        "SELECT to_regclass($1) IS NOT NULL", partition_name(day)
                    )
                    if exists:
                        continue
                    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
                    # Identifiers cannot be parameters; the name is built from a date only.
                    await raw.execute(
                        f"CREATE TABLE {partition_name(day)} PARTITION OF events "
                        f"FOR VALUES FROM ('{start.isoformat()}') "
                        f"TO ('{(start + timedelta(days=1)).isoformat()}')"
                    )
                    created.append(day)
        self._known |= wanted
        return created
