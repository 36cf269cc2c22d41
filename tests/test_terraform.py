"""Terraform and the service agree: the task definition sets what production needs and nothing
the service ignores, the stop timeout covers the graceful shutdown, the load balancer forwards
every spelling of the public paths and outlasts a database failover, and the README documents
every variable and output. (tfcheck and checkov check the configuration itself.)"""

from __future__ import annotations

import re

import pytest

from event_data.app import routes
from event_data.cli import GRACEFUL_SHUTDOWN_SECONDS
from event_data.config import ConfigError, load_settings
from tests.conftest import ROOT

TERRAFORM = ROOT / "terraform"
CONFIG = ROOT / "service" / "event_data" / "config.py"
# Read by a library rather than by config.py: asyncpg takes libpq's TLS settings from the
# environment.
LIBRARY_VARIABLES = {"PGSSLMODE", "PGSSLROOTCERT"}
# Production refuses to start without each of these, given the task definition's choices: the
# database URL's parts with the password in RDS's secret, and both webhook schemes.
PRODUCTION_REQUIRES = {
    "EVENT_DATA_BUCKET",
    "EVENT_DATA_QUEUE_URL",
    "EVENT_DATA_API_KEYS",
    "EVENT_DATA_WEBHOOK_USER",
    "EVENT_DATA_WEBHOOK_PASSWORD",
    "EVENT_DATA_OAUTH_CLIENT_ID",
    "EVENT_DATA_OAUTH_CLIENT_SECRET",
    "DATABASE_HOST",
    "DATABASE_USER",
    "DATABASE_PASSWORD_SECRET_ARN",
}
# Production starts without these, but runs wrong: the DLQ gauge is never exported (the task
# role has no GetQueueUrl), the load balancer cannot reach 127.0.0.1, every client's
# X-Forwarded-For is believed, and RDS's TLS is left to "prefer".
PRODUCTION_NEEDS = {
    "EVENT_DATA_ENV",
    "EVENT_DATA_DLQ_URL",
    "EVENT_DATA_HOST",
    "FORWARDED_ALLOW_IPS",
    "PGSSLMODE",
}
# An RDS Multi-AZ failover or reboot takes 60-120 s; /readyz fails meanwhile.
DATABASE_FAILOVER_SECONDS = 120


def _map_keys(text: str, name: str) -> set[str]:
    """Upper-case keys of the HCL map ``name = { ... }`` (flat maps only)."""
    match = re.search(rf"^\s*{name}\s*=\s*\{{\n(.*?)^\s*\}}", text, re.MULTILINE | re.DOTALL)
    assert match, f"no map {name}"
    return set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*=", match.group(1), re.MULTILINE))


def _task_variables() -> tuple[set[str], set[str]]:
    ecs = (TERRAFORM / "ecs.tf").read_text()
    return _map_keys(ecs, "environment"), _map_keys(ecs, "secrets")


def _task_environment() -> dict[str, str]:
    """The task definition's variables, each with a value the service accepts."""
    environment, secrets = _task_variables()
    env = dict.fromkeys(environment | secrets, "x")
    env |= {"EVENT_DATA_ENV": "production", "EVENT_DATA_LOG_LEVEL": "info"}
    numeric = ("_DAYS", "_CONCURRENCY", "_SIZE", "_SECONDS", "_MINUTE", "_BYTES", "_PORT")
    env |= {name: "1000" for name in env if name.endswith(numeric)}
    return env


def _block_number(text: str, block: str, name: str) -> int:
    """``name = N`` inside the first ``block {`` of ``text``."""
    body = re.search(rf"^\s*{block}\s*\{{(.*?)^\s*\}}", text, re.MULTILINE | re.DOTALL)
    assert body, block
    value = re.search(rf"^\s*{name}\s*=\s*(\d+)", body.group(1), re.MULTILINE)
    assert value, name
    return int(value.group(1))


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
    assert (PRODUCTION_REQUIRES | PRODUCTION_NEEDS) - (environment | secrets) == set()
    env = _task_environment()
    settings = load_settings(env)
    assert settings.environment == "production"
    # The password is not in the URL: it is read from RDS's secret as connections open.
    assert settings.database_url.startswith("postgresql://x@x:1000/")
    assert settings.database_password_secret == "x"
    assert settings.webhook_password is not None
    assert settings.oauth_client_secret is not None
    assert "DATABASE_URL" not in environment | secrets  # RDS's secret gives the parts


@pytest.mark.parametrize("name", sorted(PRODUCTION_REQUIRES))
def test_production_refuses_to_start_without_each_required_variable(name: str) -> None:
    env = _task_environment()
    del env[name]
    with pytest.raises(ConfigError):
        load_settings(env)


def test_no_other_task_variable_is_required() -> None:
    """PRODUCTION_REQUIRES is the whole list: production starts without any one of the rest."""
    env = _task_environment()
    for name in sorted(set(env) - PRODUCTION_REQUIRES):
        load_settings({k: v for k, v in env.items() if k != name})


def test_the_load_balancer_forwards_every_spelling_of_the_public_paths() -> None:
    alb = (TERRAFORM / "alb.tf").read_text()
    listed = re.search(r"^\s*webhook_paths\s*=\s*\[(.*?)\]", alb, re.MULTILINE)
    assert listed
    paths = set(re.findall(r'"([^"]+)"', listed.group(1)))
    public = [r.path for r in routes() if r.path.startswith(("/webhooks/", "/oauth/"))]
    assert public
    # The service ignores a trailing slash (api/middleware.py); the listener must forward it too.
    assert {spelling for p in public for spelling in (p, p + "/")} == paths


def test_the_health_check_outlasts_a_database_failover() -> None:
    alb = (TERRAFORM / "alb.tf").read_text()
    interval = _block_number(alb, "health_check", "interval")
    unhealthy = _block_number(alb, "health_check", "unhealthy_threshold")
    assert interval * unhealthy >= DATABASE_FAILOVER_SECONDS * 1.5
    grace = re.search(
        r"health_check_grace_period_seconds\s*=\s*(\d+)", (TERRAFORM / "ecs.tf").read_text()
    )
    assert grace
    healthy = _block_number(alb, "health_check", "healthy_threshold")
    assert int(grace.group(1)) >= interval * healthy + 60


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
