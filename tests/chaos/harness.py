"""What every scenario runs on: one moto server and one throwaway PostgreSQL cluster for the
suite; per scenario a fresh database, bucket, queue and DLQ, and the service as a process."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import boto3
import orjson
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from event_data import devstack
from event_data.events.normalise import normalise_batch
from tests.chaos import reaper
from tests.chaos.ports import PORT_ATTEMPTS, free_port
from tests.chaos.postgres import ThrowawayCluster
from tests.chaos.proxy import FaultyProxy
from tests.chaos.sender import SendReport, SparkPostSender
from tests.chaos.service import STOP_TIMEOUT_SECONDS, ServiceProcess, command, service_env

REGION = "us-east-1"
PREFIX = "batches/"
WEBHOOK_AUTH = ("sparkpost", "chaos-webhook-password")
API_KEY = "chaos-api-key"
# Short, so that un-deleted messages come back within the scenario.
VISIBILITY_TIMEOUT_SECONDS = 5
# Production's ratio: an outage shorter than maxReceiveCount x visibility spends no batch.
MAX_RECEIVE_COUNT = 10
DRAIN_TIMEOUT_SECONDS = 150.0
COMMAND_TIMEOUT_SECONDS = 120.0
MOTO_STARTUP_TIMEOUT_SECONDS = 30.0
# The most one scenario may take: its load and faults (the longest, kill-9, restarts the service
# four times, 30 s of startup allowed each) and then the drain. Past it the scenario is a
# failed row and the suite goes on to the next.
SCENARIO_BUDGET_SECONDS = 120.0 + DRAIN_TIMEOUT_SECONDS
# After the budget, a cancelled scenario still stops its services (30 s each at most, two
# services in two-tasks).
SCENARIO_TEARDOWN_SECONDS = 2 * STOP_TIMEOUT_SECONDS
# initdb, moto and the proxy at the start; moto and the cluster stopped at the end.
SUITE_OVERHEAD_SECONDS = 120.0


def suite_budget(scenarios: int) -> float:
    """Seconds a suite of ``scenarios`` may take, each using its whole budget."""
    return SUITE_OVERHEAD_SECONDS + scenarios * (
        SCENARIO_BUDGET_SECONDS + SCENARIO_TEARDOWN_SECONDS
    )


class Identity(NamedTuple):
    """What makes an event one event (product.md "Decisions" 1)."""

    event_id: str
    type: str
    ts: datetime


def identities(bodies: Iterable[bytes]) -> set[Identity]:
    """The events the sender sent, identified as the service identifies them."""
    found: set[Identity] = set()
    for body in bodies:
        batch = normalise_batch(orjson.loads(body), datetime.now(UTC))
        # An undated event takes its batch's received time, which differs between deliveries:
        # the suite's expectations only hold for dated events.
        assert batch.ts_fallbacks == 0
        found.update(Identity(e.event_id, e.type, e.ts.astimezone(UTC)) for e in batch.events)
    return found


@dataclass
class Row:
    scenario: str
    sent: int
    expected: int
    stored: int
    duplicates: int
    lost: int
    unexpected: int
    dlq: int
    seconds: float
    notes: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Stage:
    """One scenario's database, bucket, queues and service."""

    def __init__(
        self, suite: Suite, name: str, aws: devstack.LocalAws, database: str, env: dict[str, str]
    ) -> None:
        self.suite = suite
        self.name = name
        self.aws = aws
        self.database = database
        self.database_url = suite.cluster.url(database)
        self.s3: Any = boto3.client("s3", endpoint_url=suite.moto_url, region_name=REGION)
        self.sqs: Any = boto3.client("sqs", endpoint_url=suite.moto_url, region_name=REGION)
        port = free_port()  # the service moves to another if this one is taken meanwhile
        self.env = service_env(env | {"EVENT_DATA_PORT": str(port)})
        self.service = ServiceProcess(
            self.env,
            port,
            suite.workdir / f"{name}.log",
        )
        self.services = [self.service]
        self.started = time.monotonic()

    async def add_service(self) -> ServiceProcess:
        """Another task of the same deployment: same database, bucket and queue."""
        port = free_port()
        service = ServiceProcess(
            self.env | {"EVENT_DATA_PORT": str(port)},
            port,
            self.suite.workdir / f"{self.name}-{len(self.services) + 1}.log",
        )
        await service.start()
        self.services.append(service)
        return service

    def sender(self, pace_seconds: float = 0.0, concurrency: int = 4) -> SparkPostSender:
        urls = [service.base_url for service in self.services]
        return SparkPostSender(urls, WEBHOOK_AUTH, concurrency, pace_seconds)

    def queue_depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    async def drain(self) -> bool:
        """Wait until the main queue is empty: every message loaded and deleted, or moved to
        the DLQ. False if it did not happen in time."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        empty_checks = 0
        while time.monotonic() < deadline:
            depth = await asyncio.to_thread(self.queue_depth, self.aws.queue_url)
            empty_checks = empty_checks + 1 if depth == 0 else 0
            if empty_checks >= 3:
                return True
            await asyncio.sleep(0.5)
        return False

    async def wait_for_log(self, marker: bytes, timeout: float) -> bool:
        """Wait for ``marker`` in the service's log output written from now on."""
        path = self.service.log_path
        offset = path.stat().st_size
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with path.open("rb") as log:
                log.seek(offset)
                if marker in log.read():
                    return True
            await asyncio.sleep(0.005)
        return False

    async def command(self, *args: str, **env: str) -> tuple[int, str]:
        """Run ``event-data ARGS`` with the service's settings (plus ``env``): status, output."""
        process = await asyncio.create_subprocess_exec(
            *command(*args),
            env=self.env | env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        token = reaper.register(reaper.kill_pid(process.pid))
        try:
            out, _ = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT_SECONDS)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            reaper.forget(token)
        return await process.wait(), out.decode(errors="replace")

    async def create_database(self, name: str) -> str:
        admin = await asyncpg.connect(self.suite.cluster.admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return self.suite.cluster.url(name)

    async def stored(self, database_url: str | None = None) -> set[Identity]:
        conn = await asyncpg.connect(database_url or self.database_url)
        try:
            rows = await conn.fetch("SELECT event_id, type, ts FROM events")
        finally:
            await conn.close()
        return {Identity(r["event_id"], r["type"], r["ts"].astimezone(UTC)) for r in rows}

    def log_events(self, since: int, event: str) -> list[dict[str, Any]]:
        """The service's JSON log lines named ``event``, written after byte ``since``."""
        with self.service.log_path.open("rb") as log:
            log.seek(since)
            lines = [orjson.loads(line) for line in log if line.startswith(b"{")]
        return [line for line in lines if line.get("event") == event]

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def measure(
        self,
        sent: set[Identity],
        report: SendReport,
        notes: str,
        *,
        expected: set[Identity] | None = None,
        expected_dlq: int = 0,
        drained: bool = True,
    ) -> Row:
        """Compare what is stored with what was sent, exactly."""
        expected = sent if expected is None else expected
        [counts] = await self.fetch(
            "SELECT count(*) AS total, count(DISTINCT (event_id, type, ts)) AS distinct_events"
            " FROM events"
        )
        stored = await self.stored()
        dlq = await asyncio.to_thread(self.queue_depth, self.aws.dlq_url)
        row = Row(
            scenario=self.name,
            sent=len(sent),
            expected=len(expected),
            stored=counts["distinct_events"],
            duplicates=counts["total"] - counts["distinct_events"],
            lost=len(expected - stored),
            unexpected=len(stored - expected),
            dlq=dlq,
            seconds=time.monotonic() - self.started,
            notes=notes,
        )
        if not drained:
            row.problems.append("queue not drained in time")
        if report.gave_up:
            row.problems.append(f"sender gave up on {len(report.gave_up)} batches")
        if row.stored != row.expected or row.duplicates or row.lost or row.unexpected:
            row.problems.append("stored events differ from the events sent")
        if dlq != expected_dlq:
            row.problems.append(f"{dlq} messages in the DLQ, expected {expected_dlq}")
        return row


class Suite:
    """The long-lived parts: moto, the throwaway cluster, the S3 fault proxy."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.cluster = ThrowawayCluster()
        self.moto_port = 0
        # Its upstream is moto's port, known once moto runs.
        self.proxy = FaultyProxy("127.0.0.1", 0)
        self._moto: subprocess.Popen[bytes] | None = None
        self._moto_token: int | None = None

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    async def __aenter__(self) -> Suite:
        devstack.ensure_fake_credentials()
        try:
            await asyncio.to_thread(self.cluster.start)
            await self._start_moto()
            self.proxy = FaultyProxy("127.0.0.1", self.moto_port)
            await self.proxy.start()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.proxy.close()
        if self._moto is not None:
            self._moto.terminate()
            try:
                self._moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._moto.kill()
                self._moto.wait()
            reaper.forget(self._moto_token)
        await asyncio.to_thread(self.cluster.destroy)

    async def _start_moto(self) -> None:
        """moto in its own process, apart from the service's, holding S3 and SQS state for the
        suite. Ready when it answers as moto does: on a port another process took meanwhile,
        it exits, and starts again on another port."""
        for _attempt in range(PORT_ATTEMPTS):
            self.moto_port = free_port()
            self._moto = self._spawn_moto()
            self._moto_token = reaper.register(reaper.kill_popen(self._moto))
            deadline = time.monotonic() + MOTO_STARTUP_TIMEOUT_SECONDS
            while self._moto.poll() is None and time.monotonic() < deadline:
                if await asyncio.to_thread(self._moto_answers):
                    return
                await asyncio.sleep(0.1)
            if self._moto.poll() is None:
                break  # running, but not answering as moto: not a port clash
            reaper.forget(self._moto_token)
        raise RuntimeError(f"moto server did not start: see {self.workdir / 'moto.log'}")

    def _spawn_moto(self) -> subprocess.Popen[bytes]:
        moto = Path(sys.executable).with_name("moto_server")
        with (self.workdir / "moto.log").open("ab") as log:
            return subprocess.Popen(
                [str(moto), "-H", "127.0.0.1", "-p", str(self.moto_port)],
                stdout=log,
                stderr=log,
            )

    def _moto_answers(self) -> bool:
        """An SQS ListQueues that moto itself answers, not any listener on the port."""
        sqs = boto3.client(
            "sqs",
            endpoint_url=self.moto_url,
            region_name=REGION,
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        try:
            sqs.list_queues()
        except (BotoCoreError, ClientError):
            return False
        return True

    @contextlib.asynccontextmanager
    async def stage(
        self, name: str, *, retention_days: int = 0, max_receive_count: int = MAX_RECEIVE_COUNT
    ) -> AsyncIterator[Stage]:
        suffix = uuid.uuid4().hex[:8]
        database = f"chaos_{name.replace('-', '_')}_{suffix}"
        admin = await asyncpg.connect(self.cluster.admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        aws = await asyncio.to_thread(
            devstack.provision,
            self.moto_url,
            region=REGION,
            bucket=f"chaos-{suffix}",
            queue_name=f"chaos-{suffix}",
            prefix=PREFIX,
            max_receive_count=max_receive_count,
            visibility_timeout=VISIBILITY_TIMEOUT_SECONDS,
        )
        env = {
            "EVENT_DATA_ENV": "production",
            "DATABASE_URL": self.cluster.url(database),
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": self.moto_url,
            # S3 goes through the fault proxy; SQS straight to moto, so its state survives.
            "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{self.proxy.port}",
            "EVENT_DATA_BUCKET": aws.bucket,
            "EVENT_DATA_QUEUE_URL": aws.queue_url,
            "EVENT_DATA_WEBHOOK_USER": WEBHOOK_AUTH[0],
            "EVENT_DATA_WEBHOOK_PASSWORD": WEBHOOK_AUTH[1],
            "EVENT_DATA_API_KEYS": API_KEY,
            "EVENT_DATA_RETENTION_DAYS": str(retention_days),
            "EVENT_DATA_DB_POOL_SIZE": "5",
        }
        stage = Stage(self, name, aws, database, env)
        await stage.service.start()
        try:
            yield stage
        finally:
            for service in stage.services:
                await asyncio.to_thread(service.stop)


def render(rows: list[Row]) -> str:
    """The table, in Markdown so that the README can carry it as printed."""
    header = (
        "| scenario | sent | expected | stored | duplicates | lost | unexpected | DLQ | s "
        "| result | notes |"
    )
    lines = [header, "| --- " * 11 + "|"]
    for r in rows:
        result = "exact" if r.ok else "FAIL: " + "; ".join(r.problems)
        lines.append(
            f"| {r.scenario} | {r.sent} | {r.expected} | {r.stored} | {r.duplicates} | {r.lost}"
            f" | {r.unexpected} | {r.dlq} | {r.seconds:.0f} | {result} | {r.notes} |"
        )
    return "\n".join(lines)


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="event-data-chaos-"))
