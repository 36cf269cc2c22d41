"""P6: each canonical query through the Events API over HTTP, beside the very SQL the API runs
for it, executed through asyncpg on a connection set up as the service's are, fetching every
row. The statements come from the function the service's own query code runs them from
(``store.search.page_statements``), so the two cannot drift apart.

Each query is also EXPLAINed (ANALYZE) to list the partitions its plan touches: none may lie
outside its time window.

The API side is timed through a minimal HTTP/1.1 client (``LeanHttp``), as the SQL side is
through asyncpg: httpx spends about a millisecond of CPU a request of its own, which is neither
the service's time nor the database's. The same requests through httpx are reported beside
(``with_httpx``), and so is the HTTP round trip of ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.stack import API_KEY
from event_data.config import Secret
from event_data.query.cursor import CursorCodec
from event_data.query.search import EventSearch
from event_data.store.database import driver_connection
from event_data.store.partitions import PARTITION_PREFIX
from event_data.store.search import PageStatements, page_statements

TARGET = 1.5
DEEP_PAGES = 20


@dataclass(frozen=True)
class Query:
    name: str
    params: dict[str, str]
    window: tuple[datetime, datetime]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _window(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": _iso(start), "to": _iso(end)}


async def canonical_queries(
    conn: asyncpg.Connection, window: tuple[datetime, datetime]
) -> list[Query]:
    """The six queries of the specification, with values taken from the data itself (the
    middle day of the window), so each one finds what a user would be looking for."""
    start, end = window
    mid = start + (end - start) / 2
    day = (mid, mid + timedelta(days=1))
    recipient = await conn.fetchval(
        "SELECT rcpt_to FROM events WHERE ts >= $1 AND ts < $2 AND type = 'delivery'"
        " ORDER BY ts LIMIT 1",
        *day,
    )
    campaign = await conn.fetchval(
        "SELECT campaign_id FROM events WHERE ts >= $1 AND ts < $2 AND campaign_id IS NOT NULL"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        *day,
    )
    message = await conn.fetchval(
        "SELECT message_id FROM events WHERE ts >= $1 AND ts < $2 AND type = 'delivery'"
        " ORDER BY ts LIMIT 1",
        *day,
    )
    customer = await conn.fetchval(
        "SELECT rcpt_meta->'customer'->>'id' FROM events WHERE ts >= $1 AND ts < $2"
        " AND rcpt_meta ? 'customer' ORDER BY ts LIMIT 1",
        *day,
    )
    ten_days = (mid - timedelta(days=5), mid + timedelta(days=5))
    week = (mid - timedelta(days=3), mid + timedelta(days=4))
    return [
        Query("recipient, 10 days", {"recipients": recipient, **_window(*ten_days)}, ten_days),
        Query(
            "campaign + type, 24 h",
            {"campaigns": campaign, "events": "delivery", **_window(*day)},
            day,
        ),
        Query("message id, 30 days", {"messages": message, **_window(*window)}, window),
        Query(
            "rcpt_meta key, 7 days",
            {"rcpt_meta": f"customer.id:{customer}", **_window(*week)},
            week,
        ),
        Query("deep cursor page, 7 days", {"per_page": "1000", **_window(*week)}, week),
        Query(
            "total_count, broad 24 h",
            {"events": "delivery,open,initial_open,click", "per_page": "1", **_window(*day)},
            day,
        ),
    ]


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def _partitions(plan: Any) -> list[str]:
    """Partitions of ``events`` that the plan scanned (pruned ones do not appear)."""
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        name = node.get("Relation Name", "")
        scanned = node.get("Actual Loops", 1) > 0
        if (name.startswith(PARTITION_PREFIX) or name == "events_default") and scanned:
            found.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return sorted(set(found))


def _partition_day(name: str) -> date | None:
    try:
        return datetime.strptime(name.removeprefix(PARTITION_PREFIX), "%Y%m%d").date()
    except ValueError:
        return None


def _outside(names: list[str], window: tuple[datetime, datetime]) -> list[str]:
    first = window[0].astimezone(UTC).date()
    last = (window[1] - timedelta(microseconds=1)).astimezone(UTC).date()
    outside = []
    for name in names:
        day = _partition_day(name)
        if day is None or not first <= day <= last:
            outside.append(name)
    return outside


async def _run_sql(raw: asyncpg.Connection, statements: PageStatements) -> int:
    """The statements in the transaction the API runs them in; the rows of the last one."""
    rows: list[Any] = []
    if statements.snapshot is not None:  # a first page: snapshot, count and rows in one snapshot
        async with raw.transaction(isolation="repeatable_read", readonly=True):
            for statement in statements.in_order():
                rows = await raw.fetch(statement.sql, *statement.args)
    else:
        for statement in statements.in_order():
            rows = await raw.fetch(statement.sql, *statement.args)
    return len(rows)


async def _deep_link(
    client: httpx.AsyncClient, params: dict[str, str]
) -> tuple[dict[str, str], int]:
    """Follow ``next`` links DEEP_PAGES pages (fewer if the data ends first)."""
    query = dict(params)
    depth = 0
    for _ in range(DEEP_PAGES):
        body = (await client.get("/api/v1/events/message", params=query)).json()
        link = body.get("links", {}).get("next")
        if not link:
            break
        query = dict(parse_qsl(urlsplit(link).query))
        depth += 1
    return query, depth


class LeanHttp:
    """GET over one keep-alive HTTP/1.1 connection and nothing more: the API's time without an
    HTTP client library's own (httpx spends about a millisecond of CPU a request on these
    machines, beside the service on two cores). The target is taken with it; httpx's figures
    are reported beside (``with_httpx``)."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> LeanHttp:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def get(self, path: str, params: dict[str, str]) -> int:
        """The body's length; any status but 200 is an error (bodies have a Content-Length)."""
        target = f"{path}?{urlencode(params)}"
        head = f"GET {target} HTTP/1.1\r\nHost: {self._host}\r\nAuthorization: {API_KEY}\r\n\r\n"
        return await self._exchange(head.encode(), path)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body``; the response body's length, any status but 200 an error."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n{lines}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return await self._exchange(head.encode() + body, path)

    async def _exchange(self, request: bytes, path: str) -> int:
        try:
            return await self._send(request, path)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closes a connection idle past its keep-alive timeout (uvicorn: 5 s),
            # as between two slow queries of a large dataset: reconnect and send again once.
            with contextlib.suppress(OSError):
                await self.__aexit__()
            await self.__aenter__()
            return await self._send(request, path)

    async def _send(self, request: bytes, path: str) -> int:
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self._reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"{path}: {status.decode()}")
        return len(body)


async def measure(
    engine: AsyncEngine,
    base_url: str,
    signing_key: str,
    window: tuple[datetime, datetime],
    reps: int,
) -> dict[str, Any]:
    search = EventSearch(engine, CursorCodec(Secret(signing_key)))
    results: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": API_KEY}, timeout=60
        ) as client,
        engine.connect() as conn,
        LeanHttp(base_url) as lean,
    ):
        raw = await driver_connection(conn)
        queries = await canonical_queries(raw, window)
        for query in queries:
            params = query.params
            depth = 0
            if query.name.startswith("deep cursor"):
                params, depth = await _deep_link(client, params)
            page = await search.page(params)
            statements = page_statements(search.request(params))
            plans = [
                await raw.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {s.sql}", *s.args)
                for s in statements.in_order()
            ]
            touched = sorted({name for plan in plans for name in _partitions(_json(plan))})
            api: list[float] = []
            sql: list[float] = []
            lean_api: list[float] = []
            rows = 0
            for i in range(reps + 3):  # the first three warm both sides' caches
                started = time.perf_counter()
                response = await client.get("/api/v1/events/message", params=params)
                response.raise_for_status()
                api_s = time.perf_counter() - started
                started = time.perf_counter()
                await lean.get("/api/v1/events/message", params)
                lean_s = time.perf_counter() - started
                started = time.perf_counter()
                rows = await _run_sql(raw, statements)
                sql_s = time.perf_counter() - started
                if i >= 3:
                    api.append(api_s)
                    sql.append(sql_s)
                    lean_api.append(lean_s)
            api_p95, sql_p95, lean_p95 = _p95(api), _p95(sql), _p95(lean_api)
            # The target is taken with the lean client, as the SQL side is taken with asyncpg:
            # each side through a client that adds next to nothing of its own.
            results[query.name] = {
                "ratio": round(lean_p95 / sql_p95, 2),
                "api_p95_ms": round(lean_p95 * 1000, 2),
                "sql_p95_ms": round(sql_p95 * 1000, 2),
                "api_median_ms": round(statistics.median(lean_api) * 1000, 2),
                "sql_median_ms": round(statistics.median(sql) * 1000, 2),
                "with_httpx": {
                    "ratio": round(api_p95 / sql_p95, 2),
                    "api_p95_ms": round(api_p95 * 1000, 2),
                    "api_median_ms": round(statistics.median(api) * 1000, 2),
                },
                "runs": reps,
                "results": len(page.results),
                "total_count": page.total_count,
                "sql_rows_fetched": rows,
                "statements": len(statements.in_order()),
                "cursor_depth_pages": depth,
                "params": {k: v for k, v in params.items() if k != "cursor"},
                "partitions_touched": len(touched),
                "partitions_outside_window": _outside(touched, query.window),
            }
        floor = await _http_floor(client, reps)  # after the queries: a warm service
    worst = max(r["ratio"] for r in results.values())
    outside = sum(len(r["partitions_outside_window"]) for r in results.values())
    return {
        "value": worst,
        "target": f"<= {TARGET}, no partition outside the window",
        "met": worst <= TARGET and outside == 0,
        "detail": {"queries": results, "http_round_trip": floor},
    }


async def _http_floor(client: httpx.AsyncClient, reps: int) -> dict[str, float]:
    """What any request costs through this client and the service's HTTP stack before a query
    runs (``/healthz``: no database, a few bytes back): the part of each API time that no
    work on the query path can remove."""
    samples: list[float] = []
    for i in range(reps + 3):
        started = time.perf_counter()
        (await client.get("/healthz")).raise_for_status()
        if i >= 3:
            samples.append(time.perf_counter() - started)
    return {
        "p95_ms": round(_p95(samples) * 1000, 2),
        "median_ms": round(statistics.median(samples) * 1000, 2),
    }


def _json(value: Any) -> Any:
    import orjson

    return orjson.loads(value) if isinstance(value, str | bytes) else value
