"""P3: freshness. At a steady 2,000 events/s (a 1,000-event batch every half second), the time
from the webhook's 200 to the moment the Events API returns the batch's last event, for every
batch. The whole pipeline is the real one: receiver, S3, the S3→SQS notification, the loader's
long poll, COPY, and a query over HTTP polled every 25 ms.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from bench import common
from bench.stack import API_KEY, WEBHOOK_AUTH

TARGET_SECONDS = 2.0
RATE_EVENTS_PER_S = 2000
BATCH_EVENTS = 1000
POLL_SECONDS = 0.025
GIVE_UP_SECONDS = 60.0


def _last_event(body: bytes) -> dict[str, str]:
    event = orjson.loads(body)[-1]["msys"]
    fields = next(iter(event.values()))
    return {"event_ids": fields["event_id"]}


async def measure(base_url: str, seconds: float) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    batches = max(4, int(seconds * RATE_EVENTS_PER_S / BATCH_EVENTS))
    bodies = common.batches(
        seed=31,
        start=now - timedelta(minutes=30),
        end=now - timedelta(minutes=2),
        events=batches * BATCH_EVENTS,
    )
    window = {
        "from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    interval = BATCH_EVENTS / RATE_EVENTS_PER_S
    latencies: list[float] = []
    acks: list[float] = []

    async with (
        httpx.AsyncClient(base_url=base_url, auth=WEBHOOK_AUTH, timeout=30) as sender,
        httpx.AsyncClient(base_url=base_url, headers={"Authorization": API_KEY}, timeout=30) as api,
    ):

        async def deliver(i: int, body: bytes, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            sent = time.monotonic()
            response = await sender.post(
                "/webhooks/sparkpost",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-MessageSystems-Batch-ID": f"p3-{i}",
                },
            )
            acked = time.monotonic()
            if response.status_code != 200:
                raise RuntimeError(f"webhook answered {response.status_code}")
            acks.append(acked - sent)
            query = {**window, **_last_event(body), "per_page": "1"}
            while acked + GIVE_UP_SECONDS > time.monotonic():
                page = await api.get("/api/v1/events/message", params=query)
                if page.status_code == 200 and page.json()["total_count"] > 0:
                    latencies.append(time.monotonic() - acked)
                    return
                await asyncio.sleep(POLL_SECONDS)
            raise RuntimeError(f"batch {i} was not visible {GIVE_UP_SECONDS} s after its 200")

        began = time.monotonic() + 0.5
        await asyncio.gather(
            *(deliver(i, body, began + i * interval) for i, body in enumerate(bodies))
        )
        sent_for = time.monotonic() - began

    p95 = common.percentile(latencies, 95)
    return {
        "value": round(p95, 3),
        "target": f"p95 <= {TARGET_SECONDS} s",
        "met": p95 <= TARGET_SECONDS,
        "detail": {
            "batches": len(latencies),
            "events": len(latencies) * BATCH_EVENTS,
            "offered_events_per_s": RATE_EVENTS_PER_S,
            "seconds": round(sent_for, 2),
            "visible_p50_s": round(common.percentile(latencies, 50), 3),
            "visible_p95_s": round(p95, 3),
            "visible_max_s": round(max(latencies), 3),
            "ack_p95_ms": common.ms(common.percentile(acks, 95)),
            "poll_interval_s": POLL_SECONDS,
        },
    }
