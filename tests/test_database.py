"""The pool hands out live connections: one the server closed while it sat in the pool is
replaced, even one given back a moment ago, which is handed out without a ping. A statement that
fails on the driver connection fails as one through the engine does."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.exc import SQLAlchemyError

from event_data.store.database import create_engine, pooled_driver_connection
from tests.conftest import make_settings


async def _terminate_the_service_connections(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        query = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'event-data'"
        )
        pids = [row["pid"] for row in await admin.fetch(query)]
        assert pids
        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", pids)
        deadline = asyncio.get_running_loop().time() + 10
        while await admin.fetchval(f"SELECT count(*) FROM ({query}) alive"):
            assert asyncio.get_running_loop().time() < deadline, "backends still alive"
            await asyncio.sleep(0.02)
    finally:
        await admin.close()
    await asyncio.sleep(0.05)  # the event loop reads the end of the closed sockets


async def test_a_connection_the_server_closed_is_replaced(database_url: str) -> None:
    engine = create_engine(make_settings(database_url=database_url))
    try:
        async with pooled_driver_connection(engine) as conn:
            first = await conn.fetchval("SELECT pg_backend_pid()")
        await _terminate_the_service_connections(database_url)
        async with pooled_driver_connection(engine) as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") != first
    finally:
        await engine.dispose()


async def test_the_connection_given_back_last_is_handed_out_next(database_url: str) -> None:
    """Sequential queries keep to one warm connection instead of turning over to the one idle
    longest (first in, first out)."""
    engine = create_engine(make_settings(database_url=database_url))
    try:
        async with (
            pooled_driver_connection(engine) as first,
            pooled_driver_connection(engine) as second,
        ):
            first_pid = await first.fetchval("SELECT pg_backend_pid()")
            second_pid = await second.fetchval("SELECT pg_backend_pid()")
        # `second` went back to the pool before `first` (the blocks close inside out).
        assert first_pid != second_pid
        for _ in range(3):
            async with pooled_driver_connection(engine) as conn:
                assert await conn.fetchval("SELECT pg_backend_pid()") == first_pid
    finally:
        await engine.dispose()


async def test_a_failed_statement_on_the_driver_connection_is_a_database_error(
    database_url: str,
) -> None:
    engine = create_engine(make_settings(database_url=database_url))
    try:
        with pytest.raises(SQLAlchemyError):
            async with pooled_driver_connection(engine) as conn:
                await conn.fetchval("SELECT 1 / 0")
        async with pooled_driver_connection(engine) as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("cancellations", [1, 2])
async def test_a_block_cancelled_mid_transaction_leaves_a_usable_connection(
    database_url: str, cancellations: int
) -> None:
    """A second cancellation cuts the rollback of the first short; the connection must not go
    back to the pool still inside the transaction."""
    engine = create_engine(make_settings(database_url=database_url))
    started = asyncio.Event()

    async def hold() -> None:
        async with pooled_driver_connection(engine) as conn, conn.transaction():
            started.set()
            await conn.execute("SELECT pg_sleep(30)")

    try:
        task = asyncio.create_task(hold())
        await started.wait()
        await asyncio.sleep(0.2)
        for _ in range(cancellations):
            task.cancel()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(10), pooled_driver_connection(engine) as conn:
            assert not conn.is_in_transaction()
            async with conn.transaction():
                assert await conn.fetchval("SELECT 1") == 1
    finally:
        await engine.dispose()
