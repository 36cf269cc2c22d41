"""The process's long-lived parts, opened by the lifespan and shared with every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.api.ratelimit import RateLimiter
from event_data.archive.s3 import Archive
from event_data.config import DEFAULT_EXPORT_CONCURRENCY, Settings
from event_data.ingest.credentials import WebhookCredentials
from event_data.ingest.receiver import Receiver
from event_data.ingest.tokens import TokenIssuer
from event_data.query.export import ExportSlots
from event_data.query.search import EventSearch

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    archive: Archive
    sqs: SQSClient
    receiver: Receiver
    tokens: TokenIssuer
    webhook_credentials: WebhookCredentials
    search: EventSearch
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))
    export_slots: ExportSlots = field(
        default_factory=lambda: ExportSlots(DEFAULT_EXPORT_CONCURRENCY)
    )
