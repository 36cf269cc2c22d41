"""Parsing the Events API's query parameters (sparkpost.md §4.2, product.md Decisions 6)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from event_data.errors import InvalidParameter
from event_data.events.types import KNOWN_TYPES
from event_data.store.filters import EventFilter

DEFAULT_PER_PAGE = 1000
MAX_PER_PAGE = 10_000
DEFAULT_WINDOW = timedelta(hours=24)
# `to` defaults to a minute ago, as SparkPost's does: the newest minute may still be loading.
DEFAULT_TO_LAG = timedelta(minutes=1)

_DATE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<hm>\d{2}:\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$",
    re.ASCII,
)


# SparkPost's documented filters (sparkpost.md §4.2) and this service's extensions that this
# version does not apply yet. Ignoring one, as unknown parameters are ignored, would answer a
# filtered question with everyone's events: they are refused instead.
NOT_YET_SUPPORTED = (
    "event_ids",
    "recipients",
    "recipient_domains",
    "from_addresses",
    "sending_domains",
    "subjects",
    "bounce_classes",
    "reasons",
    "campaigns",
    "templates",
    "sending_ips",
    "ip_pools",
    "subaccounts",
    "messages",
    "transmissions",
    "mailbox_providers",
    "mailbox_provider_regions",
    "ab_tests",
    "ab_test_versions",
    "rcpt_meta",
    "rcpt_tags",
)

_ASCII_INTEGER = re.compile(r"^[0-9]{1,9}$")


def parse_date(name: str, value: str) -> datetime:
    match = _DATE.match(value.strip())
    if match is None:
        raise InvalidParameter(
            name, f"{value!r} is not a date of the form YYYY-MM-DDTHH:MM[:ss[.fff]][Z|±hh:mm]"
        )
    seconds = match.group("s") or "00"
    fraction = (match.group("f") or "0")[:6].ljust(6, "0")
    tz = match.group("tz") or "+00:00"
    if tz in ("Z", "z"):
        tz = "+00:00"
    elif ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:]}"
    try:
        moment = datetime.fromisoformat(
            f"{match.group('date')}T{match.group('hm')}:{seconds}.{fraction}{tz}"
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidParameter(name, f"{value!r} is not a valid date") from exc


def split_list(value: str, delimiter: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(delimiter) if item.strip())


@dataclass(frozen=True)
class ParsedParams:
    explicit_from: datetime | None
    explicit_to: datetime | None
    types: tuple[str, ...]
    per_page: int
    cursor: str | None

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The resolved [from, to): `to` defaults to a minute ago, `from` to 24 hours before
        `to` (or before now, when neither is given)."""
        window_to = self.explicit_to or (now - DEFAULT_TO_LAG)
        if self.explicit_from is not None:
            return self.explicit_from, window_to
        if self.explicit_to is None:
            return now - DEFAULT_WINDOW, window_to
        try:
            return window_to - DEFAULT_WINDOW, window_to
        except OverflowError:
            return datetime.min.replace(tzinfo=UTC), window_to

    def event_filter(self, window_from: datetime, window_to: datetime) -> EventFilter:
        """What the store is asked for: the resolved window and every filter."""
        return EventFilter(window_from=window_from, window_to=window_to, types=self.types)

    def canonical_filters(self) -> dict[str, object]:
        """What a cursor is bound to: every filter, not the page size or the cursor itself."""
        return {
            "from": self.explicit_from.isoformat() if self.explicit_from else None,
            "to": self.explicit_to.isoformat() if self.explicit_to else None,
            "events": sorted(set(self.types)),
        }


def parse_params(query: Mapping[str, str]) -> ParsedParams:
    """Parse and validate; unknown parameters are ignored, as SparkPost does."""
    for name in NOT_YET_SUPPORTED:
        if query.get(name):
            raise InvalidParameter(name, "this filter is not supported by this version yet")
    delimiter = query.get("delimiter") or ","
    explicit_from = parse_date("from", query["from"]) if query.get("from") else None
    explicit_to = parse_date("to", query["to"]) if query.get("to") else None
    if explicit_from and explicit_to and explicit_from >= explicit_to:
        raise InvalidParameter("from", "`from` must be before `to`")

    types: tuple[str, ...] = ()
    if query.get("events"):
        types = split_list(query["events"], delimiter)
        unknown = [t for t in types if t not in KNOWN_TYPES]
        if unknown:
            raise InvalidParameter("events", f"unknown event type {unknown[0]!r}")

    per_page = DEFAULT_PER_PAGE
    if query.get("per_page") is not None:
        raw = query["per_page"].strip()
        if not _ASCII_INTEGER.match(raw) or not 1 <= int(raw) <= MAX_PER_PAGE:
            raise InvalidParameter("per_page", f"must be an integer from 1 to {MAX_PER_PAGE}")
        per_page = int(raw)

    cursor = query.get("cursor")
    if cursor in (None, "", "initial"):
        cursor = None
    return ParsedParams(explicit_from, explicit_to, types, per_page, cursor)
