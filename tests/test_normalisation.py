"""Normalising SparkPost's webhook quirks (product.md Loading and Decisions 1, 2 and 8;
sparkpost.md §2.1, §2.6 and §3.3): fast checks of the pure functions, then the same rules end to
end, from a posted batch to the Events API."""

from __future__ import annotations

import asyncio
import json
import random
import re
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_data.events.codec import COLUMN_TEXT_FIELDS, decode, encode, event_json
from event_data.events.jsonread import loads
from event_data.events.jsontext import dumps
from event_data.events.normalise import Event, normalise_batch
from event_data.events.timestamps import format_event_time, parse_event_time
from event_data.events.types import CATEGORY_TYPES, ENRICHED_FIELDS
from tests.conftest import post_batch, query, wait_for_count

RECEIVED = datetime(2026, 3, 4, 5, 6, 7, 891_000, tzinfo=UTC)
INSTANT = datetime(2016, 2, 2, 19, 50, tzinfo=UTC)
EPOCH = 1454442600  # INSTANT
INSTANT_ISO = "2016-02-02T19:50:00.000Z"
ISO_MILLIS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def only_event(elements: list[Any], received_at: datetime = RECEIVED) -> Event:
    batch = normalise_batch(elements, received_at)
    assert len(batch.events) == 1
    return batch.events[0]


def roundtrip(inner: dict[str, Any], category: str = "message_event") -> dict[str, Any]:
    """Through normalise, encode and decode, as the loader and the query API do."""
    event = only_event([{"msys": {category: inner}}])
    return decode(encode(event, 1)._asdict())


def api_form(inner: dict[str, Any], timestamp: str = INSTANT_ISO) -> dict[str, Any]:
    """What the Events API returns for a webhook event (product.md, Decisions 8)."""
    expected = dict(inner)
    expected["timestamp"] = timestamp
    for name in ("customer_id", "subaccount_id"):
        if isinstance(expected.get(name), str):
            expected[name] = int(expected[name])
    return expected


# --- timestamps (pure) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        EPOCH,
        str(EPOCH),
        float(EPOCH),
        f"{EPOCH}.000",
        "2016-02-02T19:50:00Z",
        "2016-02-02T19:50:00+00:00",
        "2016-02-02T21:50:00+02:00",
        "2016-02-02T14:50:00-05:00",
        "2016-02-02T19:50:00.000Z",
        "2016-02-02T19:50:00.000+00:00",
        "2016-02-03T01:20:00.000+05:30",
    ],
)
def test_timestamp_forms_are_one_instant(value: object) -> None:
    moment = parse_event_time(value)
    assert moment == INSTANT
    assert moment is not None
    assert format_event_time(moment) == INSTANT_ISO


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (f"{EPOCH}.123", "2016-02-02T19:50:00.123Z"),
        (EPOCH + 0.25, "2016-02-02T19:50:00.250Z"),
        ("2016-02-02T19:50:00.123Z", "2016-02-02T19:50:00.123Z"),
        ("2016-02-02T21:50:00.123456+02:00", "2016-02-02T19:50:00.123Z"),
        (0, "1970-01-01T00:00:00.000Z"),
    ],
)
def test_timestamp_fractions_keep_their_milliseconds(value: object, rendered: str) -> None:
    moment = parse_event_time(value)
    assert moment is not None
    assert format_event_time(moment) == rendered


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "yesterday", "2016-02-30T00:00:00Z", "nan", "inf", True, {}, [], [EPOCH]],
)
def test_unreadable_timestamps_are_none(value: object) -> None:
    assert parse_event_time(value) is None


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamp_beyond_the_calendar_in_utc_is_unreadable(value: str) -> None:
    assert parse_event_time(value) is None


def test_unreadable_or_missing_timestamp_falls_back_to_received_time() -> None:
    batch = normalise_batch(
        [
            {"msys": {"message_event": {"type": "delivery", "event_id": "1"}}},
            {"msys": {"message_event": {"type": "delivery", "event_id": "2", "timestamp": "?"}}},
            {"msys": {"message_event": {"type": "delivery", "event_id": "3", "timestamp": EPOCH}}},
        ],
        RECEIVED,
    )
    assert [(e.event_id, e.ts) for e in batch.events] == [
        ("1", RECEIVED),
        ("2", RECEIVED),
        ("3", INSTANT),
    ]
    assert batch.ts_fallbacks == 2
    assert roundtrip({"type": "delivery", "event_id": "1"})["timestamp"] == (
        "2026-03-04T05:06:07.891Z"
    )


# --- identity, categories, batch structure (pure) ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "identity"),
    [
        ("92356927693813856", "92356927693813856"),
        ("4b9a3c1e-7f2d-4e8a-9b0c-1d2e3f4a5b6c", "4b9a3c1e-7f2d-4e8a-9b0c-1d2e3f4a5b6c"),
        (92356927693813856, "92356927693813856"),
    ],
)
def test_event_id_forms(raw: object, identity: str) -> None:
    inner = {"type": "delivery", "event_id": raw, "timestamp": EPOCH}
    event = only_event([{"msys": {"message_event": inner}}])
    assert event.event_id == identity
    # Returned as sent.
    assert roundtrip(inner)["event_id"] == raw


def test_missing_event_id_gets_a_deterministic_id() -> None:
    sms = {"type": "sms_status", "timestamp": EPOCH, "sms_text": "lol", "stat_state": "Delivered"}
    first = only_event([{"msys": {"message_event": sms}}], RECEIVED)
    again = only_event(
        [{"cust": {"id": "1"}, "msys": {"message_event": dict(sms)}}],
        RECEIVED + timedelta(hours=5),
    )
    other = only_event([{"msys": {"message_event": {**sms, "sms_text": "lol!"}}}], RECEIVED)
    assert first.event_id
    assert first.event_id == again.event_id
    assert first.event_id != other.event_id
    assert "event_id" not in roundtrip(sms)


def test_empty_event_id_is_returned_as_sent() -> None:
    returned = roundtrip({"type": "delivery", "event_id": "", "timestamp": EPOCH})
    assert returned["event_id"] == ""


def test_unknown_categories_types_and_fields_are_kept() -> None:
    hologram = {
        "type": "hologram_open",
        "event_id": "7",
        "timestamp": EPOCH,
        "projector": {"lumens": 1200, "modes": ["3d", {"depth": 2.5}], "on": True, "off": None},
    }
    returned = roundtrip(hologram, category="future_event")
    assert returned == api_form(hologram)
    assert roundtrip({"type": "teleport", "event_id": "8", "timestamp": EPOCH})["type"] == (
        "teleport"
    )
    untyped = only_event([{"msys": {"track_event": {"event_id": "9", "timestamp": EPOCH}}}])
    assert untyped.type == "track_event"
    assert decode(encode(untyped, 1)._asdict())["type"] == "track_event"


def test_keys_beside_msys_and_elements_without_events_are_skipped() -> None:
    delivery = {"type": "delivery", "event_id": "1", "timestamp": EPOCH}
    click = {"type": "click", "event_id": "2", "timestamp": EPOCH}
    batch = normalise_batch(
        [
            {"cust": {"id": "00000"}, "msys": {"message_event": delivery}},
            1,
            "msys",
            None,
            [{"msys": {"message_event": delivery}}],
            {},
            {"msys": {}},
            {"msys": None},
            {"msys": {"message_event": "not an object"}},
            {"cust": {"id": "00000"}},
            {"msys": {"track_event": click}},
        ],
        RECEIVED,
    )
    assert [(e.category, e.type, e.event_id) for e in batch.events] == [
        ("message_event", "delivery", "1"),
        ("track_event", "click", "2"),
    ]
    assert "cust" not in batch.events[0].fields
    assert "cust" not in decode(encode(batch.events[0], 1)._asdict())


# --- representation (pure) --------------------------------------------------------------------


STRING_NUMBERS = {
    "type": "bounce",
    "event_id": "92356927693813856",
    "timestamp": str(EPOCH),
    "bounce_class": "10",
    "num_retries": "2",
    "msg_size": "1337",
    "queue_time": "12",
    "transmission_id": "65832150921904138",
    "template_version": "1",
    "customer_id": "1",
    "subaccount_id": "101",
    "injection_time": "1454442599",
    "sms_segments": 5,
    "transactional": "1",
    "click_tracking": True,
    "geo_ip": {"latitude": "39.1749", "longitude": -76.8375},
}


def test_numbers_sent_as_strings_stay_strings_except_the_ids() -> None:
    returned = roundtrip(STRING_NUMBERS)
    assert returned == {
        **STRING_NUMBERS,
        "timestamp": INSTANT_ISO,
        "customer_id": 1,
        "subaccount_id": 101,
        "injection_time": "2016-02-02T19:49:59.000Z",
    }
    iso_injection = roundtrip({**STRING_NUMBERS, "injection_time": "2016-02-02T21:49:59+02:00"})
    assert iso_injection["injection_time"] == "2016-02-02T19:49:59.000Z"


@pytest.mark.parametrize(
    ("name", "value"),
    [("bounce_class", "--10"), ("subaccount_id", "²"), ("ab_test_version", "--1")],
)
def test_odd_number_strings_are_kept_as_sent(name: str, value: str) -> None:
    inner = {"type": "bounce", "event_id": "1", "timestamp": EPOCH, name: value}
    assert roundtrip(inner)[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("customer_id", "--1"),
        ("customer_id", "\u0664\u0662"),  # digits, but not ASCII ones
        ("customer_id", "9" * 20),  # beyond int64
        ("injection_time", "0001-01-01T00:00:00+01:00"),
        ("injection_time", "2016-02-30T19:49:59.000Z"),  # the API's form, but no such day
    ],
)
def test_odd_values_in_converted_fields_decode(name: str, value: str) -> None:
    inner = {"type": "delivery", "event_id": "1", "timestamp": EPOCH, name: value}
    assert roundtrip(inner)[name] == value


def test_converted_fields_already_in_the_api_form_are_returned_alike() -> None:
    inner = {
        "type": "delivery",
        "event_id": "1",
        "timestamp": EPOCH,
        "customer_id": "0042",
        "injection_time": "2016-02-02T19:49:59.123Z",
    }
    returned = roundtrip(inner)
    assert returned["customer_id"] == 42
    assert returned["injection_time"] == "2016-02-02T19:49:59.123Z"


def test_rcpt_meta_integers_beyond_64_bits_are_returned_exactly() -> None:
    meta = b'{"big":123456789012345678901234567890,"small":-2,"ratio":0.1}'
    raw = (
        b'[{"msys":{"message_event":{"type":"delivery","event_id":"1","timestamp":%d,'
        b'"rcpt_meta":%s}}}]' % (EPOCH, meta)
    )
    # read as the loader reads a batch
    event = normalise_batch(loads(raw), datetime.now(UTC)).events[0]
    assert dumps(decode(encode(event, 1)._asdict())["rcpt_meta"]) == meta


def test_empty_ab_test_id_beside_an_ab_test_is_returned_as_sent() -> None:
    inner = {
        "type": "ab_test_completed",
        "event_id": "4b9a3c1e-7f2d-4e8a-9b0c-1d2e3f4a5b6c",
        "timestamp": EPOCH,
        "ab_test_id": "",
        "ab_test": {"id": "subject-test", "version": 2},
    }
    assert roundtrip(inner, category="ab_test_event") == api_form(inner)


NESTED_META = {
    "customKey": "customValue",
    "nested": {"deep": [1, 2.5, True, None, "x", {"k": [[], {}]}]},
    "count": 42,
    "ratio": -0.125,
    "flag": False,
    "nothing": None,
    "list": ["a", 1, None],
    "unicode": "Grüße ✉ 日本",
}


def test_rcpt_meta_nul_characters_and_long_subjects_round_trip() -> None:
    inner = {
        "type": "delivery",
        "event_id": "1",
        "timestamp": EPOCH,
        "rcpt_meta": NESTED_META,
        "rcpt_tags": ["male", "US", "nul\u0000tag"],
        "subject": "Summer\u0000deals",
        "campaign_id": "c" * 5000,
        "friendly_from": "sender@example.com",
    }
    assert roundtrip(inner) == api_form(inner)
    with_nul_meta = {**inner, "rcpt_meta": {"k": "a\u0000b", "n": [1]}, "subject": "s" * 5000}
    assert roundtrip(with_nul_meta) == api_form(with_nul_meta)


# --- encode/decode property -------------------------------------------------------------------

# Text that JSON can carry (no lone surrogates), NUL included.
_text = st.text(st.characters(codec="utf-8"), max_size=12)
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=8,
)
_SPECIAL = {
    *COLUMN_TEXT_FIELDS,
    "timestamp",
    "customer_id",
    "subaccount_id",
    "bounce_class",
    "injection_time",
    "rcpt_meta",
    "rcpt_tags",
    "ab_test",
    "ab_test_version",
}
_movable_values = st.one_of(
    _text,
    st.text(max_size=3).map(lambda s: s + "\u0000"),
    st.text(min_size=1025, max_size=1030),
    st.integers(min_value=-(2**31), max_value=2**31),
    st.none(),
    st.dictionaries(_text, _json_scalars, max_size=2),
)
_digit_strings = st.from_regex(r"-?[0-9]{1,15}", fullmatch=True)
_words = st.text("abcxyz _-", max_size=8)


@st.composite
def _moments(draw: st.DrawFn) -> tuple[object, datetime]:
    """A time as SparkPost may send it, and the instant it means."""
    seconds = draw(st.integers(min_value=0, max_value=4_000_000_000))
    millis = draw(st.integers(min_value=0, max_value=999))
    moment = datetime.fromtimestamp(seconds, UTC)
    form = draw(st.sampled_from(["int", "str", "iso_z", "iso_offset", "iso_millis"]))
    if form == "int":
        return seconds, moment
    if form == "str":
        return str(seconds), moment
    if form == "iso_z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment
    if form == "iso_offset":
        offset = timedelta(minutes=draw(st.integers(min_value=-12 * 60, max_value=14 * 60)))
        local = moment.astimezone(timezone(offset))
        return local.isoformat(), moment
    with_millis = moment + timedelta(milliseconds=millis)
    return with_millis.isoformat(timespec="milliseconds"), with_millis


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@st.composite
def _events(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(category, event as sent, the Events API form expected back)."""
    category = draw(st.sampled_from([*CATEGORY_TYPES, "future_event"]))
    inner: dict[str, Any] = draw(
        st.dictionaries(_text.filter(lambda k: k not in _SPECIAL), _json_values, max_size=5)
    )
    expected: dict[str, Any] = {}

    type_value = draw(
        st.one_of(
            st.sampled_from([t for types in CATEGORY_TYPES.values() for t in types]),
            st.just("hologram_open"),
            st.just(""),
            st.integers(min_value=-(2**63), max_value=2**63 - 1),
            st.none(),
            st.just(...),  # absent
        )
    )
    if type_value is not ...:
        inner["type"] = type_value
    # Without a usable type, the event is filed under its category.
    expected["type"] = type_value if isinstance(type_value, str) and type_value else category

    event_id = draw(
        st.one_of(
            st.from_regex(r"[0-9]{1,20}", fullmatch=True),
            st.uuids().map(str),
            st.integers(min_value=0, max_value=2**63 - 1),
            st.text(min_size=1, max_size=10),
            st.none(),
            st.just(...),
        )
    )
    if event_id is not ...:
        inner["event_id"] = event_id

    if draw(st.booleans()):
        raw_ts, moment = draw(_moments())
        inner["timestamp"] = raw_ts
    else:
        moment = RECEIVED
    expected["timestamp"] = _iso_millis(moment)

    for name in COLUMN_TEXT_FIELDS:
        if name not in ("type", "event_id") and draw(st.integers(0, 3)) == 0:
            inner[name] = draw(_movable_values)

    for name in ("customer_id", "subaccount_id"):
        choice = draw(st.integers(0, 5))
        if choice == 1:
            digits = draw(_digit_strings)
            inner[name], expected[name] = digits, int(digits)
        elif choice == 2:
            number = draw(st.integers(min_value=-(2**40), max_value=2**40))
            inner[name], expected[name] = number, number
        elif choice == 3:
            other = draw(
                _words
                | st.booleans()
                | st.none()
                | st.floats(allow_nan=False, allow_infinity=False)
            )
            inner[name], expected[name] = other, other
    if draw(st.booleans()):
        inner["bounce_class"] = draw(_digit_strings | st.integers(0, 2**20) | _words)
    if draw(st.booleans()):
        if draw(st.booleans()):
            raw_time, injected = draw(_moments())
            inner["injection_time"], expected["injection_time"] = raw_time, _iso_millis(injected)
        else:
            other = draw(_words)
            inner["injection_time"] = expected["injection_time"] = other
    if draw(st.booleans()):
        inner["rcpt_meta"] = draw(st.dictionaries(_text, _json_values, max_size=4) | _json_values)
    if draw(st.booleans()):
        inner["rcpt_tags"] = draw(st.lists(_text, max_size=4) | _json_values)
    if draw(st.booleans()):
        inner["ab_test"] = {
            "id": draw(_text),
            "version": draw(st.integers(-(2**40), 2**40) | _digit_strings),
        }
    if draw(st.booleans()):
        inner["ab_test_version"] = draw(st.integers(-(2**40), 2**40) | _digit_strings | _words)

    for name, value in inner.items():
        if name not in ("type", "timestamp"):
            expected.setdefault(name, value)
    return category, inner, expected


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_events())
def test_encode_decode_returns_the_events_api_form(
    case: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    category, inner, expected = case
    # As the loader reads it off the wire.
    event = only_event([{"msys": {category: orjson.loads(orjson.dumps(inner))}}])
    row = encode(event, 42)
    assert row.type == expected["type"]
    assert decode(row._asdict()) == expected
    # The body is the text the API sends: the same event, `type` first, the rest sorted.
    sent = orjson.loads(event_json(row._asdict()))
    assert sent == expected
    assert list(sent) == ["type", *sorted(set(sent) - {"type"})]


# --- end to end -------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def post(client: httpx.AsyncClient, batch_id: str, elements: list[Any]) -> None:
    response = await post_batch(client, json.dumps(elements).encode(), batch_id=batch_id)
    assert response.status_code == 200, response.text


async def read_back(client: httpx.AsyncClient, count: int, **params: str) -> list[dict[str, Any]]:
    wanted: dict[str, Any] = {"per_page": "1000", **params}
    body = await wait_for_count(client, count, **wanted)
    assert body["total_count"] == count
    results: list[dict[str, Any]] = body["results"]
    return results


def by_id(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(event.get("event_id")): event for event in results}


def message_event(event_type: str, event_id: object, **fields: Any) -> dict[str, Any]:
    return {"msys": {"message_event": {"type": event_type, "event_id": event_id, **fields}}}


async def batch_outcome(db: asyncpg.Connection, batch_id: str, timeout: float = 15.0) -> str:
    """``loaded`` once the batch is recorded, ``failed`` once a load failure is."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await db.fetchval("SELECT 1 FROM batches WHERE batch_id = $1", batch_id):
            return "loaded"
        if await db.fetchval("SELECT count(*) FROM batch_failures"):
            return "failed"
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch {batch_id} neither loaded nor failed")


async def test_timestamp_forms_load_at_the_right_instant(client: httpx.AsyncClient) -> None:
    forms: dict[str, object] = {
        "epoch-int": EPOCH,
        "epoch-str": str(EPOCH),
        "epoch-fraction": f"{EPOCH}.000",
        "epoch-float": EPOCH + 0.0,
        "iso-z": "2016-02-02T19:50:00Z",
        "iso-utc-offset": "2016-02-02T19:50:00+00:00",
        "iso-offset": "2016-02-02T21:50:00+02:00",
        "iso-millis": "2016-02-02T19:50:00.000+00:00",
    }
    elements = [message_event("delivery", name, timestamp=ts) for name, ts in forms.items()]
    elements.append(message_event("delivery", "with-millis", timestamp=f"{EPOCH}.123"))
    elements.append(message_event("delivery", "unreadable", timestamp="last tuesday"))
    elements.append(message_event("delivery", "missing"))
    before = datetime.now(UTC)
    await post(client, "timestamps", elements)
    after = datetime.now(UTC)

    window = {"from": "2016-02-01T00:00Z", "to": iso(after + timedelta(hours=1))}
    returned = by_id(await read_back(client, len(elements), **window))
    for name in forms:
        assert returned[name]["timestamp"] == INSTANT_ISO, name
    assert returned["with-millis"]["timestamp"] == "2016-02-02T19:50:00.123Z"
    # Stored, at the time the batch was received.
    for name in ("unreadable", "missing"):
        stamp = returned[name]["timestamp"]
        assert ISO_MILLIS_Z.match(stamp), stamp
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert before - timedelta(milliseconds=1) <= moment <= after, (before, stamp, after)
    assert returned["missing"]["timestamp"] == returned["unreadable"]["timestamp"]


async def test_numbers_sent_as_strings_come_back_as_sent(client: httpx.AsyncClient) -> None:
    delivery = {
        "type": "delivery",
        "event_id": "500",
        "timestamp": str(EPOCH),
        "num_retries": "2",
        "msg_size": "1337",
        "queue_time": "12",
        "transmission_id": "65832150921904138",
        "customer_id": "1",
        "subaccount_id": "101",
        "injection_time": "2016-02-02T19:49:58.250+00:00",
        "sms_segments": 5,
    }
    bounce = {**STRING_NUMBERS, "event_id": "501"}
    await post(
        client,
        "numbers",
        [{"msys": {"message_event": delivery}}, {"msys": {"message_event": bounce}}],
    )
    returned = by_id(await read_back(client, 2))
    assert returned["500"] == {
        **api_form(delivery),
        "injection_time": "2016-02-02T19:49:58.250Z",
    }
    assert returned["501"] == {**api_form(bounce), "injection_time": "2016-02-02T19:49:59.000Z"}
    assert isinstance(returned["500"]["customer_id"], int)
    assert returned["501"]["bounce_class"] == "10"


async def test_event_id_forms_and_derived_ids_are_stable(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    sms = {
        "type": "sms_status",
        "timestamp": EPOCH,
        "customer_id": "1",
        "sms_text": "lol",
        "stat_state": "Delivered",
    }
    events: list[dict[str, Any]] = [
        message_event("delivery", "92356927693813856", timestamp=EPOCH),
        {
            "msys": {
                "ab_test_event": {
                    "type": "ab_test_completed",
                    "event_id": "4b9a3c1e-7f2d-4e8a-9b0c-1d2e3f4a5b6c",
                    "timestamp": EPOCH,
                    "ab_test": {"id": "subject-test", "version": 2},
                }
            }
        },
        message_event("bounce", 92356927693813857, timestamp=EPOCH),
        {"msys": {"message_event": sms}},
    ]
    raw = json.dumps(events).encode()
    assert (await post_batch(client, raw, batch_id="ids-first")).status_code == 200
    returned = await read_back(client, 4)
    by_type = {event["type"]: event for event in returned}
    assert by_type["delivery"]["event_id"] == "92356927693813856"
    assert by_type["ab_test_completed"]["event_id"] == "4b9a3c1e-7f2d-4e8a-9b0c-1d2e3f4a5b6c"
    assert by_type["ab_test_completed"]["ab_test"] == {"id": "subject-test", "version": 2}
    assert by_type["bounce"]["event_id"] == 92356927693813857
    assert by_type["sms_status"] == api_form(sms)
    assert by_type["sms_status"]["customer_id"] == 1
    assert "event_id" not in by_type["sms_status"]

    # The same events again in other bytes (another serialisation, as a resend or a replay of
    # re-encoded data would be): a new batch, whose events are all recognised one by one,
    # the derived sms_status id included.
    reencoded = json.dumps(list(reversed(json.loads(raw))), indent=1).encode()
    assert (await post_batch(client, reencoded, batch_id="ids-second")).status_code == 200
    assert await batch_outcome(db, "ids-second") == "loaded"
    duplicates = "SELECT events_duplicate FROM batches WHERE batch_id = 'ids-second'"
    assert await db.fetchval(duplicates) == 4
    assert await db.fetchval("SELECT count(*) FROM events") == 4
    assert (await read_back(client, 4)) == returned


async def test_unknown_categories_types_and_fields_are_returned(
    client: httpx.AsyncClient,
) -> None:
    hologram = {
        "type": "hologram_open",
        "event_id": "h1",
        "timestamp": EPOCH,
        "projector": {"lumens": 1200, "modes": ["3d", {"depth": 2.5}], "on": True, "off": None},
    }
    teleport = {"type": "teleport", "event_id": "t1", "timestamp": EPOCH, "to": "Mars"}
    delivery = {
        "type": "delivery",
        "event_id": "d1",
        "timestamp": EPOCH,
        "rcpt_to": "a@example.com",
        "brand_new_field": {"nested": [{"a": [1, 2, {"b": None}]}], "flag": False},
        "new_list": [[], {}, "x", 3.5],
        "new_number": 12345678901234,
    }
    untyped = {"event_id": "u1", "timestamp": EPOCH, "mystery": "yes"}
    await post(
        client,
        "unknown",
        [
            {"msys": {"future_event": hologram}},
            {"msys": {"message_event": teleport}},
            {"msys": {"message_event": delivery}},
            {"msys": {"track_event": untyped}},
        ],
    )
    returned = by_id(await read_back(client, 4))
    assert returned["h1"] == api_form(hologram)
    assert returned["t1"] == api_form(teleport)
    assert returned["d1"] == api_form(delivery)
    assert returned["u1"] == {**api_form(untyped), "type": "track_event"}


async def test_keys_beside_msys_and_non_events_are_skipped_not_fatal(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    delivery = {"type": "delivery", "event_id": "1", "timestamp": EPOCH, "rcpt_to": "a@b.c"}
    click = {"type": "click", "event_id": "2", "timestamp": EPOCH, "target_link_url": "http://x"}
    await post(
        client,
        "mixed-elements",
        [
            {"cust": {"id": "00000"}, "msys": {"message_event": delivery}},
            {"msys": {}},
            1,
            "text",
            None,
            [],
            {"msys": {"message_event": "not an object"}},
            {"cust": {"id": "00000"}},
            {"msys": {}},
            {"msys": {"track_event": click}, "extra": [1, 2]},
        ],
    )
    returned = by_id(await read_back(client, 2))
    assert returned["1"] == api_form(delivery)
    assert returned["2"] == api_form(click)
    assert await batch_outcome(db, "mixed-elements") == "loaded"
    assert await db.fetchval("SELECT count(*) FROM events") == 2


async def test_engagement_events_without_enrichment_load_without_those_keys(
    client: httpx.AsyncClient,
) -> None:
    base = {
        "timestamp": EPOCH,
        "message_id": "000443ee14578172be22",
        "rcpt_to": "old@example.com",
        "ip_address": "10.0.0.1",
        "user_agent": "Mozilla/5.0",
        "geo_ip": {"country": "US", "latitude": 39.1749, "longitude": -76.8375},
    }
    open_ = {**base, "type": "open", "event_id": "o1"}
    click = {**base, "type": "click", "event_id": "c1", "target_link_url": "http://x"}
    bare = {"type": "initial_open", "event_id": "i1", "timestamp": EPOCH}
    await post(
        client,
        "old-engagement",
        [{"msys": {"track_event": e}} for e in (open_, click, bare)],
    )
    returned = by_id(await read_back(client, 3))
    assert returned["o1"] == api_form(open_)
    assert returned["c1"] == api_form(click)
    assert returned["i1"] == api_form(bare)
    for event in returned.values():
        assert not set(ENRICHED_FIELDS) & set(event), event
    filtered = (
        await query(
            client, **{"from": "2016-02-01T00:00Z", "to": "2016-02-03T00:00Z"}, events="open,click"
        )
    ).json()
    assert {e["event_id"] for e in filtered["results"]} == {"o1", "c1"}


async def test_rcpt_meta_nul_characters_and_long_values_round_trip(
    client: httpx.AsyncClient,
) -> None:
    meta = {
        "type": "delivery",
        "event_id": "m1",
        "timestamp": EPOCH,
        "rcpt_meta": NESTED_META,
        "rcpt_tags": ["male", "US"],
        "subject": "Summer deals are here!",
    }
    nul_meta = {
        "type": "delivery",
        "event_id": "m2",
        "timestamp": EPOCH,
        "rcpt_meta": {"k": "a\u0000b", "nested": {"z": ["\u0000"]}},
        "rcpt_tags": ["nul\u0000tag"],
        "subject": "Hello\u0000World",
    }
    subject = "Long " + "subject " * 624 + "end"
    assert len(subject) >= 5000
    long_subject = {
        "type": "delivery",
        "event_id": "m3",
        "timestamp": EPOCH,
        "subject": subject,
        "campaign_id": "campaign-" + "x" * 2000,
        "rcpt_meta": {"big": "v" * 3000},
    }
    await post(
        client,
        "values",
        [{"msys": {"message_event": e}} for e in (meta, nul_meta, long_subject)],
    )
    returned = by_id(await read_back(client, 3))
    assert returned["m1"] == api_form(meta)
    assert returned["m2"] == api_form(nul_meta)
    assert returned["m3"] == api_form(long_subject)


# --- end to end: what the loader must not lose ------------------------------------------------


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param({"timestamp": "0001-01-01T00:00:00+01:00"}, id="timestamp-before-year-1"),
        pytest.param({"timestamp": EPOCH, "bounce_class": "--10"}, id="bounce-class-dashes"),
        pytest.param({"timestamp": EPOCH, "subaccount_id": "²"}, id="subaccount-superscript"),
        # 1,012 characters, 3,036 bytes: too big for a btree entry though short in characters.
        pytest.param({"timestamp": EPOCH, "message_id": "鬱" * 1012}, id="message-id-cjk"),
        pytest.param({"timestamp": EPOCH, "rcpt_to": "é" * 1400 + "@x.io"}, id="rcpt-to-wide"),
    ],
)
async def test_one_odd_field_does_not_lose_the_batch(
    client: httpx.AsyncClient, db: asyncpg.Connection, odd: dict[str, Any]
) -> None:
    await post(
        client,
        "odd-field",
        [
            message_event("delivery", "good-1", timestamp=EPOCH),
            message_event("bounce", "odd", **odd),
            message_event("delivery", "good-2", timestamp=EPOCH),
        ],
    )
    assert await batch_outcome(db, "odd-field") == "loaded"
    assert await db.fetchval("SELECT count(*) FROM events") == 3


@pytest.mark.parametrize(
    ("event_id", "event_type"),
    [
        pytest.param("id\u0000nul", "delivery", id="nul-in-event-id"),
        pytest.param("1", "deli\u0000very", id="nul-in-type"),
        pytest.param(
            "".join(random.Random(7).choices(string.ascii_letters, k=9000)),
            "delivery",
            id="huge-event-id",
        ),
    ],
)
async def test_odd_identity_does_not_lose_the_batch(
    client: httpx.AsyncClient, db: asyncpg.Connection, event_id: str, event_type: str
) -> None:
    await post(
        client,
        "odd-identity",
        [
            message_event("delivery", "good-1", timestamp=EPOCH),
            message_event(event_type, event_id, timestamp=EPOCH),
        ],
    )
    assert await batch_outcome(db, "odd-identity") == "loaded"
    assert await db.fetchval("SELECT count(*) FROM events") == 2


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param({"customer_id": "--1"}, id="customer-id-dashes"),
        pytest.param({"injection_time": "0001-01-01T00:00:00+01:00"}, id="injection-time"),
    ],
)
async def test_stored_event_with_odd_field_is_readable(
    client: httpx.AsyncClient, db: asyncpg.Connection, odd: dict[str, Any]
) -> None:
    await post(client, "odd-read", [message_event("delivery", "1", timestamp=EPOCH, **odd)])
    assert await batch_outcome(db, "odd-read") == "loaded"
    response = await query(client, **{"from": "2016-02-01T00:00Z", "to": "2016-02-03T00:00Z"})
    assert response.status_code == 200, response.text
    expected = {"type": "delivery", "event_id": "1", "timestamp": INSTANT_ISO, **odd}
    assert response.json()["results"] == [expected]
