"""The Events API route ``GET /api/v1/events/message`` as SparkPost clients use it: auth, the
response shape, the time window, ``events``, ``per_page``, keyset paging with a signed cursor,
and SparkPost's error shape for everything it refuses (sparkpost.md §4, product.md Querying and
Decisions 6-8)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg
import httpx
import pytest

from event_data.events.codec import encode
from event_data.events.normalise import normalise_batch
from event_data.events.types import CATEGORY_TYPES
from event_data.store.database import create_engine
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from tests.conftest import (
    API_KEY,
    SAMPLE_WINDOW,
    make_settings,
    post_batch,
    query,
    wait_for_count,
)

EVENTS_PATH = "/api/v1/events/message"
AUTH = {"Authorization": API_KEY}
CATEGORY = {t: category for category, types in CATEGORY_TYPES.items() for t in types}
ISO_MILLIS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# 2016-02-02T12:00:00Z, inside SAMPLE_WINDOW.
T0 = 1454414400


def make_event(event_type: str, timestamp: object, event_id: str, **fields: Any) -> dict[str, Any]:
    inner = {"type": event_type, "event_id": event_id, "timestamp": timestamp, **fields}
    return {"msys": {CATEGORY[event_type]: inner}}


async def send(client: httpx.AsyncClient, batch_id: str, events: list[dict[str, Any]]) -> None:
    response = await post_batch(client, json.dumps(events).encode(), batch_id=batch_id)
    assert response.status_code == 200, response.text


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ids(body: dict[str, Any]) -> set[str]:
    return {event["event_id"] for event in body["results"]}


def identity(event: dict[str, Any]) -> tuple[str, str, str]:
    return (event["event_id"], event["type"], event["timestamp"])


def assert_error(response: httpx.Response, status: int, naming: str | None = None) -> str:
    """SparkPost's error shape; returns the description, which must name ``naming``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors"}
    assert isinstance(body["errors"], list)
    assert len(body["errors"]) >= 1
    error = body["errors"][0]
    assert set(error) == {"message", "description", "code"}
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    description: str = error["description"]
    if naming is not None:
        assert re.search(rf"(?<![A-Za-z_]){re.escape(naming)}(?![A-Za-z_])", description), (
            description
        )
    return description


async def get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    return await client.get(url, headers=AUTH)


async def follow_all(
    client: httpx.AsyncClient, first: httpx.Response
) -> tuple[list[dict[str, Any]], list[int]]:
    """Every event of every page from ``first`` on, and the total_count each page reported."""
    results: list[dict[str, Any]] = []
    totals: list[int] = []
    response = first
    for _ in range(100):
        assert response.status_code == 200, response.text
        body = response.json()
        results.extend(body["results"])
        totals.append(body["total_count"])
        if body["links"] == {}:
            return results, totals
        assert set(body["links"]) == {"next"}
        next_link: str = body["links"]["next"]
        assert next_link.startswith(EVENTS_PATH + "?"), next_link
        response = await get(client, next_link)
    raise AssertionError("paging did not end")


def cursor_of(link: str) -> str:
    return dict(parse_qsl(urlsplit(link).query))["cursor"]


def with_params(link: str, **changes: str) -> str:
    params = dict(parse_qsl(urlsplit(link).query))
    params.update(changes)
    return f"{EVENTS_PATH}?{urlencode(params)}"


def flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


async def five_events(client: httpx.AsyncClient) -> None:
    types = ["delivery", "open", "click", "bounce", "delivery"]
    await send(
        client,
        "five",
        [make_event(t, T0 - i * 60, f"ev{i}") for i, t in enumerate(types)],
    )
    await wait_for_count(client, 5)


# --- auth -------------------------------------------------------------------------------------


async def test_api_key_in_the_authorization_header_is_accepted(client: httpx.AsyncClient) -> None:
    for key in (API_KEY, "other-key"):
        response = await client.get(
            EVENTS_PATH, params=SAMPLE_WINDOW, headers={"Authorization": key}
        )
        assert response.status_code == 200, response.text


async def test_basic_auth_with_the_key_as_user_and_an_empty_password_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(EVENTS_PATH, params=SAMPLE_WINDOW, auth=(API_KEY, ""))
    assert response.status_code == 200, response.text


async def test_missing_or_wrong_key_is_401_in_sparkpost_error_shape(
    client: httpx.AsyncClient,
) -> None:
    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "not-a-key"},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": API_KEY + "x"},
        {"Authorization": "Basic Zm9vOg=="},  # foo:
    ):
        response = await client.get(EVENTS_PATH, params=SAMPLE_WINDOW, headers=headers)
        assert_error(response, 401)


async def test_wrong_key_sees_no_events(client: httpx.AsyncClient) -> None:
    await five_events(client)
    response = await client.get(
        EVENTS_PATH, params=SAMPLE_WINDOW, headers={"Authorization": "not-a-key"}
    )
    assert_error(response, 401)
    assert "results" not in response.json()


# --- response shape ---------------------------------------------------------------------------


async def test_response_shape_flat_events_iso_millis_newest_first(
    client: httpx.AsyncClient,
) -> None:
    await send(
        client,
        "shape",
        [
            make_event("delivery", T0 - 120, "100", rcpt_to="a@example.com"),
            make_event("open", str(T0), "101", rcpt_to="a@example.com"),
            make_event("click", T0 - 60, "102", rcpt_to="a@example.com"),
        ],
    )
    body = await wait_for_count(client, 3)
    assert set(body) == {"results", "total_count", "links"}
    assert body["total_count"] == 3
    assert body["links"] == {}
    results = body["results"]
    assert [e["event_id"] for e in results] == ["101", "102", "100"]
    assert [e["type"] for e in results] == ["open", "click", "delivery"]
    for event in results:
        assert "msys" not in event
        assert "track_event" not in event
        assert "message_event" not in event
        assert ISO_MILLIS_Z.match(event["timestamp"]), event["timestamp"]
        assert event["rcpt_to"] == "a@example.com"
    assert results[0]["timestamp"] == "2016-02-02T12:00:00.000Z"
    assert results[2]["timestamp"] == "2016-02-02T11:58:00.000Z"


async def test_empty_window_is_an_empty_page(client: httpx.AsyncClient) -> None:
    response = await query(client, **SAMPLE_WINDOW)
    assert response.status_code == 200
    assert response.json() == {"results": [], "total_count": 0, "links": {}}


# --- from / to --------------------------------------------------------------------------------

# Events around T0 (12:00:00Z): the id says when.
WINDOW_EVENTS = {
    "t1100": T0 - 3600,
    "t115959": T0 - 1,
    "t1200": T0,
    "t1200.5": f"{T0}.5",
    "t120001": T0 + 1,
    "t1300": T0 + 3600,
}


async def load_window_events(client: httpx.AsyncClient) -> None:
    await send(
        client,
        "window",
        [make_event("delivery", ts, event_id) for event_id, ts in WINDOW_EVENTS.items()],
    )
    await wait_for_count(client, len(WINDOW_EVENTS))


async def window_ids(client: httpx.AsyncClient, **params: str) -> set[str]:
    response = await query(client, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] == len(body["results"])
    return ids(body)


async def test_date_formats_from_inclusive_to_exclusive(client: httpx.AsyncClient) -> None:
    await load_window_events(client)
    late = "2016-02-02T23:00Z"
    early = "2016-02-02T01:00Z"
    at_and_after_noon = {"t1200", "t1200.5", "t120001", "t1300"}
    before_noon = {"t1100", "t115959"}
    # `from` is inclusive, whatever the spelling of 12:00:00 UTC.
    for noon in (
        "2016-02-02T12:00",
        "2016-02-02T12:00Z",
        "2016-02-02T12:00:00",
        "2016-02-02T12:00:00Z",
        "2016-02-02T12:00:00.000Z",
        "2016-02-02T12:00:00.000000Z",
        "2016-02-02T14:00+02:00",
        "2016-02-02T14:00:00.000+02:00",
        "2016-02-02T07:00-05:00",
        "2016-02-02T12:00+00:00",
    ):
        assert await window_ids(client, **{"from": noon, "to": late}) == at_and_after_noon, noon
        # `to` is exclusive.
        assert await window_ids(client, **{"from": early, "to": noon}) == before_noon, noon

    # A fraction moves the bounds by milliseconds.
    assert await window_ids(client, **{"from": "2016-02-02T12:00:00.001Z", "to": late}) == {
        "t1200.5",
        "t120001",
        "t1300",
    }
    assert await window_ids(client, **{"from": "2016-02-02T12:00:00.5Z", "to": late}) == {
        "t1200.5",
        "t120001",
        "t1300",
    }
    assert await window_ids(client, **{"from": "2016-02-02T12:00:00.501Z", "to": late}) == {
        "t120001",
        "t1300",
    }
    assert await window_ids(client, **{"from": early, "to": "2016-02-02T12:00:00.001Z"}) == {
        "t1100",
        "t115959",
        "t1200",
    }
    # A one-second window holds exactly the events of that second.
    assert await window_ids(
        client, **{"from": "2016-02-02T12:00:00Z", "to": "2016-02-02T12:00:01Z"}
    ) == {"t1200", "t1200.5"}


async def test_an_offset_shifts_the_window(client: httpx.AsyncClient) -> None:
    await load_window_events(client)
    # 12:00+02:00 is 10:00Z: the 11:00Z event is inside; read as UTC it would not be.
    utc = await window_ids(client, **{"from": "2016-02-02T10:30Z", "to": "2016-02-02T12:00Z"})
    shifted = await window_ids(
        client, **{"from": "2016-02-02T12:30+02:00", "to": "2016-02-02T14:00+02:00"}
    )
    naive = await window_ids(client, **{"from": "2016-02-02T12:30", "to": "2016-02-02T14:00"})
    assert utc == shifted == {"t1100", "t115959"}
    assert naive == {"t1300"}
    west = await window_ids(
        client, **{"from": "2016-02-02T07:59-05:00", "to": "2016-02-02T08:01-05:00"}
    )
    assert west == {"t1300"}
    compact = await window_ids(
        client, **{"from": "2016-02-02T12:30+0200", "to": "2016-02-02T14:00+0200"}
    )
    assert compact == {"t1100", "t115959"}


@pytest.mark.parametrize(
    ("window"),
    [
        pytest.param({"from": "2016-02-02T12:00Z", "to": "2016-02-02T12:00Z"}, id="equal"),
        pytest.param({"from": "2016-02-02T12:00Z", "to": "2016-02-02T11:00Z"}, id="reversed"),
        pytest.param(
            {"from": "2016-02-02T14:00+02:00", "to": "2016-02-02T12:00Z"}, id="equal-by-offset"
        ),
        pytest.param(
            {"from": (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")},
            id="future-from-default-to",
        ),
    ],
)
async def test_from_not_before_to_is_400_naming_from(
    client: httpx.AsyncClient, window: dict[str, str]
) -> None:
    assert_error(await query(client, **window), 400, "from")


async def test_unparsable_dates_are_400_naming_the_parameter(client: httpx.AsyncClient) -> None:
    for name in ("from", "to"):
        for value in (
            "yesterday",
            "2016-02-02",
            "2016-02-02 12:00",
            "2016-02-30T00:00Z",
            "2016-13-01T00:00Z",
            "2016-02-02T25:00Z",
            "2016-02-02T12:60Z",
            "2016-02-02T12:00:61Z",
            "2016-02-02T12:00+25:00",
            "2016-02-02T12:00Zjunk",
            "1454414400",
            "\uff12\uff10\uff11\uff16-02-02T12:00Z",  # full-width digits,
        ):
            params = {**SAMPLE_WINDOW, name: value}
            description = assert_error(await query(client, **params), 400, name)
            if name == "to":
                assert not re.search(r"\bfrom\b", description), description


async def test_default_window_is_the_last_24_hours_up_to_a_minute_ago(
    client: httpx.AsyncClient,
) -> None:
    now = datetime.now(UTC)
    epoch = int(now.timestamp())
    await send(
        client,
        "defaults",
        [
            make_event("delivery", epoch - 2 * 3600, "two-hours-ago"),
            make_event("delivery", epoch - 30 * 3600, "thirty-hours-ago"),
            make_event("delivery", epoch + 3600, "in-an-hour"),
            make_event("delivery", epoch - 10, "ten-seconds-ago"),
        ],
    )
    wide: dict[str, Any] = {
        "from": iso(now - timedelta(days=2)),
        "to": iso(now + timedelta(days=2)),
    }
    await wait_for_count(client, 4, **wide)

    assert await window_ids(client) == {"two-hours-ago"}
    # `from` alone: `to` is still a minute ago.
    assert await window_ids(client, **{"from": iso(now - timedelta(hours=3))}) == {"two-hours-ago"}
    # `to` may be in the future.
    in_two_hours = iso(now + timedelta(hours=2))
    assert await window_ids(client, to=in_two_hours) == {
        "two-hours-ago",
        "ten-seconds-ago",
        "in-an-hour",
    }
    assert await window_ids(
        client, **{"from": iso(now - timedelta(hours=31)), "to": in_two_hours}
    ) == {"two-hours-ago", "ten-seconds-ago", "in-an-hour", "thirty-hours-ago"}


async def test_earliest_to_without_from_is_not_a_server_error(client: httpx.AsyncClient) -> None:
    response = await query(client, to="0001-01-01T00:00Z")
    assert response.status_code in (200, 400), response.text


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"from": "0001-01-01T00:30+01:00"}, id="before-year-1"),
        pytest.param(
            {"from": "2016-02-01T00:00Z", "to": "9999-12-31T23:59-01:00"}, id="after-year-9999"
        ),
    ],
)
async def test_dates_beyond_the_calendar_by_their_offset_are_400(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    name = "to" if "to" in params else "from"
    assert_error(await query(client, **params), 400, name)


# --- events= ----------------------------------------------------------------------------------


async def load_mixed_types(client: httpx.AsyncClient) -> None:
    types = ["delivery", "open", "click", "bounce", "open", "initial_open", "delivery"]
    await send(
        client,
        "mixed",
        [make_event(t, T0 - i, f"m{i}") for i, t in enumerate(types)],
    )
    await wait_for_count(client, len(types))


async def test_events_list_ors_the_types(client: httpx.AsyncClient) -> None:
    await load_mixed_types(client)
    response = await query(client, **SAMPLE_WINDOW, events="open")
    body = response.json()
    assert body["total_count"] == 2
    assert {e["type"] for e in body["results"]} == {"open"}

    response = await query(client, **SAMPLE_WINDOW, events="open,click")
    body = response.json()
    assert body["total_count"] == 3
    assert sorted(e["type"] for e in body["results"]) == ["click", "open", "open"]

    response = await query(client, **SAMPLE_WINDOW, events="bounce, delivery ,click")
    body = response.json()
    assert body["total_count"] == 4
    assert {e["type"] for e in body["results"]} == {"bounce", "delivery", "click"}

    # A known type with no events matches nothing.
    response = await query(client, **SAMPLE_WINDOW, events="spam_complaint")
    assert response.json() == {"results": [], "total_count": 0, "links": {}}


async def test_delimiter_splits_the_events_list(client: httpx.AsyncClient) -> None:
    await load_mixed_types(client)
    response = await query(client, **SAMPLE_WINDOW, events="open;click", delimiter=";")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] == 3
    assert {e["type"] for e in body["results"]} == {"open", "click"}
    # Without the delimiter, `open;click` is one unknown type.
    assert_error(await query(client, **SAMPLE_WINDOW, events="open;click"), 400, "open;click")


async def test_unknown_event_type_is_400_naming_it(client: httpx.AsyncClient) -> None:
    for events, unknown in (
        ("hologram_open", "hologram_open"),
        ("open,hologram_open", "hologram_open"),
        ("Open", "Open"),
        ("message_event", "message_event"),
        ("opens", "opens"),
    ):
        response = await query(client, **SAMPLE_WINDOW, events=events)
        description = assert_error(response, 400, "events")
        assert unknown in description, description


# --- per_page ---------------------------------------------------------------------------------


async def test_per_page_out_of_range_is_400_naming_per_page(client: httpx.AsyncClient) -> None:
    for per_page in ("0", "10001", "-1", "abc", "1.5", "", "1e3", "99999999999", " "):
        response = await query(client, **SAMPLE_WINDOW, per_page=per_page)
        assert_error(response, 400, "per_page")


async def test_per_page_superscript_digit_is_400(client: httpx.AsyncClient) -> None:
    assert_error(await query(client, **SAMPLE_WINDOW, per_page="²"), 400, "per_page")


async def test_per_page_bounds_are_accepted(client: httpx.AsyncClient) -> None:
    await five_events(client)
    one = await query(client, **SAMPLE_WINDOW, per_page="1")
    assert one.status_code == 200, one.text
    body = one.json()
    assert len(body["results"]) == 1
    assert body["total_count"] == 5
    assert "next" in body["links"]

    most = await query(client, **SAMPLE_WINDOW, per_page="10000")
    assert most.status_code == 200, most.text
    body = most.json()
    assert len(body["results"]) == 5
    assert body["links"] == {}


# --- paging -----------------------------------------------------------------------------------


def paging_batches() -> list[list[dict[str, Any]]]:
    """30 events in 4 batches; several share a timestamp, some also share an event_id."""
    same_id = [
        make_event(t, T0, "9000")
        for t in (
            "injection",
            "delivery",
            "open",
            "initial_open",
            "click",
            "bounce",
            "delay",
            "policy_rejection",
        )
    ]
    minutes = [make_event("delivery", T0 - i * 60, f"b{i}") for i in range(1, 11)]
    shared = [make_event("open", T0 + 30, f"c{i}") for i in range(1, 5)] + [
        make_event("click", T0 - 300, f"c{i}") for i in range(5, 9)
    ]
    later = [make_event("delivery", T0 + 3600 * i, f"d{i}") for i in range(1, 5)]
    return [same_id, minutes, shared, later]


async def test_paging_returns_every_event_once_newest_first(client: httpx.AsyncClient) -> None:
    batches = paging_batches()
    for n, batch in enumerate(batches):
        await send(client, f"paging-{n}", batch)
    sent = [next(iter(e["msys"].values())) for batch in batches for e in batch]
    assert len(sent) == 30
    await wait_for_count(client, 30)

    first = await query(client, **SAMPLE_WINDOW, per_page="7")
    results, totals = await follow_all(client, first)
    assert totals == [30] * 5
    assert len(results) == 30
    assert len({identity(e) for e in results}) == 30
    assert {(e["event_id"], e["type"]) for e in results} == {
        (e["event_id"], e["type"]) for e in sent
    }
    stamps = [e["timestamp"] for e in results]
    assert stamps == sorted(stamps, reverse=True)

    # The same walk again gives the same sequence: the order is total.
    again, _ = await follow_all(client, await query(client, **SAMPLE_WINDOW, per_page="7"))
    assert [identity(e) for e in again] == [identity(e) for e in results]

    # Filters travel with the next link.
    filtered, totals = await follow_all(
        client, await query(client, **SAMPLE_WINDOW, events="open,click", per_page="3")
    )
    assert totals == [10] * 4
    assert len({identity(e) for e in filtered}) == 10
    assert {e["type"] for e in filtered} == {"open", "click"}


async def test_per_page_may_change_between_pages(client: httpx.AsyncClient) -> None:
    await five_events(client)
    first = (await query(client, **SAMPLE_WINDOW, per_page="2")).json()
    assert [e["event_id"] for e in first["results"]] == ["ev0", "ev1"]
    response = await get(client, with_params(first["links"]["next"], per_page="10"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["event_id"] for e in body["results"]] == ["ev2", "ev3", "ev4"]
    assert body["total_count"] == 5
    assert body["links"] == {}


async def test_paging_is_stable_while_batches_load(client: httpx.AsyncClient) -> None:
    await send(
        client, "before", [make_event("delivery", T0 - i * 60, f"old{i}") for i in range(10)]
    )
    await wait_for_count(client, 10)
    first = await query(client, **SAMPLE_WINDOW, per_page="4")
    assert first.json()["total_count"] == 10

    # Newer than the first page, and interleaved with the pages still to come.
    await send(
        client,
        "during",
        [
            make_event("delivery", T0 + 60, "new0"),
            make_event("delivery", T0 + 120, "new1"),
            make_event("delivery", T0 - 5 * 60 - 30, "new2"),
            make_event("delivery", T0 - 8 * 60 - 30, "new3"),
            make_event("delivery", T0 - 9 * 60, "new4"),
        ],
    )
    await wait_for_count(client, 15)

    results, totals = await follow_all(client, first)
    assert totals == [10, 10, 10]
    assert [e["event_id"] for e in results] == [f"old{i}" for i in range(10)]
    # A new paging session sees everything.
    fresh, totals = await follow_all(client, await query(client, **SAMPLE_WINDOW, per_page="4"))
    assert totals == [15] * 4
    assert len({identity(e) for e in fresh}) == 15


async def test_batch_committing_after_the_first_page_stays_out_of_that_paging(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """Two loaders at work: batch A takes its number first, batch B commits first."""
    engine = create_engine(make_settings(database_url=database_url))
    try:
        received = datetime.now(UTC)
        a_no = await next_batch_no(engine)
        b_no = await next_batch_no(engine)

        async def commit(batch_no: int, name: str, events: list[dict[str, Any]]) -> None:
            normalised = normalise_batch(events, received)
            rows = [encode(event, batch_no) for event in normalised.events]
            record = BatchRecord(
                batch_no, name, name, f"batches/{name}.json", received, len(rows), 0, 0
            )
            outcome = await load_batch(engine, record, rows)
            assert outcome.inserted == len(rows)

        await commit(
            b_no, "race-b", [make_event("delivery", T0 - i * 60, f"b{i}") for i in range(6)]
        )
        first = await query(client, **SAMPLE_WINDOW, per_page="2")
        assert first.json()["total_count"] == 6
        # Batch A, slower, commits now; its events are older than the first page's last.
        await commit(
            a_no, "race-a", [make_event("delivery", T0 - 30 - i * 60, f"a{i}") for i in range(6)]
        )
        results, totals = await follow_all(client, first)
    finally:
        await engine.dispose()
    assert totals == [6, 6, 6]
    assert sorted(e["event_id"] for e in results) == [f"b{i}" for i in range(6)]


# --- cursor -----------------------------------------------------------------------------------


async def first_next_link(client: httpx.AsyncClient) -> str:
    await five_events(client)
    body = (await query(client, **SAMPLE_WINDOW, per_page="2")).json()
    link: str = body["links"]["next"]
    return link


async def test_next_link_continues_the_listing(client: httpx.AsyncClient) -> None:
    link = await first_next_link(client)
    response = await get(client, link)
    assert response.status_code == 200, response.text
    assert [e["event_id"] for e in response.json()["results"]] == ["ev2", "ev3"]


@pytest.mark.parametrize("part", ["payload", "signature"])
async def test_tampered_cursor_is_400_naming_cursor(client: httpx.AsyncClient, part: str) -> None:
    link = await first_next_link(client)
    payload, dot, signature = cursor_of(link).partition(".")
    assert dot == "."
    assert payload
    assert signature
    if part == "payload":
        tampered = flip(payload, len(payload) // 2) + "." + signature
    else:
        tampered = payload + "." + flip(signature, len(signature) // 2)
    assert_error(await get(client, with_params(link, cursor=tampered)), 400, "cursor")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"events": "open"}, id="added-events"),
        pytest.param({"from": "2016-02-01T00:01Z"}, id="changed-from"),
        pytest.param({"to": "2016-02-02T23:00Z"}, id="changed-to"),
    ],
)
async def test_cursor_reused_with_other_filters_is_400(
    client: httpx.AsyncClient, changes: dict[str, str]
) -> None:
    link = await first_next_link(client)
    assert_error(await get(client, with_params(link, **changes)), 400, "cursor")


async def test_cursor_accepts_the_same_filters_spelled_differently(
    client: httpx.AsyncClient,
) -> None:
    link = await first_next_link(client)
    response = await get(client, with_params(link, **{"from": "2016-02-01T02:00:00.000+02:00"}))
    assert response.status_code == 200, response.text
    assert [e["event_id"] for e in response.json()["results"]] == ["ev2", "ev3"]


async def test_cursor_without_its_filters_is_400(client: httpx.AsyncClient) -> None:
    link = await first_next_link(client)
    response = await get(client, f"{EVENTS_PATH}?{urlencode({'cursor': cursor_of(link)})}")
    assert_error(response, 400, "cursor")


async def test_garbage_cursor_is_400_naming_cursor(client: httpx.AsyncClient) -> None:
    for cursor in (
        "garbage",
        "abc.def",
        "....",
        ".",
        "é.é",
        "x" * 1000,
        # SparkPost's own example cursor: not one of ours.
        "WycyMDE4LTExLTA1VDIyOjQ1OjM5LjAwMFonLCAnc3BjLTM4MTQ1MjY3MjMyNTA2NTEwJ10=",
        "W10.AAAAAAAAAAAAAAAAAAAAAA",
        "final",
    ):
        response = await query(client, **SAMPLE_WINDOW, cursor=cursor)
        assert_error(response, 400, "cursor")


async def test_cursor_initial_is_the_first_page(client: httpx.AsyncClient) -> None:
    await five_events(client)
    plain = (await query(client, **SAMPLE_WINDOW, per_page="2")).json()
    for cursor in ("initial", ""):
        response = await query(client, **SAMPLE_WINDOW, per_page="2", cursor=cursor)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["results"] == plain["results"]
        assert body["total_count"] == plain["total_count"] == 5


# --- URI, unknown parameters, trailing slash --------------------------------------------------


async def test_uri_longer_than_4096_characters_is_414(client: httpx.AsyncClient) -> None:
    prefix = f"{EVENTS_PATH}?pad="
    at_limit = prefix + "x" * (4096 - len(prefix))
    assert len(at_limit) == 4096
    response = await get(client, at_limit)
    assert response.status_code == 200, response.text

    over = at_limit + "x"
    assert_error(await get(client, over), 414)
    assert_error(await get(client, prefix + "x" * 10_000), 414)


async def test_unknown_parameters_are_ignored(client: httpx.AsyncClient) -> None:
    await five_events(client)
    plain = (await query(client, **SAMPLE_WINDOW)).json()
    response = await query(client, **SAMPLE_WINDOW, foo="bar", page="3", sort="asc", Events="x")
    assert response.status_code == 200, response.text
    assert response.json() == plain
    assert plain["total_count"] == 5


async def test_trailing_slash_is_the_same_route(client: httpx.AsyncClient) -> None:
    await five_events(client)
    plain = (await query(client, **SAMPLE_WINDOW)).json()
    response = await client.get(EVENTS_PATH + "/", params=SAMPLE_WINDOW, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == plain


# --- hostile values ---------------------------------------------------------------------------


async def test_sql_looking_values_are_400_and_harmless(client: httpx.AsyncClient) -> None:
    await five_events(client)
    for name, value in (
        ("events", "open' OR '1'='1"),
        ("events", "open);DROP TABLE events;--"),
        ("events", "open\x00"),
        ("from", "2016-02-01T00:00Z' OR '1'='1"),
        ("from", "2016-02-01T00:00Z;DROP TABLE events"),
        ("to", "2016-02-03T00:00Z'--"),
        ("cursor", "' OR 1=1--"),
        ("cursor", "x.y' UNION SELECT * FROM batches--"),
        ("per_page", "1;DROP TABLE events"),
        ("delimiter", "' OR '1'='1"),
    ):
        params = {**SAMPLE_WINDOW, "events": "open", name: value}
        response = await query(client, **params)
        if name == "delimiter":
            # Any delimiter is a delimiter: `open` is still one known type.
            assert response.status_code == 200, response.text
            assert response.json()["total_count"] == 1
        else:
            assert_error(response, 400, name)
    assert (await query(client, **SAMPLE_WINDOW)).json()["total_count"] == 5


async def test_a_database_gone_mid_service_is_503_with_retry_after(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """The search answers 503 (SparkPost's shape, Retry-After) while its database refuses
    connections and its pooled ones are cut, as during a failover, then answers again."""
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        down = await query(client, **SAMPLE_WINDOW)
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"]
        assert down.json()["errors"][0]["code"] == "1503"
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    assert (await query(client, **SAMPLE_WINDOW)).status_code == 200


async def test_a_query_the_database_stops_is_503_not_500(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """A search the database cancels (as the statement timeout does to one that runs too long)
    is 503 with Retry-After and a hint to narrow it, not an internal error."""
    admin = await asyncpg.connect(database_url)
    try:
        async with admin.transaction():
            # Held until the search is cancelled: the search waits on it, as a slow one runs.
            await admin.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
            search = asyncio.create_task(query(client, **SAMPLE_WINDOW))
            for _ in range(200):
                cancelled = await admin.fetchval(
                    "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND wait_event_type = 'Lock'"
                )
                if cancelled:
                    break
                await asyncio.sleep(0.02)
            assert cancelled, "the search never waited on the lock"
            response = await search
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"]
        assert "narrow the time window" in response.json()["errors"][0]["description"]
    finally:
        await admin.close()
    assert (await query(client, **SAMPLE_WINDOW)).status_code == 200
