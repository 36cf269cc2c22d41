"""Measures an export's memory in a process of its own: ``python -m tests.export_probe``.

tracemalloc counts the allocations of every thread of a process; in the test process those
include the in-process S3/SQS emulator's, still answering earlier tests' long polls. Here only
the service runs: the app with its real lifespan, driven over ASGI by a client that keeps no
body. Prints a line `probe {...}` per window given on the command line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import os
import sys
import tracemalloc
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import anyio
import orjson
import pytest
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Message

from event_data.app import create_app
from event_data.config import load_settings
from event_data.query import export as query_export

API_KEY_ENV = "EXPORT_PROBE_API_KEY"
EXPORT_PATH = "/api/v1/events/message/export"


async def asgi_get(app: ASGIApp, path: str, query_string: str, sink: Any, api_key: str) -> int:
    """Drive the app directly, handing each body chunk to ``sink`` and keeping none of them:
    what the process holds during the export is then the server's alone."""
    status = 0
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", api_key.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent_request = False

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # Nothing more to read: a client that stays connected until the body ends.
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            # A sink may be a coroutine function: a client that reads when it pleases.
            outcome = sink(message.get("body", b""), message.get("more_body", False))
            if inspect.isawaitable(outcome):
                await outcome

    await app(scope, receive, send)
    return status


@dataclass
class Measured:
    status: int = 0
    chunks: int = 0
    exported: int = 0
    lines: int = 0
    newest_first: bool = True
    ended: bool = False
    decoded: int = 0
    decoded_at_first_chunk: int | None = None
    peak: int = 0


async def measured_export(app: ASGIApp, window: dict[str, str], api_key: str) -> Measured:
    """Export over ``window``, tracing the memory the process allocates meanwhile."""
    seen = Measured()
    last_ts = "9999"

    def sink(body: bytes, more: bool) -> None:
        nonlocal last_ts
        if body:
            if seen.decoded_at_first_chunk is None:
                seen.decoded_at_first_chunk = seen.decoded
            seen.chunks += 1
            seen.exported += len(body)
            for line in body.splitlines():
                ts = orjson.loads(line)["timestamp"]
                seen.newest_first &= ts <= last_ts
                last_ts = ts
                seen.lines += 1
        seen.ended = not more

    real_decode = query_export.decode

    def counting_decode(row: Any) -> dict[str, Any]:
        seen.decoded += 1
        return real_decode(row)

    query_string = urlencode(window)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(query_export, "decode", counting_decode)
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            seen.status = await asgi_get(app, EXPORT_PATH, query_string, sink, api_key)
            seen.peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()
    return seen


async def main(windows: list[dict[str, str]], chunk_rows: int) -> None:
    query_export.CHUNK_ROWS = chunk_rows
    api_key = os.environ[API_KEY_ENV]
    app = create_app(load_settings())
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        for window in windows:
            measured = await measured_export(manager.app, window, api_key)
            print("probe", json.dumps(dataclasses.asdict(measured)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), int(sys.argv[2])))
