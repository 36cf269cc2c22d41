"""Forward-only SQL migrations from ``migrations/``, applied under an advisory lock.

Several tasks starting together all call :func:`migrate`; the lock makes one of them apply the
files while the others wait and then find nothing left to do.

A migration runs without the pool's ``statement_timeout``: that limit is for the API's and the
loader's short statements, and building an index across every partition of a large ``events``
takes longer. Each file sets its own ``lock_timeout`` where it takes locks, so that a waiting
migration does not hold up the queries queued behind it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from event_data.logging import get_logger
from event_data.store.database import driver_connection

log = get_logger(__name__)

# Arbitrary but fixed: the key every task uses for the migration lock.
MIGRATION_LOCK_KEY = 0x65_76_64_61_74_61  # "evdata"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationChanged(RuntimeError):
    """A migration file differs from the one applied: forward-only means never edit one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_dir() -> Path:
    """The folder of SQL files: packaged beside the code in a wheel, at the repo root otherwise."""
    packaged = Path(__file__).resolve().parent.parent / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def load_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or migrations_dir()
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise ValueError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), path.stem, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two migration files share a version number")
    return found


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def applied_versions(engine: AsyncEngine) -> set[int]:
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        exists = await raw.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not exists:
            return set()
        rows = await raw.fetch("SELECT version FROM schema_migrations")
        return {int(r["version"]) for r in rows}


async def pending(engine: AsyncEngine, folder: Path | None = None) -> list[Migration]:
    done = await applied_versions(engine)
    return [m for m in load_migrations(folder) if m.version not in done]


async def migrate(engine: AsyncEngine, folder: Path | None = None) -> list[str]:
    """Apply every pending migration of ``folder`` (default: :func:`migrations_dir`), each in its
    own transaction; return the names applied."""
    applied: list[str] = []
    async with engine.connect() as conn:
        raw = await driver_connection(conn)
        await raw.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await raw.execute(_CREATE_LEDGER)
            rows = await raw.fetch("SELECT version, checksum FROM schema_migrations")
            done = {int(r["version"]): r["checksum"] for r in rows}
            for migration in load_migrations(folder):
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationChanged(
                            f"{migration.name} was edited after it was applied; "
                            "add a new migration instead"
                        )
                    continue
                async with raw.transaction():
                    # Before the file, so that a file setting its own still decides.
                    await raw.execute("SET LOCAL statement_timeout = 0")
                    await raw.execute(migration.sql)
                    await raw.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                    # SET inside a migration must not leak into the pooled connection.
                    await raw.execute("RESET ALL")
                log.info("db.migration_applied", migration=migration.name)
                applied.append(migration.name)
        finally:
            await raw.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        await conn.rollback()
    return applied
