"""Rows kept in the columns form (storage format 2: the event minus the fields its columns
reproduce), as the service wrote them before bodies held the Events API form. They are read back
exactly as they were then: by the codec, through the Events API and through the export, beside
rows of the current form.

The fixture holds rows that format 2's encoder wrote, from SparkPost's sample batch and from
events with odd numbers, derived ids, an ab_test object and NUL characters, each with the Events
API text that was returned for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from event_data.events import codec
from event_data.events.jsontext import dumps
from event_data.events.normalise import normalise_batch
from event_data.store.database import create_engine
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from tests.conftest import API_KEY, SAMPLE_WINDOW, make_settings, query
from tests.test_query_api import T0, make_event

FIXTURE = Path(__file__).parent / "fixtures" / "stored-events-format-2.json"


def format_2_rows() -> list[tuple[dict[str, Any], bytes]]:
    rows = []
    for entry in json.loads(FIXTURE.read_text()):
        row = dict(entry["row"])
        row["ts"] = datetime.fromisoformat(row["ts"])
        row["body"] = base64.b64decode(row["body"])
        rows.append((row, entry["events_api"].encode()))
    return rows


def test_format_2_bodies_read_back_as_they_were_returned() -> None:
    rows = format_2_rows()
    assert len(rows) == 23
    for row, expected in rows:
        assert row["body"][0] == codec.FORMAT_ZSTD_DICT_1
        assert codec.event_json(row) == expected
        assert dumps(codec.decode(row)) == expected


def test_new_bodies_are_the_events_api_form_itself() -> None:
    for row, expected in format_2_rows():
        event = normalise_batch(
            [{"msys": {"message_event": json.loads(expected)}}], datetime.now(UTC)
        ).events[0]
        stored = codec.encode(event, 1)._asdict()
        assert stored["body"][0] == codec.FORMAT_API_ZSTD_DICT_2
        # Only the body is read: the columns may be anything.
        blank = {"body": stored["body"], "ts": None, "type": None}
        assert codec.event_json(blank) == codec.event_json(stored)
        assert json.loads(codec.event_json(stored)) == json.loads(expected) | {"type": row["type"]}


async def test_format_2_rows_are_served_beside_new_ones(
    client: httpx.AsyncClient, database_url: str
) -> None:
    rows = format_2_rows()
    received = datetime(2026, 11, 20, tzinfo=UTC)
    fresh = normalise_batch([make_event("delivery", T0, "fresh-1")], received).events
    engine = create_engine(make_settings(database_url=database_url))
    try:
        batch_no = await next_batch_no(engine)
        stored = [codec.StoredEvent(**{**row, "batch_no": batch_no}) for row, _ in rows]
        stored += [codec.encode(event, batch_no) for event in fresh]
        digest = hashlib.sha256(b"format-2").hexdigest()
        record = BatchRecord(
            batch_no, "format-2", digest, "batches/format-2.json", received, len(stored), 0, 0
        )
        outcome = await load_batch(engine, record, stored)
        assert outcome.inserted == len(stored)
    finally:
        await engine.dispose()

    response = await query(client, **SAMPLE_WINDOW, per_page="100")
    assert response.status_code == 200, response.text
    assert response.json()["total_count"] == len(rows) + 1
    for _, expected in rows:
        assert expected in response.content  # byte for byte, numbers as sent
    assert b'"event_id":"fresh-1"' in response.content

    export = await client.get(
        "/api/v1/events/message/export", params=SAMPLE_WINDOW, headers={"Authorization": API_KEY}
    )
    assert export.status_code == 200, export.text
    lines = set(export.content.split(b"\n"))
    for _, expected in rows:
        assert expected in lines
