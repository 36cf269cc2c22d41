"""Who may post webhook batches: HTTP basic, OAuth2 Bearer tokens, or the legacy token header."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping

from event_data.config import Secret, Settings
from event_data.errors import Unauthorized
from event_data.ingest.tokens import TokenIssuer

LEGACY_TOKEN_HEADER = "x-messagesystems-webhook-token"  # noqa: S105 - a header name


def equal(given: str, expected: str) -> bool:
    """Constant-time comparison of secrets."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def parse_basic(authorization: str) -> tuple[str, str] | None:
    """(user, password) from a ``Basic`` Authorization value, or None if it is not one."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (user, "")


class WebhookCredentials:
    """Checks a webhook request's credentials against the configured ones."""

    def __init__(self, settings: Settings, tokens: TokenIssuer) -> None:
        self._user = settings.webhook_user
        self._password = settings.webhook_password
        self._legacy_token = settings.webhook_token
        self._tokens = tokens
        self._oauth_enabled = settings.oauth_client_id is not None

    def authenticate(self, headers: Mapping[str, str]) -> str:
        """The method that admitted the request; raises :class:`Unauthorized` otherwise."""
        authorization = headers.get("authorization", "")
        scheme = authorization.partition(" ")[0].lower()
        if scheme == "basic" and self._check_basic(authorization):
            return "basic"
        if scheme == "bearer" and self._oauth_enabled:
            token = authorization.partition(" ")[2].strip()
            if token and self._tokens.verify(token):
                return "oauth2"
        legacy = headers.get(LEGACY_TOKEN_HEADER)
        token_secret = self._legacy_token
        if legacy is not None and token_secret is not None and equal(legacy, token_secret.reveal()):
            return "legacy-token"
        raise Unauthorized("missing or invalid webhook credentials")

    def _check_basic(self, authorization: str) -> bool:
        parsed = parse_basic(authorization)
        if parsed is None or self._user is None or self._password is None:
            return False
        user_ok = equal(parsed[0], self._user)
        password_ok = equal(parsed[1], self._password.reveal())
        return user_ok and password_ok


def client_credentials_valid(
    client_id: str, client_secret: str, expected_id: str | None, expected_secret: Secret | None
) -> bool:
    """The OAuth client's id and secret, both compared in constant time."""
    if expected_id is None or expected_secret is None:
        return False
    id_ok = equal(client_id, expected_id)
    secret_ok = equal(client_secret, expected_secret.reveal())
    return id_ok and secret_ok
