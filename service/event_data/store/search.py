"""The Events API's queries: a page of events, newest first, and the exact count.

A paging session sees the database as it was at its first page. The first page reads the count
and the rows in one REPEATABLE READ transaction and keeps that transaction's snapshot; later pages
leave out every batch the snapshot could not see, so batches that commit while a client pages are
neither returned nor counted, and nothing is repeated or skipped.

No transaction outlives a page: each page is one short query on a pooled connection, returned
to the pool before the page is answered. The export (store/export.py) is the same session run
by the server, chunk after chunk.

The statements are built with SQLAlchemy Core once for each shape of request (which filters,
how many values each) and kept as SQL text; a request only fills in the arguments, and the text
and arguments go to the asyncpg connection as they are (:func:`page_statements` says what
they are, for the benchmark to run the same).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg
import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from event_data.events import codec, columns_form
from event_data.store.database import pooled_driver_connection
from event_data.store.filters import EventFilter, Keywords, MetaMatch, PageRequest, Visibility
from event_data.store.schema import PgSnapshot, batches, events

# What a result needs: the body, which holds the event as the API returns it, and the position
# for the cursor. Bodies of the columns form (formats 1 and 2, written before) need their
# columns as well, which the database sends for those rows only; the jsonb columns as their
# text, which the decoder reads faster than the driver's codec would.
_COLUMNS_FORM = func.get_byte(events.c.body, 0) < literal_column(str(codec.FORMAT_API_ZSTD_DICT_2))
_RESULT_COLUMNS = [
    events.c.ts,
    events.c.event_id,
    events.c.type,
    events.c.body,
    *(
        case((_COLUMNS_FORM, cast(c, Text) if c.name in ("rcpt_meta", "rcpt_tags") else c)).label(
            c.name
        )
        for c in events.c
        if c.name in columns_form.COLUMNS and c.name not in ("event_id", "type")
    ),
]
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
# Shapes of request whose statements are kept compiled; a shape is which filters a request
# has and how many values each, so real traffic has a few dozen.
COMPILED_SHAPES = 512


@dataclass(frozen=True)
class Statement:
    """One statement as the driver runs it: SQL text with ``$n`` placeholders, and arguments."""

    sql: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class PageStatements:
    """What a page request runs. A first page (no visibility yet) reads the snapshot, then the
    count if asked, then the rows, in one REPEATABLE READ read-only transaction; a later page
    reads its rows alone."""

    rows: Statement
    snapshot: Statement | None = None
    count: Statement | None = None

    def in_order(self) -> list[Statement]:
        return [s for s in (self.snapshot, self.count, self.rows) if s is not None]


@dataclass(frozen=True)
class FirstPage:
    rows: Sequence[asyncpg.Record]
    total_count: int
    visibility: Visibility


# A shape is a tuple of condition specs; each names its kind, then its arguments' slots (the
# positions of their values in the request's argument list), never the values themselves.
Spec = tuple[Any, ...]


class _Slots:
    """The values of a statement's arguments, in the order the request gave them."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> int:
        self.values.append(value)
        return len(self.values) - 1


_SLOT_PREFIX = "slot_"


def _arg(slot: int, type_: TypeEngine[Any]) -> BindParameter[Any]:
    """The placeholder of the argument in ``slot``: a bind without a value of its own."""
    return bindparam(f"{_SLOT_PREFIX}{slot}", type_=type_)


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


# The numbers jsonb writes: it never writes an exponent (`1e2` is `100`) and keeps the scale
# it read (`9.50` stays `9.50`). A query value of another form can only match a string.
_JSONB_NUMBER_TEXT = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$", re.ASCII)


def _json_document(path: Sequence[str], leaf: str) -> str:
    """``{"a": {"b": leaf}}`` for the path ``a.b``, as JSON text."""
    document = leaf
    for key in reversed(path):
        document = f"{{{orjson.dumps(key).decode()}:{document}}}"
    return document


def _plan_meta(match: MetaMatch, slot: _Slots) -> Spec:
    """For each match, the value at its path, or an element of the array there, spelled as
    asked (product.md, Decisions 5): the string itself, or the number, boolean or null the
    value spells.

    Containment, which the GIN index on ``rcpt_meta`` serves, finds the candidates. It is exact
    for strings, booleans and null; it compares numbers as numbers, so numbers are rechecked
    against jsonb's text of the stored value."""
    value = match.value
    spellings = [orjson.dumps(value).decode()]
    if value in ("true", "false", "null"):
        spellings.append(value)
    documents = tuple(
        slot(_json_document(match.path, leaf))
        for spelling in spellings
        for leaf in (spelling, f"[{spelling}]")
    )
    numeric: Spec | None = None
    if _JSONB_NUMBER_TEXT.match(value):
        numeric = (
            tuple(slot(_json_document(match.path, leaf)) for leaf in (value, f"[{value}]")),
            slot(list(match.path)),
            slot(value),
        )
    return (documents, numeric)


def _contains_document(slot: int) -> ColumnElement[bool]:
    return events.c.rcpt_meta.contains(cast(_arg(slot, Text()), JSONB))


def _spelled_at(path: int, spelling: int) -> ColumnElement[bool]:
    """The value at ``path``, or an element of the array there, is written ``spelling`` in
    jsonb's text: the recheck that tells ``9.5`` from ``9.50``, which containment equates.

    Asked only where containment holds, so every step of the path is an object key."""
    at = events.c.rcpt_meta.op("#>")(_arg(path, ARRAY(Text)))
    elements = func.jsonb_array_elements(
        case(
            (func.jsonb_typeof(at) == "array", at),
            else_=func.jsonb_build_array(at),
        )
    ).table_valued("value")
    return (
        select(literal(1))
        .select_from(elements)
        .where(cast(elements.c.value, Text) == _arg(spelling, Text()))
        .exists()
    )


def _meta_condition(matches: Sequence[Spec]) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    for documents, numeric in matches:
        clauses.extend(_contains_document(d) for d in documents)
        if numeric is not None:
            numbers, path, spelling = numeric
            contained = _any_of([_contains_document(d) for d in numbers])
            clauses.append(and_(contained, _spelled_at(path, spelling)))
    return _any_of(clauses)


_EXACT_COLUMNS = (
    ("event_ids", "event_id"),
    ("messages", "message_id"),
    ("transmissions", "transmission_id"),
    ("sending_ips", "sending_ip"),
    ("subaccounts", "subaccount_id"),
    ("ab_test_versions", "ab_test_version"),
)
_ADDRESS_COLUMNS = (("recipients", "rcpt_to"), ("from_addresses", "friendly_from"))


def _plan_filter(flt: EventFilter, slot: _Slots) -> tuple[Spec, ...]:
    """The conditions of ``flt``, ANDed: each field ORs its values.

    The time window comes first: it prunes partitions. Every other filter is served by an index
    (migrations/0001 and 0002) or by the window alone."""
    specs: list[Spec] = [("from", slot(flt.window_from)), ("to", slot(flt.window_to))]
    if flt.types:
        specs.append(("in", "type", tuple(map(slot, flt.types))))
    f = flt.fields
    for name, column in _EXACT_COLUMNS:
        values = getattr(f, name)
        if values:
            specs.append(("in", column, tuple(map(slot, values))))
    if f.bounce_classes:
        # A value beyond the column's range matches nothing (and must not overflow the bind).
        classes = [c for c in f.bounce_classes if _SMALLINT[0] <= c <= _SMALLINT[1]]
        specs.append(("in", "bounce_class", tuple(map(slot, classes))) if classes else ("none",))
    for name, column in _ADDRESS_COLUMNS:
        addresses = getattr(f, name)
        if addresses:
            specs.append(("address", column, tuple(map(slot, addresses))))
    for name in _KEYWORD_SOURCES:
        keywords: Keywords = getattr(f, name)
        if keywords:
            specs.append(("words", name, tuple(slot(list(value)) for value in keywords)))
    if f.rcpt_meta:
        specs.append(("meta", tuple(_plan_meta(match, slot) for match in f.rcpt_meta)))
    if f.rcpt_tags:
        specs.append(("tags", tuple(slot([tag]) for tag in f.rcpt_tags)))
    return tuple(specs)


def _condition(spec: Spec) -> ColumnElement[bool]:
    kind = spec[0]
    if kind == "from":
        return events.c.ts >= _arg(spec[1], events.c.ts.type)
    if kind == "to":
        return events.c.ts < _arg(spec[1], events.c.ts.type)
    if kind == "in":
        column = events.c[spec[1]]
        return column.in_([_arg(s, column.type) for s in spec[2]])
    if kind == "none":
        return false()
    if kind == "address":
        # Both sides lower-cased by PostgreSQL: one definition of case (Decisions 4).
        column = events.c[spec[1]]
        return func.lower(column).in_([func.lower(_arg(s, Text())) for s in spec[2]])
    if kind == "words":
        # `source IS NOT NULL` is each keyword index's predicate; spelling it lets the planner
        # use it.
        source = _KEYWORD_SOURCES[spec[1]]()
        word_list = _words(source)
        return and_(
            source.is_not(None),
            _any_of([word_list.contains(_arg(s, ARRAY(Text))) for s in spec[2]]),
        )
    if kind == "meta":
        return _meta_condition(spec[1])
    if kind == "tags":
        # `rcpt_tags <> '[]'` is the tag index's predicate; any listed tag implies it.
        return and_(
            events.c.rcpt_tags != literal([], JSONB),
            _any_of([events.c.rcpt_tags.contains(_arg(s, JSONB())) for s in spec[1]]),
        )
    if kind == "visible":
        return and_(*_visible_in(*spec[1:]))
    if kind == "after":
        # Row comparison walks the primary key (ts, event_id, type) backwards from the cursor.
        ts, event_id, event_type = spec[1:]
        return tuple_(events.c.ts, events.c.event_id, events.c.type) < tuple_(
            _arg(ts, events.c.ts.type), _arg(event_id, Text()), _arg(event_type, Text())
        )
    raise AssertionError(f"unknown condition {kind!r}")


def _visible_in(
    max_in_events: int, max_in_batches: int, snapshot_slot: int
) -> list[ColumnElement[bool]]:
    """Rows of batches that the first page's snapshot saw, and no others."""
    snapshot = cast(cast(_arg(snapshot_slot, Text()), Text), PgSnapshot())
    committed_later = select(batches.c.batch_no).where(
        batches.c.batch_no <= _arg(max_in_batches, BigInteger()),
        batches.c.xact_id >= func.pg_snapshot_xmin(snapshot),
        not_(func.pg_visible_in_snapshot(batches.c.xact_id, snapshot, type_=Boolean)),
    )
    return [
        events.c.batch_no <= _arg(max_in_events, BigInteger()),
        events.c.batch_no.not_in(committed_later),
    ]


def _page_shape(request: PageRequest, slot: _Slots) -> Spec:
    specs = list(_plan_filter(request.filter, slot))
    if request.visibility is not None:
        visibility = request.visibility
        specs.append(
            (
                "visible",
                slot(visibility.max_batch_no),
                slot(visibility.max_batch_no),
                slot(visibility.snapshot),
            )
        )
    if request.after is not None:
        after = request.after
        specs.append(("after", slot(after.ts), slot(after.event_id), slot(after.type)))
    return ("page", tuple(specs), slot(request.per_page + 1))


def _build(shape: Spec) -> Select[Any]:
    kind = shape[0]
    if kind == "snapshot":
        return select(
            cast(func.pg_current_snapshot(), Text),
            func.coalesce(func.max(batches.c.batch_no), 0),
        )
    conditions = and_(*[_condition(spec) for spec in shape[1]])
    if kind == "count":
        return select(func.count()).select_from(events).where(conditions)
    return (
        select(*_RESULT_COLUMNS)
        .where(conditions)
        .order_by(events.c.ts.desc(), events.c.event_id.desc(), events.c.type.desc())
        .limit(_arg(shape[2], Integer()))
    )


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each placeholder in order: the slot of its value, or None and the template's own
    # value (a constant of the statement); with the type's conversion for the driver, if any.
    arguments: tuple[tuple[int | None, Any, Callable[[Any], Any] | None], ...]

    def statement(self, values: Sequence[Any]) -> Statement:
        args = []
        for slot, constant, convert in self.arguments:
            value = constant if slot is None else values[slot]
            args.append(value if convert is None else convert(value))
        return Statement(self.sql, tuple(args))


@lru_cache(maxsize=COMPILED_SHAPES)
def _compiled(shape: Spec) -> _Compiled:
    compiled = _build(shape).compile(dialect=_DIALECT)
    arguments: list[tuple[int | None, Any, Callable[[Any], Any] | None]] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        convert = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        if bind.required:
            arguments.append((int(name.removeprefix(_SLOT_PREFIX)), None, convert))
        else:
            arguments.append((None, bind.effective_value, convert))
    return _Compiled(str(compiled), tuple(arguments))


def page_statements(request: PageRequest, *, count: bool = True) -> PageStatements:
    """The statements a page request runs, as the driver receives them (see
    :class:`PageStatements`); a first page counts only when ``count`` is set."""
    slot = _Slots()
    rows = _compiled(_page_shape(request, slot)).statement(slot.values)
    if request.visibility is not None:
        return PageStatements(rows=rows)
    snapshot = _compiled(("snapshot",)).statement(())
    return PageStatements(
        rows=rows, snapshot=snapshot, count=count_statement(request.filter) if count else None
    )


def count_statement(flt: EventFilter) -> Statement:
    """How many events ``flt`` matches."""
    slot = _Slots()
    return _compiled(("count", _plan_filter(flt, slot))).statement(slot.values)


async def first_page(engine: AsyncEngine, request: PageRequest) -> FirstPage:
    """Count and first rows from one snapshot, and that snapshot for the pages after."""
    return await _first(engine, page_statements(request, count=True))


async def first_rows(engine: AsyncEngine, request: PageRequest) -> FirstPage:
    """:func:`first_page` without the count (``total_count`` is 0): an export's first chunk."""
    return await _first(engine, page_statements(request, count=False))


async def _first(engine: AsyncEngine, statements: PageStatements) -> FirstPage:
    # One short REPEATABLE READ transaction: its first statement takes the snapshot, so the
    # snapshot it reports is the one the count and the rows are read in.
    snapshot = statements.snapshot
    assert snapshot is not None, "a first page reads its snapshot"
    async with (
        pooled_driver_connection(engine) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        current, max_batch_no = await conn.fetchrow(snapshot.sql, *snapshot.args)
        total = 0
        if statements.count is not None:
            total = await conn.fetchval(statements.count.sql, *statements.count.args)
        rows = await conn.fetch(statements.rows.sql, *statements.rows.args)
    return FirstPage(
        rows=rows,
        total_count=int(total or 0),
        visibility=Visibility(snapshot=str(current), max_batch_no=int(max_batch_no)),
    )


async def next_page(engine: AsyncEngine, request: PageRequest) -> Sequence[asyncpg.Record]:
    """Up to ``per_page + 1`` rows after the cursor: the extra one tells whether more follow."""
    rows = page_statements(request, count=False).rows
    async with pooled_driver_connection(engine) as conn:
        records: list[asyncpg.Record] = await conn.fetch(rows.sql, *rows.args)
        return records
