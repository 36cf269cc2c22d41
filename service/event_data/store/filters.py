"""What the store can be asked for events: filters, a page position, what a page may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# A keyword filter: OR over query values, each value the tuple of its words (all must appear).
Keywords = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Position:
    """Where a page ended, in the result order (ts, event_id, type) descending."""

    ts: datetime
    event_id: str
    type: str


@dataclass(frozen=True)
class MetaMatch:
    """``rcpt_meta=key.path:value``: the value at ``path`` is spelled ``value`` in JSON."""

    path: tuple[str, ...]
    value: str


@dataclass(frozen=True)
class FieldFilters:
    """The Events API's filters on event fields (sparkpost.md §4.2) and the metadata
    extensions. Within one field the listed values are alternatives (OR); every populated
    field narrows the result (AND). Empty means no filter."""

    # Exact values. Addresses compare case-insensitively (product.md, Decisions 4).
    event_ids: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    from_addresses: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    transmissions: tuple[str, ...] = ()
    sending_ips: tuple[str, ...] = ()
    bounce_classes: tuple[int, ...] = ()
    subaccounts: tuple[int, ...] = ()
    ab_test_versions: tuple[int, ...] = ()
    # Whole words, case-insensitive (product.md, Decisions 3).
    campaigns: Keywords = ()
    templates: Keywords = ()
    subjects: Keywords = ()
    reasons: Keywords = ()
    ip_pools: Keywords = ()
    recipient_domains: Keywords = ()
    sending_domains: Keywords = ()
    mailbox_providers: Keywords = ()
    mailbox_provider_regions: Keywords = ()
    ab_tests: Keywords = ()
    # Extensions (product.md, Decisions 5).
    rcpt_meta: tuple[MetaMatch, ...] = ()
    rcpt_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventFilter:
    """The filters of a query; every populated field narrows the result (AND)."""

    window_from: datetime
    window_to: datetime
    types: tuple[str, ...] = ()
    fields: FieldFilters = field(default_factory=FieldFilters)


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
