"""Fuzzing the webhook and the loader with hypothesis: random bytes, deep nesting, wrong types,
huge strings, oversized bodies and odd headers. No 5xx, no crash, the service healthy after; every
batch that passed the ack is loaded or recorded as a failure, and the batches after it load.

Inputs are drawn by hypothesis (seeded, so a run is reproducible) and sent to one running app,
so that the service's health after all of them is part of the test.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, TypeVar

import asyncpg
import httpx
import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.conftest import API_KEY, WEBHOOK_AUTH, AppFactory, Aws, post_batch

T = TypeVar("T")

MAX_BODY = 4 * 1024 * 1024
SAFE_KEY = re.compile(
    r"^batches/\d{4}/\d{2}/\d{2}/\d{2}/[A-Za-z0-9._-]{1,128}--[0-9a-f]{16}\.json\.zst$"
)


def draw(strategy: st.SearchStrategy[T], count: int, at: int = 0) -> list[T]:
    """``count`` values of ``strategy``, the same ones on every run."""
    values: list[T] = []

    @seed(20261201 + at)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        values.append(value)

    collect()
    return values


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "type",
    "event_id",
    "timestamp",
    "injection_time",
    "rcpt_to",
    "raw_rcpt_to",
    "friendly_from",
    "customer_id",
    "subaccount_id",
    "message_id",
    "transmission_id",
    "campaign_id",
    "template_id",
    "subject",
    "reason",
    "bounce_class",
    "ip_pool",
    "sending_ip",
    "sending_domain",
    "recipient_domain",
    "mailbox_provider",
    "ab_test_id",
    "ab_test_version",
    "rcpt_meta",
    "rcpt_tags",
    "geo_ip",
    "ab_test",
]
TIMESTAMPS = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=1_400_000_000, max_value=1_900_000_000).map(str)
    | st.text(max_size=30)
    | st.datetimes().map(lambda d: d.isoformat())
)
EVENT_BODIES = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=8),
    JSON_VALUES,
    max_size=10,
).flatmap(
    lambda fields: st.fixed_dictionaries(
        {"timestamp": TIMESTAMPS},
        optional={"type": st.sampled_from(["delivery", "open", "bounce"]) | st.text(max_size=12)},
    ).map(lambda base: {**fields, **base})
)
SPARKPOST_LIKE = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "msys": st.dictionaries(
                    st.sampled_from(["message_event", "track_event", "gen_event"])
                    | st.text(max_size=10),
                    EVENT_BODIES | JSON_VALUES,
                    max_size=2,
                )
            }
        ),
        JSON_VALUES,
    ),
    min_size=1,
    max_size=6,
)
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
) | st.text(alphabet=st.sampled_from("./%:\\ -_Aa0é*?#"), min_size=200, max_size=3000)


def _is_json_array(body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), list)
    except orjson.JSONDecodeError:
        return False


def _nested(depth: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * depth + close * depth


async def _post(client: httpx.AsyncClient, body: bytes, **headers: str) -> httpx.Response:
    return await client.post(
        "/webhooks/sparkpost",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        auth=WEBHOOK_AUTH,
    )


async def test_fuzzed_webhook_requests_never_get_a_5xx(app_factory: AppFactory, aws: Aws) -> None:
    client = await app_factory(
        EVENT_DATA_MAX_BODY_BYTES=str(MAX_BODY), EVENT_DATA_LOADER_ENABLED="false"
    )
    statuses: list[int] = []

    # random bytes: a JSON array is taken, anything else is a 400
    for body in draw(st.binary(max_size=2048), 150, at=1):
        response = await _post(client, body)
        statuses.append(response.status_code)
        assert response.status_code == (200 if _is_json_array(body) else 400), body[:80]

    # arrays of wrong types, and SparkPost-shaped events with wrong types: all acknowledged
    for value in draw(st.lists(JSON_VALUES, max_size=6), 60, at=2) + draw(SPARKPOST_LIKE, 60, at=3):
        response = await _post(client, json.dumps(value).encode())
        statuses.append(response.status_code)
        assert response.status_code == 200, value

    # deep nesting: past the parser's depth limit is a 400, never a crash
    deep: list[tuple[bytes, int]] = [
        (_nested(100_000), 400),
        (b"[" * 100_000, 400),
        (b"[" + _nested(5000, b'{"a":', b"}").replace(b'{"a":}', b"{}") + b"]", 400),
        (b'[{"msys":{"message_event":{"rcpt_meta":' + _nested(2000) + b"}}}]", 400),
        (_nested(1000), 200),
    ]
    for body, expected in deep:
        response = await _post(client, body)
        statuses.append(response.status_code)
        assert response.status_code == expected, body[:40]

    # huge strings, inside the cap
    for body in (
        b'["' + b"x" * (3 * 1024 * 1024) + b'"]',
        b'[{"msys":{"message_event":{"subject":"' + "é".encode() * 1_000_000 + b'"}}}]',
        b'["' + b"\\u00e9" * 500_000 + b'"]',
    ):
        response = await _post(client, body)
        statuses.append(response.status_code)
        assert response.status_code == 200

    # oversized: declared, and streamed without a length
    oversized = b"[" + b"0," * (MAX_BODY // 2) + b"0]"
    assert (await _post(client, oversized)).status_code == 413

    async def stream() -> Any:
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    streamed = await client.post(
        "/webhooks/sparkpost",
        content=stream(),
        headers={"Content-Type": "application/json"},
        auth=WEBHOOK_AUTH,
    )
    assert streamed.status_code == 413

    # odd headers: batch ids of any characters and lengths make safe keys; odd credentials 401
    for text in draw(HEADER_TEXT, 80, at=4):
        raw = text.encode("latin-1", "replace")
        response = await client.post(
            "/webhooks/sparkpost",
            content=b"[1]",
            headers=[
                (b"X-MessageSystems-Batch-ID", raw),
                (b"Content-Type", raw),
                (b"Content-Encoding", raw),
                (b"X-Request-ID", raw),
            ],
            auth=WEBHOOK_AUTH,
        )
        statuses.append(response.status_code)
        assert response.status_code == 200, text
        odd_auth = await client.post(
            "/webhooks/sparkpost",
            content=b"[1]",
            headers=[(b"Authorization", raw), (b"X-MessageSystems-Webhook-Token", raw)],
        )
        statuses.append(odd_auth.status_code)
        assert odd_auth.status_code == 401, text

    assert all(status < 500 for status in statuses)
    keys = aws.archived_keys()
    assert keys
    assert [key for key in keys if not SAFE_KEY.match(key)] == []
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


def _deep_event(event_id: str, depth: int) -> bytes:
    """A batch of one delivery whose rcpt_meta holds arrays nested ``depth`` levels below the
    batch's own array."""
    head = f'[{{"msys":{{"message_event":{{"type":"delivery","event_id":"{event_id}",'
    head += '"timestamp":"1420070400","rcpt_meta":'
    # 4 levels (batch, element, msys, event) sit above rcpt_meta's own array.
    return head.encode() + _nested(depth - 4) + b"}}}]"


def _sentinel(name: str) -> bytes:
    return json.dumps(
        [
            {
                "msys": {
                    "message_event": {
                        "type": "delivery",
                        "event_id": f"{name}-{i}",
                        "timestamp": str(1420070400 + i),
                    }
                }
            }
            for i in range(3)
        ]
    ).encode()


async def _accounted(db: asyncpg.Connection, keys: list[str]) -> set[str]:
    """The keys whose batch was loaded (its bytes recorded, under this key or as a duplicate of
    the same bytes under another), or whose failure was recorded."""
    failed = {r["archive_key"] for r in await db.fetch("SELECT archive_key FROM batch_failures")}
    digests = {
        r["content_digest"][:16] for r in await db.fetch("SELECT content_digest FROM batches")
    }
    accounted = set()
    for key in keys:
        digest = key.rsplit("--", 1)[-1].split(".", 1)[0]
        if key in failed or digest in digests:
            accounted.add(key)
    return accounted


async def test_fuzzed_batches_are_loaded_or_recorded_and_never_stop_the_loader(
    app_factory: AppFactory, aws: Aws, db: asyncpg.Connection
) -> None:
    client = await app_factory()
    bodies = [json.dumps(value).encode() for value in draw(SPARKPOST_LIKE, 40, at=5)]
    # Deep enough to pass the ack's parser but beyond orjson's encoder (254 levels): stored and
    # answered all the same. Beyond any encoder here (~1000 levels): that event alone is left
    # to the archive, and the batch's other event loads.
    bodies.append(_deep_event("deep-600", 600))
    bodies.append(_deep_event("deep-1010", 1010)[:-1] + b"," + _sentinel("beside")[1:])
    assert len(bodies) == 42  # the deep ones are fuzz-40 and fuzz-41
    for n, body in enumerate(bodies):
        assert (await post_batch(client, body, f"fuzz-{n}")).status_code == 200
    assert (await post_batch(client, _sentinel("after"), "after")).status_code == 200

    deadline = asyncio.get_running_loop().time() + 40
    keys = aws.archived_keys()
    while True:
        loaded = await db.fetchval("SELECT count(*) FROM events WHERE event_id LIKE 'after-%'")
        missing = set(keys) - await _accounted(db, keys)
        if loaded == 3 and not missing:
            break
        assert asyncio.get_running_loop().time() < deadline, (loaded, sorted(missing)[:3])
        await asyncio.sleep(0.2)

    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = 'deep-600'") == 1
    found = await client.get(
        "/api/v1/events/message",
        params={"from": "2015-01-01T00:00Z", "to": "2015-01-02T00:00Z", "event_ids": "deep-600"},
        headers={"Authorization": API_KEY},
    )
    assert found.status_code == 200, found.text
    (event,) = found.json()["results"]
    assert json.dumps(event["rcpt_meta"], separators=(",", ":")).encode() == _nested(600 - 4)
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id = 'deep-1010'") == 0
    assert await db.fetchval("SELECT count(*) FROM events WHERE event_id LIKE 'beside-%'") == 3
    skipped = await db.fetchval(
        "SELECT elements_skipped FROM batches WHERE archive_key LIKE '%/fuzz-41--%'"
    )
    assert skipped == 1
    assert not await db.fetchval("SELECT count(*) FROM batch_failures")

    # the consumer is alive: a batch posted now loads too
    assert (await post_batch(client, _sentinel("later"), "later")).status_code == 200
    for _ in range(200):
        if await db.fetchval("SELECT count(*) FROM events WHERE event_id LIKE 'later-%'") == 3:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("a batch posted after the fuzzed ones did not load")
    assert (await client.get("/readyz")).status_code == 200
