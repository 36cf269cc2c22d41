"""The searchable history P4 and P6 are measured on: ``size`` generated events over ``days``
days, loaded through the loader's own code (prepare_batch, then COPY with its batch record), in
one worker process per core, each taking whole days.

Every batch is also compressed as the receiver archives it, which is P5's numerator.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from event_data.archive.compression import compress_batch
from event_data.config import load_settings
from event_data.loader.prepare import prepare_batch
from event_data.store.database import create_engine
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from event_data.store.partitions import Partitions
from event_data.synth import EventGenerator, GeneratorConfig

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LoadedDays:
    events: int
    batches: int
    raw_bytes: int
    archive_bytes: int
    seconds: float


def day_window(days: int) -> tuple[datetime, datetime]:
    return START, START + timedelta(days=days)


async def _load_day(database_url: str, day: int, events: int, seed: int) -> LoadedDays:
    settings = load_settings(
        {
            "EVENT_DATA_ENV": "development",
            "DATABASE_URL": database_url,
            "EVENT_DATA_DB_POOL_SIZE": "1",
        }
    )
    engine = create_engine(settings)
    partitions = Partitions(engine)
    start = START + timedelta(days=day)
    generator = EventGenerator(
        GeneratorConfig(seed=seed * 1000 + day, start=start, end=start + timedelta(days=1))
    )
    raw = archived = loaded = batches = 0
    began = time.perf_counter()
    now = datetime.now(UTC)
    try:
        for i, body in enumerate(generator.batch_bytes(events)):
            raw += len(body)
            archived += len(compress_batch(body))
            batch_no = await next_batch_no(engine)
            prepared = prepare_batch(body, now, batch_no, None)
            await partitions.ensure(set(prepared.days))
            name = f"dataset-{day}-{i}"
            count = prepared.rows.count
            record = BatchRecord(batch_no, name, name, name, now, count, 0, 0)
            await load_batch(engine, record, prepared.rows)
            loaded += count
            batches += 1
    finally:
        await engine.dispose()
    return LoadedDays(loaded, batches, raw, archived, time.perf_counter() - began)


def _load_day_sync(database_url: str, day: int, events: int, seed: int) -> LoadedDays:
    return asyncio.run(_load_day(database_url, day, events, seed))


def load(database_url: str, size: int, days: int, workers: int, seed: int = 1) -> LoadedDays:
    """Load ``size`` events spread evenly over ``days`` days; the totals of every day."""
    per_day = [size // days + (1 if d < size % days else 0) for d in range(days)]
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(
            pool.map(
                _load_day_sync,
                [database_url] * days,
                range(days),
                per_day,
                [seed] * days,
            )
        )
    return LoadedDays(
        events=sum(p.events for p in parts),
        batches=sum(p.batches for p in parts),
        raw_bytes=sum(p.raw_bytes for p in parts),
        archive_bytes=sum(p.archive_bytes for p in parts),
        seconds=time.perf_counter() - began,
    )


# A kept database (``--keep``) records the dataset it holds, so that a later run measures it
# again instead of loading it again.
_RECORD = "bench_dataset"


async def recorded(conn: asyncpg.Connection[Any], size: int, days: int) -> LoadedDays | None:
    """The dataset a kept database already holds, if it is this one."""
    if await conn.fetchval("SELECT to_regclass($1)", _RECORD) is None:
        return None
    row = await conn.fetchrow(
        f"SELECT events, batches, raw_bytes, archive_bytes, seconds FROM {_RECORD}"
        " WHERE size = $1 AND days = $2",
        size,
        days,
    )
    return None if row is None else LoadedDays(**dict(row))


async def record(conn: asyncpg.Connection[Any], size: int, days: int, loaded: LoadedDays) -> None:
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_RECORD} (size bigint, days int, events bigint,"
        " batches bigint, raw_bytes bigint, archive_bytes bigint, seconds float8)"
    )
    await conn.execute(f"DELETE FROM {_RECORD}")
    await conn.execute(
        f"INSERT INTO {_RECORD} VALUES ($1, $2, $3, $4, $5, $6, $7)",
        size,
        days,
        loaded.events,
        loaded.batches,
        loaded.raw_bytes,
        loaded.archive_bytes,
        loaded.seconds,
    )
