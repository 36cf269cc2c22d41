"""An optional per-key rate limit on the query API, answered with 429 as SparkPost does.

A token bucket per API key, in this process: each task limits on its own, so behind a load
balancer the whole service allows about ``tasks * limit`` a minute. Buckets exist only for keys
that authenticated, so their number is bounded by the configured keys.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from event_data import metrics
from event_data.errors import TooManyRequests

SECONDS_PER_MINUTE = 60.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``per_minute`` requests a minute per key, in bursts of up to ``per_minute``; 0 is off."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / SECONDS_PER_MINUTE
        self._clock = clock
        self._buckets: dict[bytes, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self._capacity > 0

    def check(self, key: str) -> None:
        """Take one request from the key's bucket; raise :class:`TooManyRequests` if empty."""
        if not self.enabled:
            return
        now = self._clock()
        # The digest, so that the table of buckets holds no key itself.
        ident = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        bucket = self._buckets.get(ident)
        if bucket is None:
            bucket = self._buckets[ident] = _Bucket(self._capacity, now)
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        metrics.RATE_LIMITED.inc()
        retry_after = max(1, math.ceil((1.0 - bucket.tokens) / self._rate))
        raise TooManyRequests(
            f"this API key is limited to {int(self._capacity)} requests a minute; "
            f"retry in {retry_after} s",
            retry_after_seconds=retry_after,
        )
