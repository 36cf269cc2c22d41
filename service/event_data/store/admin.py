"""Creating the database itself: for ``make run`` and tests, never for ``serve``."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


def _split(database_url: str) -> tuple[str, str]:
    """(URL of the maintenance database ``postgres``, name of the target database)."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name:
        raise ValueError("DATABASE_URL names no database")
    admin = urlunsplit((parts.scheme.split("+")[0], parts.netloc, "/postgres", parts.query, ""))
    return admin, name


async def create_database_if_missing(database_url: str, template: str | None = None) -> bool:
    """Create the database named by the URL; True when it was created."""
    admin_url, name = _split(database_url)
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        suffix = ""
        if template is not None:
            suffix = " TEMPLATE " + '"' + template.replace('"', '""') + '"'
        await conn.execute(f"CREATE DATABASE {quoted}{suffix}")
        return True
    finally:
        await conn.close()


async def drop_database(database_url: str) -> None:
    admin_url, name = _split(database_url)
    conn = await asyncpg.connect(admin_url)
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await conn.close()
