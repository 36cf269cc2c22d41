"""The connection pool, and reaching the asyncpg connection under SQLAlchemy (COPY, and the
query API's statements, which go to the driver as compiled text)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from event_data.config import Settings
from event_data.dbsecret import SecretPassword
from event_data.logging import get_logger

log = get_logger(__name__)

# Statements of the query API and the loader are short; a runaway one is a bug, not a workload.
STATEMENT_TIMEOUT_MS = 60_000
# A connection given back to the pool this recently is handed out again without asking the
# server whether it is alive. Asking (SQLAlchemy's pool_pre_ping) takes three round trips under
# the asyncpg dialect, BEGIN, an empty query and ROLLBACK: a quarter of a small query's time.
# A connection the server closed meanwhile (a restart, a terminated backend) is known closed
# without asking, its socket having seen the end. HikariCP skips its check the same way
# (aliveBypassWindowMs, 500 ms).
ALIVE_WITHOUT_PING_SECONDS = 1.0
_IDLE_SINCE = "event_data_idle_since"


# The driver's own errors for a connection that was lost or refused, raised past SQLAlchemy by
# the code that talks to asyncpg directly (COPY, the search's prepared statements).
LOST_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.CannotConnectNowError,
    OSError,
)


# A statement the database stopped before it finished: past the statement timeout, or cancelled
# by an operator or a shutdown. The request was sound; the answer is "not now", not a bug.
CANCELLED_STATEMENT_ERRORS: tuple[type[BaseException], ...] = (asyncpg.QueryCanceledError,)


def statement_cancelled(exc: DBAPIError) -> bool:
    return isinstance(exc.orig, CANCELLED_STATEMENT_ERRORS)


def connection_lost(exc: DBAPIError) -> bool:
    """Whether a wrapped driver error means the database went away (retry later) rather than
    that it rejected the statement (a bug)."""
    return bool(exc.connection_invalidated) or isinstance(exc.orig, LOST_CONNECTION_ERRORS)


def create_engine(settings: Settings) -> AsyncEngine:
    """One pool per process, shared by the receiver, the loader and the query API."""
    connect_args: dict[str, Any] = {}
    if settings.database_password_secret is not None:
        secret = SecretPassword(
            settings.database_password_secret,
            region=settings.aws_region,
            endpoint_url=settings.secretsmanager_endpoint_url,
        )
        # SQLAlchemy's asyncpg dialect opens every connection of the pool through this.
        connect_args["async_creator_fn"] = connect_with_secret(secret)
    engine = create_async_engine(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_recycle=1800,
        # The connection given back last is handed out next: a steady flow of queries keeps
        # one connection, and its server process, warm while the rest idle. First-in-first-out
        # turned every request over to the connection idle longest; on 10 M events about 5 %
        # of deep-page requests then waited 50-80 ms for their rows (p95 61-67 ms, 13.9 now).
        pool_use_lifo=True,
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
    _check_liveness_on_checkout(engine)
    return engine


def _check_liveness_on_checkout(engine: AsyncEngine) -> None:
    """Hand out only live connections, pinging only those idle for a while (see
    ALIVE_WITHOUT_PING_SECONDS); a dead one is replaced by a new one, as pool_pre_ping does."""
    pool = engine.sync_engine.pool
    dbapi_error = engine.dialect.loaded_dbapi.Error

    def idle_from_now(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def check(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed the connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since > ALIVE_WITHOUT_PING_SECONDS:
            try:
                dbapi_connection.ping()
            except (dbapi_error, OSError) as exc:
                raise DisconnectionError("the connection did not answer a ping") from exc

    event.listen(pool, "connect", idle_from_now)
    event.listen(pool, "checkin", idle_from_now)
    event.listen(pool, "checkout", check)


Connect = Callable[..., Awaitable["asyncpg.Connection[Any]"]]


def connect_with_secret(secret: SecretPassword, connect: Connect = asyncpg.connect) -> Connect:
    """``connect`` with the secret's password, read again once when the server refuses it.

    RDS changes the password and the secret at the same moment, so for up to the secret's cache
    time after a rotation the cached password is the old one; without this every connection
    opened then (pool growth, pre-ping replacements, recycling) would fail."""

    async def connect_once_more_if_refused(*args: Any, **kwargs: Any) -> asyncpg.Connection[Any]:
        kwargs.pop("password", None)  # the secret's, never one from the URL
        try:
            return await connect(*args, password=secret, **kwargs)
        except asyncpg.InvalidAuthorizationSpecificationError as exc:
            # InvalidPasswordError is one of these; any refused login may be a rotation.
            log.warning("database.login_refused", error=type(exc).__name__)
            secret.expire()
            return await connect(*args, password=secret, **kwargs)

    return connect_once_more_if_refused


async def driver_connection(conn: AsyncConnection) -> asyncpg.Connection[Any]:
    """The asyncpg connection behind an SQLAlchemy one (COPY and multi-statement scripts)."""
    raw = await conn.get_raw_connection()
    return cast("asyncpg.Connection[Any]", raw.driver_connection)


@asynccontextmanager
async def pooled_driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection[Any]]:
    """An asyncpg connection of the pool, given back when the block ends. Any transaction on it
    must end within the block; one that a cancellation left open costs the connection.

    Taken from the pool itself, without an SQLAlchemy connection around it, which the caller
    would not use."""
    pooled = await engine.raw_connection()
    driver = cast("asyncpg.Connection[Any]", pooled.driver_connection)
    try:
        yield driver
    except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
        # As the engine's own connections raise them: callers catch database failures one way.
        # (A connection the server cut mid-use surfaces as InternalClientError.)
        raise DBAPIError(None, None, exc) from exc
    finally:
        # Shielded, as SQLAlchemy's own connections are closed: a cancellation arriving now must
        # not keep the connection out of the pool.
        await asyncio.shield(asyncio.ensure_future(_give_back(pooled, driver)))


async def _give_back(pooled: PoolProxiedConnection, driver: asyncpg.Connection[Any]) -> None:
    # Giving back may await the driver (a reset, a close), so from a greenlet.
    if driver.is_in_transaction():
        # Left so by a second cancellation that cut the rollback short: unfit for the next user.
        await greenlet_spawn(pooled.invalidate)
    await greenlet_spawn(pooled.close)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
