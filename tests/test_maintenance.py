"""The maintenance task, run for a chosen "now" against a real database: partitions made ahead,
retention by dropping whole partitions, the default partition watched and emptied, and one
runner at a time across tasks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.events.codec import encode
from event_data.events.normalise import normalise_batch
from event_data.maintenance.task import MAINTENANCE_DAYS_AHEAD, Maintenance
from event_data.store.database import create_engine
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from event_data.store.locking import MAINTENANCE_LOCK_KEY
from event_data.store.partitions import Partitions, partition_name
from event_data.store.retention import expired_day, retention_horizon
from tests.conftest import AppFactory, make_settings, post_batch, query, wait_for_count

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url=database_url))
    yield engine
    await engine.dispose()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


async def _load(engine: AsyncEngine, name: str, moments: list[datetime]) -> None:
    """Events stored through the loader's own store calls, at the given event times."""
    elements = [
        {"msys": {"message_event": {"type": "delivery", "event_id": f"{name}-{i}", "timestamp": t}}}
        for i, t in enumerate(_epoch(m) for m in moments)
    ]
    events = normalise_batch(elements, NOW).events
    partitions = Partitions(engine)
    await partitions.existing()
    await partitions.ensure({e.ts.astimezone(UTC).date() for e in events}, today=NOW.date())
    batch_no = await next_batch_no(engine)
    rows = [encode(event, batch_no) for event in events]
    await load_batch(engine, BatchRecord(batch_no, name, name, name, None, len(rows), 0, 0), rows)


async def _partitions(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT c.relname, (SELECT count(*) FROM events e WHERE e.tableoid = c.oid) AS n "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass"
    )
    return {r["relname"]: r["n"] for r in rows}


def _maintenance(engine: AsyncEngine, retention_days: int) -> Maintenance:
    return Maintenance(engine, Partitions(engine), retention_days)


async def test_partitions_past_the_horizon_are_dropped_and_those_inside_kept(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    # Horizon: 2026-05-16 10:30. 05-15 ends before it; 05-16 straddles it and stays.
    days = [date(2026, 5, d) for d in (10, 14, 15, 16, 17)] + [date(2026, 6, 1)]
    await _load(engine, "old", [datetime(d.year, d.month, d.day, 12, tzinfo=UTC) for d in days])

    report = await _maintenance(engine, retention_days=30).run_once(NOW)

    assert report.ran
    assert report.dropped == [date(2026, 5, 10), date(2026, 5, 14), date(2026, 5, 15)]
    left = await _partitions(db)
    for day in report.dropped:
        assert partition_name(day) not in left
        assert await db.fetchval("SELECT to_regclass($1)", partition_name(day)) is None
    for day in (date(2026, 5, 16), date(2026, 5, 17), date(2026, 6, 1)):
        assert left[partition_name(day)] == 1
    assert await db.fetchval("SELECT count(*) FROM events") == 3
    # a second round finds nothing more to drop
    assert (await _maintenance(engine, retention_days=30).run_once(NOW)).dropped == []


async def test_retention_zero_keeps_everything(engine: AsyncEngine, db: asyncpg.Connection) -> None:
    await _load(engine, "ancient", [datetime(2001, 1, 1, tzinfo=UTC)])
    report = await _maintenance(engine, retention_days=0).run_once(NOW)
    assert report.dropped == []
    assert (await _partitions(db))["events_p20010101"] == 1


async def test_partitions_are_made_ahead(engine: AsyncEngine, db: asyncpg.Connection) -> None:
    report = await _maintenance(engine, retention_days=30).run_once(NOW)
    wanted = {NOW.date() + timedelta(days=n) for n in range(MAINTENANCE_DAYS_AHEAD + 1)}
    assert set(report.created) == wanted
    assert {partition_name(d) for d in wanted} <= set(await _partitions(db))
    assert report.partitions == len(wanted)
    # made once
    assert (await _maintenance(engine, retention_days=30).run_once(NOW)).created == []


async def test_default_partition_rows_move_once_their_day_is_in_reach(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    far = datetime(2033, 5, 18, 8, tzinfo=UTC)  # beyond the on-demand window as of NOW
    await _load(engine, "far", [far, far + timedelta(hours=1)])
    assert (await _partitions(db))["events_default"] == 2

    report = await _maintenance(engine, retention_days=30).run_once(NOW)
    assert report.default_rows == 2
    assert report.default_moved == 0

    later = datetime(2033, 5, 1, tzinfo=UTC)
    report = await _maintenance(engine, retention_days=30).run_once(later)
    assert report.default_moved == 2
    assert report.default_rows == 0
    partitions = await _partitions(db)
    assert partitions["events_default"] == 0
    assert partitions["events_p20330518"] == 2


async def test_default_partition_rows_past_the_horizon_are_deleted(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    # 1999: before the earliest day partitions are made for; its row waits in events_default.
    await _load(engine, "y2k", [datetime(1999, 12, 31, tzinfo=UTC)])
    kept = await _maintenance(engine, retention_days=0).run_once(NOW)
    assert kept.default_rows == 1
    report = await _maintenance(engine, retention_days=30).run_once(NOW)
    assert report.default_expired == 1
    assert report.default_rows == 0
    assert await db.fetchval("SELECT count(*) FROM events") == 0


async def test_a_runner_skips_while_another_holds_the_lock(
    engine: AsyncEngine, database_url: str, db: asyncpg.Connection
) -> None:
    await _load(engine, "old", [datetime(2026, 1, 1, tzinfo=UTC)])
    other = await asyncpg.connect(database_url)
    try:
        await other.execute("SELECT pg_advisory_lock($1)", MAINTENANCE_LOCK_KEY)
        report = await _maintenance(engine, retention_days=30).run_once(NOW)
        assert not report.ran
        assert report.created == report.dropped == []
        assert "events_p20260101" in await _partitions(db)
        # the gauges are still refreshed by the runner that skipped
        assert report.partitions == 1
        await other.execute("SELECT pg_advisory_unlock($1)", MAINTENANCE_LOCK_KEY)
        assert (await _maintenance(engine, retention_days=30).run_once(NOW)).ran
    finally:
        await other.close()


class _PausingPartitions(Partitions):
    """Stops inside the round (lock held) until released."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.inside = asyncio.Event()
        self.release = asyncio.Event()
        self._paused = False

    async def existing(self) -> set[date]:
        if not self._paused:
            self._paused = True
            self.inside.set()
            await self.release.wait()
        return await super().existing()


async def test_two_concurrent_runners_never_both_act(database_url: str) -> None:
    first_engine = create_engine(make_settings(database_url=database_url))
    second_engine = create_engine(make_settings(database_url=database_url))
    try:
        pausing = _PausingPartitions(first_engine)
        first = asyncio.create_task(Maintenance(first_engine, pausing, 30).run_once(NOW))
        await asyncio.wait_for(pausing.inside.wait(), 10)
        second = await _maintenance(second_engine, retention_days=30).run_once(NOW)
        pausing.release.set()
        first_report = await first
        assert first_report.ran
        assert not second.ran
        assert len(first_report.created) == MAINTENANCE_DAYS_AHEAD + 1
    finally:
        await first_engine.dispose()
        await second_engine.dispose()


async def test_a_detached_partition_is_dropped_past_the_horizon_and_attached_again_inside(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    # The state a detach without its drop left: tables of the partitions' names, not attached.
    old, recent = date(2026, 5, 1), date(2026, 6, 10)
    moments = [datetime(d.year, d.month, d.day, 12, tzinfo=UTC) for d in (old, recent)]
    await _load(engine, "orphans", [*moments, moments[1] + timedelta(hours=1)])
    for day in (old, recent):
        await db.execute(f"ALTER TABLE events DETACH PARTITION {partition_name(day)}")
    assert await db.fetchval("SELECT count(*) FROM events") == 0

    report = await _maintenance(engine, retention_days=30).run_once(NOW)

    assert report.dropped == [old]
    assert report.reattached == [recent]
    assert await db.fetchval("SELECT to_regclass($1)", partition_name(old)) is None
    assert (await _partitions(db))[partition_name(recent)] == 2
    # attached as it was: without the bound checked on the way, and taking its day's events
    constraints = await db.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'",
        partition_name(recent),
    )
    assert constraints == 0
    await _load(engine, "later", [moments[1] + timedelta(hours=2)])
    assert (await _partitions(db))[partition_name(recent)] == 3
    assert (await _partitions(db))["events_default"] == 0
    again = await _maintenance(engine, retention_days=30).run_once(NOW)
    assert again.reattached == again.dropped == []


async def test_a_drop_that_fails_leaves_the_partition_attached(
    engine: AsyncEngine, db: asyncpg.Connection
) -> None:
    day = date(2026, 5, 1)
    await _load(engine, "pinned", [datetime(2026, 5, 1, 12, tzinfo=UTC)])
    # A view on the partition makes its DROP fail after the DETACH succeeded.
    await db.execute(f"CREATE VIEW pin AS SELECT * FROM {partition_name(day)}")

    report = await _maintenance(engine, retention_days=30).run_once(NOW)

    assert report.dropped == []
    assert (await _partitions(db))[partition_name(day)] == 1  # never left detached
    await db.execute("DROP VIEW pin")
    assert (await _maintenance(engine, retention_days=30).run_once(NOW)).dropped == [day]


async def _lock_is_free(database_url: str) -> bool:
    probe = await asyncpg.connect(database_url)
    try:
        free = bool(await probe.fetchval("SELECT pg_try_advisory_lock($1)", MAINTENANCE_LOCK_KEY))
        if free:
            await probe.execute("SELECT pg_advisory_unlock($1)", MAINTENANCE_LOCK_KEY)
        return free
    finally:
        await probe.close()


class _FailingPartitions(Partitions):
    async def ensure(self, days: Any, today: date | None = None) -> list[date]:
        raise RuntimeError("boom")


async def test_the_maintenance_lock_is_free_after_a_round_that_failed(
    engine: AsyncEngine, database_url: str
) -> None:
    assert (await _maintenance(engine, retention_days=30).run_once(NOW)).ran
    assert await _lock_is_free(database_url)
    with pytest.raises(RuntimeError):
        await Maintenance(engine, _FailingPartitions(engine), 30).run_once(NOW)
    assert await _lock_is_free(database_url)


@pytest.mark.parametrize("steps", range(6))
async def test_the_maintenance_lock_is_free_after_a_round_cancelled_twice(
    engine: AsyncEngine, database_url: str, steps: int
) -> None:
    """Cancelled inside the round, and again ``steps`` turns of the event loop later, while it
    unwinds (a second SIGTERM, a timeout): a session lock's unlock interrupted there left the
    lock held by a connection back in the pool, and every task skipped maintenance."""
    pausing = _PausingPartitions(engine)
    task = asyncio.create_task(Maintenance(engine, pausing, 30).run_once(NOW))
    await asyncio.wait_for(pausing.inside.wait(), 10)
    assert not await _lock_is_free(database_url)
    task.cancel()
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _lock_is_free(database_url)
    # and the next round, on the same pool, runs
    assert (await _maintenance(engine, retention_days=30).run_once(NOW)).ran


def test_loader_and_maintenance_share_one_horizon() -> None:
    horizon = retention_horizon(NOW, 30)
    assert horizon == NOW - timedelta(days=30)
    assert retention_horizon(NOW, 0) is None
    # A dropped day holds only instants the loader would also refuse, and the day holding the
    # horizon itself is kept.
    assert expired_day(date(2026, 5, 15), horizon)
    assert not expired_day(date(2026, 5, 16), horizon)
    last_instant = datetime(2026, 5, 15, 23, 59, 59, 999999, tzinfo=UTC)
    assert last_instant < horizon


def _dated_batch(day_epoch: int, prefix: str) -> bytes:
    return json.dumps(
        [
            {
                "msys": {
                    "message_event": {
                        "type": "delivery",
                        "event_id": f"{prefix}-{i}",
                        "timestamp": str(day_epoch + i),
                    }
                }
            }
            for i in range(3)
        ]
    ).encode()


async def test_the_query_api_no_longer_returns_dropped_events(
    app_factory: AppFactory, database_url: str
) -> None:
    client: httpx.AsyncClient = await app_factory(EVENT_DATA_RETENTION_DAYS="0")
    old = _epoch(datetime(2016, 2, 2, 12, tzinfo=UTC))
    recent = _epoch(datetime(2016, 3, 10, 12, tzinfo=UTC))
    assert (await post_batch(client, _dated_batch(old, "old"), "old")).status_code == 200
    assert (await post_batch(client, _dated_batch(recent, "new"), "new")).status_code == 200
    window: dict[str, Any] = {"from": "2016-02-01T00:00Z", "to": "2016-03-11T00:00Z"}
    await wait_for_count(client, 6, **window)

    engine = create_engine(make_settings(database_url=database_url))
    try:
        fake_now = datetime(2016, 3, 15, tzinfo=UTC)
        report = await Maintenance(engine, Partitions(engine), 30).run_once(fake_now)
    finally:
        await engine.dispose()
    assert report.dropped == [date(2016, 2, 2)]
    body = (await query(client, **window)).json()
    assert body["total_count"] == 3
    assert {event["event_id"] for event in body["results"]} == {"new-0", "new-1", "new-2"}
