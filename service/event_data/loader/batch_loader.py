"""One archived batch into PostgreSQL: fetch, decompress, parse, normalise, COPY."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread
import orjson
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.archive.compression import UnreadableArchive, decompress_object
from event_data.archive.keys import CONTENT_ID_PREFIX, content_digest
from event_data.archive.s3 import META_BATCH_ID, META_RECEIVED_AT, Archive
from event_data.events.codec import StoredEvent, encode
from event_data.events.jsonread import loads
from event_data.events.jsontext import TooDeep
from event_data.events.normalise import NormalisedBatch, normalise_batch
from event_data.events.timestamps import parse_event_time
from event_data.logging import get_logger
from event_data.store.loading import BatchRecord, batch_loaded, load_batch, next_batch_no
from event_data.store.partitions import PartitionError, Partitions, upcoming_days
from event_data.store.retention import retention_horizon

log = get_logger(__name__)


# A read that has not finished by then is stuck, not slow: give the message back to the queue.
ARCHIVE_GET_TIMEOUT_SECONDS = 120


class PoisonBatch(ValueError):
    """The object can never load: retrying will not help, only a person can."""


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


@dataclass(frozen=True)
class _Prepared:
    normalised: NormalisedBatch
    rows: list[StoredEvent]
    expired: int


def _unpack(data: bytes) -> tuple[bytes, str]:
    """The batch's raw bytes and their digest (the same digest the receiver computed)."""
    try:
        raw = decompress_object(data)
    except UnreadableArchive as exc:
        raise PoisonBatch(str(exc)) from exc
    return raw, content_digest(raw)


def _parse(raw: bytes) -> list[object]:
    # Numbers as sent (product.md, Decisions 8): orjson's reading where it writes them back so.
    try:
        parsed = loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PoisonBatch(f"batch is not valid JSON: {exc}") from exc
    if not isinstance(parsed, list):
        raise PoisonBatch("batch is not a JSON array")
    return parsed


def _prepare(
    elements: list[object], received_at: datetime, batch_no: int, horizon: datetime | None
) -> _Prepared:
    normalised = normalise_batch(elements, received_at)
    rows: list[StoredEvent] = []
    expired = 0
    for event in normalised.events:
        if horizon is not None and event.ts < horizon:
            expired += 1  # older than retention: kept in the archive only
            continue
        try:
            rows.append(encode(event, batch_no))
        except TooDeep:
            normalised.skipped += 1  # the archive keeps it; the rest of the batch loads
    return _Prepared(normalised, rows, expired)


class BatchLoader:
    def __init__(
        self, engine: AsyncEngine, archive: Archive, partitions: Partitions, retention_days: int
    ) -> None:
        self._engine = engine
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
        elements = await anyio.to_thread.run_sync(_parse, raw)
        batch_no = await next_batch_no(self._engine)
        horizon = retention_horizon(datetime.now(UTC), self._retention_days)
        prepared = await anyio.to_thread.run_sync(
            _prepare, elements, received_at, batch_no, horizon
        )
        await self._partitions.ensure({row.ts.astimezone(UTC).date() for row in prepared.rows})
        await self._prepare_upcoming_days()
        record = BatchRecord(
            batch_no=batch_no,
            batch_id=batch_id,
            content_digest=digest,
            archive_key=key,
            received_at=received_at,
            events_total=len(prepared.normalised.events),
            events_expired=prepared.expired,
            elements_skipped=prepared.normalised.skipped,
        )
        outcome = await load_batch(self._engine, record, prepared.rows)
        return LoadResult(
            batch_id=batch_id,
            key=key,
            already_loaded=outcome.already_loaded,
            events_total=len(prepared.normalised.events),
            inserted=outcome.inserted,
            duplicates=outcome.duplicates,
            expired=prepared.expired,
            skipped=prepared.normalised.skipped,
            undated=prepared.normalised.ts_fallbacks,
            seconds=time.perf_counter() - started,
        )
