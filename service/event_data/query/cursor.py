"""Opaque, signed keyset cursors bound to the query's filters.

A cursor carries where the last page ended, the window and count fixed by the first page, and a
digest of the filters it was made for. It is signed (HMAC-SHA256), so an edited cursor, or one
reused with other filters, is refused instead of returning someone else's slice of data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from event_data.config import Secret
from event_data.errors import InvalidParameter
from event_data.store.filters import Position, Visibility

_VERSION = 2
_SIGNATURE_BYTES = 16


@dataclass(frozen=True)
class CursorState:
    position: Position
    window_from: datetime
    window_to: datetime
    total_count: int
    visibility: Visibility


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _moment(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


class CursorCodec:
    def __init__(self, signing_key: Secret) -> None:
        self._key = hmac.new(
            signing_key.reveal().encode(), b"events-cursor", hashlib.sha256
        ).digest()

    def _sign(self, payload: bytes, filter_digest: bytes) -> bytes:
        return hmac.new(self._key, payload + filter_digest, hashlib.sha256).digest()[
            :_SIGNATURE_BYTES
        ]

    def encode(self, state: CursorState, filter_digest: bytes) -> str:
        payload = orjson.dumps(
            [
                _VERSION,
                _micros(state.position.ts),
                state.position.event_id,
                state.position.type,
                _micros(state.window_from),
                _micros(state.window_to),
                state.total_count,
                state.visibility.max_batch_no,
                state.visibility.snapshot,
            ]
        )
        return _b64(payload) + "." + _b64(self._sign(payload, filter_digest))

    def decode(self, token: str, filter_digest: bytes) -> CursorState:
        """The cursor's state; a 400 naming ``cursor`` for anything forged, edited or foreign."""
        body, sep, signature = token.partition(".")
        try:
            payload = _unb64(body)
            given = _unb64(signature)
        except (binascii.Error, ValueError) as exc:
            raise InvalidParameter("cursor", "malformed cursor") from exc
        if not sep or not hmac.compare_digest(given, self._sign(payload, filter_digest)):
            raise InvalidParameter(
                "cursor", "invalid cursor, or a cursor used with other filters than its own"
            )
        try:
            (version, ts, event_id, event_type, w_from, w_to, total, max_batch_no, snapshot) = (
                orjson.loads(payload)
            )
            if version != _VERSION:
                raise ValueError("unknown cursor version")
            return CursorState(
                position=Position(_moment(int(ts)), str(event_id), str(event_type)),
                window_from=_moment(int(w_from)),
                window_to=_moment(int(w_to)),
                total_count=int(total),
                visibility=Visibility(snapshot=str(snapshot), max_batch_no=int(max_batch_no)),
            )
        except (ValueError, TypeError, OverflowError, orjson.JSONDecodeError) as exc:
            raise InvalidParameter("cursor", "malformed cursor") from exc


def filter_digest(canonical: object) -> bytes:
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).digest()
