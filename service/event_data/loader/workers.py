"""Worker processes for the loader's CPU work (``prepare.prepare_batch``).

With ``processes=0`` the work runs in a thread of the service's process instead, as it must
where a second process is not wanted (tests of the app in process, one-core tasks that prefer
it). A worker that dies (out of memory, killed) fails only the batches it held: they are
retried from the queue, and the next batch gets a fresh pool.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

import anyio.to_thread

from event_data.loader.prepare import PreparedBatch, prepare_batch
from event_data.logging import get_logger

log = get_logger(__name__)


def _started() -> None:
    """Nothing: submitted once per worker to start it."""


class WorkerLost(RuntimeError):
    """A worker process died while preparing the batch; the batch is retried."""


class PrepareWorkers:
    def __init__(self, processes: int) -> None:
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None

    @property
    def processes(self) -> int:
        return self._processes

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: the service's process has threads (botocore, anyio), which fork would
            # copy mid-operation; workers start from a clean process that imported the code once.
            # The preload includes what the service's main module imports, which each worker
            # imports again on start: done once in the fork server, it costs a worker nothing.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["event_data.cli", "event_data.loader.prepare"])
            self._pool = ProcessPoolExecutor(max_workers=self._processes, mp_context=context)
        return self._pool

    async def start(self) -> None:
        """Start every worker now, so the first batches do not wait for processes to start."""
        if self._processes == 0:
            return
        pool = self._executor()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(
                *(loop.run_in_executor(pool, _started) for _ in range(self._processes))
            )
        except (BrokenProcessPool, OSError) as exc:
            # Not fatal: the first batch tries again with a fresh pool.
            log.warning("loader.workers_not_started", error=type(exc).__name__)
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)

    async def prepare(
        self, raw: bytes, received_at: datetime, batch_no: int, horizon: datetime | None
    ) -> PreparedBatch:
        if self._processes == 0:
            return await anyio.to_thread.run_sync(
                prepare_batch, raw, received_at, batch_no, horizon
            )
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, prepare_batch, raw, received_at, batch_no, horizon
            )
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                log.warning("loader.worker_lost")
            raise WorkerLost("a loader worker process died; the batch will be retried") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
