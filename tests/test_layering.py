"""Dependencies point one way (docs/style.md): the edge and the loader use the store, the archive
and the event model, never each other; only the store speaks to the database driver."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "service" / "event_data"

# package -> packages (of event_data) it must not import
FORBIDDEN = {
    "api": {"loader", "maintenance"},
    "loader": {"api", "ingest", "query", "maintenance"},
    "maintenance": {"api", "loader", "ingest", "query"},
    "ingest": {"store", "loader", "query", "api", "maintenance"},
    "archive": {"store", "loader", "query", "api", "ingest", "maintenance"},
    "events": {"store", "loader", "query", "api", "ingest", "archive", "maintenance"},
    "query": {"api", "loader", "ingest", "maintenance"},
    "store": {"api", "loader", "ingest", "query", "maintenance"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_what_it_must_not(package: str) -> None:
    offenders = []
    for path in (PACKAGE / package).rglob("*.py"):
        for name in _imports(path):
            for banned in FORBIDDEN[package]:
                if name == f"event_data.{banned}" or name.startswith(f"event_data.{banned}."):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_only_the_store_imports_the_database_driver() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in _modules()
        if "asyncpg" in {name.split(".")[0] for name in _imports(path)}
        and path.relative_to(PACKAGE).parts[0] != "store"
    ]
    assert offenders == []
