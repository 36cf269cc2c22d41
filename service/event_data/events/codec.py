"""An event's stored form (filter columns + compressed body) and its Events API form.

The body is the event exactly as the Events API returns it, JSON text compressed with a zstd
dictionary trained on such events: a page of results is these texts joined, with no parsing and
no rebuilding (product.md P6). The columns exist for filtering and repeat some of the body's
values; compressed with the dictionary the repeated values cost about 130 bytes an event, and
reading a page costs a twentieth of rebuilding each event from its columns.

Rows written before this form (formats 1 and 2) hold the event minus the fields its columns
reproduce; events/columns_form.py puts those back.
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib import resources
from typing import Any, NamedTuple

import zstandard

from event_data.events import columns_form
from event_data.events.jsonread import JsonNumber, kept_numbers, loads_exact, loads_fast
from event_data.events.jsontext import TooDeep, dumps, written
from event_data.events.normalise import Event
from event_data.events.text import storable
from event_data.events.timestamps import format_event_time, parse_event_time

# Body layout: 1 byte format, 4 bytes little-endian flags, zstd frame.
FORMAT_ZSTD = 1  # columns form, no dictionary
FORMAT_ZSTD_DICT_1 = 2  # columns form, dictionary 1
FORMAT_API_ZSTD_DICT_2 = 3  # Events API form, dictionary 2: what encode() writes
_HEADER = struct.Struct("<BI")
ZSTD_LEVEL = 3
# Each format's dictionary file (None: no dictionary).
_DICTIONARY_FILES = {
    FORMAT_ZSTD: None,
    FORMAT_ZSTD_DICT_1: "zstd-dict-1.bin",
    FORMAT_API_ZSTD_DICT_2: "zstd-dict-2.bin",
}

# Text columns longer than this (in UTF-8 bytes) are left empty: a btree entry must fit in a
# third of a page (2,704 bytes), and no filter value is that long.
MAX_COLUMN_BYTES = 1000

# The text fields that have a column of the same name.
COLUMN_TEXT_FIELDS: tuple[str, ...] = columns_form.MOVED_TEXT_FIELDS
_COLUMN_TEXT_SET = frozenset(COLUMN_TEXT_FIELDS)
# Strings this short fit MAX_COLUMN_BYTES whatever their characters (4 UTF-8 bytes at most each).
_SURELY_SHORT = MAX_COLUMN_BYTES // 4
# The body holds numbers kept as sent (jsonread.JsonNumber): read it exactly. Without it orjson
# reads every number as it was written. (The same bit in every format.)
BIT_EXACT_NUMBERS = 1 << 20

# Fields the Events API returns as integers (product.md, Decisions 8).
INTEGER_FIELDS = ("customer_id", "subaccount_id")
# Fields the Events API returns as ISO-8601 UTC with milliseconds.
TIME_FIELDS = ("injection_time",)


class StoredEvent(NamedTuple):
    """One row of ``events``, in the table's column order (the COPY order)."""

    ts: datetime
    batch_no: int
    subaccount_id: int | None
    ab_test_version: int | None
    bounce_class: int | None
    event_id: str
    type: str
    message_id: str | None
    transmission_id: str | None
    rcpt_to: str | None
    friendly_from: str | None
    campaign_id: str | None
    template_id: str | None
    subject: str | None
    reason: str | None
    ip_pool: str | None
    sending_ip: str | None
    sending_domain: str | None
    recipient_domain: str | None
    mailbox_provider: str | None
    mailbox_provider_region: str | None
    ab_test_id: str | None
    rcpt_meta: str | None  # JSON text, as COPY sends jsonb
    rcpt_tags: str | None
    body: bytes


_local = threading.local()
_dictionaries: dict[int, zstandard.ZstdCompressionDict | None] = {}


def _dictionary(fmt: int) -> zstandard.ZstdCompressionDict | None:
    if fmt not in _DICTIONARY_FILES:
        raise ValueError(f"event body of unknown format {fmt}")
    if fmt not in _dictionaries:
        name = _DICTIONARY_FILES[fmt]
        if name is None:
            _dictionaries[fmt] = None
        else:
            resource = resources.files("event_data.events").joinpath(name)
            if not resource.is_file():
                raise ValueError(f"event body format {fmt} needs {name}, which is missing")
            _dictionaries[fmt] = zstandard.ZstdCompressionDict(resource.read_bytes())
    return _dictionaries[fmt]


def _compressor() -> zstandard.ZstdCompressor:
    # zstd (de)compressor objects are not thread-safe; the loader encodes in worker threads.
    compressor: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL,
            dict_data=_dictionary(FORMAT_API_ZSTD_DICT_2),
            write_checksum=False,
            write_content_size=True,
            write_dict_id=False,
        )
        _local.compressor = compressor
    return compressor


def _decompressor(fmt: int) -> zstandard.ZstdDecompressor:
    name = f"decompressor_{fmt}"
    decompressor: zstandard.ZstdDecompressor | None = getattr(_local, name, None)
    if decompressor is None:
        dictionary = _dictionary(fmt)
        decompressor = (
            zstandard.ZstdDecompressor()
            if dictionary is None
            else zstandard.ZstdDecompressor(dict_data=dictionary)
        )
        setattr(_local, name, decompressor)
    return decompressor


_MAX_EVENT_BYTES = 64 * 1024 * 1024


def _decompressed(fmt: int, body: bytes) -> bytes:
    # Every frame records its size, so the output is allocated once; the cap refuses a body
    # claiming more than any event could be.
    return _decompressor(fmt).decompress(body[_HEADER.size :], max_output_size=_MAX_EVENT_BYTES)


def _column_text(value: object) -> str | None:
    """A value fit for a text column: a string PostgreSQL can hold and an index can take."""
    if isinstance(value, str) and storable(value, MAX_COLUMN_BYTES):
        return value
    return None


# A number SparkPost sent as a string: an optional minus and up to 19 ASCII digits (an int64's
# length; the range is checked after), with spaces around allowed, as int() allows them.
_PADDED_MINUS_DIGITS = re.compile(r"^\s*-?[0-9]{1,19}\s*$")


def _int_value(value: object, low: int, high: int) -> int | None:
    """An integer from an int, a string of ASCII digits (as SparkPost sends numbers) or a
    number kept as sent that spells an integer."""
    number: int | None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _PADDED_MINUS_DIGITS.match(value):
        number = int(value)
    elif isinstance(value, JsonNumber):
        number = value.integer()
    else:
        return None
    return number if number is not None and low <= number <= high else None


_INT4 = (-(2**31), 2**31 - 1)
_INT2 = (-(2**15), 2**15 - 1)


# The numbers PostgreSQL's numeric, and so jsonb, holds: up to 131,072 digits before the decimal
# point and 16,383 after it (PostgreSQL documentation, "Arbitrary Precision Numbers"); past them
# the whole COPY fails with "value overflows numeric format".
NUMERIC_MAX_INTEGER_DIGITS = 131072
NUMERIC_MAX_SCALE = 16383
_NUMBER_PARTS = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?", re.ASCII)
# jsonb rejects NUL in strings.
_NUL = re.compile(rb"\\u0000")


def _jsonb_holds(text: str) -> bool:
    """Whether jsonb (PostgreSQL's numeric) holds the number ``text``."""
    parts = _NUMBER_PARTS.fullmatch(text)
    if parts is None:
        return False
    whole, fraction, exponent_text = parts.group(1), parts.group(2) or "", parts.group(3)
    try:
        exponent = int(exponent_text or 0)
    except ValueError:  # an exponent of thousands of digits
        return False
    digits = whole + fraction
    significant = digits.lstrip("0")
    scale = max(0, len(fraction) - exponent)
    integer_digits = len(whole) + exponent - (len(digits) - len(significant)) if significant else 0
    return scale <= NUMERIC_MAX_SCALE and integer_digits <= NUMERIC_MAX_INTEGER_DIGITS


def _jsonb_text(value: object, kind: type) -> str | None:
    """JSON text for a jsonb column, if ``value`` is of ``kind`` and jsonb can hold it.

    jsonb writes some numbers otherwise (no exponent, no negative zero); the column serves the
    filters all the same, and the body returns the value as sent."""
    if not isinstance(value, kind):
        return None
    numbers_before = written.numbers
    try:
        text = dumps(value)
    except TooDeep:
        return None  # the body fails the same way, and the event stays in the archive only
    if _NUL.search(text):
        return None
    if written.numbers != numbers_before and not all(
        _jsonb_holds(number.text) for number in kept_numbers(value)
    ):
        return None
    return text.decode()


def _ab_test_columns(
    fields: Mapping[str, Any], ab_test_id: str | None
) -> tuple[str | None, int | None]:
    """The ab_test_id and ab_test_version columns: ab_test events carry the test as an object,
    and `ab_tests=` matches its id too (product.md, Decisions 3)."""
    ab_test = fields.get("ab_test")
    version = _int_value(fields.get("ab_test_version"), *_INT4)
    if isinstance(ab_test, dict):
        if ab_test.get("id") is not None:
            test_id = str(ab_test["id"])  # a JsonNumber's str() is its text
            if ab_test_id is None:
                ab_test_id = _column_text(test_id)
            elif ab_test_id != test_id:
                # No documented ab_test event has both; should one come, the column holds the
                # words of both. The cost: a query of several words may find them spread over
                # the two ids.
                ab_test_id = _column_text(f"{ab_test_id} {test_id}") or ab_test_id
        if version is None:
            version = _int_value(ab_test.get("version"), *_INT4)
    return ab_test_id, version


def encode(event: Event, batch_no: int) -> StoredEvent:
    """The row for one event: filter columns, and the event's Events API form compressed."""
    fields = event.fields
    texts = dict.fromkeys(COLUMN_TEXT_FIELDS)
    # The hottest loop of the loader: _column_text inlined, and only the fields present visited.
    for name in _COLUMN_TEXT_SET.intersection(fields):
        value = fields[name]
        if value.__class__ is str and (
            (len(value) <= _SURELY_SHORT and "\x00" not in value)
            or storable(value, MAX_COLUMN_BYTES)
        ):
            texts[name] = value
    numbers_before = written.numbers
    rcpt_meta = _jsonb_text(fields.get("rcpt_meta"), dict)
    rcpt_tags = _jsonb_text(fields.get("rcpt_tags"), list)
    ab_test_id, ab_test_version = _ab_test_columns(fields, texts["ab_test_id"])
    body_json = api_json(event)
    flags = BIT_EXACT_NUMBERS if written.numbers != numbers_before else 0
    body = _HEADER.pack(FORMAT_API_ZSTD_DICT_2, flags) + _compressor().compress(body_json)
    return StoredEvent(
        ts=event.ts,
        batch_no=batch_no,
        subaccount_id=_int_value(fields.get("subaccount_id"), *_INT4),
        ab_test_version=ab_test_version,
        bounce_class=_int_value(fields.get("bounce_class"), *_INT2),
        # The identity columns always hold the normalised identity; the body holds what the
        # API returns: the event_id as sent (none for a derived one), the type filed under.
        event_id=event.event_id,
        type=event.type,
        message_id=texts["message_id"],
        transmission_id=texts["transmission_id"],
        rcpt_to=texts["rcpt_to"],
        friendly_from=texts["friendly_from"],
        campaign_id=texts["campaign_id"],
        template_id=texts["template_id"],
        subject=texts["subject"],
        reason=texts["reason"],
        ip_pool=texts["ip_pool"],
        sending_ip=texts["sending_ip"],
        sending_domain=texts["sending_domain"],
        recipient_domain=texts["recipient_domain"],
        mailbox_provider=texts["mailbox_provider"],
        mailbox_provider_region=texts["mailbox_provider_region"],
        ab_test_id=ab_test_id,
        rcpt_meta=rcpt_meta,
        rcpt_tags=rcpt_tags,
        body=body,
    )


def _api_fields(fields: dict[str, Any], ts: datetime) -> dict[str, Any]:
    """``fields`` (consumed) as the Events API returns them (sparkpost.md §3.3, product.md
    Decisions 8), `type` aside: the time as ``ts``, integers and times in the API's form."""
    fields["timestamp"] = format_event_time(ts)
    for name in INTEGER_FIELDS:
        value = fields.get(name)
        # An int is returned as it is (beyond int64 too); a bool is not a number here.
        if type(value) is str and len(value) < 19 and value.isascii() and value.isdigit():
            fields[name] = int(value)
        elif value is not None and type(value) is not int:
            value = _int_value(value, *_INT64)
            if value is not None:
                fields[name] = value
    for name in TIME_FIELDS:
        value = fields.get(name)
        # Already in the form the API writes: formatting it again would give it back.
        if value is not None and not (type(value) is str and _API_TIME.fullmatch(value)):
            moment = parse_event_time(value)
            if moment is not None:
                fields[name] = format_event_time(moment)
    # `type` is the type the event is filed and filtered under: as sent when it was a usable
    # name, else its category (the archive keeps the original).
    fields.pop("type", None)
    return fields


def api_form(fields: dict[str, Any], type_: str, ts: datetime) -> dict[str, Any]:
    """The Events API representation of an event's fields as sent (consumed), filed under
    ``type_`` at ``ts``: `type` first, the other fields in sorted order."""
    rest = _api_fields(fields, ts)
    event = {"type": type_}
    for name in _sorted_names(tuple(rest)):
        event[name] = rest[name]
    return event


def api_json(event: Event) -> bytes:
    """The JSON text the body of ``event`` holds (uncompressed): :func:`api_form`, written.

    (orjson's OPT_SORT_KEYS would sort faster, but it sorts nested objects too, and `rcpt_meta`
    is returned as sent.)"""
    return dumps(api_form(dict(event.fields), event.type, event.ts))


def decode(row: Mapping[str, Any]) -> dict[str, Any]:
    """The event in the Events API representation.

    ``row`` maps the ``events`` columns to their values (a database record, or a dict). Only
    ``body`` is read, except for bodies of the columns form (formats 1 and 2), which need the
    columns as well; there ``rcpt_meta`` and ``rcpt_tags`` may be JSON text or decoded.
    """
    body: bytes = row["body"]
    fmt, flags = _HEADER.unpack_from(body)
    # Bodies written before numbers were kept carry no BIT_EXACT_NUMBERS, and none is needed.
    read = loads_exact if flags & BIT_EXACT_NUMBERS else loads_fast
    fields: dict[str, Any] = read(_decompressed(fmt, body))
    if fmt == FORMAT_API_ZSTD_DICT_2:
        if read is loads_exact:
            # The exact reader keeps long integers as their text; these fields are integers.
            for name in INTEGER_FIELDS:
                value = fields.get(name)
                if isinstance(value, JsonNumber) and value.integer() is not None:
                    fields[name] = value.integer()
        return fields
    columns_form.restore_columns(fields, row, flags, read)
    return api_form(fields, row["type"], row["ts"])


def event_json(row: Mapping[str, Any]) -> bytes:
    """The event as the Events API returns it, as JSON text: :func:`decode`, written."""
    return events_json((row,))[0]


def events_json(rows: Iterable[Mapping[str, Any]]) -> list[bytes]:
    """:func:`event_json` of each row: a page's worth, at about 2 µs an event. A body of the
    current form is that text already; one of the columns form is rebuilt."""
    decompress = _decompressor(FORMAT_API_ZSTD_DICT_2).decompress
    texts = []
    for row in rows:
        body: bytes = row["body"]
        if body[0] == FORMAT_API_ZSTD_DICT_2:
            texts.append(decompress(body[_HEADER.size :], max_output_size=_MAX_EVENT_BYTES))
        else:
            texts.append(dumps(decode(row)))
    return texts


# Events of one kind have the same fields in the same order, so their sorted order is worked
# out once; the cache stops growing at this size.
_CACHED_SHAPES = 4096
_SORTED: dict[tuple[str, ...], list[str]] = {}


def _sorted_names(names: tuple[str, ...]) -> list[str]:
    ordered = _SORTED.get(names)
    if ordered is None:
        ordered = sorted(names)
        if len(_SORTED) < _CACHED_SHAPES:
            _SORTED[names] = ordered
    return ordered


_INT64 = (-(2**63), 2**63 - 1)
_API_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
