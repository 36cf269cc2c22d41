"""From a parsed webhook batch to events with an identity and a time.

SparkPost's format has quirks (sparkpost.md §2.6): one category key under ``msys``, timestamps as
epoch int, epoch string or ISO, numbers as strings, ``event_id`` as a decimal string, a UUID or
absent. This module settles identity and time once, in one pass; everything else about the event
is kept exactly as sent.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from event_data.events.jsonread import JsonNumber
from event_data.events.jsontext import TooDeep, dumps, written
from event_data.events.text import storable
from event_data.events.timestamps import parse_event_time

# Prefix of identities derived from content, for events that arrive without `event_id`.
DERIVED_ID_PREFIX = "d-"
# Identity values go into the primary key: they must be text PostgreSQL accepts (no NUL) and
# short enough for a btree entry. SparkPost's are 17-20 digit strings or UUIDs.
MAX_EVENT_ID_CHARS = 256
MAX_TYPE_CHARS = 128
MAX_IDENTITY_BYTES = 1000


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a batch: the inner object as sent, plus its identity and time."""

    category: str
    type: str
    event_id: str
    event_id_derived: bool
    ts: datetime
    ts_fallback: bool
    fields: dict[str, Any]


@dataclass
class NormalisedBatch:
    events: list[Event] = field(default_factory=list)
    # Elements that carry no event: the ping `{"msys": {}}`, or values that are not objects; and
    # events nested too deeply to store (jsontext.TooDeep), which the archive still holds.
    skipped: int = 0
    # Events whose timestamp could not be read; they take the batch's received-at time.
    ts_fallbacks: int = 0


def normalise_batch(elements: list[Any], received_at: datetime) -> NormalisedBatch:
    """Every event of a parsed batch; nothing that carries an event is dropped."""
    batch = NormalisedBatch()
    for element in elements:
        msys = element.get("msys") if isinstance(element, dict) else None
        if not isinstance(msys, dict) or not msys:
            batch.skipped += 1
            continue
        for category, inner in msys.items():
            if not isinstance(inner, dict):
                batch.skipped += 1
                continue
            try:
                event = _normalise_event(str(category), inner, received_at)
            except TooDeep:
                batch.skipped += 1
                continue
            if event.ts_fallback:
                batch.ts_fallbacks += 1
            batch.events.append(event)
    return batch


def _identity_text(value: object, limit: int, *, allow_int: bool = False) -> str | None:
    if isinstance(value, bool):
        return None
    if allow_int and isinstance(value, JsonNumber):
        value = value.integer()  # as the int it spells: `-0` is "0"
    if allow_int and isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and value and len(value) <= limit:
        return value if storable(value, MAX_IDENTITY_BYTES) else None
    return None


def _normalise_event(category: str, inner: dict[str, Any], received_at: datetime) -> Event:
    # An event without a usable type is still an event: it is filed under its category.
    event_type = _identity_text(inner.get("type"), MAX_TYPE_CHARS) or (
        category.replace("\x00", "")[:MAX_TYPE_CHARS] or "unknown"
    )
    ts = parse_event_time(inner.get("timestamp"))
    ts_fallback = ts is None
    if ts is None:
        ts = received_at
    event_id = _identity_text(inner.get("event_id"), MAX_EVENT_ID_CHARS, allow_int=True)
    if event_id is not None:
        return Event(category, event_type, event_id, False, ts, ts_fallback, inner)
    derived = derived_event_id(category, inner)
    return Event(category, event_type, derived, True, ts, ts_fallback, inner)


def derived_event_id(category: str, inner: dict[str, Any]) -> str:
    """A deterministic id from the event's content, stable across redeliveries of the batch."""
    numbers_before = written.numbers
    canonical = dumps([category, inner], sort_keys=True)
    if written.numbers != numbers_before:
        # Ids derived before numbers were kept as sent hashed orjson's reading of them (`9.50`
        # as `9.5`); hashing the same reading keeps those ids, so a batch loaded before and
        # replayed after adds nothing. A number orjson cannot read (`1e400`) is hashed as sent.
        with contextlib.suppress(orjson.JSONDecodeError):
            canonical = dumps(orjson.loads(canonical), sort_keys=True)
    return DERIVED_ID_PREFIX + hashlib.blake2b(canonical, digest_size=12).hexdigest()
