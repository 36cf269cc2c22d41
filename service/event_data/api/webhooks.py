"""``POST /webhooks/sparkpost``: authenticate, cap, archive, and only then 200."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from event_data import metrics
from event_data.api.bodies import read_capped_body
from event_data.api.responses import OrjsonResponse
from event_data.errors import EventDataError
from event_data.ingest.receiver import NotABatch, NotJson
from event_data.logging import get_logger
from event_data.services import Services

log = get_logger(__name__)

BATCH_ID_HEADER = "x-messagesystems-batch-id"
# The outcome label of a refused batch, by the status it was refused with (a 400 is told apart
# by its error: see _refusal).
_REFUSALS = {401: "unauthorized", 413: "too_large", 503: "unavailable"}


def _refusal(exc: EventDataError) -> str:
    if isinstance(exc, NotJson):
        return "not_json"
    if isinstance(exc, NotABatch):
        return "not_array"
    return _REFUSALS.get(exc.status_code, "rejected")


async def receive_batch(request: Request) -> Response:
    started = time.perf_counter()
    services: Services = request.state.services
    try:
        method = services.webhook_credentials.authenticate(request.headers)
        body = await read_capped_body(request, services.settings.max_body_bytes)
        receipt = await services.receiver.receive(body, request.headers.get(BATCH_ID_HEADER))
    except EventDataError as exc:
        metrics.WEBHOOK_BATCHES.labels(_refusal(exc)).inc()
        raise
    except Exception:
        # Every request is counted once, so that the outcomes add up to the requests received.
        metrics.WEBHOOK_BATCHES.labels("error").inc()
        raise
    elapsed = time.perf_counter() - started
    if receipt.is_ping:
        metrics.WEBHOOK_BATCHES.labels("ping").inc()
    else:
        metrics.WEBHOOK_BATCHES.labels("archived").inc()
        metrics.WEBHOOK_ACK_SECONDS.observe(elapsed)
    log.info(
        "webhook.accepted",
        batch_id=receipt.batch_id,
        auth=method,
        ping=receipt.is_ping,
        elements=receipt.elements,
        raw_bytes=receipt.raw_bytes,
        stored_bytes=receipt.stored_bytes,
        ms=round(elapsed * 1000, 2),
    )
    return OrjsonResponse(
        {"results": {"batch_id": receipt.batch_id, "archived": not receipt.is_ping}}
    )
