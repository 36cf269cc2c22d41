"""One maintenance round, and the loop that runs it on an interval in every task.

Every round, in every task, refreshes the gauges (partitions, default-partition rows, DLQ
depth) so that whichever task Prometheus scrapes reports them. The actions run in one task at a
time, the one that gets the maintenance advisory lock; the others skip them that round:

1. tables named like a daily partition but not attached (a detach whose drop never ran, or a
   detach by hand) dropped if their day is past the retention horizon, attached again if not;
2. partitions made for today and the next ``days_ahead`` days;
3. partitions whose whole day lies before the retention horizon detached and dropped, and rows
   of ``events_default`` older than the horizon deleted (it is not a daily partition);
4. rows waiting in ``events_default`` whose day is now inside the window partitions are made
   for get their partition, which takes them over.

``run_once`` takes ``now``, so that tests run a round for any day against a real database.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from event_data import metrics
from event_data.logging import get_logger
from event_data.maintenance.queues import DeadLetterQueue
from event_data.store.locking import maintenance_lock
from event_data.store.partitions import (
    PartitionError,
    Partitions,
    default_partition_days,
    upcoming_days,
    wants_partition,
)
from event_data.store.retention import (
    delete_expired_default_rows,
    drop_partition,
    expired_day,
    retention_horizon,
)

log = get_logger(__name__)

# Days ahead of today given a partition by each round: a week, so that a few failed rounds
# (or a stopped service) never leave a day without its partition. The loader makes two ahead too.
MAINTENANCE_DAYS_AHEAD = 7


@dataclass
class MaintenanceReport:
    """What one round did and saw."""

    ran: bool  # False: another task held the lock, and only the gauges were refreshed
    created: list[date] = field(default_factory=list)
    dropped: list[date] = field(default_factory=list)
    reattached: list[date] = field(default_factory=list)
    default_moved: int = 0
    default_expired: int = 0
    default_rows: int = 0
    partitions: int = 0
    dlq_depth: int | None = None
    seconds: float = 0.0


class Maintenance:
    def __init__(
        self,
        engine: AsyncEngine,
        partitions: Partitions,
        retention_days: int,
        dlq: DeadLetterQueue | None = None,
        days_ahead: int = MAINTENANCE_DAYS_AHEAD,
    ) -> None:
        self._engine = engine
        self._partitions = partitions
        self._retention_days = retention_days
        self._dlq = dlq
        self._days_ahead = days_ahead

    async def run_once(self, now: datetime | None = None) -> MaintenanceReport:
        """One round as of ``now`` (default: the current time)."""
        started = time.perf_counter()
        now = (now or datetime.now(UTC)).astimezone(UTC)
        async with maintenance_lock(self._engine) as held:
            report = MaintenanceReport(ran=held)
            if held:
                await self._act(now, report)
        await self._observe(report)
        report.seconds = time.perf_counter() - started
        metrics.MAINTENANCE_RUNS.labels("ran" if report.ran else "skipped").inc()
        self._log(report)
        return report

    async def _act(self, now: datetime, report: MaintenanceReport) -> None:
        today = now.date()
        horizon = retention_horizon(now, self._retention_days)
        await self._sweep_detached(horizon, report)
        existing = await self._partitions.existing()
        report.created = await self._partitions.ensure(
            upcoming_days(today, self._days_ahead), today=today
        )
        metrics.PARTITIONS_CREATED.inc(len(report.created))

        if horizon is not None:
            for day in sorted(d for d in existing if expired_day(d, horizon)):
                await self._drop(day, report)
            self._partitions.forget(report.dropped)
            metrics.PARTITIONS_DROPPED.inc(len(report.dropped))
            report.default_expired = await delete_expired_default_rows(self._engine, horizon)
            metrics.DEFAULT_ROWS_EXPIRED.inc(report.default_expired)

        waiting = await default_partition_days(self._engine)
        movable = [day for day in waiting if wants_partition(day, today)]
        if movable:
            try:
                made = await self._partitions.ensure(movable, today=today)
            except PartitionError as exc:
                log.warning("maintenance.move_failed", error=type(exc).__name__)
                made = []
            report.created += made
            report.default_moved = sum(waiting[day] for day in made)
            metrics.DEFAULT_ROWS_MOVED.inc(report.default_moved)

    async def _sweep_detached(self, horizon: datetime | None, report: MaintenanceReport) -> None:
        """Tables of daily partitions that are not attached: nothing else sees them, and one
        would be taken for its day's partition. Past the horizon they go as their partition
        would have; otherwise their rows are data, and they are attached again."""
        detached = await self._partitions.detached()
        if not detached:
            return
        days = [d.isoformat() for d in sorted(detached)]
        log.warning("maintenance.detached_partitions", days=days)
        expired = {d for d in detached if horizon is not None and expired_day(d, horizon)}
        for day in sorted(expired):
            await self._drop(day, report)
        for day in sorted(detached - expired):
            try:
                report.reattached += await self._partitions.reattach([day])
            except PartitionError as exc:
                log.warning(
                    "maintenance.reattach_failed", day=day.isoformat(), error=type(exc).__name__
                )
        metrics.PARTITIONS_REATTACHED.inc(len(report.reattached))

    async def _drop(self, day: date, report: MaintenanceReport) -> None:
        try:
            if await drop_partition(self._engine, day):
                report.dropped.append(day)
        except PartitionError as exc:
            log.warning("maintenance.drop_failed", day=day.isoformat(), error=type(exc).__name__)

    async def _observe(self, report: MaintenanceReport) -> None:
        existing = await self._partitions.existing()
        report.partitions = len(existing)
        report.default_rows = sum((await default_partition_days(self._engine)).values())
        metrics.PARTITIONS.set(report.partitions)
        metrics.DEFAULT_PARTITION_ROWS.set(report.default_rows)
        if self._dlq is not None:
            report.dlq_depth = await self._dlq.depth()
            if report.dlq_depth is not None:
                metrics.DLQ_DEPTH.set(report.dlq_depth)

    def _log(self, report: MaintenanceReport) -> None:
        log.info(
            "maintenance.run",
            ran=report.ran,
            created=len(report.created),
            dropped=len(report.dropped),
            reattached=len(report.reattached),
            default_moved=report.default_moved,
            default_expired=report.default_expired,
            default_rows=report.default_rows,
            partitions=report.partitions,
            dlq_depth=report.dlq_depth,
            ms=round(report.seconds * 1000, 1),
        )
        if report.default_rows:
            # Event times outside every partition's window: a garbled clock, or a partition
            # that could not be made. They are served, but every query scans them.
            log.warning("maintenance.default_partition_rows", rows=report.default_rows)


class MaintenanceLoop:
    """Runs a round at start and then every ``interval_seconds``, until stopped."""

    def __init__(self, maintenance: Maintenance, interval_seconds: float) -> None:
        self._maintenance = maintenance
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="maintenance")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        log.info("maintenance.stopped")

    async def _run(self) -> None:
        while True:
            try:
                await self._maintenance.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                metrics.MAINTENANCE_RUNS.labels("failed").inc()
                log.error("maintenance.failed", error=type(exc).__name__)
            await asyncio.sleep(self._interval)
