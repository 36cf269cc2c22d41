"""What the store can be asked for events: filters, a page position, what a page may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Position:
    """Where a page ended, in the result order (ts, event_id, type) descending."""

    ts: datetime
    event_id: str
    type: str


@dataclass(frozen=True)
class EventFilter:
    """The filters of a query; every populated field narrows the result (AND)."""

    window_from: datetime
    window_to: datetime
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Visibility:
    """What a paging session's first page could see: its snapshot and newest batch."""

    snapshot: str
    max_batch_no: int


@dataclass(frozen=True)
class PageRequest:
    filter: EventFilter
    per_page: int
    after: Position | None = None
    # Set on pages after the first: they show only what the first page could see.
    visibility: Visibility | None = None
