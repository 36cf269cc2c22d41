"""The connection pool, and reaching the asyncpg connection under SQLAlchemy for COPY."""

from __future__ import annotations

from typing import Any, cast

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from event_data.config import Settings
from event_data.dbsecret import SecretPassword

# Statements of the query API and the loader are short; a runaway one is a bug, not a workload.
STATEMENT_TIMEOUT_MS = 60_000


def create_engine(settings: Settings) -> AsyncEngine:
    """One pool per process, shared by the receiver, the loader and the query API."""
    connect_args: dict[str, Any] = {}
    if settings.database_password_secret is not None:
        # asyncpg calls it for every new connection: a rotated password is followed.
        connect_args["password"] = SecretPassword(
            settings.database_password_secret,
            region=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url,
        )
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            **connect_args,
            "server_settings": {
                "application_name": "event-data",
                "statement_timeout": str(STATEMENT_TIMEOUT_MS),
                # A generic plan of a prepared statement locks every partition, the default
                # one included, which would stall making new partitions.
                "plan_cache_mode": "force_custom_plan",
            },
        },
    )


async def driver_connection(conn: AsyncConnection) -> asyncpg.Connection[Any]:
    """The asyncpg connection behind an SQLAlchemy one (COPY and multi-statement scripts)."""
    raw = await conn.get_raw_connection()
    return cast("asyncpg.Connection[Any]", raw.driver_connection)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
