"""The Events API's queries: a page of events, newest first, and the exact count.

A paging session sees the database as it was at its first page. The first page reads the count
and the rows in one REPEATABLE READ transaction and keeps that transaction's snapshot; later pages
leave out every batch the snapshot could not see, so batches that commit while a client pages are
neither returned nor counted, and nothing is repeated or skipped.

No transaction outlives a page: each page is one short query on a pooled connection, returned
to the pool before the page is answered. The export (store/export.py) is the same session run
by the server, chunk after chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.store.filters import EventFilter, Keywords, MetaMatch, PageRequest, Visibility
from event_data.store.schema import PgSnapshot, batches, events

# Everything decode() needs to rebuild an event. The JSON columns come as PostgreSQL's text of
# them, which the codec reads with every number as sent: the driver's json.loads would make
# `9.50` the float 9.5.
_RESULT_COLUMNS: list[ColumnElement[Any]] = [
    cast(c, Text).label(c.name) if isinstance(c.type, JSONB) else c
    for c in events.c
    if c.name != "batch_no"
]


@dataclass(frozen=True)
class FirstPage:
    rows: Sequence[Any]
    total_count: int
    visibility: Visibility


def _words(source: ColumnElement[Any]) -> ColumnElement[Any]:
    """The SQL twin of ``events.words.words`` (migrations/0002), as the indexes spell it."""
    return func.event_words(source, type_=ARRAY(Text))


def _address_domain(address: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.event_address_domain(address, type_=Text)


# Keyword filters: the text each one searches. The domain filters fall back to the domain of the
# address when the event lacks the field (product.md, Decisions 4); the `ab_test_id` column also
# holds `ab_test.id` on ab_test events (events/codec.py).
_KEYWORD_SOURCES: dict[str, Callable[[], ColumnElement[Any]]] = {
    "campaigns": lambda: events.c.campaign_id,
    "templates": lambda: events.c.template_id,
    "subjects": lambda: events.c.subject,
    "reasons": lambda: events.c.reason,
    "ip_pools": lambda: events.c.ip_pool,
    "recipient_domains": lambda: func.coalesce(
        events.c.recipient_domain, _address_domain(events.c.rcpt_to)
    ),
    "sending_domains": lambda: func.coalesce(
        events.c.sending_domain, _address_domain(events.c.friendly_from)
    ),
    "mailbox_providers": lambda: events.c.mailbox_provider,
    "mailbox_provider_regions": lambda: events.c.mailbox_provider_region,
    "ab_tests": lambda: events.c.ab_test_id,
}
_SMALLINT = (-(2**15), 2**15 - 1)


def _any_of(clauses: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*clauses) if clauses else false()


def _keyword_condition(source: ColumnElement[Any], values: Keywords) -> ColumnElement[bool]:
    # `source IS NOT NULL` is each keyword index's predicate; spelling it lets the planner use it.
    word_list = _words(source)
    return and_(
        source.is_not(None),
        _any_of([word_list.contains(list(value)) for value in values]),
    )


# The numbers jsonb writes: it never writes an exponent (`1e2` is `100`) and keeps the scale
# it read (`9.50` stays `9.50`). A query value of another form can only match a string.
_JSONB_NUMBER_TEXT = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$", re.ASCII)


def _json_document(path: Sequence[str], leaf: str) -> ColumnElement[Any]:
    """``{"a": {"b": leaf}}`` for the path ``a.b``, as a jsonb bind."""
    document = leaf
    for key in reversed(path):
        document = f"{{{orjson.dumps(key).decode()}:{document}}}"
    return cast(literal(document, Text), JSONB)


def _spelled_at(path: Sequence[str], spelling: str) -> ColumnElement[bool]:
    """The value at ``path``, or an element of the array there, is written ``spelling`` in
    jsonb's text: the recheck that tells ``9.5`` from ``9.50``, which containment equates.

    Asked only where containment holds, so every step of the path is an object key."""
    at = events.c.rcpt_meta.op("#>")(literal(list(path), ARRAY(Text)))
    elements = func.jsonb_array_elements(
        case(
            (func.jsonb_typeof(at) == "array", at),
            else_=func.jsonb_build_array(at),
        )
    ).table_valued("value")
    return (
        select(literal(1))
        .select_from(elements)
        .where(cast(elements.c.value, Text) == literal(spelling, Text))
        .exists()
    )


def _meta_condition(matches: Sequence[MetaMatch]) -> ColumnElement[bool]:
    """For each match, the value at its path, or an element of the array there, spelled as
    asked (product.md, Decisions 5): the string itself, or the number, boolean or null the
    value spells.

    Containment, which the GIN index on ``rcpt_meta`` serves, finds the candidates. It is exact
    for strings, booleans and null; it compares numbers as numbers, so numbers are rechecked
    against jsonb's text of the stored value."""
    clauses: list[ColumnElement[bool]] = []
    for match in matches:
        value = match.value
        spellings = [orjson.dumps(value).decode()]
        if value in ("true", "false", "null"):
            spellings.append(value)
        for spelling in spellings:
            for leaf in (spelling, f"[{spelling}]"):
                clauses.append(events.c.rcpt_meta.contains(_json_document(match.path, leaf)))
        if _JSONB_NUMBER_TEXT.match(value):
            contained = _any_of(
                [
                    events.c.rcpt_meta.contains(_json_document(match.path, leaf))
                    for leaf in (value, f"[{value}]")
                ]
            )
            clauses.append(and_(contained, _spelled_at(match.path, value)))
    return _any_of(clauses)


def filter_conditions(flt: EventFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``flt``, ANDed: each field ORs its values.

    The time window comes first: it prunes partitions. Every other filter is served by an index
    (migrations/0001 and 0002) or by the window alone."""
    conditions: list[ColumnElement[bool]] = [
        events.c.ts >= flt.window_from,
        events.c.ts < flt.window_to,
    ]
    if flt.types:
        conditions.append(events.c.type.in_(flt.types))
    f = flt.fields
    for column, values in (
        (events.c.event_id, f.event_ids),
        (events.c.message_id, f.messages),
        (events.c.transmission_id, f.transmissions),
        (events.c.sending_ip, f.sending_ips),
        (events.c.subaccount_id, f.subaccounts),
        (events.c.ab_test_version, f.ab_test_versions),
    ):
        if values:
            conditions.append(column.in_(values))
    if f.bounce_classes:
        # A value beyond the column's range matches nothing (and must not overflow the bind).
        classes = [c for c in f.bounce_classes if _SMALLINT[0] <= c <= _SMALLINT[1]]
        conditions.append(events.c.bounce_class.in_(classes) if classes else false())
    for column, addresses in (
        (events.c.rcpt_to, f.recipients),
        (events.c.friendly_from, f.from_addresses),
    ):
        if addresses:
            # Both sides lower-cased by PostgreSQL: one definition of case (Decisions 4).
            conditions.append(
                func.lower(column).in_([func.lower(literal(a, Text)) for a in addresses])
            )
    for name, source in _KEYWORD_SOURCES.items():
        keywords: Keywords = getattr(f, name)
        if keywords:
            conditions.append(_keyword_condition(source(), keywords))
    if f.rcpt_meta:
        conditions.append(_meta_condition(f.rcpt_meta))
    if f.rcpt_tags:
        # `rcpt_tags <> '[]'` is the tag index's predicate; any listed tag implies it.
        conditions.append(
            and_(
                events.c.rcpt_tags != literal([], JSONB),
                _any_of([events.c.rcpt_tags.contains([tag]) for tag in f.rcpt_tags]),
            )
        )
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
    return await _first(engine, request, count=True)


async def first_rows(engine: AsyncEngine, request: PageRequest) -> FirstPage:
    """:func:`first_page` without the count (``total_count`` is 0): an export's first chunk."""
    return await _first(engine, request, count=False)


async def _first(engine: AsyncEngine, request: PageRequest, *, count: bool) -> FirstPage:
    # One short REPEATABLE READ transaction: its first statement takes the snapshot, so the
    # snapshot it reports is the one the count and the rows are read in.
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
            total = await conn.scalar(count_statement(request.filter)) if count else 0
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
