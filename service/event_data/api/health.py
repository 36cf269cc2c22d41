"""``/healthz`` (alive), ``/readyz`` (dependencies) and ``/metrics``; no credentials needed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from event_data.api.responses import OrjsonResponse
from event_data.services import Services
from event_data.store.database import ping
from event_data.store.migrate import pending

CHECK_TIMEOUT_SECONDS = 3.0


async def healthz(request: Request) -> Response:
    return OrjsonResponse({"status": "ok"})


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 - any failure is "unreachable"; details stay private
        return "unreachable"
    return "ok"


async def _migrations(services: Services) -> str:
    try:
        missing = await asyncio.wait_for(pending(services.engine), CHECK_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 - any failure means the state is unknown
        return "unknown"
    return "current" if not missing else "pending"


async def readyz(request: Request) -> Response:
    services: Services = request.state.services
    database, s3, sqs = await asyncio.gather(
        _check(ping(services.engine)),
        _check(services.archive.check()),
        _check(
            services.sqs.get_queue_attributes(
                QueueUrl=services.settings.queue_url, AttributeNames=["QueueArn"]
            )
        ),
    )
    migrations = await _migrations(services) if database == "ok" else "unknown"
    checks = {"database": database, "migrations": migrations, "s3": s3, "sqs": sqs}
    ready = database == "ok" and migrations == "current" and s3 == "ok" and sqs == "ok"
    return OrjsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
