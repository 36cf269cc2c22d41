"""``GET /api/v1/events/message/export``: a whole result set as NDJSON or CSV, streamed.

Everything that can be refused is refused before the first byte: credentials (401), the rate
limit (429), parameters (400), too many exports at once in this process (503, see
``EVENT_DATA_EXPORT_CONCURRENCY``), and the database (503), since the first chunk is read before
the response starts. A failure after that cannot change the status any more: the connection is
closed without the end of the chunked body, so the client sees a truncated download, never a
complete-looking short one, and the failure is logged. The same happens to an export still
running ``EVENT_DATA_EXPORT_MAX_SECONDS`` after its request came in, however slowly its client
reads, so that no client holds an export slot for ever.

The rows are read in short chunks (store/export.py), so the download holds a database
connection only while a chunk is read, never while it waits for the client. ``HEAD`` is
answered with the headers alone, after the same checks, without reading anything.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from event_data.api.auth import require_api_key
from event_data.errors import ServiceUnavailable
from event_data.logging import get_logger
from event_data.query.export import ExportPlan, ExportStream, plan_export
from event_data.services import Services

log = get_logger(__name__)


class ExportInterrupted(RuntimeError):
    """Raised past the response start, so that the server drops the connection mid-body."""


def _headers(plan: ExportPlan) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{plan.filename}"',
        "Cache-Control": "no-store",
    }


class ExportResponse(StreamingResponse):
    def __init__(self, stream: ExportStream, first: bytes, started: float, deadline: float):
        self._stream = stream
        self._first = first
        self._started = started
        # time.perf_counter() past which the export is cut short.
        self._deadline = deadline
        self._failed = False
        super().__init__(
            self._body(),
            media_type=stream.plan.media_type,
            headers=_headers(stream.plan),
        )

    async def _body(self) -> AsyncIterator[bytes]:
        first, self._first = self._first, b""
        if first:
            yield first
        del first
        try:
            async for chunk in self._stream:
                yield chunk
                del chunk
        # Whatever went wrong (database gone, a row that cannot be decoded), the status is
        # already sent: log it and make the server cut the body short.
        except Exception as exc:  # noqa: BLE001
            self._failed = True
            log.error(
                "export.failed",
                error=type(exc).__name__,
                rows=self._stream.rows,
                chunks=self._stream.chunks,
            )
            # Not chained: the cause's text may quote the filter values (addresses).
            raise ExportInterrupted("the export was interrupted") from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = "interrupted"
        try:
            # Bounds reading and sending alike: a client that stops reading leaves the body
            # waiting in `send`, and this cancels that wait too.
            with anyio.fail_after(max(0.0, self._deadline - time.perf_counter())):
                await super().__call__(scope, receive, send)
            # Starlette stops the body quietly when the client goes away.
            outcome = "finished" if self._stream.complete else "client_gone"
        except ClientDisconnect:
            outcome = "client_gone"
        except TimeoutError:
            outcome = "timed_out"
            # Past the response start: raising makes the server cut the body short.
            raise ExportInterrupted("the export ran past its maximum duration") from None
        finally:
            await self._stream.aclose()
            if not self._failed:
                log.info(
                    f"export.{outcome}",
                    format=self._stream.plan.format.value,
                    rows=self._stream.rows,
                    chunks=self._stream.chunks,
                    ms=round((time.perf_counter() - self._started) * 1000, 2),
                )


async def export_events(request: Request) -> Response:
    services: Services = request.state.services
    settings = services.settings
    key = require_api_key(request, settings.api_keys)
    services.rate_limiter.check(key)
    started = time.perf_counter()
    # Repeated parameters: the last one wins, as on the search route.
    plan = plan_export(dict(request.query_params))
    if request.method == "HEAD":
        head = Response(media_type=plan.media_type, headers=_headers(plan))
        # The GET's length is not known ahead (it is chunked): say none rather than 0.
        del head.headers["content-length"]
        return head
    slots = services.export_slots
    if not slots.take():
        log.warning("export.refused", exports=slots.in_use, limit=slots.limit)
        raise ServiceUnavailable(
            f"{slots.limit} exports are already running on this server; retry later"
        )
    # From here the stream owns the slot: closing it gives the slot back.
    stream = ExportStream(services.engine, plan, on_close=slots.give_back)
    try:
        first = await anext(aiter(stream))
    except StopAsyncIteration:
        first = b""
    except (SQLAlchemyError, OSError) as exc:
        await stream.aclose()
        log.warning("export.unavailable", error=type(exc).__name__)
        raise ServiceUnavailable("the database is unavailable; retry later") from exc
    except BaseException:
        # Anything else (a row that cannot be rendered, cancellation): release, then fail.
        await stream.aclose()
        raise
    deadline = started + settings.export_max_seconds
    return ExportResponse(stream, first, started, deadline)
