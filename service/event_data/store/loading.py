"""Writing a batch's events: one transaction per batch, COPY, idempotent.

A batch is loaded exactly once in effect. The ``batches`` row (unique on the digest of the
batch's bytes) is written in the same transaction as the events, so the same bytes seen again
after commit, under any batch id, are skipped; events are unique on (ts, event_id, type), so the
same events in other bytes add nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.events.codec import StoredEvent
from event_data.store.copy_binary import EncodedRows
from event_data.store.database import driver_connection

EVENT_COLUMNS: tuple[str, ...] = StoredEvent._fields
# A row in EVENT_COLUMNS order: a StoredEvent, or the plain tuple of one.
EventRow = tuple[Any, ...]
_INCOMING = "events_incoming"


@dataclass(frozen=True)
class BatchRecord:
    batch_no: int
    batch_id: str
    content_digest: str
    archive_key: str
    received_at: datetime | None
    events_total: int
    events_expired: int
    elements_skipped: int


@dataclass(frozen=True)
class LoadOutcome:
    already_loaded: bool
    inserted: int
    duplicates: int


async def batch_loaded(engine: AsyncEngine, content_digest: str) -> bool:
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        found = await raw.fetchval(
            "SELECT 1 FROM batches WHERE content_digest = $1", content_digest
        )
    return found is not None


async def next_batch_no(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        value = await raw.fetchval("SELECT nextval(pg_get_serial_sequence('batches', 'batch_no'))")
    return int(value)


async def load_batch(
    engine: AsyncEngine, record: BatchRecord, rows: Sequence[EventRow] | EncodedRows
) -> LoadOutcome:
    """Record the batch and insert its events (rows, or rows already in COPY format) in one
    transaction."""
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        async with raw.transaction():
            claimed = await raw.fetchval(
                "INSERT INTO batches (batch_no, batch_id, content_digest, archive_key, received_at,"
                " events_total, events_expired, elements_skipped)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (content_digest) DO NOTHING RETURNING batch_no",
                record.batch_no,
                record.batch_id,
                record.content_digest,
                record.archive_key,
                record.received_at,
                record.events_total,
                record.events_expired,
                record.elements_skipped,
            )
            if claimed is None:
                return LoadOutcome(already_loaded=True, inserted=0, duplicates=0)
            count = rows.count if isinstance(rows, EncodedRows) else len(rows)
            inserted = await _insert_events(raw, rows) if count else 0
            duplicates = count - inserted
            await raw.execute(
                "UPDATE batches SET events_loaded = $2, events_duplicate = $3, loaded_at = now()"
                " WHERE batch_no = $1",
                record.batch_no,
                inserted,
                duplicates,
            )
    return LoadOutcome(already_loaded=False, inserted=inserted, duplicates=duplicates)


async def _copy(
    raw: asyncpg.Connection[Any], table: str, rows: Sequence[EventRow] | EncodedRows
) -> None:
    if isinstance(rows, EncodedRows):
        await raw.copy_to_table(table, source=rows.chunks(), columns=EVENT_COLUMNS, format="binary")
    else:
        await raw.copy_records_to_table(table, records=rows, columns=EVENT_COLUMNS)


async def _insert_events(
    raw: asyncpg.Connection[Any], rows: Sequence[EventRow] | EncodedRows
) -> int:
    """COPY straight into ``events``; if any event is already there, go through a staging
    table and let ``ON CONFLICT DO NOTHING`` keep the first copy.

    New batches, the common case, take the fast path; redelivered or overlapping ones pay for
    the second."""
    try:
        async with raw.transaction():
            await _copy(raw, "events", rows)
        return rows.count if isinstance(rows, EncodedRows) else len(rows)
    except asyncpg.UniqueViolationError:
        pass
    await raw.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_INCOMING} (LIKE events) ON COMMIT DELETE ROWS"
    )
    await _copy(raw, _INCOMING, rows)
    status = await raw.execute(
        f"INSERT INTO events SELECT * FROM {_INCOMING} ON CONFLICT DO NOTHING"  # noqa: S608
    )
    await raw.execute(f"TRUNCATE {_INCOMING}")
    return int(status.rsplit(" ", 1)[-1])


async def record_failure(
    engine: AsyncEngine,
    *,
    bucket: str,
    key: str,
    sqs_message_id: str | None,
    receive_count: int | None,
    reason: str,
) -> None:
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        await raw.execute(
            "INSERT INTO batch_failures (bucket, archive_key, sqs_message_id, receive_count,"
            " reason) VALUES ($1, $2, $3, $4, $5)",
            bucket,
            key,
            sqs_message_id,
            receive_count,
            reason[:2000],
        )


@dataclass(frozen=True)
class FailureRecord:
    reason: str
    failed_at: datetime
    failures: int


async def last_failures(engine: AsyncEngine, keys: Sequence[str]) -> dict[str, FailureRecord]:
    """For each archive key that failed: its latest reason, when, and how many failures."""
    if not keys:
        return {}
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        rows = await raw.fetch(
            "SELECT DISTINCT ON (archive_key) archive_key, reason, failed_at,"
            " count(*) OVER (PARTITION BY archive_key) AS failures"
            " FROM batch_failures WHERE archive_key = ANY($1::text[])"
            " ORDER BY archive_key, failed_at DESC, id DESC",
            list(keys),
        )
    return {
        row["archive_key"]: FailureRecord(row["reason"], row["failed_at"], row["failures"])
        for row in rows
    }
