"""The database password, read from RDS's secret for the master user as connections open.

RDS rotates that secret on its own schedule (every seven days by default). A password read once
at start would have every connection the pool opens after a rotation refused, and the pool
recycles connections every 30 minutes; reading the secret when a connection opens, with a short
cache, follows the rotation without a restart. A login refused with the cached password (a
rotation within the cache time) expires the cache, and the connection is tried once more
(``store.database.connect_with_secret``).
"""

from __future__ import annotations

import asyncio
import json
import time

import aioboto3
from aiobotocore.config import AioConfig

from event_data.logging import get_logger

log = get_logger(__name__)

# One fetch per task per minute at most; a rotated password is picked up within that.
CACHE_SECONDS = 60.0
SECRETS_CONFIG = AioConfig(
    connect_timeout=2,
    read_timeout=3,
    retries={"max_attempts": 2, "mode": "standard"},
)


class SecretPassword:
    """An async callable giving the ``password`` key of a Secrets Manager JSON secret.

    asyncpg calls it (``connect(password=...)``) each time it opens a connection.
    """

    def __init__(
        self,
        secret_id: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._secret_id = secret_id
        self._region = region
        self._endpoint_url = endpoint_url
        self._cache_seconds = cache_seconds
        self._value: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        async with self._lock:
            if self._value is None or time.monotonic() >= self._expires:
                try:
                    self._value = await self._fetch()
                except Exception as exc:
                    if self._value is None:
                        raise
                    # A Secrets Manager blip must not stop connections: the password it gave
                    # last is still right unless a rotation happened just now.
                    log.warning("database.secret_unreadable", error=type(exc).__name__)
                self._expires = time.monotonic() + self._cache_seconds
            return self._value

    def expire(self) -> None:
        """Read the secret again at the next call: the server refused the password given."""
        self._expires = 0.0

    async def _fetch(self) -> str:
        session = aioboto3.Session(region_name=self._region)
        async with session.client(
            "secretsmanager", endpoint_url=self._endpoint_url, config=SECRETS_CONFIG
        ) as client:
            response = await client.get_secret_value(SecretId=self._secret_id)
        password = json.loads(response["SecretString"])["password"]
        if not isinstance(password, str):
            raise TypeError("the database secret's password is not a string")
        return password
