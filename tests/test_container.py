"""The image ECS runs, run the way ECS runs it: read-only root filesystem, non-root user, the
database given as host and user with the password read from a secret (as RDS keeps it), stopped
with SIGTERM.

The image is built with podman (``make image``, cached layers on a warm machine) and run on the
host network against the host's PostgreSQL and the suite's moto server. It is part of ``make
test`` and of CI; ``EVENT_DATA_SKIP_CONTAINER_TEST=1`` is the only way to leave it out.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

from tests.conftest import (
    API_KEY,
    ROOT,
    WEBHOOK_AUTH,
    Aws,
    _free_port,
    post_batch,
    sample_batch_bytes,
    wait_for_count,
)
from tests.test_process import EMAIL

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("EVENT_DATA_SKIP_CONTAINER_TEST") == "1",
        reason="EVENT_DATA_SKIP_CONTAINER_TEST=1",
    ),
    # A fresh machine first installs podman and builds the base image (about 90 s).
    pytest.mark.timeout(900),
]

IMAGE = "localhost/event-data:test"
# The same flags as the Makefile's PODMAN_FLAGS: crun and the default rlimits fail here.
PODMAN_RUN = [
    "podman",
    "run",
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1000:1000",
]
# As ECS runs it: read-only root (podman mounts a tmpfs on /tmp, as the task's /tmp volume).
RUN_FLAGS = ["--detach", "--network", "host", "--read-only"]
DB_PASSWORD = "db-password-from-the-secret"
# ECS's stopTimeout in terraform/ecs.tf; the service must be gone well before SIGKILL.
STOP_TIMEOUT_SECONDS = 30


def _podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], check=check, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """Build the image (installing podman and the local base image first when missing); remove
    it afterwards, with the build layers only it used. The base image stays: it is the slow part
    (debootstrap) and `make image` keeps it as a cache."""
    try:
        subprocess.run(
            ["make", "-s", "image", f"IMAGE={IMAGE}"],
            cwd=ROOT,
            check=True,
            timeout=900,
        )
        yield IMAGE
    finally:
        _podman("rmi", "--force", IMAGE, check=False)
        _podman("image", "prune", "--force", check=False)


@pytest.fixture
def container(image: str, database_url: str, aws: Aws) -> Iterator[tuple[str, str]]:
    name = f"event-data-test-{uuid.uuid4().hex[:10]}"
    port = _free_port()
    db = urlsplit(database_url)
    # Shaped like RDS's secret for the master user (the password is unused with trust auth).
    secret = boto3.client("secretsmanager", endpoint_url=aws.endpoint, region_name="us-east-1")
    secret_arn = secret.create_secret(
        Name=name, SecretString=json.dumps({"username": "postgres", "password": DB_PASSWORD})
    )["ARN"]
    env = {
        # The parts and the secret, not a URL: what the ECS task definition passes.
        "DATABASE_HOST": db.hostname or "127.0.0.1",
        "DATABASE_PORT": str(db.port or 5432),
        "DATABASE_NAME": db.path.lstrip("/"),
        "DATABASE_USER": db.username or "postgres",
        "DATABASE_PASSWORD_SECRET_ARN": secret_arn,
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "EVENT_DATA_BUCKET": aws.bucket,
        "EVENT_DATA_QUEUE_URL": aws.queue_url,
        "EVENT_DATA_HOST": "127.0.0.1",
        "EVENT_DATA_PORT": str(port),
        "EVENT_DATA_WEBHOOK_USER": WEBHOOK_AUTH[0],
        "EVENT_DATA_WEBHOOK_PASSWORD": WEBHOOK_AUTH[1],
        "EVENT_DATA_API_KEYS": API_KEY,
        "EVENT_DATA_SIGNING_KEY": "test-signing-key",
        "EVENT_DATA_RETENTION_DAYS": "0",
    }
    env_args = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
    try:
        # Inside the try: a run that fails or times out may have created the container.
        subprocess.run(
            [*PODMAN_RUN, *RUN_FLAGS, "--name", name, *env_args, image],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield name, f"http://127.0.0.1:{port}"
    finally:
        _podman("rm", "--force", "--time", "0", name, check=False)
        secret.delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)


def _wait_ready(name: str, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if _podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip() != "true":
            break
        time.sleep(0.3)
    raise AssertionError("container not ready: " + _podman("logs", name, check=False).stderr)


def test_image_declares_a_non_root_user(image: str) -> None:
    user = _podman("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
    assert user
    assert user.split(":")[0] not in ("", "0", "root")


async def test_container_loads_answers_and_stops_cleanly_on_sigterm(
    container: tuple[str, str],
) -> None:
    name, base = container
    _wait_ready(name, base)
    user = _podman("exec", name, "id", "-u").stdout.strip()
    assert user != "0"

    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await post_batch(client, sample_batch_bytes(), batch_id="container-1")
        assert response.status_code == 200, response.text
        body = await wait_for_count(client, 19, timeout=30)
        assert body["total_count"] == 19
        assert len(body["results"]) == 19

    # The image's HEALTHCHECK command works inside the running container.
    assert _podman("healthcheck", "run", name, check=False).returncode == 0
    # A read-only root: the service user cannot write outside /tmp.
    assert _podman("exec", name, "touch", "/app/probe", check=False).returncode != 0

    started = time.monotonic()
    _podman("stop", "--time", str(STOP_TIMEOUT_SECONDS), name)
    elapsed = time.monotonic() - started
    state = json.loads(_podman("inspect", "--format", "{{json .State}}", name).stdout)
    assert state["ExitCode"] == 0, _podman("logs", name, check=False).stderr
    assert elapsed < STOP_TIMEOUT_SECONDS - 5  # SIGTERM did it, not the SIGKILL after it

    output = _podman("logs", name)
    logs = (output.stdout + output.stderr).encode()
    events = {json.loads(line).get("event") for line in logs.splitlines() if line.startswith(b"{")}
    assert {"webhook.accepted", "loader.batch_loaded", "loader.stopped"} <= events
    assert EMAIL.search(logs) is None
    for secret in (WEBHOOK_AUTH[1], API_KEY, DB_PASSWORD):
        assert secret.encode() not in logs
