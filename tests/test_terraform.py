"""Terraform and the service agree: the task definition sets what production needs and nothing
the service ignores, the stop timeout covers the graceful shutdown, and the README documents
every variable and output. (tfcheck and checkov check the configuration itself.)"""

from __future__ import annotations

import re

from event_data.cli import GRACEFUL_SHUTDOWN_SECONDS
from event_data.config import load_settings
from tests.conftest import ROOT

TERRAFORM = ROOT / "terraform"
CONFIG = ROOT / "service" / "event_data" / "config.py"
# Read by a library rather than by config.py: asyncpg takes libpq's TLS mode from the environment.
LIBRARY_VARIABLES = {"PGSSLMODE"}


def _map_keys(text: str, name: str) -> set[str]:
    """Upper-case keys of the HCL map ``name = { ... }`` (flat maps only)."""
    match = re.search(rf"^\s*{name}\s*=\s*\{{\n(.*?)^\s*\}}", text, re.MULTILINE | re.DOTALL)
    assert match, f"no map {name}"
    return set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*=", match.group(1), re.MULTILINE))


def _task_variables() -> tuple[set[str], set[str]]:
    ecs = (TERRAFORM / "ecs.tf").read_text()
    return _map_keys(ecs, "environment"), _map_keys(ecs, "secrets")


def _variable_default(name: str) -> str:
    text = (TERRAFORM / "variables.tf").read_text()
    block = re.search(rf'variable "{name}" \{{(.*?)\n\}}', text, re.DOTALL)
    assert block, name
    default = re.search(r"^\s*default\s*=\s*(\S+)", block.group(1), re.MULTILINE)
    assert default, name
    return default.group(1)


def test_the_task_definition_sets_only_variables_the_service_reads() -> None:
    environment, secrets = _task_variables()
    assert not environment & secrets
    read = set(re.findall(r'env, "([A-Z][A-Z0-9_]*)"', CONFIG.read_text())) | LIBRARY_VARIABLES
    assert (environment | secrets) - read == set()


def test_the_task_definition_is_enough_for_production() -> None:
    environment, secrets = _task_variables()
    env = dict.fromkeys(environment | secrets, "x")
    env |= {"EVENT_DATA_ENV": "production", "EVENT_DATA_PORT": "8000", "DATABASE_PORT": "5432"}
    numeric = (
        "EVENT_DATA_RETENTION_DAYS",
        "EVENT_DATA_LOADER_CONCURRENCY",
        "EVENT_DATA_DB_POOL_SIZE",
        "EVENT_DATA_SHUTDOWN_TIMEOUT_SECONDS",
    )
    env |= dict.fromkeys(numeric, "1")
    env["EVENT_DATA_LOG_LEVEL"] = "info"
    settings = load_settings(env)
    # The password is not in the URL: it is read from RDS's secret as connections open.
    assert settings.database_url.startswith("postgresql://x@x:5432/")
    assert settings.database_password_secret == "x"
    assert settings.webhook_password is not None
    assert settings.oauth_client_secret is not None
    assert "DATABASE_URL" not in environment | secrets  # RDS's secret gives the parts


def test_the_stop_timeout_covers_the_graceful_shutdown() -> None:
    locals_tf = (TERRAFORM / "locals.tf").read_text()
    drain = re.search(r"http_drain_seconds\s*=\s*(\d+)", locals_tf)
    assert drain
    assert int(drain.group(1)) == GRACEFUL_SHUTDOWN_SECONDS
    stop = int(_variable_default("stop_timeout_seconds"))
    shutdown = int(_variable_default("shutdown_timeout_seconds"))
    assert shutdown == load_settings({"EVENT_DATA_ENV": "development"}).shutdown_timeout_seconds
    assert stop > GRACEFUL_SHUTDOWN_SECONDS + shutdown


def test_every_variable_and_output_is_documented() -> None:
    readme = (TERRAFORM / "README.md").read_text()
    sources = "".join(path.read_text() for path in sorted(TERRAFORM.glob("*.tf")))
    names = re.findall(r'^(?:variable|output) "([a-z0-9_]+)"', sources, re.MULTILINE)
    assert len(names) > 50
    assert [n for n in names if f"| `{n}` |" not in readme] == []
