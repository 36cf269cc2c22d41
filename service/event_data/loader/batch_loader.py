"""One archived batch into PostgreSQL: fetch, decompress, parse, normalise, COPY.

``PoisonBatch`` is re-exported here: it is what the consumer dead-letters."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.archive.compression import UnreadableArchive, decompress_object
from event_data.archive.keys import CONTENT_ID_PREFIX, content_digest
from event_data.archive.s3 import META_BATCH_ID, META_RECEIVED_AT, Archive
from event_data.events.timestamps import parse_event_time
from event_data.loader.prepare import PoisonBatch as PoisonBatch
from event_data.loader.workers import PrepareWorkers
from event_data.logging import get_logger
from event_data.store.loading import BatchRecord, batch_loaded, load_batch, next_batch_no
from event_data.store.partitions import PartitionError, Partitions, upcoming_days
from event_data.store.retention import retention_horizon

log = get_logger(__name__)


# A read that has not finished by then is stuck, not slow: give the message back to the queue.
ARCHIVE_GET_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class LoadResult:
    batch_id: str
    key: str
    already_loaded: bool
    events_total: int
    inserted: int
    duplicates: int
    expired: int
    skipped: int
    # events whose timestamp could not be read, filed at the batch's received time
    undated: int
    seconds: float
    # where the seconds went: reading the archive, preparing the rows, writing them
    stages: dict[str, float] | None = None


def _unpack(data: bytes) -> tuple[bytes, str]:
    """The batch's raw bytes and their digest (the same digest the receiver computed)."""
    try:
        raw = decompress_object(data)
    except UnreadableArchive as exc:
        raise PoisonBatch(str(exc)) from exc
    return raw, content_digest(raw)


class BatchLoader:
    def __init__(
        self,
        engine: AsyncEngine,
        archive: Archive,
        partitions: Partitions,
        retention_days: int,
        workers: PrepareWorkers | None = None,
    ) -> None:
        self._engine = engine
        self._workers = workers or PrepareWorkers(0)
        self._archive = archive
        self._partitions = partitions
        self._retention_days = retention_days

    async def _prepare_upcoming_days(self) -> None:
        """Make the next days' partitions before any event or query needs them; a failure here
        must not fail the batch, which does not need them."""
        try:
            await self._partitions.ensure(upcoming_days())
        except (PartitionError, SQLAlchemyError, OSError) as exc:
            log.warning("loader.upcoming_partitions_failed", error=type(exc).__name__)

    async def load(self, bucket: str, key: str) -> LoadResult:
        started = time.perf_counter()
        obj = await asyncio.wait_for(
            self._archive.get(key, bucket=bucket), ARCHIVE_GET_TIMEOUT_SECONDS
        )
        raw, digest = await anyio.to_thread.run_sync(_unpack, obj.data)
        batch_id = obj.metadata.get(META_BATCH_ID) or CONTENT_ID_PREFIX + digest
        if await batch_loaded(self._engine, digest):
            return LoadResult(batch_id, key, True, 0, 0, 0, 0, 0, 0, time.perf_counter() - started)
        received_at = (
            parse_event_time(obj.metadata.get(META_RECEIVED_AT))
            or obj.last_modified
            or datetime.now(UTC)
        )
        batch_no = await next_batch_no(self._engine)
        horizon = retention_horizon(datetime.now(UTC), self._retention_days)
        fetched = time.perf_counter()
        prepared = await self._workers.prepare(raw, received_at, batch_no, horizon)
        ready = time.perf_counter()
        await self._partitions.ensure(set(prepared.days))
        await self._prepare_upcoming_days()
        record = BatchRecord(
            batch_no=batch_no,
            batch_id=batch_id,
            content_digest=digest,
            archive_key=key,
            received_at=received_at,
            events_total=prepared.events_total,
            events_expired=prepared.expired,
            elements_skipped=prepared.skipped,
        )
        outcome = await load_batch(self._engine, record, prepared.rows)
        done = time.perf_counter()
        return LoadResult(
            batch_id=batch_id,
            key=key,
            already_loaded=outcome.already_loaded,
            events_total=prepared.events_total,
            inserted=outcome.inserted,
            duplicates=outcome.duplicates,
            expired=prepared.expired,
            skipped=prepared.skipped,
            undated=prepared.undated,
            seconds=done - started,
            stages={
                "fetch_ms": round((fetched - started) * 1000, 1),
                "prepare_ms": round((ready - fetched) * 1000, 1),
                "write_ms": round((done - ready) * 1000, 1),
            },
        )
