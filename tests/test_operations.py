"""What an operator sees: /metrics moving with the traffic, request ids, and the rate limit."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from event_data.api.ratelimit import RateLimiter
from event_data.errors import TooManyRequests
from tests.conftest import (
    API_KEY,
    REGION,
    AppFactory,
    Aws,
    post_batch,
    query,
    sample_batch_bytes,
    wait_for_count,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _metrics(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return _parse(response.text)


def _parse(text: str) -> Samples:
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_with_a_batch_posted_and_loaded(
    app_factory: AppFactory, aws: Aws
) -> None:
    # The registry is the process's: read before the app starts, so its first round counts.
    before = _parse(generate_latest().decode())
    client = await app_factory(EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS="3600")

    assert (await post_batch(client, sample_batch_bytes(), "metrics-1")).status_code == 200
    await wait_for_count(client, 19)
    assert (await post_batch(client, sample_batch_bytes(), "metrics-1")).status_code == 200
    bad_auth = await client.post("/webhooks/sparkpost", content=b"[]", auth=("sparkpost", "no"))
    assert bad_auth.status_code == 401
    assert (await post_batch(client, b"{not json")).status_code == 400
    assert (await post_batch(client, b'{"msys": {}}')).status_code == 400
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        after = await _metrics(client)
        # the second batch seen by the loader, and the lifespan's first maintenance round done
        done = (
            _value(after, "event_data_loader_batches_total", outcome="duplicate")
            > _value(before, "event_data_loader_batches_total", outcome="duplicate")
            and _value(after, "event_data_partitions") >= 8
        )
        if done or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    outcomes = {"archived": 2, "unauthorized": 1, "not_json": 1, "not_array": 1}
    for outcome, count in outcomes.items():
        assert delta("event_data_webhook_batches_total", outcome=outcome) == count, outcome
    received = sum(
        value - before.get(key, 0.0)
        for key, value in after.items()
        if key[0] == "event_data_webhook_batches_total"
    )
    assert received == 5  # one outcome a request
    assert ("event_data_webhook_batches_received_total", ()) not in after
    assert not [key for key in after if key[0] == "event_data_webhook_batches_rejected_total"]
    assert delta("event_data_webhook_ack_seconds_count") == 2
    assert delta("event_data_loader_batches_total", outcome="loaded") == 1
    assert delta("event_data_loader_batches_total", outcome="duplicate") == 1
    assert delta("event_data_loader_events_total", outcome="inserted") == 19
    assert delta("event_data_loader_batch_seconds_count") == 2
    assert (
        delta(
            "event_data_http_requests_total",
            method="POST",
            route="/webhooks/sparkpost",
            status="200",
        )
        == 2
    )
    # gauges of the maintenance round the lifespan started with
    assert _value(after, "event_data_partitions") >= 8
    assert _value(after, "event_data_default_partition_rows") == 0
    assert _value(after, "event_data_dlq_messages") == 0
    assert ("event_data_loader_queue_lag_seconds", ()) in after


@pytest.mark.parametrize("configured", [False, True], ids=["redrive-policy", "setting"])
async def test_dlq_depth_is_reported(app_factory: AppFactory, aws: Aws, configured: bool) -> None:
    for n in range(3):
        aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody=json.dumps({"n": n}))
    overrides = {"EVENT_DATA_DLQ_URL": aws.dlq_url} if configured else {}
    client = await app_factory(EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS="3600", **overrides)
    deadline = asyncio.get_running_loop().time() + 10
    while _value(await _metrics(client), "event_data_dlq_messages") != 3:
        assert asyncio.get_running_loop().time() < deadline, "DLQ depth not reported"
        await asyncio.sleep(0.1)


async def test_a_dlq_that_cannot_be_read_is_logged_and_counted(aws: Aws) -> None:
    import aioboto3
    from structlog.testing import capture_logs

    from event_data.maintenance.queues import DeadLetterQueue

    missing = aws.dlq_url.rsplit("/", 1)[0] + "/no-such-dlq"
    before = _value(_parse(generate_latest().decode()), "event_data_dlq_unreadable_total")
    session = aioboto3.Session(region_name=REGION)
    async with session.client("sqs", endpoint_url=aws.endpoint) as sqs:
        with capture_logs() as logs:
            assert await DeadLetterQueue(sqs, aws.queue_url, missing).depth() is None
            assert await DeadLetterQueue(sqs, aws.queue_url, aws.dlq_url).depth() == 0
    after = _value(_parse(generate_latest().decode()), "event_data_dlq_unreadable_total")
    assert after - before == 1
    [entry] = [e for e in logs if e["event"] == "maintenance.dlq_unreadable"]
    assert entry["log_level"] == "warning"
    assert entry["queue_url"] == missing
    assert entry["error"] == "QueueDoesNotExist"
    assert "NonExistentQueue" in entry["error_code"]


async def test_queue_lag_is_the_age_of_the_oldest_message_received() -> None:
    from event_data.loader.consumer import _oldest_age_seconds

    messages = [
        {"Attributes": {"SentTimestamp": "1000000"}},
        {"Attributes": {"SentTimestamp": "1004000"}},
        {"Attributes": {}},
    ]
    assert _oldest_age_seconds(messages, 1010.0) == 10.0
    assert _oldest_age_seconds([], 1010.0) == 0.0


def test_queue_lag_is_the_largest_received_in_the_window_and_outlives_empty_receives() -> None:
    from event_data.metrics import RecentMax

    now = [0.0]
    lag = RecentMax(60, clock=lambda: now[0])
    assert lag.value() == 0.0
    lag.record(30.0)  # an old message; then receives that found the queue empty record nothing
    now[0] = 10.0
    assert lag.value() == 30.0
    now[0] = 20.0
    lag.record(5.0)
    lag.record(2.0)
    assert lag.value() == 30.0
    now[0] = 60.0
    assert lag.value() == 5.0  # the 30 s one left the window
    lag.record(7.0)
    assert lag.value() == 7.0
    now[0] = 121.0
    assert lag.value() == 0.0  # nothing received for a minute


# --- request ids ----------------------------------------------------------------------------


async def test_a_request_id_is_returned_and_a_sane_incoming_one_kept(
    client: httpx.AsyncClient,
) -> None:
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    kept = await client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc:9"})
    assert kept.headers["x-request-id"] == "lb-1234.abc:9"


@pytest.mark.parametrize(
    "incoming", ["a" * 65, "has space", "semi;colon", "caf\u00e9", "<script>", "a/b"]
)
async def test_an_odd_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.get("/healthz", headers=[(b"X-Request-ID", incoming.encode("latin-1"))])
    assert response.status_code == 200
    assert response.headers["x-request-id"] != incoming
    assert len(response.headers["x-request-id"]) == 32


# --- rate limit -----------------------------------------------------------------------------


async def test_rate_limit_answers_429_in_sparkposts_shape_per_key(
    app_factory: AppFactory,
) -> None:
    client = await app_factory(EVENT_DATA_RATE_LIMIT_PER_MINUTE="3")
    window = {"from": "2016-02-01T00:00Z", "to": "2016-02-03T00:00Z"}
    for _ in range(3):
        assert (await query(client, **window)).status_code == 200
    refused = await query(client, **window)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["errors"][0]
    assert set(error) == {"message", "description", "code"}
    assert error["code"] == "1429"
    # another key has its own bucket; a request without a valid key is a 401 and takes nothing
    other = await client.get(
        "/api/v1/events/message", params=window, headers={"Authorization": "other-key"}
    )
    assert other.status_code == 200
    assert (
        await client.get("/api/v1/events/message", headers={"Authorization": "wrong"})
    ).status_code == 401
    # the webhook is never limited
    assert (await post_batch(client, b"[]", "not-limited")).status_code == 200
    assert API_KEY not in refused.text


async def test_rate_limit_is_off_by_default(client: httpx.AsyncClient) -> None:
    window = {"from": "2016-02-01T00:00Z", "to": "2016-02-03T00:00Z"}
    statuses = {(await query(client, **window)).status_code for _ in range(30)}
    assert statuses == {200}


def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    for _ in range(60):
        limiter.check("k")
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("k")
    assert refused.value.retry_after_seconds == 1
    now[0] += 1.0
    limiter.check("k")
    with pytest.raises(TooManyRequests):
        limiter.check("k")
    now[0] += 120.0  # a long pause fills the bucket, never beyond its size
    for _ in range(60):
        limiter.check("k")
    with pytest.raises(TooManyRequests):
        limiter.check("k")
