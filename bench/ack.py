"""P2: the ack path. At concurrency 1, the p99 of POSTing a 1,000-event batch to the webhook
until its 200, minus the p99 of a plain PutObject of the same stored bytes (the batch as the
receiver compresses it) to the same S3 endpoint with the service's own client settings. The two
alternate, request by request, so both see the same machine, and both write to a bucket
without the S3→SQS notification (see ``Moto.without_notification``). Throughput at concurrency 16 is
measured beside it.

The service runs with its loader off, so the ack path is measured alone; P3 measures the two
together.
"""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import common
from bench.queries import LeanHttp
from bench.stack import PREFIX, WEBHOOK_AUTH, Aws, profiled, service
from event_data.archive.compression import compress_batch
from event_data.archive.keys import archive_key, content_digest
from event_data.aws import open_aws_clients

TARGET_MS = 5.0
CONCURRENT_SENDERS = 16


def _headers(batch_id: str) -> dict[str, str]:
    credentials = base64.b64encode(":".join(WEBHOOK_AUTH).encode()).decode()
    return {
        "Authorization": f"Basic {credentials}",
        "Content-Type": "application/json",
        "X-MessageSystems-Batch-ID": batch_id,
    }


async def _post_lean(client: LeanHttp, body: bytes, batch_id: str) -> float:
    started = time.perf_counter()
    await client.post("/webhooks/sparkpost", body, _headers(batch_id))
    return time.perf_counter() - started


async def _post(client: httpx.AsyncClient, body: bytes, batch_id: str) -> float:
    started = time.perf_counter()
    response = await client.post(
        "/webhooks/sparkpost",
        content=body,
        headers={"Content-Type": "application/json", "X-MessageSystems-Batch-ID": batch_id},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
    return elapsed


async def measure(
    database_url: str,
    aws: Aws,
    workdir: Path,
    requests: int,
    seconds: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    bodies = common.batches(
        seed=21, start=start, end=start + timedelta(days=1), events=requests * 1000
    )
    stored = [compress_batch(b) for b in bodies]
    settings = common.settings(database_url, aws)
    receiver = service(database_url, aws, workdir, "p2-ack", loader=False)
    await receiver.start()
    ack: list[float] = []
    put: list[float] = []
    try:
        async with (
            LeanHttp(receiver.base_url) as client,
            open_aws_clients(settings) as clients,
        ):

            async def put_object(i: int) -> float:
                digest = content_digest(bodies[i])
                key = archive_key(PREFIX, f"p2-put-{i}", digest, datetime.now(UTC))
                started = time.perf_counter()
                await clients.s3.put_object(
                    Bucket=aws.bucket,
                    Key=key,
                    Body=stored[i],
                    ContentType="application/json",
                    ContentEncoding="zstd",
                    Metadata={"batch-id": f"p2-{i}"},
                )
                return time.perf_counter() - started

            for _ in range(3):  # warm connections on both sides
                await _post_lean(client, bodies[0], "p2-warm")
                await put_object(0)
            with profiled(receiver, profile):
                for i in range(len(bodies)):
                    if i % 2:
                        ack.append(await _post_lean(client, bodies[i], f"p2-{i}"))
                        put.append(await put_object(i))
                    else:
                        put.append(await put_object(i))
                        ack.append(await _post_lean(client, bodies[i], f"p2-{i}"))
            throughput = await _throughput(receiver.base_url, bodies, seconds)
    finally:
        receiver.stop()

    ack_p99, put_p99 = common.percentile(ack, 99), common.percentile(put, 99)
    value = (ack_p99 - put_p99) * 1000
    return {
        "value": round(value, 2),
        "target": f"<= {TARGET_MS} ms",
        "met": value <= TARGET_MS,
        "detail": {
            "requests": len(ack),
            "events_per_batch": 1000,
            "raw_bytes_per_batch": round(sum(map(len, bodies)) / len(bodies)),
            "stored_bytes_per_batch": round(sum(map(len, stored)) / len(stored)),
            "ack_p99_ms": common.ms(ack_p99),
            "ack_p50_ms": common.ms(common.percentile(ack, 50)),
            "put_object_p99_ms": common.ms(put_p99),
            "put_object_p50_ms": common.ms(common.percentile(put, 50)),
            "concurrency_16": throughput,
        },
    }


async def _throughput(base_url: str, bodies: list[bytes], seconds: float) -> dict[str, Any]:
    """Batches acknowledged per second with 16 senders posting back to back."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=CONCURRENT_SENDERS)

    async with httpx.AsyncClient(
        base_url=base_url, auth=WEBHOOK_AUTH, timeout=60, limits=limits
    ) as client:

        async def sender(n: int) -> None:
            i = n
            while time.monotonic() < deadline:
                latencies.append(await _post(client, bodies[i % len(bodies)], f"p2-c16-{i}"))
                i += CONCURRENT_SENDERS

        started = time.perf_counter()
        await asyncio.gather(*(sender(n) for n in range(CONCURRENT_SENDERS)))
        elapsed = time.perf_counter() - started
    return {
        "batches": len(latencies),
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(latencies) * 1000 / elapsed),
        "ack_p99_ms": common.ms(common.percentile(latencies, 99)),
    }
