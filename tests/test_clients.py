"""SparkPost's official Node.js client (npm ``sparkpost``), pointed at the real service over
HTTP, pages through SparkPost's sample batch with ``events.searchMessage`` and sees every event
exactly once (product.md: works with the official client libraries)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import API_KEY, SAMPLE_WINDOW, Aws, sample_batch_bytes
from tests.live_server import live_server

NODE_CLIENT = Path(__file__).resolve().parent / "clients" / "node"
NODE = shutil.which("node")
NPM = shutil.which("npm")


def ensure_node_modules() -> None:
    """``make test`` installs them first; a bare ``pytest`` on a fresh clone does it here."""
    if (NODE_CLIENT / "node_modules" / "sparkpost").is_dir():
        return
    assert NPM is not None, "npm is needed to install the Node client"
    subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=NODE_CLIENT, check=True, timeout=300)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
# On a fresh clone without make, npm ci runs inside the test with its own 300 s timeout.
@pytest.mark.timeout(420)
async def test_node_client_pages_through_every_event_once(
    database_url: str, aws: Aws, tmp_path: Path
) -> None:
    def run() -> dict[str, object]:
        assert NODE is not None
        ensure_node_modules()
        with live_server(database_url, aws, tmp_path / "service.log") as server:
            server.load_sample(sample_batch_bytes(), 19)
            done = subprocess.run(
                [
                    NODE,
                    str(NODE_CLIENT / "search.js"),
                    server.base_url,
                    SAMPLE_WINDOW["from"],
                    SAMPLE_WINDOW["to"],
                    "5",
                ],
                env={**os.environ, "SPARKPOST_API_KEY": API_KEY},
                capture_output=True,
                timeout=60,
                check=False,
            )
        assert done.returncode == 0, done.stderr.decode()
        result: dict[str, object] = json.loads(done.stdout)
        return result

    result = await asyncio.to_thread(run)
    assert result["pages"] == 4  # 5 + 5 + 5 + 4
    assert result["total_counts"] == [19, 19, 19, 19]
    events = result["results"]
    assert isinstance(events, list)
    identities = [(e["type"], e.get("event_id"), e["timestamp"]) for e in events]
    assert len(identities) == 19
    assert len(set(identities)) == 19
    expected = json.loads(sample_batch_bytes())
    assert {e["type"] for e in events} == {
        inner["type"] for element in expected for inner in element["msys"].values()
    }
