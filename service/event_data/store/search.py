"""The Events API's queries: a page of events, newest first, and the exact count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.query.model import EventFilter, PageRequest
from event_data.store.schema import batches, events

# Everything decode() needs to rebuild an event.
_RESULT_COLUMNS = [c for c in events.c if c.name not in ("batch_no",)]


def _conditions(flt: EventFilter, watermark: int | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        events.c.ts >= flt.window_from,
        events.c.ts < flt.window_to,
    ]
    if flt.types:
        conditions.append(events.c.type.in_(flt.types))
    if watermark is not None:
        conditions.append(events.c.batch_no <= watermark)
    return conditions


def page_statement(request: PageRequest) -> Select[Any]:
    conditions = _conditions(request.filter, request.watermark)
    if request.after is not None:
        after = request.after
        # Row comparison walks the primary key (ts, event_id, type) backwards from the cursor.
        conditions.append(
            tuple_(events.c.ts, events.c.event_id, events.c.type)
            < tuple_(after.ts, after.event_id, after.type)
        )
    return (
        select(*_RESULT_COLUMNS)
        .where(and_(*conditions))
        .order_by(events.c.ts.desc(), events.c.event_id.desc(), events.c.type.desc())
        .limit(request.per_page + 1)
    )


def count_statement(flt: EventFilter, watermark: int | None) -> Select[Any]:
    return select(func.count()).select_from(events).where(and_(*_conditions(flt, watermark)))


async def fetch_page(engine: AsyncEngine, request: PageRequest) -> Sequence[Any]:
    """Up to ``per_page + 1`` rows: the extra one tells whether another page follows."""
    async with engine.connect() as conn:
        result = await conn.execute(page_statement(request))
        return list(result.all())


async def count(engine: AsyncEngine, flt: EventFilter, watermark: int | None) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(count_statement(flt, watermark))
    return int(value or 0)


async def current_watermark(engine: AsyncEngine) -> int:
    """The newest committed batch number: later pages show nothing loaded after it."""
    async with engine.connect() as conn:
        value = await conn.scalar(select(func.coalesce(func.max(batches.c.batch_no), 0)))
    return int(value or 0)
