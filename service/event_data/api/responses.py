"""JSON responses (orjson, deep events included), and SparkPost's error shape."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from event_data.errors import EventDataError, TooManyRequests
from event_data.events.jsontext import dumps


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_response(status: int, message: str, description: str, code: str) -> Response:
    return errors_response(status, [(message, description, code)])


def errors_response(status: int, entries: list[tuple[str, str, str]]) -> Response:
    errors = [
        {"message": message, "description": description, "code": code}
        for message, description, code in entries
    ]
    return OrjsonResponse({"errors": errors}, status_code=status)


async def handle_event_data_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EventDataError)
    response = errors_response(exc.status_code, exc.entries())
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="event-data"'
    if exc.status_code == 503:
        response.headers["Retry-After"] = "5"
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response
