"""Storage per event (P4) and archive bytes per event (P5), on generated events.

Loads N generated events through the loader's own code path (normalise, encode, COPY) into a
scratch database and reports bytes on disk per event, by relation, beside the raw JSON bytes.

    .venv/bin/python bench/storage.py [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from event_data.archive.compression import compress_batch
from event_data.config import load_settings
from event_data.events import codec, jsonread
from event_data.events.normalise import normalise_batch
from event_data.store.admin import create_database_if_missing, drop_database
from event_data.store.database import create_engine, driver_connection
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from event_data.store.migrate import migrate
from event_data.store.partitions import Partitions
from event_data.synth import EventGenerator, GeneratorConfig

SCRATCH_URL = "postgresql://postgres@127.0.0.1:5432/event_data_bench_storage"

# Each partition's index, under the name of the index on `events` it belongs to.
_SIZES = """
SELECT coalesce(parent.relname, i.indexrelid::regclass::text) AS name,
       pg_relation_size(i.indexrelid) AS bytes
FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid
LEFT JOIN pg_inherits ih ON ih.inhrelid = i.indexrelid
LEFT JOIN pg_class parent ON parent.oid = ih.inhparent
WHERE h.inhparent = 'events'::regclass
"""
_HEAP = """
SELECT sum(pg_relation_size(h.inhrelid)) AS heap,
       sum(pg_total_relation_size(h.inhrelid)) AS total
FROM pg_inherits h WHERE h.inhparent = 'events'::regclass
"""


async def run(events: int) -> None:
    await drop_database(SCRATCH_URL)
    await create_database_if_missing(SCRATCH_URL)
    settings = load_settings({"EVENT_DATA_ENV": "development", "DATABASE_URL": SCRATCH_URL})
    engine = create_engine(settings)
    try:
        await migrate(engine)
        partitions = Partitions(engine)
        generator = EventGenerator(
            GeneratorConfig(
                seed=5,
                start=datetime(2026, 6, 1, tzinfo=UTC),
                end=datetime(2026, 6, 3, tzinfo=UTC),
            )
        )
        raw_bytes = archive_bytes = loaded = 0
        encode_s = load_s = 0.0
        now = datetime.now(UTC)
        for i, body in enumerate(generator.batch_bytes(events)):
            raw_bytes += len(body)
            archive_bytes += len(compress_batch(body))
            started = time.perf_counter()
            batch_no = await next_batch_no(engine)
            rows = [
                codec.encode(e, batch_no) for e in normalise_batch(jsonread.loads(body), now).events
            ]
            encoded = time.perf_counter()
            await partitions.ensure({row.ts.date() for row in rows})
            record = BatchRecord(
                batch_no, f"bench-{i}", f"bench-{i}", "bench", now, len(rows), 0, 0
            )
            await load_batch(engine, record, rows)
            encode_s += encoded - started
            load_s += time.perf_counter() - encoded
            loaded += len(rows)
        async with engine.connect() as conn:
            raw = await driver_connection(conn)
            await raw.execute("VACUUM ANALYZE events")
            heap = await raw.fetchrow(_HEAP)
            indexes = await raw.fetch(_SIZES)
    finally:
        await engine.dispose()
        await drop_database(SCRATCH_URL)

    per_index: dict[str, int] = {}
    for row in indexes:
        name = row["name"]
        kind = name.removeprefix("events_")
        per_index[kind] = per_index.get(kind, 0) + row["bytes"]
    print(f"events            {loaded}")
    print(f"raw JSON          {raw_bytes / loaded:8.1f} B/event")
    p5 = archive_bytes / raw_bytes
    print(f"archive (zstd)    {archive_bytes / loaded:8.1f} B/event  P5 ratio {p5:.3f}")
    print(f"heap              {heap['heap'] / loaded:8.1f} B/event")
    for kind, size in sorted(per_index.items()):
        print(f"  index {kind:<24} {size / loaded:8.1f} B/event")
    p4 = heap["total"] / raw_bytes
    print(f"total on disk     {heap['total'] / loaded:8.1f} B/event  P4 ratio {p4:.3f}")
    print(f"normalise+encode  {loaded / encode_s:8.0f} events/s")
    print(f"COPY path         {loaded / load_s:8.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    asyncio.run(run(args.events))


if __name__ == "__main__":
    main()
