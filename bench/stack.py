"""What the benchmark runs on: a scratch database on the local PostgreSQL, a moto server in its
own process for S3 and SQS, and ``event-data serve`` as a real process."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from event_data import devstack
from event_data.store.admin import create_database_if_missing, drop_database
from tests.chaos.ports import free_port
from tests.chaos.service import ServiceProcess, service_env

REGION = "us-east-1"
PREFIX = "batches/"
WEBHOOK_AUTH = ("sparkpost", "bench-webhook-password")
API_KEY = "bench-api-key"
SIGNING_KEY = "bench-signing-key-0123456789abcdef"
ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432")
MOTO_STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class Aws:
    endpoint: str
    bucket: str
    queue_url: str
    dlq_url: str


class Moto:
    """moto in a process of its own, so the service and the benchmark's clients each have a
    core's worth of Python to themselves and moto's work is not counted against either."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> None:
        devstack.ensure_fake_credentials()
        self.port = free_port()
        moto = Path(sys.executable).with_name("moto_server")
        with (self._workdir / "moto.log").open("ab") as log:
            self._process = subprocess.Popen(
                [str(moto), "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + MOTO_STARTUP_SECONDS
        sqs = boto3.client(
            "sqs",
            endpoint_url=self.url,
            region_name=REGION,
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        while time.monotonic() < deadline and self._process.poll() is None:
            with contextlib.suppress(BotoCoreError, ClientError):
                sqs.list_queues()
                return
            time.sleep(0.1)
        raise RuntimeError(f"moto did not start: see {self._workdir / 'moto.log'}")

    def provision(self) -> Aws:
        """A fresh bucket and queue, with the S3→SQS notification production has."""
        suffix = uuid.uuid4().hex[:8]
        local = devstack.provision(
            self.url,
            region=REGION,
            bucket=f"bench-{suffix}",
            queue_name=f"bench-{suffix}",
            prefix=PREFIX,
        )
        sqs = boto3.client("sqs", endpoint_url=self.url, region_name=REGION)
        sqs.purge_queue(QueueUrl=local.queue_url)  # the s3:TestEvent the notification sent
        return Aws(self.url, local.bucket, local.queue_url, local.dlq_url)

    def without_notification(self, aws: Aws) -> Aws:
        """The same stack with a bucket of its own that sends no S3→SQS notification.

        moto sends a bucket's notification inside PutObject, before it answers, and slows down
        as the undrained queue grows; S3 sends it after the write, so it is no part of a
        PutObject's latency there. The ack path is measured against such a bucket.
        """
        bucket = f"{aws.bucket}-plain"
        s3 = boto3.client("s3", endpoint_url=self.url, region_name=REGION)
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        return dataclasses.replace(aws, bucket=bucket)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@contextlib.asynccontextmanager
async def scratch_database(name: str, *, keep: bool = False) -> AsyncIterator[str]:
    """A database of the benchmark's own, dropped afterwards; with ``keep``, the one of that
    name is used as it is and left in place."""
    url = f"{ADMIN_URL}/{name}"
    if not keep:
        await drop_database(url)
    await create_database_if_missing(url)
    try:
        yield url
    finally:
        if not keep:
            await drop_database(url)


def service(
    database_url: str, aws: Aws, workdir: Path, name: str, *, loader: bool = True
) -> ServiceProcess:
    """``event-data serve`` configured as production is, against the benchmark's stack."""
    port = free_port()
    env = service_env(
        {
            "EVENT_DATA_ENV": "production",
            "DATABASE_URL": database_url,
            "AWS_ENDPOINT_URL": aws.endpoint,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "EVENT_DATA_BUCKET": aws.bucket,
            "EVENT_DATA_QUEUE_URL": aws.queue_url,
            "EVENT_DATA_PORT": str(port),
            "EVENT_DATA_WEBHOOK_USER": WEBHOOK_AUTH[0],
            "EVENT_DATA_WEBHOOK_PASSWORD": WEBHOOK_AUTH[1],
            "EVENT_DATA_API_KEYS": API_KEY,
            # the key the benchmark's own query code signs cursors with, so the two agree
            "EVENT_DATA_SIGNING_KEY": SIGNING_KEY,
            "EVENT_DATA_RETENTION_DAYS": "0",
            "EVENT_DATA_LOADER_ENABLED": "true" if loader else "false",
            "EVENT_DATA_LOG_LEVEL": os.environ.get("BENCH_SERVICE_LOG_LEVEL", "warning"),
        }
    )
    return ServiceProcess(env, port, workdir / f"{name}.log")


@contextlib.contextmanager
def profiled(process: ServiceProcess, output: Path | None) -> Iterator[None]:
    """py-spy sampling the service for the block's duration, written as collapsed stacks (one
    line per stack with its sample count: the input of flame graph tools)."""
    if output is None:
        yield
        return
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(process.pid),
            "--format",
            "raw",
            "--output",
            str(output),
            "--rate",
            "250",
            "--nonblocking",
            "--subprocesses",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attached before the work starts
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on an interrupt
        spy.wait(timeout=30)


def hottest(collapsed: Path, top: int = 12) -> list[tuple[str, float]]:
    """The functions with the most samples of their own, as shares of all samples."""
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        leaf = stack.rsplit(";", 1)[-1]
        own[leaf] = own.get(leaf, 0) + int(count)
    ranked = sorted(own.items(), key=lambda item: -item[1])[:top]
    return [(name, round(100 * n / max(total, 1), 1)) for name, n in ranked]


_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS  # ppid, utime + stime


def cpu_seconds(service_pid: int, moto_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the service (with its worker processes), moto, and
    PostgreSQL's processes (Linux /proc): read before and after a measurement, they tell which
    part the machine's cores went to."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry.name)
        if stat is None:
            continue
        pid = int(entry.name)
        parents[pid], cpu[pid] = stat
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                postgres += stat[1]
        except OSError:
            continue

    def within(pid: int, root: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = parents.get(pid, 0)
        return False

    service = sum(
        seconds for pid, seconds in cpu.items() if service_pid and within(pid, service_pid)
    )
    return {"service": service, "moto": cpu.get(moto_pid, 0.0), "postgres": postgres}


def cpu_used(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores each part kept busy on average over ``seconds``."""
    return {name: round((after[name] - before[name]) / seconds, 2) for name in before}
