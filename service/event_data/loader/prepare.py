"""The loader's CPU work on one batch: parse, normalise, encode.

A plain function of bytes to rows, so that it can run in a worker process: a 1,000-event batch
is about 50 ms of pure Python, which in the service's own process would hold the GIL against
the event loop (acks, queries) and leave the task's other cores idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson

from event_data.events.codec import StoredEvent, encode
from event_data.events.jsonread import loads
from event_data.events.jsontext import TooDeep
from event_data.events.normalise import normalise_batch
from event_data.store.copy_binary import EncodedRows, encode_rows


class PoisonBatch(ValueError):
    """The object can never load: retrying will not help, only a person can."""


@dataclass(frozen=True)
class PreparedBatch:
    # in binary COPY format already: one bytes object crosses back from a worker process
    rows: EncodedRows
    days: frozenset[date]
    events_total: int
    # older than retention: kept in the archive only
    expired: int
    skipped: int
    # events whose timestamp could not be read, filed at the batch's received time
    undated: int


def parse(raw: bytes) -> list[object]:
    # Numbers as sent (product.md, Decisions 8): orjson's reading where it writes them back so.
    try:
        parsed = loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PoisonBatch(f"batch is not valid JSON: {exc}") from exc
    if not isinstance(parsed, list):
        raise PoisonBatch("batch is not a JSON array")
    return parsed


def prepare_batch(
    raw: bytes, received_at: datetime, batch_no: int, horizon: datetime | None
) -> PreparedBatch:
    normalised = normalise_batch(parse(raw), received_at)
    rows: list[StoredEvent] = []
    expired = 0
    skipped = normalised.skipped
    for event in normalised.events:
        if horizon is not None and event.ts < horizon:
            expired += 1
            continue
        try:
            rows.append(encode(event, batch_no))
        except TooDeep:
            skipped += 1  # the archive keeps it; the rest of the batch loads
    return PreparedBatch(
        rows=encode_rows(rows),
        days=frozenset(row.ts.astimezone(UTC).date() for row in rows),
        events_total=len(normalised.events),
        expired=expired,
        skipped=skipped,
        undated=normalised.ts_fallbacks,
    )
