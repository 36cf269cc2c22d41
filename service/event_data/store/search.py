"""The Events API's queries: a page of events, newest first, and the exact count.

A paging session sees the database as it was at its first page. The first page reads the count
and the rows in one REPEATABLE READ transaction and keeps that transaction's snapshot; later pages
leave out every batch the snapshot could not see, so batches that commit while a client pages are
neither returned nor counted, and nothing is repeated or skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    Text,
    and_,
    cast,
    func,
    literal,
    not_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.filters import EventFilter, PageRequest, Visibility
from event_data.store.schema import PgSnapshot, batches, events

# Everything decode() needs to rebuild an event.
_RESULT_COLUMNS = [c for c in events.c if c.name != "batch_no"]


@dataclass(frozen=True)
class FirstPage:
    rows: Sequence[Any]
    total_count: int
    visibility: Visibility


def filter_conditions(flt: EventFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        events.c.ts >= flt.window_from,
        events.c.ts < flt.window_to,
    ]
    if flt.types:
        conditions.append(events.c.type.in_(flt.types))
    return conditions


def _visible_in(visibility: Visibility) -> list[ColumnElement[bool]]:
    """Rows of batches that the first page's snapshot saw, and no others."""
    snapshot = cast(cast(literal(visibility.snapshot), Text), PgSnapshot())
    committed_later = select(batches.c.batch_no).where(
        batches.c.batch_no <= visibility.max_batch_no,
        batches.c.xact_id >= func.pg_snapshot_xmin(snapshot),
        not_(func.pg_visible_in_snapshot(batches.c.xact_id, snapshot, type_=Boolean)),
    )
    return [
        events.c.batch_no <= visibility.max_batch_no,
        events.c.batch_no.not_in(committed_later),
    ]


def page_statement(request: PageRequest) -> Select[Any]:
    conditions = filter_conditions(request.filter)
    if request.visibility is not None:
        conditions += _visible_in(request.visibility)
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


def count_statement(flt: EventFilter) -> Select[Any]:
    return select(func.count()).select_from(events).where(and_(*filter_conditions(flt)))


async def first_page(engine: AsyncEngine, request: PageRequest) -> FirstPage:
    """Count and first rows from one snapshot, and that snapshot for the pages after."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        async with conn.begin():
            snapshot, max_batch_no = (
                await conn.execute(
                    select(
                        cast(func.pg_current_snapshot(), Text),
                        func.coalesce(func.max(batches.c.batch_no), 0),
                    )
                )
            ).one()
            total = await conn.scalar(count_statement(request.filter))
            rows = (await conn.execute(page_statement(request))).all()
    return FirstPage(
        rows=rows,
        total_count=int(total or 0),
        visibility=Visibility(snapshot=str(snapshot), max_batch_no=int(max_batch_no)),
    )


async def next_page(engine: AsyncEngine, request: PageRequest) -> Sequence[Any]:
    """Up to ``per_page + 1`` rows after the cursor: the extra one tells whether more follow."""
    async with engine.connect() as conn:
        return list((await conn.execute(page_statement(request))).all())
