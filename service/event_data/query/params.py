"""Parsing the Events API's query parameters (sparkpost.md §4.2, product.md Decisions 3-6)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson

from event_data.errors import InvalidParameter, InvalidParameters
from event_data.events.types import KNOWN_TYPES
from event_data.events.words import words
from event_data.store.filters import EventFilter, FieldFilters, MetaMatch

_T = TypeVar("_T")

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


# Filters compared with the field's value as a whole (sparkpost.md §4.2): exact, except that
# addresses compare case-insensitively (product.md, Decisions 4).
EXACT_PARAMETERS = (
    "event_ids",
    "recipients",
    "from_addresses",
    "messages",
    "transmissions",
    "sending_ips",
)
_CASELESS = ("recipients", "from_addresses")
INTEGER_PARAMETERS = ("bounce_classes", "subaccounts", "ab_test_versions")
# Filters matching whole words of the field (product.md, Decisions 3).
KEYWORD_PARAMETERS = (
    "campaigns",
    "templates",
    "subjects",
    "reasons",
    "ip_pools",
    "recipient_domains",
    "sending_domains",
    "mailbox_providers",
    "mailbox_provider_regions",
    "ab_tests",
)
# SparkPost's JSON numbers are signed 32-bit (sparkpost.md §4.1).
_INT32 = (-(2**31), 2**31 - 1)
# Integer parameters: an optional sign and up to ten ASCII digits, nothing around them (the
# range is checked after); `per_page`: up to nine ASCII digits.
_SIGNED_DIGITS = re.compile(r"^[+-]?[0-9]{1,10}$", re.ASCII)
_UNSIGNED_DIGITS = re.compile(r"^[0-9]{1,9}$", re.ASCII)


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
    fields: FieldFilters = field(default_factory=FieldFilters)

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
        """What the store is asked for: these parameters' filters over ``[from, to)``."""
        return EventFilter(
            window_from=window_from, window_to=window_to, types=self.types, fields=self.fields
        )

    def canonical_filters(self) -> dict[str, object]:
        """What a cursor is bound to: every filter, not the page size or the cursor itself.

        Values are sorted and deduplicated, so the same question spelled differently (order,
        repeats, case of addresses and words, another delimiter) keeps its cursor."""
        canonical: dict[str, object] = {
            "from": self.explicit_from.isoformat() if self.explicit_from else None,
            "to": self.explicit_to.isoformat() if self.explicit_to else None,
            "events": sorted(set(self.types)),
        }
        for name in _FIELD_NAMES:
            value = getattr(self.fields, name)
            if name in _CASELESS:
                value = [item.lower() for item in value]
            if value:
                canonical[name] = sorted({orjson.dumps(item).decode() for item in value})
        return canonical


def parse_params(query: Mapping[str, str]) -> ParsedParams:
    """Parse and validate; unknown parameters are ignored, as SparkPost does.

    Every bad parameter is reported, each naming itself, in one 400."""
    errors: list[InvalidParameter] = []
    delimiter = query.get("delimiter") or ","

    def attempt(parse: Callable[[], _T], default: _T) -> _T:
        try:
            return parse()
        except InvalidParameter as exc:
            errors.append(exc)
            return default

    explicit_from = (
        attempt(lambda: parse_date("from", query["from"]), None) if query.get("from") else None
    )
    explicit_to = attempt(lambda: parse_date("to", query["to"]), None) if query.get("to") else None
    if explicit_from and explicit_to and explicit_from >= explicit_to:
        errors.append(InvalidParameter("from", "`from` must be before `to`"))

    types: tuple[str, ...] = ()
    if query.get("events"):
        types = split_list(query["events"], delimiter)
        unknown = [t for t in types if t not in KNOWN_TYPES]
        if unknown:
            errors.append(InvalidParameter("events", f"unknown event type {unknown[0]!r}"))

    per_page = DEFAULT_PER_PAGE
    if query.get("per_page") is not None:
        raw = query["per_page"].strip()
        if not _UNSIGNED_DIGITS.match(raw) or not 1 <= int(raw) <= MAX_PER_PAGE:
            errors.append(
                InvalidParameter("per_page", f"must be an integer from 1 to {MAX_PER_PAGE}")
            )
        else:
            per_page = int(raw)

    def items(name: str) -> tuple[str, ...]:
        found = split_list(query.get(name) or "", delimiter)
        # PostgreSQL text cannot hold NUL, so no stored value has one.
        if any("\x00" in item for item in found):
            raise InvalidParameter(name, "values may not contain NUL characters")
        return found

    values: dict[str, Any] = {}
    for name, parse in _FIELD_PARSERS:
        if not query.get(name):
            values[name] = ()
            continue
        try:
            values[name] = parse(name, items(name))
        except InvalidParameter as exc:
            errors.append(exc)
            values[name] = ()
    if (
        values["ab_test_versions"]
        and not values["ab_tests"]
        and "ab_tests" not in {e.parameter for e in errors}
    ):
        errors.append(InvalidParameter("ab_test_versions", "may only be given with `ab_tests`"))

    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidParameters(errors)

    cursor = query.get("cursor")
    if cursor in (None, "", "initial"):
        cursor = None
    return ParsedParams(explicit_from, explicit_to, types, per_page, cursor, FieldFilters(**values))


def _as_is(name: str, items: tuple[str, ...]) -> tuple[str, ...]:
    return items


def _integers(name: str, items: tuple[str, ...]) -> tuple[int, ...]:
    numbers = []
    for item in items:
        if not _SIGNED_DIGITS.match(item) or not _INT32[0] <= int(item) <= _INT32[1]:
            raise InvalidParameter(name, f"{item!r} is not an integer")
        numbers.append(int(item))
    return tuple(numbers)


def _keywords(name: str, items: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    found = []
    for item in items:
        item_words = words(item)
        if not item_words:
            raise InvalidParameter(name, f"{item!r} has no letters or digits to search for")
        found.append(tuple(sorted(set(item_words))))
    return tuple(found)


def _meta_matches(name: str, items: tuple[str, ...]) -> tuple[MetaMatch, ...]:
    matches = []
    for item in items:
        key, sep, value = item.partition(":")
        # Spaces around the key and the value are the query's, as around list items: a stored
        # value with leading or trailing spaces cannot be asked for.
        path = tuple(key.strip().split("."))
        if not sep or not all(path):
            raise InvalidParameter(
                name, f"{item!r} is not of the form key:value (a dotted key for nesting)"
            )
        matches.append(MetaMatch(path=path, value=value.strip()))
    return tuple(matches)


_FIELD_PARSERS: tuple[tuple[str, Callable[[str, tuple[str, ...]], tuple[Any, ...]]], ...] = (
    *((name, _as_is) for name in (*EXACT_PARAMETERS, "rcpt_tags")),
    *((name, _integers) for name in INTEGER_PARAMETERS),
    *((name, _keywords) for name in KEYWORD_PARAMETERS),
    ("rcpt_meta", _meta_matches),
)
# The filters a cursor is bound to, in FieldFilters' order (orjson writes a MetaMatch as the
# object dataclasses.asdict would make of it).
_FIELD_NAMES = tuple(f.name for f in dataclass_fields(FieldFilters))
