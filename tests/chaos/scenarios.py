"""The scenarios of product.md "Reliability", each ending in one exact row (or a failed one).

Each loads its own generated events through the real service while a fault happens, lets the
queue drain, and compares the events in PostgreSQL with the events sent."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from event_data.synth import EventGenerator, GeneratorConfig
from tests.chaos.harness import PREFIX, Row, Stage, Suite, identities
from tests.chaos.proxy import Mode
from tests.chaos.sender import Delivery, SendReport

EVENTS_PER_BATCH = 250
# A fault at second 2 of a load sent at 4 batches a second lands mid-load.
PACE_SECONDS = 1.0


def generate(
    seed: int, batches: int, start: datetime | None = None, days: float = 2.0
) -> list[bytes]:
    start = start or datetime.now(UTC) - timedelta(days=days)
    config = GeneratorConfig(
        seed=seed,
        start=start,
        end=start + timedelta(days=days),
        batch_size=EVENTS_PER_BATCH,
        # Every type shows up, sms_status (no event_id, identity from content) included.
        rare_scale=10.0,
    )
    return list(EventGenerator(config).batch_bytes(batches * EVENTS_PER_BATCH))


def deliveries(name: str, bodies: list[bytes]) -> list[Delivery]:
    return [Delivery(body, f"{name}-{i:04d}") for i, body in enumerate(bodies)]


async def load_under(
    stage: Stage,
    items: list[Delivery],
    fault: Callable[[], Awaitable[str]] | None = None,
    pace_seconds: float = PACE_SECONDS,
) -> tuple[SendReport, str, bool]:
    """Send while ``fault`` runs; then let the queue drain."""
    sending = asyncio.create_task(stage.sender(pace_seconds).send(items))
    notes = await fault() if fault is not None else ""
    report = await sending
    drained = await stage.drain()
    return report, notes, drained


async def kill9(suite: Suite) -> Row:
    async with suite.stage("kill-9") as stage:
        bodies = generate(1, 40)

        async def fault() -> str:
            # The first kill follows a commit, before its message is deleted: the redelivered
            # message must add nothing. The others land wherever they land.
            committed = await stage.wait_for_log(b"loader.batch_loaded", timeout=20)
            stage.service.kill()
            await stage.service.start()
            for _ in range(3):
                await asyncio.sleep(2.0)
                stage.service.kill()
                await stage.service.start()
            first = " (the 1st right after a commit)" if committed else ""
            return f"4 kills{first}, restarted each time"

        report, notes, drained = await load_under(stage, deliveries("k", bodies), fault)
        return await stage.measure(
            identities(bodies), report, f"{notes}; sender saw {report.retried()}", drained=drained
        )


async def postgres_restart(suite: Suite) -> Row:
    async with suite.stage("postgres-restart") as stage:
        bodies = generate(2, 40)

        async def fault() -> str:
            await asyncio.sleep(2.5)
            await asyncio.to_thread(suite.cluster.restart, "fast")
            await asyncio.sleep(3.0)
            await asyncio.to_thread(suite.cluster.restart, "immediate")
            return "restarted mid-load twice: -m fast, then -m immediate (crash recovery)"

        report, notes, drained = await load_under(stage, deliveries("p", bodies), fault)
        return await stage.measure(identities(bodies), report, notes, drained=drained)


async def s3_unavailable(suite: Suite) -> Row:
    async with suite.stage("s3-unavailable") as stage:
        bodies = generate(3, 40)

        async def fault() -> str:
            await asyncio.sleep(2.0)
            suite.proxy.set_mode(Mode.STALL)
            await asyncio.sleep(7.0)
            suite.proxy.set_mode(Mode.REFUSE)
            await asyncio.sleep(4.0)
            suite.proxy.set_mode(Mode.PASS)
            return "S3 stalled 7 s, then refused 4 s"

        try:
            report, notes, drained = await load_under(stage, deliveries("s", bodies), fault)
        finally:
            suite.proxy.set_mode(Mode.PASS)
        row = await stage.measure(
            identities(bodies), report, f"{notes}; sender saw {report.retried()}", drained=drained
        )
        if not report.answers.get("503"):
            row.problems.append("the service never answered 503: the outage was not seen")
        return row


async def sqs_redelivery(suite: Suite) -> Row:
    async with suite.stage("sqs-redelivery") as stage:
        bodies = generate(4, 30)
        held = duplicated = 0

        async def fault() -> str:
            # Another consumer takes messages and never deletes them (they come back after the
            # visibility timeout), and every S3 notification it sees is sent a second time.
            nonlocal held, duplicated
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 8.0
            while loop.time() < deadline:
                got = await asyncio.to_thread(
                    stage.sqs.receive_message,
                    QueueUrl=stage.aws.queue_url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=5,
                    WaitTimeSeconds=1,
                )
                for message in got.get("Messages", []):
                    held += 1
                    if "s3:TestEvent" in message["Body"]:
                        continue
                    await asyncio.to_thread(
                        stage.sqs.send_message,
                        QueueUrl=stage.aws.queue_url,
                        MessageBody=message["Body"],
                    )
                    duplicated += 1
            return ""

        report, _notes, drained = await load_under(stage, deliveries("q", bodies), fault)
        notes = f"{held} messages received and not deleted, {duplicated} notifications sent twice"
        row = await stage.measure(identities(bodies), report, notes, drained=drained)
        if not duplicated:
            row.problems.append("no message was redelivered: the scenario tested nothing")
        [loaded] = await stage.fetch("SELECT count(*) AS n FROM batches")
        if loaded["n"] != len(bodies):
            row.problems.append(f"{loaded['n']} batches recorded, expected {len(bodies)}")
        return row


async def same_batch_same_id(suite: Suite) -> Row:
    async with suite.stage("3x-same-batch-id") as stage:
        bodies = generate(5, 20)
        items = [Delivery(body, f"same-{i:04d}") for i, body in enumerate(bodies) for _ in range(3)]
        random.Random(5).shuffle(items)
        report, _notes, drained = await load_under(stage, items, pace_seconds=0.2)
        return await stage.measure(
            identities(bodies),
            report,
            f"each of {len(bodies)} batches posted 3 times under one id",
            drained=drained,
        )


async def same_batch_new_ids(suite: Suite) -> Row:
    async with suite.stage("3x-new-batch-ids") as stage:
        bodies = generate(6, 20)
        items: list[Delivery] = []
        for i, body in enumerate(bodies):
            # Same bytes twice under new ids, then the same events in other bytes (other JSON
            # layout): the batch digest catches the first, event identity the second.
            reformatted = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)
            items += [
                Delivery(body, f"a-{i:04d}"),
                Delivery(body, f"b-{i:04d}"),
                Delivery(reformatted, f"c-{i:04d}"),
            ]
        random.Random(6).shuffle(items)
        report, _notes, drained = await load_under(stage, items, pace_seconds=0.2)
        return await stage.measure(
            identities(bodies),
            report,
            f"each of {len(bodies)} batches posted 3 times under 3 ids (once re-serialised)",
            drained=drained,
        )


POISON = {
    "not-json": b"this is { not json",
    "not-an-array": b'{"msys": {"message_event": {"type": "delivery"}}}',
    "bad-zstd": b"\x28\xb5\x2f\xfd" + b"\x00garbage" * 10,
}


async def poison_batch(suite: Suite) -> Row:
    async with suite.stage("poison-batch", max_receive_count=3) as stage:
        bodies = generate(7, 20)
        hour = f"{datetime.now(UTC):%Y/%m/%d/%H}"
        keys = [
            f"{PREFIX}{hour}/poison-{name}--0000.json{'.zst' if name == 'bad-zstd' else ''}"
            for name in POISON
        ]

        async def fault() -> str:
            for key, data in zip(keys, POISON.values(), strict=True):
                await asyncio.sleep(1.0)
                await asyncio.to_thread(
                    stage.s3.put_object, Bucket=stage.aws.bucket, Key=key, Body=data
                )
            return ""

        report, _notes, drained = await load_under(stage, deliveries("g", bodies), fault)
        row = await stage.measure(
            identities(bodies),
            report,
            f"{len(keys)} poison objects among {len(bodies)} batches; maxReceiveCount 3",
            expected_dlq=len(keys),
            drained=drained,
        )
        failed = await stage.fetch(
            "SELECT DISTINCT archive_key FROM batch_failures WHERE archive_key = ANY($1)", keys
        )
        if len(failed) != len(keys):
            row.problems.append(f"{len(failed)} of {len(keys)} poison objects in batch_failures")
        else:
            row.notes += ", each recorded in batch_failures"
        status, listing = await stage.command("dlq", "list")
        listed = [line for line in listing.splitlines() if line.startswith(tuple(keys))]
        if status != 0 or len(listed) != len(keys) or "no failure recorded" in listing:
            row.problems.append(f"dlq list (status {status}) showed {len(listed)} poison keys")
        else:
            row.notes += "; `dlq list` shows all 3 with their reasons"
        return row


def _dated_bodies() -> list[bytes]:
    now = datetime.now(UTC)
    return (
        generate(8, 8, start=datetime(2019, 5, 1, tzinfo=UTC))
        + generate(9, 8, start=now - timedelta(days=1))
        + generate(10, 8, start=datetime(2031, 3, 1, tzinfo=UTC))
    )


DATED_NOTE = "events of 2019-05, of today and of 2031-03"


async def dated_far(suite: Suite) -> Row:
    async with suite.stage("dated-far", retention_days=0) as stage:
        bodies = _dated_bodies()
        report, _notes, drained = await load_under(stage, deliveries("d", bodies), pace_seconds=0.2)
        return await stage.measure(
            identities(bodies), report, f"{DATED_NOTE}; retention 0: all kept", drained=drained
        )


async def dated_far_retention(suite: Suite) -> Row:
    async with suite.stage("dated-far-retention-365", retention_days=365) as stage:
        bodies = _dated_bodies()
        report, _notes, drained = await load_under(stage, deliveries("r", bodies), pace_seconds=0.2)
        sent = identities(bodies)
        horizon = datetime.now(UTC) - timedelta(days=365)
        kept = {event for event in sent if event.ts >= horizon}
        row = await stage.measure(
            sent,
            report,
            f"{DATED_NOTE}; retention 365: older ones expired",
            expected=kept,
            drained=drained,
        )
        # The expired events are not lost: each batch counts them, and they stay in S3.
        [expired] = await stage.fetch("SELECT sum(events_expired)::int AS n FROM batches")
        if expired["n"] != len(sent) - len(kept):
            row.problems.append(f"{expired['n']} counted expired, expected {len(sent) - len(kept)}")
        else:
            row.notes += f", {expired['n']} counted in batches.events_expired"
        return row


async def sigterm(suite: Suite) -> Row:
    async with suite.stage("sigterm") as stage:
        bodies = generate(11, 40)
        exits: list[tuple[int, float]] = []
        released: list[int] = []

        async def fault() -> str:
            await asyncio.sleep(2.5)
            exits.append(await stage.service.terminate())
            await stage.service.start()
            await asyncio.sleep(2.5)
            # Loads that cannot finish: a lock holds the batches table past the grace period,
            # so the consumer must give its messages back to the queue and still exit in time.
            blocker = await asyncpg.connect(stage.database_url)
            try:
                async with blocker.transaction():
                    await blocker.execute("LOCK TABLE batches IN ACCESS EXCLUSIVE MODE")
                    await asyncio.sleep(1.5)
                    offset = stage.service.log_path.stat().st_size
                    exits.append(await stage.service.terminate())
                    released.extend(
                        line.get("released", 0)
                        for line in stage.log_events(offset, "loader.stopped")
                    )
            finally:
                await blocker.close()
            await stage.service.start()
            return ""

        report, _notes, drained = await load_under(stage, deliveries("t", bodies), fault)
        (rc1, s1), (rc2, s2) = exits
        notes = (
            f"mid-load: exit {rc1} in {s1:.1f} s; loads stuck on a lock: exit {rc2} in {s2:.1f} s"
            f", {sum(released)} batches handed back to the queue; sender saw {report.retried()}"
        )
        row = await stage.measure(identities(bodies), report, notes, drained=drained)
        if not sum(released):
            row.problems.append("no batch was in flight at the second SIGTERM")
        for rc, seconds in exits:
            if rc != 0:
                row.problems.append(f"exit status {rc}")
            if seconds >= 30:
                row.problems.append(f"exit took {seconds:.1f} s, past the 30 s stop timeout")
        return row


async def two_tasks(suite: Suite) -> Row:
    async with suite.stage("two-tasks") as stage:
        await stage.add_service()
        bodies = generate(13, 30)
        items: list[Delivery] = []
        for i, body in enumerate(bodies):
            reformatted = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)
            items += [Delivery(body, f"a-{i:04d}"), Delivery(reformatted, f"b-{i:04d}")]
        random.Random(13).shuffle(items)

        async def fault() -> str:
            for _ in range(3):
                await asyncio.sleep(2.0)
                stage.service.kill()
                await stage.service.start()
            return ""

        report, _notes, drained = await load_under(stage, items, fault)
        return await stage.measure(
            identities(bodies),
            report,
            "2 tasks on one queue and database, each batch posted twice (other bytes the 2nd"
            f" time) across both, task 1 killed 3 times; sender saw {report.retried()}",
            drained=drained,
        )


async def replay_fresh_database(suite: Suite) -> Row:
    async with suite.stage("replay-into-empty-db") as stage:
        bodies = generate(12, 20)
        report, _notes, drained = await load_under(stage, deliveries("y", bodies), pace_seconds=0.2)
        loaded = await stage.stored()
        # Disaster recovery: a new, empty database rebuilt from the archive alone, twice.
        fresh = await stage.create_database(f"{stage.database}_replayed")
        first, _out = await stage.command(
            "replay", "--prefix", PREFIX, "--quiet", DATABASE_URL=fresh
        )
        second, out2 = await stage.command(
            "replay", "--prefix", PREFIX, "--quiet", DATABASE_URL=fresh
        )
        stage.database_url = fresh
        row = await stage.measure(
            identities(bodies),
            report,
            f"{len(bodies)} batches loaded, then replayed from S3 into a new database twice",
            drained=drained,
        )
        if await stage.stored() != loaded:
            row.problems.append("the replayed database differs from the loaded one")
        if first != 0 or second != 0 or "events: 0 inserted" not in out2:
            row.problems.append(f"replay: status {first}, {second}: {out2.strip()[-200:]}")
        else:
            row.notes += "; the second replay added 0 events"
        return row


SCENARIOS: dict[str, Callable[[Suite], Awaitable[Row]]] = {
    "kill-9": kill9,
    "postgres-restart": postgres_restart,
    "s3-unavailable": s3_unavailable,
    "sqs-redelivery": sqs_redelivery,
    "3x-same-batch-id": same_batch_same_id,
    "3x-new-batch-ids": same_batch_new_ids,
    "poison-batch": poison_batch,
    "dated-far": dated_far,
    "dated-far-retention-365": dated_far_retention,
    "sigterm": sigterm,
    "two-tasks": two_tasks,
    "replay-into-empty-db": replay_fresh_database,
}
