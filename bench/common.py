"""Pieces the measurements share: settings for in-process use of the service's code, batches
generated for a window, and archiving them exactly as the receiver does."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import UTC, datetime

from bench.stack import PREFIX, REGION, SIGNING_KEY, Aws
from event_data.archive.compression import compress_batch
from event_data.archive.keys import archive_key, content_digest
from event_data.archive.s3 import Archive
from event_data.config import Settings, load_settings
from event_data.synth import EventGenerator, GeneratorConfig


def settings(database_url: str, aws: Aws | None = None) -> Settings:
    env = {
        "EVENT_DATA_ENV": "development",
        "DATABASE_URL": database_url,
        "EVENT_DATA_SIGNING_KEY": SIGNING_KEY,
        "AWS_REGION": REGION,
    }
    if aws is not None:
        env |= {
            "AWS_ENDPOINT_URL": aws.endpoint,
            "EVENT_DATA_BUCKET": aws.bucket,
            "EVENT_DATA_QUEUE_URL": aws.queue_url,
        }
    return load_settings(env)


def batches(seed: int, start: datetime, end: datetime, events: int) -> list[bytes]:
    config = GeneratorConfig(seed=seed, start=start, end=end)
    return list(EventGenerator(config).batch_bytes(events))


def iter_batches(seed: int, start: datetime, end: datetime, events: int) -> Iterator[bytes]:
    yield from EventGenerator(GeneratorConfig(seed=seed, start=start, end=end)).batch_bytes(events)


async def archive(archive: Archive, body: bytes, batch_id: str) -> str:
    """Store ``body`` under the key and metadata the receiver would give it; the key."""
    digest = content_digest(body)
    received_at = datetime.now(UTC)
    key = archive_key(PREFIX, batch_id, digest, received_at)
    await archive.put_batch(
        key,
        compress_batch(body),
        batch_id=batch_id,
        digest=digest,
        received_at=received_at,
        raw_size=len(body),
    )
    return key


def percentile(samples: list[float], pct: int) -> float:
    """The ``pct``-th percentile (inclusive method: an observed value at the ends)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
