"""The loader's worker processes: the same rows as the in-process path, poison reported as
poison, and a dead worker costs only a retry."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

import pytest

from event_data.loader.prepare import PoisonBatch
from event_data.loader.workers import PrepareWorkers, WorkerLost
from event_data.synth import EventGenerator, GeneratorConfig

RECEIVED = datetime(2026, 6, 1, tzinfo=UTC)


def _batch() -> bytes:
    config = GeneratorConfig(
        seed=3, start=datetime(2026, 5, 1, tzinfo=UTC), end=datetime(2026, 5, 2, tzinfo=UTC)
    )
    return next(iter(EventGenerator(config).batch_bytes(500)))


async def test_worker_processes_prepare_what_the_thread_prepares() -> None:
    raw = _batch()
    in_thread = await PrepareWorkers(0).prepare(raw, RECEIVED, 7, None)
    workers = PrepareWorkers(1)
    try:
        in_worker = await workers.prepare(raw, RECEIVED, 7, None)
    finally:
        workers.close()
    assert in_worker == in_thread
    assert in_worker.events_total == in_worker.rows.count > 0
    assert in_worker.days == {datetime(2026, 5, 1, tzinfo=UTC).date()}


async def test_poison_from_a_worker_is_still_poison() -> None:
    workers = PrepareWorkers(1)
    try:
        with pytest.raises(PoisonBatch, match="not valid JSON"):
            await workers.prepare(b"[{", RECEIVED, 1, None)
        with pytest.raises(PoisonBatch, match="not a JSON array"):
            await workers.prepare(b"{}", RECEIVED, 1, None)
    finally:
        workers.close()


async def test_a_killed_worker_fails_its_batch_and_the_next_batch_loads() -> None:
    raw = _batch()
    workers = PrepareWorkers(1)
    try:
        await workers.start()
        pool = workers._pool
        assert pool is not None
        for pid in list(pool._processes):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerLost):
            await workers.prepare(raw, RECEIVED, 2, None)
        again = await workers.prepare(raw, RECEIVED, 3, None)
        assert again.rows.count
    finally:
        workers.close()
