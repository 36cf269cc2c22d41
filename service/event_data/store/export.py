"""Every event a filter matches, newest first, in chunks, from one snapshot.

An export reads through a server-side cursor inside one REPEATABLE READ, read-only transaction:
the database hands over ``chunk_rows`` rows at a time, so the process holds one chunk however
large the result, and batches that commit meanwhile are not half-seen. The order is the primary
key's, descending, which each partition's index gives without sorting.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from sqlalchemy import Select, and_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.filters import EventFilter
from event_data.store.schema import events
from event_data.store.search import filter_conditions

# The statement timeout applies to each fetch, not to the whole export; this bounds how long
# a client may stall (read nothing) while its export holds a pooled connection and a snapshot.
# Past it the server ends the session and the client's download is cut short.
EXPORT_IDLE_TIMEOUT_MS = 300_000

# Everything decode() needs to rebuild an event.
_RESULT_COLUMNS = [c for c in events.c if c.name != "batch_no"]


def export_statement(flt: EventFilter) -> Select[Any]:
    return (
        select(*_RESULT_COLUMNS)
        .where(and_(*filter_conditions(flt)))
        .order_by(events.c.ts.desc(), events.c.event_id.desc(), events.c.type.desc())
    )


async def stream_rows(
    engine: AsyncEngine, flt: EventFilter, chunk_rows: int
) -> AsyncGenerator[Sequence[Any], None]:
    """Chunks of at most ``chunk_rows`` rows until the result is exhausted.

    The connection and its transaction stay open while the caller consumes the chunks: close
    the iterator (``aclose``) to release them early.
    """
    async with engine.connect() as conn:
        conn = await conn.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        async with conn.begin():
            await conn.execute(
                text(f"SET LOCAL idle_in_transaction_session_timeout = {EXPORT_IDLE_TIMEOUT_MS}")
            )
            result = await conn.stream(
                export_statement(flt).execution_options(yield_per=chunk_rows)
            )
            try:
                async for chunk in result.partitions(chunk_rows):
                    yield chunk
            finally:
                await result.close()
