"""Numbers as SparkPost sent them (product.md, Decisions 8), stored and returned: the event codec's
columns and body, the integer fields and times read from kept numbers, jsonb's own spelling for
the filters, and the whole path from the webhook to the Events API and the export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson

from event_data.events import codec, jsonread, jsontext
from event_data.events.codec import BIT_EXACT_NUMBERS, decode, encode
from event_data.events.jsonread import JsonNumber
from event_data.events.normalise import derived_event_id, normalise_batch
from event_data.query.export import csv_cell
from event_data.synth import EventGenerator, GeneratorConfig
from tests.conftest import API_KEY, SAMPLE_WINDOW, post_batch, query, wait_for_count

RECEIVED = datetime(2026, 3, 4, tzinfo=UTC)

# --- the stored form --------------------------------------------------------------------------


def _only(raw: bytes) -> tuple[str, dict[str, Any]]:
    """The event's identity, and its Events API form."""
    batch = normalise_batch(jsonread.loads(raw), RECEIVED)
    assert len(batch.events) == 1
    return batch.events[0].event_id, decode(encode(batch.events[0], 1)._asdict())


def test_integer_fields_and_times_read_from_kept_numbers() -> None:
    identity, event = _only(
        b'[{"msys":{"message_event":{"type":"delivery","event_id":12345678901234567890123,'
        b'"timestamp":1454442600.120,"injection_time":1.4544426E9,'
        b'"customer_id":12345678901234567,"subaccount_id":-0,"bounce_class":10.0e0}}}]'
    )
    # An integer event_id is the event's identity as its digits, and is returned as sent.
    assert identity == "12345678901234567890123"
    assert jsontext.dumps(event["event_id"]) == b"12345678901234567890123"
    assert event["timestamp"] == "2016-02-02T19:50:00.120Z"
    assert event["injection_time"] == "2016-02-02T19:50:00.000Z"
    assert event["customer_id"] == 12345678901234567
    assert event["subaccount_id"] == 0
    assert jsontext.dumps(event["bounce_class"]) == b"10.0e0"


def test_a_derived_id_is_the_one_orjson_numbers_gave() -> None:
    raw = b'{"type":"sms_status","n":9.50,"big":123456789012345678901234567890,"e":1.0E5}'
    kept = jsonread.loads(raw)
    assert any(isinstance(v, JsonNumber) for v in kept.values())
    assert derived_event_id("message_event", kept) == derived_event_id(
        "message_event", orjson.loads(raw)
    )


def _stored(inner: dict[str, Any]) -> tuple[codec.StoredEvent, int]:
    event = normalise_batch([{"msys": {"message_event": inner}}], RECEIVED).events[0]
    row = encode(event, 1)
    _fmt, flags = codec._HEADER.unpack_from(row.body)
    return row, flags


def test_json_columns_hold_kept_numbers_for_the_filters() -> None:
    row, flags = _stored({"type": "delivery", "event_id": "1", "rcpt_tags": [JsonNumber("1.50")]})
    assert row.rcpt_tags == "[1.50]"
    assert flags & BIT_EXACT_NUMBERS
    assert codec.event_json(row._asdict()).count(b'"rcpt_tags":[1.50]') == 1
    assert jsontext.dumps(decode(row._asdict())["rcpt_tags"]) == b"[1.50]"


def test_json_columns_jsonb_writes_otherwise_are_returned_as_sent() -> None:
    for meta in (
        {"e": JsonNumber("1.0E5")},  # kept as sent
        {"e": JsonNumber("-0")},
        {"tiny": 1e-7},  # floats orjson writes back as read, jsonb otherwise
        {"zero": -0.0},
    ):
        row, _flags = _stored({"type": "delivery", "event_id": "1", "rcpt_meta": meta})
        assert row.rcpt_meta == jsontext.dumps(meta).decode(), meta  # for the filters
        assert decode(row._asdict())["rcpt_meta"] == meta


def test_json_columns_jsonb_cannot_hold_stay_out_of_the_column() -> None:
    for meta in ({"over": JsonNumber("1e131072")}, {"nul": "\x00", "n": JsonNumber("9.50")}):
        row, _flags = _stored({"type": "delivery", "event_id": "1", "rcpt_meta": meta})
        assert row.rcpt_meta is None, meta
        assert decode(row._asdict())["rcpt_meta"] == meta


def test_generated_events_need_no_exact_reading() -> None:
    config = GeneratorConfig(seed=11, rare_scale=50.0, batch_size=500)
    for raw in EventGenerator(config).batch_bytes(5000):
        for event in normalise_batch(jsonread.loads(raw), RECEIVED).events:
            _fmt, flags = codec._HEADER.unpack_from(encode(event, 1).body)
            assert not flags & BIT_EXACT_NUMBERS


def test_a_kept_number_is_its_text_in_a_csv_cell() -> None:
    assert csv_cell(JsonNumber("-9.50")) == "-9.50"
    assert csv_cell(JsonNumber("1e400")) == "1e400"


def test_bodies_without_the_bit_are_read_by_orjson() -> None:
    event = normalise_batch(
        [{"msys": {"message_event": {"type": "delivery", "event_id": "1", "n": 9.5}}}], RECEIVED
    ).events[0]
    row = encode(event, 1)
    _fmt, flags = codec._HEADER.unpack_from(row.body)
    assert not flags & BIT_EXACT_NUMBERS
    assert decode(row._asdict())["n"] == 9.5


# Number texts against what PostgreSQL's jsonb does with them: refuses them or holds them.
JSONB_CASES = [
    "9.50",
    "123456789012345678901234567890",
    "0.000",
    "0.00001",
    "-0",
    "-0.0",
    "-0.00",
    "1.0E5",
    "1e2",
    "1e-5",
    "1E+2",
    "-1.5e-3",
    "1e400",
    "1e131071",
    "1e131072",
    "0.5e131072",
    "10e131071",
    "1e-16383",
    "1.5e-16383",
    "0e-20000",
    "0.0e200000",
    "1" * 131073,
    "0." + "1" * 16384,
]


async def test_jsonb_holds_the_numbers_the_codec_expects(db: asyncpg.Connection) -> None:
    for text in JSONB_CASES:
        holds = codec._jsonb_holds(text)
        try:
            await db.fetchval("SELECT ($1::text)::jsonb::text", f"[{text}]")
        except asyncpg.DataError:
            assert not holds, text[:40]
            continue
        assert holds, text[:40]


# --- end to end: webhook, Events API, export ---------------------------------------------------

BATCH = b"""[
 {"msys": {"message_event": {"type": "delivery", "event_id": "e1", "timestamp": "1454414400",
   "rcpt_meta": {"price": 9.50, "big": 123456789012345678901234567890, "e": 1.0E5,
                 "huge": 1e400, "tiny": 1e-7, "zero": -0.0},
   "geo_ip": {"latitude": 37.40, "longitude": -122.0750}}}},
 {"msys": {"message_event": {"type": "delivery", "event_id": "e2", "timestamp": "1454414401",
   "rcpt_meta": {"price": 9.5, "big": 1.2345678901234568e+29}, "rcpt_tags": [1.50, "vip"]}}},
 {"msys": {"message_event": {"type": "delivery", "event_id": "e3", "timestamp": "1454414402",
   "rcpt_meta": {"price": "9.50", "tiny": 1e-7}}}},
 {"msys": {"message_event": {"type": "delivery", "event_id": "e4", "timestamp": "1454414403",
   "rcpt_meta": {"price": 9.50, "over": 1e131072}}}}
]"""

# Each number's text, and how many times the batch holds it.
SENT = {
    b'"price":9.50,': 2,
    b'"big":123456789012345678901234567890,': 1,
    b'"e":1.0E5,': 1,
    b'"huge":1e400,': 1,
    b'"tiny":1e-7': 2,
    b'"zero":-0.0}': 1,
    b'"geo_ip":{"latitude":37.40,"longitude":-122.0750}': 1,
    b'"price":9.5,': 1,
    b'"big":1.2345678901234568e+29}': 1,
    b'"rcpt_tags":[1.50,"vip"]': 1,
    b'"price":"9.50"': 1,
    b'"over":1e131072}': 1,
}


async def _matching(client: httpx.AsyncClient, meta: str) -> set[str]:
    response = await query(client, **SAMPLE_WINDOW, rcpt_meta=meta)
    assert response.status_code == 200, response.text
    return {event["event_id"] for event in response.json()["results"]}


async def test_numbers_come_back_as_sent_from_the_api_and_the_export(
    client: httpx.AsyncClient,
) -> None:
    # 1e400 is JSON: the ack path takes it (SparkPost would drop a batch answered with a 400).
    response = await post_batch(client, BATCH, batch_id="numbers")
    assert response.status_code == 200, response.text
    await wait_for_count(client, 4)

    # The raw bytes, not a parsed dict: a JSON parser would respell them again.
    response = await query(client, **SAMPLE_WINDOW)
    for text, times in SENT.items():
        assert response.content.count(text) == times, text

    export = await client.get(
        "/api/v1/events/message/export", params=SAMPLE_WINDOW, headers={"Authorization": API_KEY}
    )
    assert export.status_code == 200
    for text, times in SENT.items():
        assert export.content.count(text) == times, text
    exported_csv = await client.get(
        "/api/v1/events/message/export",
        params={**SAMPLE_WINDOW, "format": "csv"},
        headers={"Authorization": API_KEY},
    )
    rows = {
        row["event_id"]: row
        for row in csv.DictReader(io.StringIO(exported_csv.content.decode(), newline=""))
    }
    assert '"price":9.50' in rows["e1"]["rcpt_meta"]
    assert '"huge":1e400' in rows["e1"]["rcpt_meta"]
    assert rows["e1"]["geo_ip"] == '{"latitude":37.40,"longitude":-122.0750}'
    assert rows["e2"]["rcpt_tags"] == '[1.50,"vip"]'

    # Filters compare jsonb's spelling of the stored number (README, Querying): the scale as
    # sent, no exponent, no sign on a zero.
    assert await _matching(client, "price:9.50") == {"e1", "e3"}
    assert await _matching(client, "price:9.5") == {"e2"}
    assert await _matching(client, "big:123456789012345678901234567890") == {"e1"}
    assert await _matching(client, "big:123456789012345680000000000000") == {"e2"}
    assert await _matching(client, "e:100000") == {"e1"}
    assert await _matching(client, "e:1.0E5") == set()
    assert await _matching(client, "tiny:0.0000001") == {"e1", "e3"}
    assert await _matching(client, "zero:0.0") == {"e1"}
    assert await _matching(client, "zero:-0.0") == set()
    assert await _matching(client, "huge:1" + "0" * 400) == {"e1"}
    # A number jsonb cannot hold keeps its event out of the rcpt_meta column: returned, not found.
    assert await _matching(client, "over:1e131072") == set()
