"""Locks the maintenance SQL shares: the short ``lock_timeout`` retry, and the maintenance lock.

Attaching and detaching a daily partition need an exclusive lock on ``events_default`` (and, to
detach, on ``events``) for an instant. Queued behind a long query, a waiting request for that
lock would hold up every query queued behind it, so each attempt asks with a short
``lock_timeout`` and gives up; the attempt is retried with a growing pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")

# How long one attempt waits for its lock, and how many attempts are made (about 20 s in all,
# with the pauses between them).
LOCK_WAIT_MS = 200
LOCK_ATTEMPTS = 20
SET_LOCK_TIMEOUT = f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'"

MAINTENANCE_LOCK_KEY = 0x65_76_6D_61_69_6E  # "evmain"


class LockBusy(RuntimeError):
    """Every attempt timed out waiting for its lock."""


async def retry_while_locked(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (one transaction that set :data:`SET_LOCK_TIMEOUT`) until it gets its
    lock; raise :class:`LockBusy` after :data:`LOCK_ATTEMPTS` timeouts."""
    for n in range(LOCK_ATTEMPTS):
        try:
            return await attempt()
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(min(0.05 * 2**n, 1.0))
    raise LockBusy(f"lock not granted in {LOCK_ATTEMPTS} attempts of {LOCK_WAIT_MS} ms")


@asynccontextmanager
async def maintenance_lock(engine: AsyncEngine) -> AsyncIterator[bool]:
    """Whether this task holds the maintenance lock for the duration of the block.

    A transaction-level advisory lock, in a transaction kept open for the round: it ends with the
    transaction whatever happens. A session-level lock on a pooled connection outlives a failed
    or interrupted unlock, and the connection would go back to the pool still holding it, so
    every task would skip maintenance until that connection was recycled; a pooled connection
    is always rolled back on its return (and discarded if even that fails), which frees this
    one. The transaction only takes the advisory lock: it holds no table lock and, under READ
    COMMITTED with no statement running, no snapshot, so nothing waits on it and vacuum is not
    held back. The round's own statements run on other connections, each in its own short
    transaction. (A server ``idle_in_transaction_session_timeout``, off by default on RDS, must
    be longer than a round, or it would end the lock mid-round.)
    """
    async with engine.begin() as conn:
        result = await conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": MAINTENANCE_LOCK_KEY}
        )
        yield bool(result.scalar())
