"""Generated events loaded straight through the loader's code path (normalise, encode, COPY),
into a database of their own, for tests that need many events and load them once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import orjson

from event_data.events.codec import encode
from event_data.events.normalise import normalise_batch
from event_data.store.admin import create_database_if_missing, drop_database
from event_data.store.database import create_engine, driver_connection
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from event_data.store.partitions import Partitions
from event_data.synth import EventGenerator, GeneratorConfig
from tests.conftest import _db_url, make_settings


@asynccontextmanager
async def generated_database(
    template_db: str, config: GeneratorConfig, events: int
) -> AsyncIterator[str]:
    """A database cloned from the migrated template holding ``events`` generated events,
    analysed; its URL."""
    url = _db_url(f"event_data_g_{uuid.uuid4().hex[:12]}")
    await create_database_if_missing(url, template=template_db)
    engine = create_engine(make_settings(database_url=url))
    try:
        partitions = Partitions(engine)
        now = datetime.now(UTC)
        for i, body in enumerate(EventGenerator(config).batch_bytes(events)):
            batch_no = await next_batch_no(engine)
            rows = [encode(e, batch_no) for e in normalise_batch(orjson.loads(body), now).events]
            await partitions.ensure({row.ts.date() for row in rows}, today=now.date())
            name = f"generated-{i}"
            record = BatchRecord(batch_no, name, name, name, now, len(rows), 0, 0)
            await load_batch(engine, record, rows)
        async with engine.connect() as conn:
            raw = await driver_connection(conn)
            await raw.execute("VACUUM ANALYZE events")
    finally:
        await engine.dispose()
    try:
        yield url
    finally:
        await drop_database(url)
