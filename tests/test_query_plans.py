"""The plans PostgreSQL picks for the Events API's queries, on a generated data set: selective
filters read their index instead of scanning whole partitions, and the time window prunes
partitions (product.md, Storing and P6)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from event_data.query.params import parse_params
from event_data.store.database import create_engine, driver_connection
from event_data.store.filters import PageRequest
from event_data.store.search import Statement, count_statement, page_statements
from event_data.synth import GeneratorConfig
from tests.conftest import make_settings
from tests.generated import generated_database

# Enough rows that the planner weighs an index against a scan as it would in production (with
# a few hundred rows a sequential scan is cheapest whatever the filter); then ANALYZE.
EVENTS = 30_000
DAY = "events_p20260401"
ONE_DAY = {"from": "2026-04-01T00:00Z", "to": "2026-04-02T00:00Z"}


@dataclass
class Plans:
    engine: AsyncEngine
    samples: dict[str, str]


@pytest.fixture(scope="module")
async def plans(template_db: str) -> AsyncIterator[Plans]:
    config = GeneratorConfig(
        seed=3, start=datetime(2026, 4, 1, tzinfo=UTC), end=datetime(2026, 4, 3, tzinfo=UTC)
    )
    async with generated_database(template_db, config, EVENTS) as url:
        engine = create_engine(make_settings(database_url=url))
        try:
            async with engine.connect() as conn:
                sample = text(
                    "SELECT rcpt_to, message_id, transmission_id, campaign_id, subject,"
                    " rcpt_meta->'customer'->>'id' AS customer FROM events"
                    " WHERE ts >= '2026-04-01' AND ts < '2026-04-02'"
                    " AND campaign_id IS NOT NULL AND subject IS NOT NULL"
                    " AND rcpt_meta ? 'customer' ORDER BY ts LIMIT 1 OFFSET 500"
                )
                row = (await conn.execute(sample)).one()
                tag = await conn.scalar(
                    text("SELECT rcpt_tags->>0 FROM events WHERE rcpt_tags <> '[]' LIMIT 1")
                )
            samples = {
                "recipients": row.rcpt_to,
                "messages": row.message_id,
                "transmissions": row.transmission_id,
                "campaigns": row.campaign_id,
                "subjects": row.subject,
                "rcpt_meta": f"customer.id:{row.customer}",
                "rcpt_tags": str(tag),
            }
            yield Plans(engine, samples)
        finally:
            await engine.dispose()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _plan(conn: AsyncConnection, statement: Statement) -> list[dict[str, Any]]:
    """The plan of the statement exactly as the API sends it to the driver."""
    raw = await driver_connection(conn)
    result = await raw.fetchval(f"EXPLAIN (FORMAT JSON) {statement.sql}", *statement.args)
    if isinstance(result, str):  # json text, where the connection has no codec for json
        result = orjson.loads(result)
    return list(_nodes(result[0]["Plan"]))


async def _parent_index(conn: AsyncConnection, partition_index: str) -> str:
    parent = await conn.scalar(
        text(
            "SELECT p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname = :name"
        ).bindparams(name=partition_index)
    )
    return str(parent)


def _scanned(nodes: list[dict[str, Any]]) -> set[str]:
    return {n["Relation Name"] for n in nodes if "Relation Name" in n}


SELECTIVE = {
    "recipients": "events_rcpt_to",
    "messages": "events_message_id",
    "transmissions": "events_transmission_id",
    "campaigns": "events_campaign_words",
    "subjects": "events_subject_words",
    "rcpt_meta": "events_rcpt_meta",
    "rcpt_tags": "events_rcpt_tags",
}


@pytest.mark.parametrize("name", sorted(SELECTIVE))
async def test_selective_filters_read_their_index(plans: Plans, name: str) -> None:
    value = plans.samples[name]
    if name == "subjects":
        value = value.split()[-1]
    params = parse_params({**ONE_DAY, name: value})
    assert params.explicit_from is not None
    assert params.explicit_to is not None
    flt = params.event_filter(params.explicit_from, params.explicit_to)
    async with plans.engine.connect() as conn:
        # The count reads every match: it must come from the filter's own index.
        counted = await _plan(conn, count_statement(flt))
        assert not [n for n in counted if n["Node Type"] == "Seq Scan"], counted
        used = {await _parent_index(conn, n["Index Name"]) for n in counted if "Index Name" in n}
        assert SELECTIVE[name] in used, counted
        assert _scanned(counted) == {DAY}
        # A page may instead walk the primary key newest first and stop at the page's end.
        paged = await _plan(conn, page_statements(PageRequest(flt, per_page=1000)).rows)
        assert not [n for n in paged if n["Node Type"] == "Seq Scan"], paged
        assert _scanned(paged) == {DAY}


async def test_the_window_prunes_partitions(plans: Plans) -> None:
    async with plans.engine.connect() as conn:
        for window, partitions in (
            (ONE_DAY, {DAY}),
            ({"from": "2026-04-01T06:00Z", "to": "2026-04-01T07:00Z"}, {DAY}),
            (
                {"from": "2026-04-01T23:00Z", "to": "2026-04-02T01:00Z"},
                {DAY, "events_p20260402"},
            ),
            ({"from": "2026-04-01T00:00Z", "to": "2026-04-01T06:00Z", "campaigns": "x"}, {DAY}),
        ):
            params = parse_params(window)
            assert params.explicit_from is not None
            assert params.explicit_to is not None
            flt = params.event_filter(params.explicit_from, params.explicit_to)
            for statement in (count_statement(flt), page_statements(PageRequest(flt, 100)).rows):
                assert _scanned(await _plan(conn, statement)) == partitions, window
