"""What the run's figures mean for a deployment: events per GB, how long the 20 GB free-tier
database lasts, events per second per task, and what 20,000 events/s would take."""

from __future__ import annotations

import math
from typing import Any

FREE_TIER_BYTES = 20 * 10**9
PEAK_EVENTS_PER_S = 20_000
SECONDS_PER_DAY = 86_400


def plan(results: dict[str, Any]) -> dict[str, Any]:
    disk = results["P4"]["detail"]["disk_bytes_per_event"]
    loader = results["P1"]["detail"]["loader_events_per_s"]
    copy = results["P1"]["detail"]["copy_events_per_s"]
    ack = results["P2"]["detail"]["concurrency_16"]["events_per_s"]
    service_us = results["P1"]["detail"]["cpu_us_per_event_loading"]["service"]
    # What one vCPU of a task loads when it has the core to itself (in production the
    # database, S3 and SQS are elsewhere), and what it also acknowledges.
    load_per_core = 1e6 / service_us
    per_task = 1 / (1 / load_per_core + 1 / ack)
    per_day = PEAK_EVENTS_PER_S * SECONDS_PER_DAY
    return {
        "disk_bytes_per_event": disk,
        "events_per_gb": round(10**9 / disk),
        "free_tier_20gb_days_at_1m_per_day": round(FREE_TIER_BYTES / (disk * 1_000_000), 1),
        "free_tier_20gb_days_at_10m_per_day": round(FREE_TIER_BYTES / (disk * 10_000_000), 1),
        "ack_events_per_s_per_task": ack,
        "loader_events_per_s_here": loader,
        "loader_events_per_s_per_vcpu": round(load_per_core),
        "events_per_s_per_vcpu_task": round(per_task),
        "tasks_for_20000_events_per_s": math.ceil(PEAK_EVENTS_PER_S / per_task),
        "database_copy_ceiling_events_per_s_here": copy,
        "database_cores_for_20000_events_per_s": round(
            PEAK_EVENTS_PER_S / copy * results["machine"]["cpus"], 1
        ),
        "database_gb_per_day_at_20000_events_per_s": round(per_day * disk / 10**9, 1),
        "database_gb_for_30_days_at_20000_events_per_s": round(30 * per_day * disk / 10**9),
        "database_gb_for_365_days_at_20000_events_per_s": round(365 * per_day * disk / 10**9),
        "notes": (
            "per task: one vCPU acknowledging and loading the same events, from the service's CPU"
            " per event measured in P1; the database ceiling scales this machine's COPY rate by"
            " its cores"
        ),
    }
