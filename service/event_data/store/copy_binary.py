"""Rows of ``events`` in PostgreSQL's binary COPY format, encoded where they are prepared.

The loader's worker processes hand back one bytes object per batch instead of a thousand
pickled rows, and the service's own process only streams it to the server: no per-row work is
left on the event loop's core. The format is PostgreSQL's documented one (COPY, "Binary
Format"): a header, then per row a 16-bit field count and each field as a 32-bit length (-1 for
NULL) and its bytes in the type's binary send format.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from event_data.events.codec import StoredEvent

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)  # flags, header extension
_TRAILER = struct.pack("!h", -1)
_NULL = struct.pack("!i", -1)
_FIELD_COUNT = len(StoredEvent._fields)
# field count, then ts and batch_no (never NULL) as length-prefixed int8s
_ROW_START = struct.Struct("!hiqiq").pack
_LENGTH = struct.Struct("!i").pack
_INT4 = struct.Struct("!ii").pack
_INT2 = struct.Struct("!ih").pack
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_JSONB_VERSION = b"\x01"
# ts, batch_no, subaccount_id, ab_test_version, bounce_class; then text up to rcpt_meta
_FIRST_TEXT = StoredEvent._fields.index("event_id")
_FIRST_JSONB = StoredEvent._fields.index("rcpt_meta")
_BODY = StoredEvent._fields.index("body")
_CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class EncodedRows:
    """Rows in binary COPY format, with their number."""

    payload: bytes
    count: int

    async def chunks(self) -> AsyncIterator[memoryview]:
        view = memoryview(self.payload)
        for start in range(0, len(view), _CHUNK_BYTES):
            yield view[start : start + _CHUNK_BYTES]


def _micros(moment: datetime) -> int:
    delta = moment - _POSTGRES_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_rows(rows: Sequence[Sequence[Any]]) -> EncodedRows:
    """``rows`` (in ``StoredEvent`` column order) as one binary COPY payload."""
    out = bytearray(_SIGNATURE)
    texts = range(_FIRST_TEXT, _FIRST_JSONB)
    for row in rows:
        out += _ROW_START(_FIELD_COUNT, 8, _micros(row[0]), 8, row[1])
        value = row[2]
        out += _NULL if value is None else _INT4(4, value)
        value = row[3]
        out += _NULL if value is None else _INT4(4, value)
        value = row[4]
        out += _NULL if value is None else _INT2(2, value)
        for index in texts:
            text = row[index]
            if text is None:
                out += _NULL
            else:
                data = text.encode()
                out += _LENGTH(len(data)) + data
        for text in (row[_FIRST_JSONB], row[_FIRST_JSONB + 1]):
            if text is None:
                out += _NULL
            else:
                data = text.encode()
                out += _LENGTH(len(data) + 1) + _JSONB_VERSION + data
        body = row[_BODY]
        out += _LENGTH(len(body)) + body
    out += _TRAILER
    return EncodedRows(bytes(out), len(rows))
