"""Build the Starlette application from the settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
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
from event_data.store.database import (
    CANCELLED_STATEMENT_ERRORS,
    LOST_CONNECTION_ERRORS,
    connection_lost,
    statement_cancelled,
)

log = get_logger(__name__)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), str(exc.detail), str(exc.status_code))


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The database (or the connection to it) failed mid-request: 503, so the caller retries,
    on every route at once rather than route by route."""
    route = getattr(request.scope.get("route"), "path", None)
    log.warning("http.database_unavailable", route=route, error=type(exc).__name__)
    response = error_response(
        503, "service unavailable", "the database is unavailable; retry later", "1503"
    )
    response.headers["Retry-After"] = "5"
    return response


async def _statement_cancelled(request: Request, exc: Exception) -> Response:
    """The database stopped the statement (statement timeout, operator, shutdown): 503 with a
    hint, since a search that big may need a narrower window to finish."""
    route = getattr(request.scope.get("route"), "path", None)
    log.warning("http.statement_cancelled", route=route, error=type(exc).__name__)
    response = error_response(
        503,
        "service unavailable",
        "the database stopped the query before it finished; retry later, or narrow the time"
        " window or add filters",
        "1503",
    )
    response.headers["Retry-After"] = "5"
    return response


async def _database_error(request: Request, exc: Exception) -> Response:
    """A driver error: 503 when the connection was lost or refused or the statement was
    stopped, 500 for anything else."""
    assert isinstance(exc, DBAPIError)
    if connection_lost(exc):
        return await _database_unavailable(request, exc)
    if statement_cancelled(exc):
        return await _statement_cancelled(request, exc)
    return await _unexpected(request, exc)


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
        # Lost or refused connections; a statement the database rejects stays a 500 (a bug).
        OperationalError: _database_unavailable,
        InterfaceError: _database_unavailable,
        DBAPIError: _database_error,
        SQLAlchemyTimeoutError: _database_unavailable,
        **{error: _database_unavailable for error in LOST_CONNECTION_ERRORS},
        **{error: _statement_cancelled for error in CANCELLED_STATEMENT_ERRORS},
        Exception: _unexpected,
    }
    return Starlette(
        routes=routes(),
        middleware=[Middleware(RequestContextMiddleware)],
        exception_handlers=handlers,
        lifespan=make_lifespan(settings),  # type: ignore[arg-type]
    )
