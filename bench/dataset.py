"""The searchable history P4 and P6 are measured on: ``size`` generated events over ``days``
days, loaded through the loader's own code (normalise, encode, COPY with its batch record), in
one worker process per core, each taking whole days.

Every batch is also compressed as the receiver archives it, which is P5's numerator.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from event_data.archive.compression import compress_batch
from event_data.config import load_settings
from event_data.events import codec
from event_data.events.normalise import normalise_batch
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
            rows = [
                codec.encode(e, batch_no) for e in normalise_batch(orjson.loads(body), now).events
            ]
            await partitions.ensure({row.ts.astimezone(UTC).date() for row in rows})
            name = f"dataset-{day}-{i}"
            await load_batch(
                engine, BatchRecord(batch_no, name, name, name, now, len(rows), 0, 0), rows
            )
            loaded += len(rows)
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
