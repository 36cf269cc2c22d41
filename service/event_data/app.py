"""Build the Starlette application from the settings."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from event_data.api import events, export, health, oauth, openapi, webhooks
from event_data.api.middleware import RequestContextMiddleware
from event_data.api.responses import error_response, handle_event_data_error
from event_data.config import Settings
from event_data.errors import EventDataError
from event_data.lifespan import make_lifespan
from event_data.logging import get_logger

log = get_logger(__name__)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), str(exc.detail), str(exc.status_code))


async def _unexpected(request: Request, exc: Exception) -> Response:
    route = getattr(request.scope.get("route"), "path", None)
    log.error("http.unhandled_error", route=route, error=type(exc).__name__)
    return error_response(500, "internal error", "an unexpected error occurred", "1500")


def routes() -> list[Route]:
    return [
        Route("/webhooks/sparkpost", webhooks.receive_batch, methods=["POST"]),
        Route("/oauth/token", oauth.issue_token, methods=["POST"]),
        Route("/api/v1/events/message", events.search_events, methods=["GET"]),
        Route("/api/v1/events/message/export", export.export_events, methods=["GET"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        Route("/openapi.json", openapi.openapi_json, methods=["GET"]),
    ]


def create_app(settings: Settings) -> Starlette:
    handlers: dict[Any, Any] = {
        EventDataError: handle_event_data_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }
    return Starlette(
        routes=routes(),
        middleware=[Middleware(RequestContextMiddleware)],
        exception_handlers=handlers,
        lifespan=make_lifespan(settings),  # type: ignore[arg-type]
    )
