"""Fuzzing the query routes with schemathesis against the service's own ``/openapi.json``
(issue "Bad input"): the real process on a port, SparkPost's sample loaded, the API key sent;
whatever the parameters, no 5xx and every answer as the document describes it.

Seeded, as the webhook fuzzing is, so that a run is reproducible; change FUZZ_SEED to explore."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import API_KEY, Aws, sample_batch_bytes
from tests.live_server import LiveServer, live_server

QUERY_ROUTES = ("/api/v1/events/message", "/api/v1/events/message/export")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Per route and mode: enough to reach every parameter, bounded to a few seconds each.
MAX_EXAMPLES = {GenerationMode.POSITIVE: 120, GenerationMode.NEGATIVE: 60}
FUZZ_SEED = 20261201


def fuzz(server: LiveServer) -> int:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json", timeout=10)
    calls = 0
    for at, path in enumerate(QUERY_ROUTES):
        operation = schema[path]["GET"]
        for mode, examples in MAX_EXAMPLES.items():

            @seed(FUZZ_SEED + at)
            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(
                    base_url=server.base_url,
                    headers={"Authorization": API_KEY},
                    checks=CHECKS,
                    timeout=30,
                )

            call()
    return calls


# About 360 validated requests to a live server, exports included: 7 s idle, several times that
# on a loaded 2-core machine; the suite's 120 s default is too tight a ceiling.
@pytest.mark.timeout(300)
async def test_query_routes_survive_fuzzing(database_url: str, aws: Aws, tmp_path: Path) -> None:
    def run() -> int:
        with live_server(database_url, aws, tmp_path / "service.log") as server:
            server.load_sample(sample_batch_bytes(), 19)
            calls = fuzz(server)
            assert server.healthy()
            assert server.process.poll() is None
            return calls

    calls = await asyncio.to_thread(run)
    assert calls >= 100
