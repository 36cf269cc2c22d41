"""``POST /oauth/token``: the OAuth2 client-credentials grant SparkPost uses for
``auth_type=oauth2`` webhooks (RFC 6749 §4.4). JSON and form bodies are both accepted, since
SparkPost does not document which it sends; client credentials may also come as HTTP basic."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from event_data.api.bodies import read_capped_body
from event_data.api.responses import OrjsonResponse
from event_data.errors import PayloadTooLarge
from event_data.ingest.credentials import client_credentials_valid, parse_basic
from event_data.logging import get_logger
from event_data.services import Services

log = get_logger(__name__)

MAX_TOKEN_REQUEST_BYTES = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, description: str) -> Response:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="event-data-oauth"'
    return OrjsonResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


async def _read_fields(request: Request) -> dict[str, str] | None:
    body = await read_capped_body(request, MAX_TOKEN_REQUEST_BYTES)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or body.lstrip().startswith(b"{"):
        try:
            parsed: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(parsed, dict):
            return None
        return {str(k): str(v) for k, v in parsed.items() if isinstance(v, str | int)}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None


async def issue_token(request: Request) -> Response:
    services: Services = request.state.services
    settings = services.settings
    try:
        fields = await _read_fields(request)
    except PayloadTooLarge:
        return _oauth_error(413, "invalid_request", "request body too large")
    if fields is None:
        return _oauth_error(400, "invalid_request", "body must be JSON or form-encoded")
    if fields.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    client_id = fields.get("client_id", "")
    client_secret = fields.get("client_secret", "")
    basic = parse_basic(request.headers.get("authorization", ""))
    if basic is not None:
        client_id, client_secret = basic
    if not client_credentials_valid(
        client_id, client_secret, settings.oauth_client_id, settings.oauth_client_secret
    ):
        log.info("oauth.token_refused")
        return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
    token = services.tokens.issue(client_id)
    log.info("oauth.token_issued", ttl_seconds=services.tokens.ttl_seconds)
    return OrjsonResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": services.tokens.ttl_seconds,
        },
        headers=_NO_STORE,
    )
