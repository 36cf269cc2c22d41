"""The ack path: check the batch is a JSON array, compress it, write it to S3, and only then ack.

Parsing and compression run in a worker thread: a 1,000-event batch costs milliseconds of CPU,
and on the event loop that would delay every other request of the task.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import orjson
from botocore.exceptions import BotoCoreError, ClientError

from event_data.archive.compression import compress_batch
from event_data.archive.keys import archive_key, batch_id_from_header, content_digest
from event_data.archive.s3 import Archive
from event_data.errors import BadRequest, ServiceUnavailable
from event_data.events.jsonread import loads_fast
from event_data.logging import get_logger

log = get_logger(__name__)

PING_BATCH: list[Any] = [{"msys": {}}]
PING_BATCH_ID = "ping"


@dataclass(frozen=True)
class Receipt:
    batch_id: str
    key: str | None  # None for the ping, which is acknowledged but not archived
    elements: int
    raw_bytes: int
    stored_bytes: int

    @property
    def is_ping(self) -> bool:
        return self.key is None


@dataclass(frozen=True)
class _Prepared:
    elements: int
    is_ping: bool
    compressed: bytes
    digest: str


class NotJson(BadRequest):
    """The body does not parse as JSON."""

    message = "invalid JSON"


class NotABatch(BadRequest):
    """The body is JSON, but not the array of events a batch is."""

    message = "invalid batch"


def _prepare(body: bytes) -> _Prepared:
    # Only the check that the body is JSON: the archive keeps the bytes, and the loader reads
    # the numbers as sent. loads_fast takes numbers orjson cannot hold (1e400) too.
    try:
        parsed = loads_fast(body)
    except orjson.JSONDecodeError as exc:
        raise NotJson(f"body is not valid JSON: {exc}") from exc
    if not isinstance(parsed, list):
        raise NotABatch("a SparkPost webhook batch is a JSON array of events")
    if parsed == PING_BATCH:
        return _Prepared(elements=1, is_ping=True, compressed=b"", digest="")
    return _Prepared(
        elements=len(parsed),
        is_ping=False,
        compressed=compress_batch(body),
        digest=content_digest(body),
    )


class Receiver:
    def __init__(self, archive: Archive, prefix: str, put_timeout_seconds: float) -> None:
        self._archive = archive
        self._prefix = prefix
        # botocore's read timeout does not cover every stall (a PutObject waiting on
        # `100 Continue`), so the whole write gets a deadline inside SparkPost's 10 s.
        self._put_timeout = put_timeout_seconds

    async def receive(
        self, body: bytes, batch_id_header: str | None, received_at: datetime | None = None
    ) -> Receipt:
        """Archive one batch; raise BadRequest for a body that is not a batch, and
        ServiceUnavailable when S3 does not take it (SparkPost then retries)."""
        received_at = received_at or datetime.now(UTC)
        prepared = await anyio.to_thread.run_sync(_prepare, body)
        if prepared.is_ping:
            return Receipt(PING_BATCH_ID, None, prepared.elements, len(body), 0)
        batch_id = batch_id_from_header(batch_id_header, prepared.digest)
        key = archive_key(self._prefix, batch_id, prepared.digest, received_at)
        try:
            await asyncio.wait_for(
                self._archive.put_batch(
                    key,
                    prepared.compressed,
                    batch_id=batch_id,
                    digest=prepared.digest,
                    received_at=received_at,
                    raw_size=len(body),
                ),
                self._put_timeout,
            )
        except (BotoCoreError, ClientError, OSError, TimeoutError) as exc:
            log.warning("webhook.archive_failed", batch_id=batch_id, error=type(exc).__name__)
            raise ServiceUnavailable("the archive is unavailable; retry later") from exc
        return Receipt(batch_id, key, prepared.elements, len(body), len(prepared.compressed))
