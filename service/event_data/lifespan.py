"""Open the pool and the AWS clients, migrate, start the loader and the maintenance task;
close all in reverse."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette

from event_data.api.ratelimit import RateLimiter
from event_data.archive.s3 import Archive
from event_data.aws import open_aws_clients
from event_data.config import Settings
from event_data.ingest.credentials import WebhookCredentials
from event_data.ingest.receiver import Receiver
from event_data.ingest.tokens import TokenIssuer
from event_data.loader.batch_loader import BatchLoader
from event_data.loader.consumer import QueueConsumer
from event_data.loader.workers import PrepareWorkers
from event_data.logging import get_logger
from event_data.maintenance.queues import DeadLetterQueue
from event_data.maintenance.task import Maintenance, MaintenanceLoop
from event_data.query.cursor import CursorCodec
from event_data.query.export import ExportSlots
from event_data.query.search import EventSearch
from event_data.services import Services
from event_data.store.database import create_engine
from event_data.store.migrate import migrate
from event_data.store.partitions import Partitions

log = get_logger(__name__)


def make_lifespan(settings: Settings) -> object:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Services]]:
        async with AsyncExitStack() as stack:
            engine = create_engine(settings)
            stack.push_async_callback(engine.dispose)
            await migrate(engine)
            clients = await stack.enter_async_context(open_aws_clients(settings))
            archive = Archive(clients.s3, settings.bucket)
            tokens = TokenIssuer(settings.signing_key, settings.oauth_token_ttl_seconds)
            receiver = Receiver(archive, settings.archive_prefix, settings.archive_timeout_seconds)
            stack.callback(receiver.close)
            services = Services(
                settings=settings,
                engine=engine,
                archive=archive,
                sqs=clients.sqs,
                receiver=receiver,
                tokens=tokens,
                webhook_credentials=WebhookCredentials(settings, tokens),
                search=EventSearch(engine, CursorCodec(settings.signing_key)),
                rate_limiter=RateLimiter(settings.rate_limit_per_minute),
                export_slots=ExportSlots(settings.export_concurrency),
            )
            partitions = Partitions(engine)
            await partitions.existing()
            if settings.loader_enabled and settings.queue_url:
                workers = PrepareWorkers(settings.loader_processes)
                stack.callback(workers.close)
                # In the background: a restarted task answers the webhook at once, and the
                # first batches wait for the workers instead.
                starting = asyncio.create_task(workers.start(), name="loader-workers")
                stack.callback(starting.cancel)
                consumer = QueueConsumer(
                    clients.sqs,
                    settings.queue_url,
                    BatchLoader(engine, archive, partitions, settings.retention_days, workers),
                    engine,
                    settings.loader_concurrency,
                )
                consumer.start()
                stack.push_async_callback(consumer.stop, settings.shutdown_timeout_seconds)
            if settings.maintenance_interval_seconds > 0:
                dlq = (
                    DeadLetterQueue(clients.sqs, settings.queue_url, settings.dlq_url)
                    if settings.queue_url or settings.dlq_url
                    else None
                )
                maintenance = MaintenanceLoop(
                    Maintenance(engine, partitions, settings.retention_days, dlq),
                    settings.maintenance_interval_seconds,
                )
                maintenance.start()
                stack.push_async_callback(maintenance.stop)
            # What is open now lives as long as the process: out of the collector's full passes,
            # which would walk all of it in the middle of a request (60 ms seen on a 1,000-event
            # page) to find nothing to free.
            gc.freeze()
            log.info("service.started", environment=settings.environment)
            try:
                yield {"services": services}
            finally:
                gc.unfreeze()
            log.info("service.stopping")

    return lifespan
