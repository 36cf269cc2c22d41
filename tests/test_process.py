"""The real thing: ``event-data serve`` as a process on a port, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    API_KEY,
    SAMPLE_WINDOW,
    WEBHOOK_AUTH,
    Aws,
    _free_port,
    sample_batch_bytes,
)

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture
def served(
    database_url: str, aws: Aws, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = _free_port()
    log_path = tmp_path / "service.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_DATA_")}
    env |= {
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_REGION": "us-east-1",
        "EVENT_DATA_BUCKET": aws.bucket,
        "EVENT_DATA_QUEUE_URL": aws.queue_url,
        "EVENT_DATA_PORT": str(port),
        "EVENT_DATA_WEBHOOK_USER": WEBHOOK_AUTH[0],
        "EVENT_DATA_WEBHOOK_PASSWORD": WEBHOOK_AUTH[1],
        "EVENT_DATA_API_KEYS": API_KEY,
        "EVENT_DATA_RETENTION_DAYS": "0",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "event_data.cli", "serve"], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError("service did not start: " + log_path.read_text())
    yield base, process, log_path
    if process.poll() is None:
        process.kill()
        process.wait()


async def test_serve_loads_answers_and_stops_cleanly_on_sigterm(
    served: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    base, process, log_path = served
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await client.post(
            "/webhooks/sparkpost",
            content=sample_batch_bytes(),
            auth=WEBHOOK_AUTH,
            headers={"X-MessageSystems-Batch-ID": "process-1"},
        )
        assert response.status_code == 200
        assert response.headers["x-request-id"]
        total = 0
        for _ in range(100):
            page = await client.get(
                "/api/v1/events/message", params=SAMPLE_WINDOW, headers={"Authorization": API_KEY}
            )
            total = page.json()["total_count"]
            if total == 19:
                break
            await asyncio.sleep(0.1)
        assert total == 19
        assert (await client.get("/readyz")).status_code == 200

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert time.monotonic() - started < 25  # inside the ECS stop timeout

    logs = log_path.read_bytes()
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith(b"{")]
    events = {line.get("event") for line in lines}
    assert {"webhook.accepted", "loader.batch_loaded", "http.request", "loader.stopped"} <= events
    assert "maintenance.stopped" in events
    accepted = next(line for line in lines if line.get("event") == "webhook.accepted")
    assert accepted["batch_id"] == "process-1"
    assert accepted["request_id"]
    # No address, body or secret reaches the logs.
    assert EMAIL.search(logs) is None, EMAIL.search(logs)
    for secret in (WEBHOOK_AUTH[1].encode(), API_KEY.encode(), b"Summer deals"):
        assert secret not in logs
