"""P4 (bytes on disk per event ÷ raw JSON bytes per event) and P5 (archive bytes per event ÷ raw
JSON bytes per event), read off the loaded dataset."""

from __future__ import annotations

from typing import Any

import asyncpg

DISK_TARGET = 1.0
ARCHIVE_TARGET = 0.12

# Each partition's index, under the name of the index on `events` it belongs to.
_INDEX_SIZES = """
SELECT coalesce(parent.relname, i.indexrelid::regclass::text) AS name,
       sum(pg_relation_size(i.indexrelid))::bigint AS bytes
FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid
LEFT JOIN pg_inherits ih ON ih.inhrelid = i.indexrelid
LEFT JOIN pg_class parent ON parent.oid = ih.inhparent
WHERE h.inhparent = 'events'::regclass
GROUP BY 1
"""
# Heap, TOAST (with its index), free space and visibility maps, and indexes of every partition.
_TOTALS = """
SELECT sum(pg_relation_size(h.inhrelid))::bigint AS heap,
       sum(pg_table_size(h.inhrelid) - pg_relation_size(h.inhrelid))::bigint AS toast_and_maps,
       sum(pg_indexes_size(h.inhrelid))::bigint AS indexes,
       sum(pg_total_relation_size(h.inhrelid))::bigint AS total
FROM pg_inherits h WHERE h.inhparent = 'events'::regclass
"""


async def measure_disk(conn: asyncpg.Connection, events: int, raw_bytes: int) -> dict[str, Any]:
    """P4 on the tables as they are now (after VACUUM ANALYZE, which the caller runs)."""
    totals = await conn.fetchrow(_TOTALS)
    indexes = {
        row["name"].removeprefix("events_"): row["bytes"] for row in await conn.fetch(_INDEX_SIZES)
    }
    stored = await conn.fetchval("SELECT count(*) FROM events")
    raw_per_event = raw_bytes / events
    disk_per_event = totals["total"] / stored
    ratio = disk_per_event / raw_per_event
    return {
        "value": round(ratio, 3),
        "target": f"<= {DISK_TARGET}",
        "met": ratio <= DISK_TARGET,
        "detail": {
            "events": stored,
            "raw_json_bytes": raw_bytes,
            "raw_bytes_per_event": round(raw_per_event, 1),
            "disk_bytes": totals["total"],
            "disk_bytes_per_event": round(disk_per_event, 1),
            "heap_bytes": totals["heap"],
            "toast_and_maps_bytes": totals["toast_and_maps"],
            "index_bytes": totals["indexes"],
            "index_bytes_per_event": {
                name: round(size / stored, 1) for name, size in sorted(indexes.items())
            },
        },
    }


def archive_ratio(events: int, raw_bytes: int, archive_bytes: int) -> dict[str, Any]:
    ratio = archive_bytes / raw_bytes
    return {
        "value": round(ratio, 3),
        "target": f"<= {ARCHIVE_TARGET}",
        "met": ratio <= ARCHIVE_TARGET,
        "detail": {
            "events": events,
            "raw_json_bytes": raw_bytes,
            "archive_bytes": archive_bytes,
            "archive_bytes_per_event": round(archive_bytes / events, 1),
        },
    }
