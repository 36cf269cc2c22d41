"""API keys for the query routes, presented the way SparkPost's clients present them:
``Authorization: <key>`` with no scheme, or HTTP basic with the key as the user name."""

from __future__ import annotations

from starlette.requests import Request

from event_data.config import Secret
from event_data.errors import Unauthorized
from event_data.ingest.credentials import equal, parse_basic


def presented_key(authorization: str) -> str | None:
    if not authorization.strip():
        return None
    basic = parse_basic(authorization)
    if basic is not None:
        return basic[0]
    return authorization.strip()


def require_api_key(request: Request, keys: tuple[Secret, ...]) -> str:
    """The API key the request presented, once it is one of ``keys``; 401 otherwise."""
    key = presented_key(request.headers.get("authorization", ""))
    if key is None:
        raise Unauthorized("an API key is required in the Authorization header")
    # Compare against every key, so the time taken does not tell which one was close.
    matched = False
    for expected in keys:
        matched |= equal(key, expected.reveal())
    if not matched:
        raise Unauthorized("the API key is not valid")
    return key
