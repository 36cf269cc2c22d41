"""``event-data serve`` as a real process on a free port, for clients that speak real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import API_KEY, SAMPLE_WINDOW, WEBHOOK_AUTH, Aws, _free_port


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def load_sample(self, batch: bytes, expected: int) -> None:
        """Post a batch through the webhook and wait until the query API counts it."""
        response = httpx.post(
            f"{self.base_url}/webhooks/sparkpost",
            content=batch,
            auth=WEBHOOK_AUTH,
            headers={"Content-Type": "application/json", "X-MessageSystems-Batch-ID": "live-1"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 20
        total = -1
        while time.monotonic() < deadline:
            page = httpx.get(
                f"{self.base_url}/api/v1/events/message",
                params={**SAMPLE_WINDOW, "per_page": "1"},
                headers={"Authorization": API_KEY},
                timeout=10,
            )
            total = page.json()["total_count"]
            if total >= expected:
                return
            time.sleep(0.1)
        raise AssertionError(f"expected {expected} events, saw {total}")


@contextmanager
def live_server(
    database_url: str, aws: Aws, log_path: Path, log_level: str = "warning"
) -> Iterator[LiveServer]:
    port = _free_port()
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
        "EVENT_DATA_LOG_LEVEL": log_level,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "event_data.cli", "serve"], env=env, stdout=log, stderr=log
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 30
        while not server.healthy():
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("service did not start: " + log_path.read_text())
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
