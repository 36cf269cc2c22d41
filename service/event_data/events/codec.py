"""An event's stored form (filter columns + compressed body) and its Events API form.

The body holds the event as sent, minus the fields a column reproduces exactly; a bit mask in
the body's header records which fields those are, so reading puts back exactly what was taken
out. The columns exist for filtering; the body exists for returning the event.
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from typing import Any, NamedTuple

import zstandard

from event_data.events.jsonread import JsonNumber, kept_numbers, loads_exact, loads_fast
from event_data.events.jsontext import TooDeep, dumps, written
from event_data.events.normalise import Event
from event_data.events.text import storable
from event_data.events.timestamps import format_event_time, parse_event_time

# Body layout: 1 byte format, 4 bytes little-endian mask of fields moved to columns, zstd frame.
FORMAT_ZSTD = 1
FORMAT_ZSTD_DICT_1 = 2
_HEADER = struct.Struct("<BI")
ZSTD_LEVEL = 3

# Text columns longer than this (in UTF-8 bytes) stay in the body only: a btree entry must fit
# in a third of a page (2,704 bytes), and no filter value is that long.
MAX_COLUMN_BYTES = 1000

# Fields that can move from the body to a column of the same name; the bit is the position.
MOVABLE_TEXT_FIELDS: tuple[str, ...] = (
    "event_id",
    "type",
    "message_id",
    "transmission_id",
    "rcpt_to",
    "friendly_from",
    "campaign_id",
    "template_id",
    "subject",
    "reason",
    "ip_pool",
    "sending_ip",
    "sending_domain",
    "recipient_domain",
    "mailbox_provider",
    "mailbox_provider_region",
    "ab_test_id",
)
_BIT = {name: 1 << i for i, name in enumerate(MOVABLE_TEXT_FIELDS)}
_MOVABLE_SET = frozenset(MOVABLE_TEXT_FIELDS)
# Strings this short fit MAX_COLUMN_BYTES whatever their characters (4 UTF-8 bytes at most each).
_SURELY_SHORT = MAX_COLUMN_BYTES // 4
BIT_RCPT_META = 1 << 17
BIT_RCPT_TAGS = 1 << 18
BIT_SUBACCOUNT_ID = 1 << 19
# The event holds numbers kept as sent (jsonread.JsonNumber) in the body or in the rcpt_meta /
# rcpt_tags columns: read them exactly. Without it orjson reads every number as it was written.
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


def _load_dictionary() -> zstandard.ZstdCompressionDict | None:
    resource = resources.files("event_data.events").joinpath("zstd-dict-1.bin")
    if not resource.is_file():
        return None
    return zstandard.ZstdCompressionDict(resource.read_bytes())


_DICTIONARY = _load_dictionary()
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    # zstd (de)compressor objects are not thread-safe; the loader encodes in worker threads.
    compressor: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL,
            dict_data=_DICTIONARY,
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
        if fmt == FORMAT_ZSTD_DICT_1:
            if _DICTIONARY is None:
                raise ValueError("event body needs compression dictionary 1, which is missing")
            decompressor = zstandard.ZstdDecompressor(dict_data=_DICTIONARY)
        else:
            decompressor = zstandard.ZstdDecompressor()
        setattr(_local, name, decompressor)
    return decompressor


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
# What keeps a value out of a jsonb column, or in the body beside it. jsonb rejects NUL in
# strings; it writes numbers without an exponent and drops the sign of a zero: of the floats
# orjson writes (it signs every exponent), `1e-7` would come back `0.0000001`, `-0.0` `0.0`.
# (Compiled searches: `in` costs twice as much on texts this short.)
_NUL = re.compile(rb"\\u0000")
_ORJSON_EXPONENT = re.compile(rb"e[-+][0-9]+[,\]}]")
_NEGATIVE_ZERO = re.compile(rb"-0\.0")


def _jsonb_number(text: str) -> tuple[bool, bool]:
    """Whether jsonb holds the number ``text``, and whether it writes it back as ``text``.

    jsonb keeps the scale a number was read with (`9.50` stays `9.50`), writes no exponent
    (`1.0E5` is `100000`) and drops the sign of a zero (`-0` is `0`).
    """
    parts = _NUMBER_PARTS.fullmatch(text)
    if parts is None:
        return False, False
    whole, fraction, exponent_text = parts.group(1), parts.group(2) or "", parts.group(3)
    try:
        exponent = int(exponent_text or 0)
    except ValueError:  # an exponent of thousands of digits
        return False, False
    digits = whole + fraction
    significant = digits.lstrip("0")
    scale = max(0, len(fraction) - exponent)
    integer_digits = len(whole) + exponent - (len(digits) - len(significant)) if significant else 0
    holds = scale <= NUMERIC_MAX_SCALE and integer_digits <= NUMERIC_MAX_INTEGER_DIGITS
    as_sent = exponent_text is None and not (text.startswith("-") and not significant)
    return holds, as_sent


def _json_text(value: object, kind: type) -> bytes | None:
    """JSON text for a jsonb column, if ``value`` is of ``kind``."""
    if not isinstance(value, kind):
        return None
    try:
        return dumps(value)
    except TooDeep:
        return None  # kept in the body, which is stored whole


def _jsonb_column(value: object, text: bytes | None) -> tuple[bytes | None, bool]:
    """The column's text, None when jsonb cannot hold the value, and whether the body must
    keep the value because jsonb would not write it back as sent.

    A column that jsonb writes otherwise still serves the filters."""
    if text is None or _NUL.search(text):
        return None, True
    as_sent = _ORJSON_EXPONENT.search(text) is None and _NEGATIVE_ZERO.search(text) is None
    for number in kept_numbers(value):
        holds, number_as_sent = _jsonb_number(number.text)
        if not holds:
            return None, True
        as_sent = as_sent and number_as_sent
    return text, not as_sent


def encode(event: Event, batch_no: int) -> StoredEvent:
    """The row for one event: filter columns, and the rest of the event compressed."""
    rest = dict(event.fields)
    rest.pop("timestamp", None)  # returned from `ts` (product.md, Decisions 8)
    mask = 0
    texts = dict.fromkeys(MOVABLE_TEXT_FIELDS)
    # The hottest loop of the loader: _column_text inlined, and only the fields present visited.
    for name in _MOVABLE_SET.intersection(rest):
        value = rest[name]
        if value.__class__ is str and (
            (len(value) <= _SURELY_SHORT and "\x00" not in value)
            or storable(value, MAX_COLUMN_BYTES)
        ):
            texts[name] = value
            del rest[name]
            mask |= _BIT[name]
    # The identity columns always hold the normalised identity; the body keeps whatever was
    # sent when that differs (a derived id, a type filed under its category).
    for name, identity in (("event_id", event.event_id), ("type", event.type)):
        sent = texts[name]
        if sent is not None and sent != identity:
            rest[name] = sent
            mask &= ~_BIT[name]

    subaccount_id = _int_value(rest.get("subaccount_id"), *_INT4)
    if subaccount_id is not None:
        del rest["subaccount_id"]
        mask |= BIT_SUBACCOUNT_ID
    numbers_before = written.numbers
    meta_value, tags_value = rest.get("rcpt_meta"), rest.get("rcpt_tags")
    rcpt_meta = _json_text(meta_value, dict)
    rcpt_tags = _json_text(tags_value, list)
    # One look at both texts for what jsonb would refuse or write otherwise: the common event
    # has none of it.
    probe = (rcpt_meta or b"") + (rcpt_tags or b"")
    checked = bool(
        _NUL.search(probe) or _NEGATIVE_ZERO.search(probe) or _ORJSON_EXPONENT.search(probe)
    )
    if checked:
        rcpt_meta, meta_in_body = _jsonb_column(meta_value, rcpt_meta)
        rcpt_tags, tags_in_body = _jsonb_column(tags_value, rcpt_tags)
    else:
        meta_in_body = rcpt_meta is None
        tags_in_body = rcpt_tags is None
    if not meta_in_body:
        del rest["rcpt_meta"]
        mask |= BIT_RCPT_META
    if not tags_in_body:
        del rest["rcpt_tags"]
        mask |= BIT_RCPT_TAGS

    ab_test = rest.get("ab_test")
    ab_test_id = texts["ab_test_id"]
    ab_test_version = _int_value(rest.get("ab_test_version"), *_INT4)
    if isinstance(ab_test, dict):
        # ab_test events carry the test as an object; `ab_tests=` matches its id too
        # (product.md, Decisions 3).
        if ab_test.get("id") is not None:
            test_id = str(ab_test["id"])  # a JsonNumber's str() is its text
            if ab_test_id is None:
                ab_test_id = _column_text(test_id)
            elif ab_test_id != test_id:
                # No documented ab_test event has both; should one come, the column holds the
                # words of both, and `ab_test_id` goes back to the body to be returned as sent.
                # The cost: a query of several words may find them spread over the two ids.
                both = _column_text(f"{ab_test_id} {test_id}")
                if both is not None:
                    rest["ab_test_id"] = ab_test_id
                    mask &= ~_BIT["ab_test_id"]
                    ab_test_id = both
        if ab_test_version is None:
            ab_test_version = _int_value(ab_test.get("version"), *_INT4)

    body_json = dumps(rest)
    if written.numbers != numbers_before:
        # Numbers kept as sent, in the body or in a JSON column: the columns may need to stay
        # in the body as well (numbers jsonb writes otherwise), or out of jsonb altogether.
        mask |= BIT_EXACT_NUMBERS
        if not checked:
            rcpt_meta, meta_in_body = _jsonb_column(meta_value, rcpt_meta)
            rcpt_tags, tags_in_body = _jsonb_column(tags_value, rcpt_tags)
            moved_back = False
            for name, bit, value, in_body in (
                ("rcpt_meta", BIT_RCPT_META, meta_value, meta_in_body),
                ("rcpt_tags", BIT_RCPT_TAGS, tags_value, tags_in_body),
            ):
                if in_body and mask & bit:
                    rest[name] = value
                    mask &= ~bit
                    moved_back = True
            if moved_back:
                body_json = dumps(rest)
    fmt = FORMAT_ZSTD if _DICTIONARY is None else FORMAT_ZSTD_DICT_1
    body = _HEADER.pack(fmt, mask) + _compressor().compress(body_json)
    return StoredEvent(
        ts=event.ts,
        batch_no=batch_no,
        subaccount_id=subaccount_id,
        ab_test_version=ab_test_version,
        bounce_class=_int_value(rest.get("bounce_class"), *_INT2),
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
        rcpt_meta=None if rcpt_meta is None else rcpt_meta.decode(),
        rcpt_tags=None if rcpt_tags is None else rcpt_tags.decode(),
        body=body,
    )


def decode(row: Mapping[str, Any]) -> dict[str, Any]:
    """The event in the Events API representation (sparkpost.md §3.3, product.md Decisions 8).

    ``row`` maps the ``events`` columns to their values (a database record, or a dict);
    ``rcpt_meta`` and ``rcpt_tags`` may be JSON text or already decoded.
    """
    body: bytes = row["body"]
    fmt, mask = _HEADER.unpack_from(body)
    # Bodies written before numbers were kept carry no BIT_EXACT_NUMBERS, and none is needed.
    read = loads_exact if mask & BIT_EXACT_NUMBERS else loads_fast
    fields: dict[str, Any] = read(
        _decompressor(fmt).decompress(body[_HEADER.size :], max_output_size=64 * 1024 * 1024)
    )
    for name in _columns_in(mask):
        fields[name] = row[name]
    if mask & BIT_SUBACCOUNT_ID:
        fields["subaccount_id"] = row["subaccount_id"]
    if mask & BIT_RCPT_META:
        fields["rcpt_meta"] = _json_value(row["rcpt_meta"], read)
    if mask & BIT_RCPT_TAGS:
        fields["rcpt_tags"] = _json_value(row["rcpt_tags"], read)
    fields["timestamp"] = format_event_time(row["ts"])
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
    event = {"type": row["type"]}
    for name in _sorted_names(tuple(fields)):
        event[name] = fields[name]
    return event


# Events of one kind have the same fields in the same order, so the columns a mask names and the
# sorted order of a set of fields are worked out once; the caches stop growing at this size.
_CACHED_SHAPES = 4096
_COLUMNS_IN: dict[int, tuple[str, ...]] = {}
_SORTED: dict[tuple[str, ...], list[str]] = {}


def _columns_in(mask: int) -> tuple[str, ...]:
    names = _COLUMNS_IN.get(mask)
    if names is None:
        names = tuple(name for name, bit in _BIT.items() if mask & bit)
        if len(_COLUMNS_IN) < _CACHED_SHAPES:
            _COLUMNS_IN[mask] = names
    return names


def _sorted_names(names: tuple[str, ...]) -> list[str]:
    ordered = _SORTED.get(names)
    if ordered is None:
        ordered = sorted(names)
        if len(_SORTED) < _CACHED_SHAPES:
            _SORTED[names] = ordered
    return ordered


_INT64 = (-(2**63), 2**63 - 1)
_API_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def _json_value(value: Any, read: Callable[[bytes | str], Any]) -> Any:
    # jsonb text: PostgreSQL writes back the numbers the loader gave it (product.md, Decisions 8)
    return read(value) if isinstance(value, str | bytes) else value
