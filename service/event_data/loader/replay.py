"""Re-ingesting archived batches from S3, through the loader's own code path.

Replay is idempotent like every load: a batch already recorded is skipped by its digest, and
events already stored are kept once. It needs no queue, so it also rebuilds a fresh database
from the archive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from event_data.loader.batch_loader import BatchLoader, LoadResult

# A longer range is almost certainly a typo; one call per day lists it.
MAX_REPLAY_DAYS = 3660


@dataclass
class ReplaySummary:
    batches: int = 0
    loaded: int = 0
    already_loaded: int = 0
    events_inserted: int = 0
    events_duplicate: int = 0
    events_expired: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def add(self, result: LoadResult) -> None:
        self.batches += 1
        if result.already_loaded:
            self.already_loaded += 1
        else:
            self.loaded += 1
        self.events_inserted += result.inserted
        self.events_duplicate += result.duplicates
        self.events_expired += result.expired


def day_prefixes(archive_prefix: str, first: date, last: date) -> list[str]:
    """The archive's key prefixes (received time, UTC) from ``first`` to ``last`` inclusive."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    days = (last - first).days + 1
    if days > MAX_REPLAY_DAYS:
        raise ValueError(f"{days} days: replay at most {MAX_REPLAY_DAYS} at once")
    return [f"{archive_prefix}{first + timedelta(days=n):%Y/%m/%d}/" for n in range(days)]


async def replay(
    loader: BatchLoader,
    bucket: str,
    keys: Iterable[str],
    concurrency: int,
    on_done: Callable[[str], object] | None = None,
) -> ReplaySummary:
    """Load every key, ``concurrency`` at a time; one batch's failure is recorded, not raised."""
    summary = ReplaySummary()
    gate = asyncio.Semaphore(concurrency)

    async def one(key: str) -> None:
        async with gate:
            try:
                result = await loader.load(bucket, key)
            except Exception as exc:  # noqa: BLE001 - reported per batch; the replay goes on
                # The type alone: an exception's text can quote values (a database error
                # quotes its statement's parameters, an encoder error the event's field).
                summary.failed.append((key, type(exc).__name__))
            else:
                summary.add(result)
        if on_done is not None:
            on_done(key)

    await asyncio.gather(*(one(key) for key in keys))
    return summary
