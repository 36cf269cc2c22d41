"""The real thing: ``event-data serve`` as a process on a port, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import json
import re
import signal
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
    sample_batch_bytes,
)
from tests.live_server import LiveServer, live_server

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture
def served(database_url: str, aws: Aws, tmp_path: Path) -> Iterator[LiveServer]:
    # info: the summary lines this test reads are logged at info
    with live_server(database_url, aws, tmp_path / "service.log", log_level="info") as server:
        yield server


async def test_serve_loads_answers_and_stops_cleanly_on_sigterm(served: LiveServer) -> None:
    process, log_path = served.process, served.log_path
    async with httpx.AsyncClient(base_url=served.base_url, timeout=10) as client:
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
