"""P1: the loader's throughput, from archived batches to committed rows, beside binary COPY of
the same prepared rows into the same table with every index in place.

The loader is the real one: ``event-data serve`` consuming the S3 notifications that archiving
the batches queued, with its production concurrency. The ceiling is those batches already parsed,
normalised and encoded (untimed), then COPYed with the same concurrency, one transaction per
batch, into the same empty partitions.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench import common
from bench.stack import Aws, cpu_seconds, cpu_used, profiled, service
from event_data.archive.s3 import Archive
from event_data.aws import open_aws_clients
from event_data.events import codec
from event_data.events.normalise import normalise_batch
from event_data.store.database import create_engine
from event_data.store.loading import EVENT_COLUMNS
from event_data.store.partitions import Partitions, partition_name

TARGET = 0.6
CONCURRENCY = 4  # EVENT_DATA_LOADER_CONCURRENCY's default


def _prepared_rows(bodies: list[bytes]) -> list[list[codec.StoredEvent]]:
    now = datetime.now(UTC)
    return [
        [codec.encode(e, i + 1) for e in normalise_batch(orjson.loads(body), now).events]
        for i, body in enumerate(bodies)
    ]


async def _copy_ceiling(
    database_url: str, prepared: list[list[codec.StoredEvent]], moto_pid: int
) -> tuple[float, float]:
    """Seconds to COPY every batch, and PostgreSQL's busy cores meanwhile."""
    queue: asyncio.Queue[list[codec.StoredEvent]] = asyncio.Queue()
    for rows in prepared:
        queue.put_nowait(rows)
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    connections = [await asyncpg.connect(dsn) for _ in range(CONCURRENCY)]

    async def worker(conn: asyncpg.Connection) -> None:
        while not queue.empty():
            rows = queue.get_nowait()
            async with conn.transaction():
                await conn.copy_records_to_table("events", records=rows, columns=EVENT_COLUMNS)

    before = cpu_seconds(0, moto_pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    seconds = time.perf_counter() - started
    cores = cpu_used(before, cpu_seconds(0, moto_pid), seconds)["postgres"]
    for conn in connections:
        await conn.close()
    return seconds, cores


async def _loaded(conn: asyncpg.Connection, prefix: str) -> tuple[int, int]:
    row = await conn.fetchrow(
        "SELECT count(*) AS batches, coalesce(sum(events_loaded + events_duplicate), 0) AS events"
        " FROM batches WHERE batch_id LIKE $1",
        prefix + "%",
    )
    return int(row["batches"]), int(row["events"])


async def _time_loading(conn: asyncpg.Connection, batches: int) -> tuple[float, int]:
    """Seconds from the first batch committed to the last, and the events committed in them
    (the first batch's excluded: its start is not seen)."""
    first_at = first_events = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        loaded_batches, loaded_events = await _loaded(conn, "p1-")
        now = time.perf_counter()
        if first_at is None and loaded_batches:
            first_at, first_events = now, loaded_events
        if loaded_batches == batches:
            assert first_at is not None
            assert first_events is not None
            return now - first_at, loaded_events - first_events
        await asyncio.sleep(0.05)
    raise RuntimeError("the loader did not finish in 600 s")


async def measure(
    database_url: str,
    aws: Aws,
    moto_pid: int,
    workdir: Path,
    batches: int,
    day: datetime,
    profile: Path | None,
) -> dict[str, Any]:
    days = (day, day + timedelta(days=2))
    bodies = common.batches(seed=11, start=days[0], end=days[1], events=batches * 1000)
    events = sum(len(orjson.loads(b)) for b in bodies)
    raw_bytes = sum(len(b) for b in bodies)
    settings = common.settings(database_url, aws)
    engine = create_engine(settings)
    partitions = Partitions(engine)
    await partitions.ensure({(days[0] + timedelta(days=d)).date() for d in range(3)})
    names = ", ".join(partition_name((days[0] + timedelta(days=d)).date()) for d in range(3))
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        prepared = _prepared_rows(bodies)
        copy_seconds, copy_cores = await _copy_ceiling(database_url, prepared, moto_pid)
        await conn.execute(f"TRUNCATE {names}")
        await conn.execute(f"VACUUM ANALYZE {names}")

        async with open_aws_clients(settings) as clients:
            store = Archive(clients.s3, aws.bucket)
            keys = [await common.archive(store, body, f"p1-{i}") for i, body in enumerate(bodies)]
        archived_bytes = await _object_bytes(settings, aws, keys)

        loader = service(database_url, aws, workdir, "p1-loader", loader=True)
        await loader.start()
        try:
            before = cpu_seconds(loader.pid, moto_pid)
            started = time.perf_counter()
            with profiled(loader, profile):
                load_seconds, measured_events = await _time_loading(conn, batches)
            cores = cpu_used(
                before, cpu_seconds(loader.pid, moto_pid), time.perf_counter() - started
            )
        finally:
            loader.stop()
    finally:
        await conn.close()
        await engine.dispose()

    loader_rate = measured_events / load_seconds
    copy_rate = events / copy_seconds
    return {
        "value": round(loader_rate / copy_rate, 3),
        "target": f">= {TARGET}",
        "detail": {
            "events": events,
            "batches": batches,
            "raw_json_bytes": raw_bytes,
            "archived_bytes": archived_bytes,
            "loader_events_per_s": round(loader_rate),
            "loader_events_timed": measured_events,
            "loader_seconds": round(load_seconds, 3),
            "copy_events_per_s": round(copy_rate),
            "copy_seconds": round(copy_seconds, 3),
            "concurrency": CONCURRENCY,
            "cores_busy_while_loading": cores,
            "postgres_cores_busy_while_copying": copy_cores,
            "timing": "loader: from the first batch committed to the last, the first excluded",
        },
    }


async def _object_bytes(settings: Any, aws: Aws, keys: list[str]) -> int:
    total = 0
    async with open_aws_clients(settings) as clients:
        for key in keys:
            head = await clients.s3.head_object(Bucket=aws.bucket, Key=key)
            total += int(head["ContentLength"])
    return total
