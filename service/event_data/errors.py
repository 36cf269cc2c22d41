"""One error family carrying its HTTP status; ``api.errors`` renders SparkPost's error shape."""

from __future__ import annotations


class EventDataError(Exception):
    """An expected failure with the HTTP status and SparkPost-style code it maps to."""

    status_code = 500
    code = "1500"
    message = "internal error"

    def __init__(self, description: str, *, message: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        if message is not None:
            self.message = message

    def entries(self) -> list[tuple[str, str, str]]:
        """(message, description, code) of each error, as SparkPost's ``errors`` list."""
        return [(self.message, self.description, self.code)]


class BadRequest(EventDataError):
    status_code = 400
    code = "1400"
    message = "invalid request"


class InvalidParameter(BadRequest):
    """A query parameter has a value the Events API does not accept; names the parameter."""

    code = "1200"
    message = "invalid parameter"

    def __init__(self, parameter: str, description: str) -> None:
        super().__init__(f"{parameter}: {description}")
        self.parameter = parameter


class InvalidParameters(BadRequest):
    """Several query parameters are bad: one 400 naming each of them."""

    code = InvalidParameter.code
    message = InvalidParameter.message

    def __init__(self, errors: list[InvalidParameter]) -> None:
        super().__init__("; ".join(error.description for error in errors))
        self.errors = errors

    def entries(self) -> list[tuple[str, str, str]]:
        return [entry for error in self.errors for entry in error.entries()]


class Unauthorized(EventDataError):
    status_code = 401
    code = "1401"
    message = "Unauthorized."


class PayloadTooLarge(EventDataError):
    status_code = 413
    code = "1413"
    message = "payload too large"


class UriTooLong(EventDataError):
    status_code = 414
    code = "1414"
    message = "URI too long"


class ServiceUnavailable(EventDataError):
    """A dependency is down; the caller should retry (SparkPost does, for 8 hours)."""

    status_code = 503
    code = "1503"
    message = "service unavailable"


class TooManyRequests(EventDataError):
    """Over the per-key rate limit; ``Retry-After`` says when a request would pass again."""

    status_code = 429
    code = "1429"
    message = "Too many requests"

    def __init__(self, description: str, *, retry_after_seconds: int) -> None:
        super().__init__(description)
        self.retry_after_seconds = retry_after_seconds
