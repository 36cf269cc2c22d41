"""Prometheus metrics, named once here and served on ``/metrics``.

Counters and histograms count what this task did; the gauges that describe shared state (DLQ
depth, default-partition rows, partitions) are refreshed by every task's maintenance round, so
whichever task is scraped reports them. The queue lag is this task's loader's: the oldest
message it received lately (:class:`RecentMax`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

# The queue-lag gauge's window: a minute, three 20 s long polls, so that one empty receive (or
# several, while batches of older messages are still loading) does not read as "no lag".
QUEUE_LAG_WINDOW_SECONDS = 60.0


class RecentMax:
    """The largest value recorded in the last ``window_seconds``; 0 when none was."""

    def __init__(self, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_seconds
        self._clock = clock
        # (recorded at, value), values decreasing: a value recorded before a larger one can
        # never be the maximum again.
        self._samples: deque[tuple[float, float]] = deque()

    def record(self, value: float) -> None:
        while self._samples and self._samples[-1][1] <= value:
            self._samples.pop()
        self._samples.append((self._clock(), value))

    def value(self) -> float:
        cutoff = self._clock() - self._window
        while self._samples and self._samples[0][0] <= cutoff:
            self._samples.popleft()
        return self._samples[0][1] if self._samples else 0.0


# --- receiving ---------------------------------------------------------------------------------
# One counter, one outcome a request: their sum is the webhook requests received.
WEBHOOK_BATCHES = Counter(
    "event_data_webhook_batches_total",
    "Webhook requests by outcome: archived, ping; refused: unauthorized, too_large, not_json, "
    "not_array, unavailable (the archive could not be written), rejected (any other 4xx); "
    "error (an unexpected failure).",
    ["outcome"],
)
WEBHOOK_ACK_SECONDS = Histogram(
    "event_data_webhook_ack_seconds",
    "Time from request start to the 200 of an archived batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# --- loading -----------------------------------------------------------------------------------
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
QUEUE_LAG = RecentMax(QUEUE_LAG_WINDOW_SECONDS)
QUEUE_LAG_SECONDS = Gauge(
    "event_data_loader_queue_lag_seconds",
    "Largest age (receive time - SQS SentTimestamp) of a message this task received in the "
    f"last {QUEUE_LAG_WINDOW_SECONDS:g} s; 0 when it received none in that time.",
)
QUEUE_LAG_SECONDS.set_function(QUEUE_LAG.value)
DLQ_DEPTH = Gauge(
    "event_data_dlq_messages",
    "Messages in the dead-letter queue (visible and in flight), as of the last maintenance round.",
)

DLQ_UNREADABLE = Counter(
    "event_data_dlq_unreadable_total",
    "Maintenance rounds that could not read the dead-letter queue's depth (the gauge is stale).",
)

# --- storing and maintenance -------------------------------------------------------------------
DEFAULT_PARTITION_ROWS = Gauge(
    "event_data_default_partition_rows",
    "Rows in events_default: event times outside every daily partition (should be 0).",
)
PARTITIONS = Gauge("event_data_partitions", "Daily partitions of the events table.")
PARTITIONS_CREATED = Counter(
    "event_data_partitions_created_total", "Daily partitions made ahead by the maintenance task."
)
PARTITIONS_DROPPED = Counter(
    "event_data_partitions_dropped_total",
    "Daily partitions dropped because their day passed the retention horizon.",
)
PARTITIONS_REATTACHED = Counter(
    "event_data_partitions_reattached_total",
    "Daily partitions found detached (inside the retention horizon) and attached again.",
)
DEFAULT_ROWS_MOVED = Counter(
    "event_data_default_rows_moved_total",
    "Rows moved out of events_default into the daily partition made for their day.",
)
DEFAULT_ROWS_EXPIRED = Counter(
    "event_data_default_rows_expired_total",
    "Rows deleted from events_default because they are older than the retention horizon.",
)
MAINTENANCE_RUNS = Counter(
    "event_data_maintenance_runs_total",
    "Maintenance rounds, by outcome (ran, skipped: another task held the lock, failed).",
    ["outcome"],
)

# --- HTTP --------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "event_data_http_requests_total",
    "HTTP requests by method, route and status.",
    ["method", "route", "status"],
)
RATE_LIMITED = Counter(
    "event_data_rate_limited_total", "Query API requests refused with 429 by the per-key limit."
)
