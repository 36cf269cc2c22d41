"""The ack path: check the batch is a JSON array, compress it, write it to S3, and only then ack.

Checking and compression run in worker threads: a 1,000-event batch costs milliseconds of CPU,
and on the event loop that would delay every other request of the task. The two run side by side
on the receiver's own threads (zstd and hashlib release the GIL), and the check only skims:
building every event as Python objects, which the loader does later anyway, would cost ten times
what the rest of the ack costs.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
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
class _Checked:
    elements: int
    is_ping: bool
    digest: str


class NotJson(BadRequest):
    """The body does not parse as JSON."""

    message = "invalid JSON"


class NotABatch(BadRequest):
    """The body is JSON, but not the array of events a batch is."""

    message = "invalid batch"


# The batch as a list of undecoded elements: the syntax of every element is checked while it
# is skipped, but no Python object is built for it.
_ELEMENTS = msgspec.json.Decoder(list[msgspec.Raw])


def _elements(body: bytes) -> list[Any]:
    """The batch's elements (undecoded on the fast path); NotJson or NotABatch otherwise."""
    try:
        body.decode("utf-8")  # skipped strings are not checked for UTF-8 by the fast path
        return list(_ELEMENTS.decode(body))
    except (UnicodeDecodeError, msgspec.DecodeError, RecursionError):
        pass
    # Refused by the fast path: the full parser decides, so what is accepted or refused, and
    # with which error, does not depend on the shortcut (loads_fast also takes numbers orjson
    # cannot hold, such as 1e400, as the skim does).
    try:
        parsed = loads_fast(body)
    except orjson.JSONDecodeError as exc:
        raise NotJson(f"body is not valid JSON: {exc}") from exc
    if not isinstance(parsed, list):
        raise NotABatch("a SparkPost webhook batch is a JSON array of events")
    return parsed


def _is_ping(elements: list[Any]) -> bool:
    if len(elements) != 1:
        return False
    only = elements[0]
    if isinstance(only, msgspec.Raw):
        only = orjson.loads(bytes(only))
    return [only] == PING_BATCH


def _check(body: bytes) -> _Checked:
    elements = _elements(body)
    if _is_ping(elements):
        return _Checked(elements=1, is_ping=True, digest="")
    return _Checked(elements=len(elements), is_ping=False, digest=content_digest(body))


class Receiver:
    def __init__(self, archive: Archive, prefix: str, put_timeout_seconds: float) -> None:
        self._archive = archive
        self._prefix = prefix
        # botocore's read timeout does not cover every stall (a PutObject waiting on
        # `100 Continue`), so the whole write gets a deadline inside SparkPost's 10 s.
        self._put_timeout = put_timeout_seconds
        # Two jobs per batch; more threads than cores would only queue inside the CPU.
        self._threads = ThreadPoolExecutor(
            max_workers=2 * (os.cpu_count() or 1), thread_name_prefix="ack"
        )

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)

    async def receive(
        self, body: bytes, batch_id_header: str | None, received_at: datetime | None = None
    ) -> Receipt:
        """Archive one batch; raise BadRequest for a body that is not a batch, and
        ServiceUnavailable when S3 does not take it (SparkPost then retries)."""
        received_at = received_at or datetime.now(UTC)
        loop = asyncio.get_running_loop()
        # Both jobs reach the threads before the event loop runs again, compression first: zstd
        # lets go of the GIL at once, so the check starts beside it rather than after it. (Handed
        # over one at a time, as anyio does, the second waits for the loop, and the loop for the
        # GIL the first holds: 1.3 ms more a batch, measured.)
        compressing = loop.run_in_executor(self._threads, compress_batch, body)
        checking = loop.run_in_executor(self._threads, _check, body)
        checked, compressed = await asyncio.gather(checking, compressing)
        if checked.is_ping:
            return Receipt(PING_BATCH_ID, None, checked.elements, len(body), 0)
        batch_id = batch_id_from_header(batch_id_header, checked.digest)
        key = archive_key(self._prefix, batch_id, checked.digest, received_at)
        try:
            await asyncio.wait_for(
                self._archive.put_batch(
                    key,
                    compressed,
                    batch_id=batch_id,
                    digest=checked.digest,
                    received_at=received_at,
                    raw_size=len(body),
                ),
                self._put_timeout,
            )
        except (BotoCoreError, ClientError, OSError, TimeoutError) as exc:
            log.warning("webhook.archive_failed", batch_id=batch_id, error=type(exc).__name__)
            raise ServiceUnavailable("the archive is unavailable; retry later") from exc
        return Receipt(batch_id, key, checked.elements, len(body), len(compressed))
