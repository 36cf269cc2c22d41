"""Prometheus metrics, named once here and served on ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

WEBHOOK_BATCHES = Counter(
    "event_data_webhook_batches_total",
    "Webhook batches by outcome (archived, ping, rejected, unavailable, unauthorized).",
    ["outcome"],
)
WEBHOOK_ACK_SECONDS = Histogram(
    "event_data_webhook_ack_seconds",
    "Time from request start to the 200 of an archived batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCHES_LOADED = Counter(
    "event_data_loader_batches_total",
    "Archived batches handled by the loader, by outcome (loaded, duplicate, failed, poison).",
    ["outcome"],
)
EVENTS_LOADED = Counter(
    "event_data_loader_events_total",
    "Events handled by the loader, by outcome (inserted, duplicate, expired).",
    ["outcome"],
)
LOAD_SECONDS = Histogram(
    "event_data_loader_batch_seconds",
    "Time to load one archived batch, fetch to commit.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
