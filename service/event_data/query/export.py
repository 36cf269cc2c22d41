"""Exporting a whole result set as NDJSON or CSV, chunk by chunk, in constant memory.

The filters are the Events API's (the same parser as the search route). The rows come from the
store in chunks, each one short query (store/export.py: a paging session run by the server, with
the search route's consistency); each chunk is decoded and rendered in a worker thread, off the
event loop, and handed on as bytes before the next is read, so neither the process nor the
database holds more than a chunk however large the export, and no database connection is held
while the bytes wait for the client.

:class:`ExportSlots` caps how many exports stream at once in a process.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.errors import InvalidParameter
from event_data.events.codec import decode, event_json
from event_data.events.jsonread import JsonNumber
from event_data.events.jsontext import dumps
from event_data.query.params import parse_params
from event_data.store import export as store
from event_data.store.filters import EventFilter

EXPORT_PATH = "/api/v1/events/message/export"
# Rows per chunk: large enough that a round trip to the database and a thread hop are cheap
# per row, small enough that a chunk (about 1.3 KB an event as JSON) stays a few megabytes.
CHUNK_ROWS = 2000


class ExportFormat(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


MEDIA_TYPES = {
    ExportFormat.NDJSON: "application/x-ndjson",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}

# The CSV columns, in order: the Events API's common fields (sparkpost.md §3.2). A field an
# event lacks is an empty cell; objects and arrays (rcpt_meta, rcpt_tags, geo_ip) are JSON text.
# Every other field stays in the NDJSON export only.
CSV_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "type",
    "event_id",
    "message_id",
    "transmission_id",
    "injection_time",
    "rcpt_to",
    "raw_rcpt_to",
    "rcpt_type",
    "friendly_from",
    "msg_from",
    "sending_domain",
    "recipient_domain",
    "routing_domain",
    "subject",
    "campaign_id",
    "template_id",
    "template_version",
    "customer_id",
    "subaccount_id",
    "ip_pool",
    "sending_ip",
    "ip_address",
    "mailbox_provider",
    "mailbox_provider_region",
    "delv_method",
    "bounce_class",
    "error_code",
    "reason",
    "raw_reason",
    "num_retries",
    "queue_time",
    "msg_size",
    "target_link_name",
    "target_link_url",
    "user_agent",
    "geo_ip",
    "ab_test_id",
    "ab_test_version",
    "rcpt_meta",
    "rcpt_tags",
)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP),
# some after trimming leading spaces. Such a text cell is written with a leading apostrophe,
# which spreadsheets show as text; JSON numbers are written as they are (a negative number is
# not a formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportPlan:
    """A validated export request: what to read, how to render it, what to call the file."""

    filter: EventFilter
    format: ExportFormat
    filename: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def plan_export(query: Mapping[str, str], now: datetime | None = None) -> ExportPlan:
    """Validate an export's parameters: the search route's, plus ``format``.

    ``per_page`` is validated like the search route's and otherwise ignored, so a search URL
    becomes an export URL by its path alone; a ``cursor`` is refused, since it continues a
    paging session and the export is always the whole result set.
    """
    raw_format = (query.get("format") or ExportFormat.NDJSON.value).strip().lower()
    try:
        fmt = ExportFormat(raw_format)
    except ValueError as exc:
        raise InvalidParameter("format", "must be ndjson or csv") from exc
    if query.get("cursor") not in (None, "", "initial"):
        raise InvalidParameter("cursor", "an export is the whole result set and takes no cursor")
    params = parse_params(query)
    window_from, window_to = params.window(now or datetime.now(UTC))
    if window_from >= window_to:
        raise InvalidParameter("from", "`from` must be before `to`")
    filename = f"events-{_stamp(window_from)}-{_stamp(window_to)}.{fmt.value}"
    return ExportPlan(params.event_filter(window_from, window_to), fmt, filename)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_ndjson(rows: Sequence[Any]) -> bytes:
    """One event per line, each as the search route returns it."""
    # Appended one by one: orjson's result keeps its over-sized buffer (about 16 KB an event),
    # so a list of them would hold ten times the chunk's bytes.
    out = bytearray()
    for row in rows:
        out += event_json(row) + b"\n"
    return bytes(out)


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | JsonNumber):
        return str(value)  # a number kept as sent is its text
    if isinstance(value, dict | list):
        return dumps(value).decode()
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _csv_text(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    # RFC 4180: CRLF line ends; cells quoted when they hold a comma, a quote or a line break.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def csv_header() -> bytes:
    return _csv_text([CSV_COLUMNS])


def render_csv(rows: Sequence[Any]) -> bytes:
    lines = []
    for row in rows:
        event = decode(row)
        lines.append([csv_cell(event.get(name)) for name in CSV_COLUMNS])
    return _csv_text(lines)


_RENDERERS = {ExportFormat.NDJSON: render_ndjson, ExportFormat.CSV: render_csv}


class ExportSlots:
    """At most ``limit`` exports streaming at once in this process.

    The event loop is single-threaded, so a plain counter is exact."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0

    def take(self) -> bool:
        """A slot, if one is free; the taker gives it back with :meth:`give_back`."""
        if self.in_use >= self.limit:
            return False
        self.in_use += 1
        return True

    def give_back(self) -> None:
        self.in_use -= 1


class ExportStream:
    """The export's bytes, chunk by chunk; counts what it has sent for the summary log line.

    Iterate it once, then ``aclose`` it, also when the iteration stops early: that ends the
    store's iteration and calls ``on_close`` (once), e.g. to give back an export slot.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        plan: ExportPlan,
        chunk_rows: int | None = None,
        on_close: Callable[[], None] | None = None,
    ):
        self.plan = plan
        self.rows = 0
        self.chunks = 0
        # True once every row was read: a stream closed before then was cut short.
        self.complete = False
        self._rows = store.stream_rows(engine, plan.filter, chunk_rows or CHUNK_ROWS)
        self._iterator = self._render()
        self._on_close = on_close

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterator

    async def _render(self) -> AsyncGenerator[bytes, None]:
        render = _RENDERERS[self.plan.format]
        # The header travels with the first rows, so that the first chunk proves the query ran.
        pending = csv_header() if self.plan.format is ExportFormat.CSV else b""
        async for rows in self._rows:
            data = await anyio.to_thread.run_sync(render, rows)
            self.rows += len(rows)
            self.chunks += 1
            # Nothing of this chunk stays referenced while the next one is read.
            del rows
            data, pending = pending + data, b""
            yield data
            del data
        self.complete = True
        if pending:
            yield pending

    async def aclose(self) -> None:
        try:
            await self._iterator.aclose()
            await self._rows.aclose()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()
