"""Answering an Events API request: window, cursor, page, count, next link."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.errors import InvalidParameter
from event_data.events.codec import events_json
from event_data.query.cursor import CursorCodec, CursorState, filter_digest
from event_data.query.params import ParsedParams, parse_params
from event_data.store import search as store
from event_data.store.filters import PageRequest, Position

EVENTS_PATH = "/api/v1/events/message"
# Pages of more events than this are decompressed in a worker thread: some 2 ms of work, past
# which the event loop's other requests should not wait on it; below it the hop costs more than
# it spares.
THREAD_DECODE_ROWS = 1000


@dataclass(frozen=True)
class Page:
    # each event's JSON text, as the response embeds it
    results: list[orjson.Fragment]
    total_count: int
    next_link: str | None


@dataclass(frozen=True)
class _Query:
    params: ParsedParams
    digest: bytes
    state: CursorState | None
    request: PageRequest


def _decode_all(rows: Sequence[Any]) -> list[orjson.Fragment]:
    return [orjson.Fragment(text) for text in events_json(rows)]


class EventSearch:
    def __init__(self, engine: AsyncEngine, cursors: CursorCodec) -> None:
        self._engine = engine
        self._cursors = cursors

    def request(self, query: Mapping[str, str], now: datetime | None = None) -> PageRequest:
        """What the store is asked for to answer ``query`` (the statements it runs are
        ``store.page_statements`` of it)."""
        return self._parse(query, now).request

    def _parse(self, query: Mapping[str, str], now: datetime | None) -> _Query:
        params = parse_params(query)
        digest = filter_digest(params.canonical_filters())
        state: CursorState | None = None
        if params.cursor is not None:
            state = self._cursors.decode(params.cursor, digest)
            window_from, window_to = state.window_from, state.window_to
        else:
            window_from, window_to = params.window(now or datetime.now(UTC))
            if window_from >= window_to:
                raise InvalidParameter("from", "`from` must be before `to`")
        request = PageRequest(
            filter=params.event_filter(window_from, window_to),
            per_page=params.per_page,
            after=state.position if state else None,
            visibility=state.visibility if state else None,
        )
        return _Query(params, digest, state, request)

    async def page(self, query: Mapping[str, str], now: datetime | None = None) -> Page:
        parsed = self._parse(query, now)
        params, state, request = parsed.params, parsed.state, parsed.request
        if state is None:
            first = await store.first_page(self._engine, request)
            rows, total, visibility = first.rows, first.total_count, first.visibility
        else:
            rows = await store.next_page(self._engine, request)
            total, visibility = state.total_count, state.visibility
        has_more = len(rows) > params.per_page
        rows = rows[: params.per_page]
        if len(rows) > THREAD_DECODE_ROWS:
            results = await anyio.to_thread.run_sync(_decode_all, rows)
        else:
            results = _decode_all(rows)

        next_link = None
        if has_more and rows:
            last = rows[-1]
            token = self._cursors.encode(
                CursorState(
                    position=Position(last["ts"], last["event_id"], last["type"]),
                    window_from=request.filter.window_from,
                    window_to=request.filter.window_to,
                    total_count=total,
                    visibility=visibility,
                ),
                parsed.digest,
            )
            next_query = {k: v for k, v in query.items() if k not in ("cursor", "per_page")}
            next_query["per_page"] = str(params.per_page)
            next_query["cursor"] = token
            next_link = f"{EVENTS_PATH}?{urlencode(next_query)}"
        return Page(results=results, total_count=total, next_link=next_link)
