"""The migrations build the schema the code expects, and apply safely more than once."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from event_data.events.codec import StoredEvent
from event_data.store.database import create_engine
from event_data.store.migrate import load_migrations, migrate, migrations_dir
from event_data.store.schema import metadata
from tests.conftest import make_settings


async def test_tables_match_the_code(db: asyncpg.Connection) -> None:
    for table in metadata.sorted_tables:
        rows = await db.fetch(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_name = $1 ORDER BY ordinal_position",
            table.name,
        )
        assert [r["column_name"] for r in rows] == [c.name for c in table.columns], table.name
        nullable = {r["column_name"]: r["is_nullable"] == "YES" for r in rows}
        for column in table.columns:
            assert nullable[column.name] == column.nullable, (table.name, column.name)
    columns = await db.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' "
        "ORDER BY ordinal_position"
    )
    # COPY writes rows in this order
    assert tuple(r["column_name"] for r in columns) == StoredEvent._fields


async def test_events_is_partitioned_by_day_with_a_default(db: asyncpg.Connection) -> None:
    strategy = await db.fetchval(
        "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'events'::regclass"
    )
    assert strategy == "r"
    default = await db.fetchval(
        "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partdefid "
        "WHERE p.partrelid = 'events'::regclass"
    )
    assert default == "events_default"


async def test_expression_indexes_have_no_predicate(db: asyncpg.Connection) -> None:
    """The planner reads an expression's statistics only from an index without a predicate
    (migrations 0004, 0005): beside a partial one it guesses, and on a large history a guess
    picks plans that outlast the statement timeout."""
    expression_indexes = await db.fetch(
        "SELECT indexrelid::regclass::text AS name, indpred IS NOT NULL AS partial"
        " FROM pg_index WHERE indrelid = 'events'::regclass AND indexprs IS NOT NULL"
    )
    names = {row["name"] for row in expression_indexes}
    assert {"events_rcpt_to", "events_campaign_words", "events_recipient_domain_words"} <= names
    assert [row["name"] for row in expression_indexes if row["partial"]] == []


async def _migrate_concurrently(database_url: str, tasks: int = 3) -> list[list[str]]:
    """What several tasks starting together do: each migrates on its own pool."""
    settings = make_settings(database_url=database_url)
    engines = [create_engine(settings) for _ in range(tasks)]
    try:
        return list(await asyncio.gather(*(migrate(e) for e in engines)))
    finally:
        for engine in engines:
            await engine.dispose()


async def test_migrations_are_recorded_and_concurrent_runs_are_safe(database_url: str) -> None:
    results = await _migrate_concurrently(database_url)
    assert results == [[], [], []]  # the template was migrated already
    conn = await asyncpg.connect(database_url)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    finally:
        await conn.close()
    assert versions == [m.version for m in load_migrations()]


async def test_fresh_database_migrates_under_concurrency(template_db: str) -> None:
    from event_data.store.admin import create_database_if_missing, drop_database
    from tests.conftest import ADMIN_URL

    url = ADMIN_URL.rsplit("/", 1)[0] + "/event_data_fresh_migrate"
    await drop_database(url)
    await create_database_if_missing(url)
    try:
        results = await _migrate_concurrently(url)
    finally:
        await drop_database(url)
    applied = [name for result in results for name in result]
    assert sorted(applied) == [m.name for m in load_migrations()]


async def test_an_edited_migration_is_refused(database_url: str) -> None:
    from event_data.store.migrate import MigrationChanged

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    finally:
        await conn.close()
    engine = create_engine(make_settings(database_url=database_url))
    try:
        with pytest.raises(MigrationChanged, match="0001_initial"):
            await migrate(engine)
    finally:
        await engine.dispose()


async def test_migrations_run_without_the_pools_statement_timeout(
    database_url: str, tmp_path: Path
) -> None:
    for path in migrations_dir().glob("*.sql"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "0900_probe.sql").write_text(
        "SET lock_timeout = '7s';\n"
        "CREATE TABLE probe AS SELECT current_setting('statement_timeout') AS statement_timeout,"
        " current_setting('lock_timeout') AS lock_timeout;\n"
    )
    engine = create_engine(make_settings(database_url=database_url))
    try:
        assert await migrate(engine, tmp_path) == ["0900_probe"]
        async with engine.connect() as conn:
            after = (await conn.exec_driver_sql("SHOW statement_timeout")).scalar()
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(database_url)
    try:
        probe = await conn.fetchrow("SELECT * FROM probe")
    finally:
        await conn.close()
    assert probe is not None
    assert probe["statement_timeout"] == "0"  # the pool's 60 s would stop a long index build
    assert probe["lock_timeout"] == "7s"  # the file's own
    assert after == "1min"  # and the pooled connection gets its limit back
