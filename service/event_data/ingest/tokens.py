"""Stateless OAuth2 access tokens for SparkPost's ``auth_type=oauth2`` webhooks.

Tokens are JWTs signed with a key every task derives from the shared signing secret, so any task
accepts a token that another issued, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import jwt

from event_data.config import Secret

ALGORITHM = "HS256"
ISSUER = "event-data"
AUDIENCE = "event-data:webhooks"


class TokenIssuer:
    def __init__(self, signing_key: Secret, ttl_seconds: int) -> None:
        # A key of its own, so that a token can never pass for anything else that is signed.
        self._key = hmac.new(
            signing_key.reveal().encode(), b"oauth-access-token", hashlib.sha256
        ).digest()
        self.ttl_seconds = ttl_seconds

    def issue(self, client_id: str, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": client_id,
            "iat": issued,
            "exp": issued + self.ttl_seconds,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> bool:
        """True for an unexpired token this service signed; False for anything else."""
        try:
            jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError:
            return False
        return True
