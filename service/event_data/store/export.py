"""Every event a filter matches, newest first, in chunks, as one consistent view.

An export is a paging session that the server runs itself (store/search.py). The first chunk
is read in a short REPEATABLE READ, read-only transaction that also takes its snapshot and the
newest batch number, exactly as the search route's first page. Each later chunk is one short
query that goes on from the previous chunk's last key, in the primary key's order (which each
partition's index gives without sorting), and leaves out every batch that snapshot could not
see. So the export holds the rows of the moment it started: a batch that commits meanwhile is
neither included nor half-seen, and no event is repeated or skipped.

Nothing is held between chunks: each query takes a pooled connection and gives it back before
its rows are handed on, so a client that reads slowly, or not at all, holds no connection, no
transaction, no snapshot and no lock. New partitions can be attached, retention can detach old
ones, and VACUUM goes on while an export runs. What that costs: a day that retention drops in
the middle of an export is missing from the rest of it (an export reads newest first, so that
is its oldest end).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store import search
from event_data.store.filters import EventFilter, PageRequest, Position


async def stream_rows(
    engine: AsyncEngine, flt: EventFilter, chunk_rows: int
) -> AsyncGenerator[Sequence[Any], None]:
    """Chunks of at most ``chunk_rows`` rows until the result is exhausted.

    No database connection is held while the caller consumes a chunk."""
    request = PageRequest(filter=flt, per_page=chunk_rows)
    first = await search.first_rows(engine, request)
    rows, visibility = first.rows, first.visibility
    while True:
        # page_statement reads one row more than asked: whether another chunk follows.
        more = len(rows) > chunk_rows
        rows = rows[:chunk_rows]
        if rows:
            yield rows
        if not more:
            return
        last = rows[-1]
        request = PageRequest(
            filter=flt,
            per_page=chunk_rows,
            after=Position(last["ts"], last["event_id"], last["type"]),
            visibility=visibility,
        )
        # One chunk in memory at a time: let the sent one go before reading the next.
        del rows, last
        rows = await search.next_page(engine, request)
