"""``GET /api/v1/events/message/export``: a whole result set as NDJSON or CSV, streamed.

Everything that can be refused is refused before the first byte: credentials (401), the rate
limit (429), parameters (400), and the database (503), since the query runs and its first chunk
is read before the response starts. A failure after that cannot change the status any more:
the connection is closed without the end of the chunked body, so the client sees a truncated
download, never a complete-looking short one, and the failure is logged.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from event_data.api.auth import require_api_key
from event_data.errors import ServiceUnavailable
from event_data.logging import get_logger
from event_data.query.export import ExportStream, plan_export
from event_data.services import Services

log = get_logger(__name__)


class ExportInterrupted(RuntimeError):
    """Raised past the response start, so that the server drops the connection mid-body."""


class ExportResponse(StreamingResponse):
    def __init__(self, stream: ExportStream, first: bytes, started: float) -> None:
        self._stream = stream
        self._first = first
        self._started = started
        self._failed = False
        super().__init__(
            self._body(),
            media_type=stream.plan.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{stream.plan.filename}"',
                "Cache-Control": "no-store",
            },
        )

    async def _body(self) -> AsyncIterator[bytes]:
        if self._first:
            yield self._first
        try:
            async for chunk in self._stream:
                yield chunk
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
            await super().__call__(scope, receive, send)
            # Starlette stops the body quietly when the client goes away.
            outcome = "finished" if self._stream.complete else "client_gone"
        except ClientDisconnect:
            outcome = "client_gone"
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
    key = require_api_key(request, services.settings.api_keys)
    services.rate_limiter.check(key)
    started = time.perf_counter()
    # Repeated parameters: the last one wins, as on the search route.
    plan = plan_export(dict(request.query_params))
    stream = ExportStream(services.engine, plan)
    try:
        first = await anext(aiter(stream))
    except StopAsyncIteration:
        first = b""
    except (SQLAlchemyError, OSError) as exc:
        await stream.aclose()
        log.warning("export.unavailable", error=type(exc).__name__)
        raise ServiceUnavailable("the database is unavailable; retry later") from exc
    return ExportResponse(stream, first, started)
