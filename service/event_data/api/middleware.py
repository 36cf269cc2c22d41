"""Request ids, the one summary log line per request, and SparkPost's URI length limit."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from event_data import metrics
from event_data.api.responses import error_response
from event_data.errors import UriTooLong
from event_data.logging import get_logger

log = get_logger("event_data.http")

# SparkPost's Events API refuses URIs longer than this (sparkpost.md §4.1).
MAX_URI_LENGTH = 4096
REQUEST_ID_HEADER = b"x-request-id"
# An incoming request id is kept only if it is short and plain (it is echoed and logged);
# anything else is replaced by a generated one.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        # SparkPost's API ignores a trailing slash; so does this one.
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/")
        try:
            uri_length = (
                len(scope.get("raw_path") or scope["path"].encode())
                + len(scope.get("query_string", b""))
                + 1
            )
            if uri_length > MAX_URI_LENGTH:
                error = UriTooLong(f"the URI exceeds {MAX_URI_LENGTH} characters")
                response = error_response(
                    error.status_code, error.message, error.description, error.code
                )
                await response(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            route = _route_template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            # The route, not the path or the query string: both are whatever the client sent,
            # addresses included, and they never reach the logs.
            log.info(
                "http.request",
                method=method,
                route=route,
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")
            return text if _SANE_REQUEST_ID.fullmatch(text) else None
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's path (Starlette's router records it in the scope): a bounded label,
    where the raw path is anything a client sends."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE
