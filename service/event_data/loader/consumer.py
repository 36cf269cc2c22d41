"""The SQS consumer: long-polls S3 event notifications and loads each announced batch.

Each message is handled in its own task, with its failure isolated: a message is deleted only
after its batch committed; one that fails stays on the queue and, after the queue's
``maxReceiveCount``, moves to the dead-letter queue. While a batch loads, a heartbeat extends the
message's visibility so that no other task takes it. While the database is down the consumer
stops receiving, so that an outage does not spend the receive count of healthy batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.ext.asyncio import AsyncEngine

from event_data import metrics
from event_data.loader.batch_loader import BatchLoader, PoisonBatch
from event_data.loader.notifications import MalformedNotification, parse_notification
from event_data.logging import get_logger
from event_data.store.database import ping
from event_data.store.loading import record_failure

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient

log = get_logger(__name__)

# SQS limits (AWS SQS developer guide): at most 10 messages per receive, 20 s long poll.
SQS_MAX_MESSAGES_PER_RECEIVE = 10
SQS_MAX_WAIT_SECONDS = 20
# Used when the queue's own visibility timeout cannot be read.
DEFAULT_VISIBILITY_SECONDS = 300
RECEIVE_ERROR_BACKOFF_SECONDS = 2.0
DATABASE_RETRY_SECONDS = 2.0


class QueueConsumer:
    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        loader: BatchLoader,
        engine: AsyncEngine,
        concurrency: int,
        wait_seconds: int = SQS_MAX_WAIT_SECONDS,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._loader = loader
        self._engine = engine
        self._concurrency = concurrency
        self._wait_seconds = wait_seconds
        self._visibility = DEFAULT_VISIBILITY_SECONDS
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._database_down = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="queue-consumer")

    async def stop(self, grace_seconds: float) -> None:
        """Stop receiving, let in-flight batches finish within the grace period, release the
        rest back to the queue."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        released = 0
        if self._in_flight:
            _done, pending = await asyncio.wait(self._in_flight, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
            released = len(pending)
        log.info("loader.stopped", released=released)

    async def _run(self) -> None:
        self._visibility = await self._queue_visibility()
        log.info("loader.started", concurrency=self._concurrency, visibility=self._visibility)
        while not self._stopping.is_set():
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                log.error("loader.loop_error", error=type(exc).__name__)
                await asyncio.sleep(RECEIVE_ERROR_BACKOFF_SECONDS)

    async def _step(self) -> None:
        if self._database_down:
            await self._wait_for_database()
            return
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            return
        for message in await self._receive(min(free, SQS_MAX_MESSAGES_PER_RECEIVE)):
            task = asyncio.create_task(self._handle(message))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _queue_visibility(self) -> int:
        try:
            response = await self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url, AttributeNames=["VisibilityTimeout"]
            )
            return int(response["Attributes"]["VisibilityTimeout"])
        except (BotoCoreError, ClientError, KeyError, ValueError):
            return DEFAULT_VISIBILITY_SECONDS

    async def _receive(self, count: int) -> list[Any]:
        try:
            response = await self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=self._wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("loader.receive_failed", error=type(exc).__name__)
            await asyncio.sleep(RECEIVE_ERROR_BACKOFF_SECONDS)
            return []
        messages = list(response.get("Messages", []))
        if messages:
            # An empty receive records nothing: the gauge is the window's maximum, which a
            # quiet poll must not reset while older messages are still being loaded.
            metrics.QUEUE_LAG.record(_oldest_age_seconds(messages, time.time()))
        return messages

    async def _wait_for_database(self) -> None:
        try:
            await ping(self._engine)
        except Exception:  # noqa: BLE001 - any failure means "not back yet"
            await asyncio.sleep(DATABASE_RETRY_SECONDS)
            return
        log.info("loader.database_back")
        self._database_down = False

    async def _handle(self, message: Any) -> None:
        receipt = message["ReceiptHandle"]
        message_id = message.get("MessageId")
        receive_count = _receive_count(message)
        heartbeat = asyncio.create_task(self._heartbeat(receipt))
        try:
            await self._load_announced(message, message_id, receive_count)
            await self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
        except asyncio.CancelledError:
            # Shutting down mid-batch: the transaction rolled back; hand the message back now.
            await self._release(receipt)
            raise
        except Exception as exc:  # noqa: BLE001 - one message's failure must not stop the loop
            log.warning(
                "loader.message_failed",
                sqs_message_id=message_id,
                receive_count=receive_count,
                error=type(exc).__name__,
            )
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _load_announced(
        self, message: Any, message_id: str | None, receive_count: int | None
    ) -> None:
        try:
            objects = parse_notification(message.get("Body", ""))
        except MalformedNotification as exc:
            await self._fail("", "(sqs message)", message_id, receive_count, exc, poison=True)
            raise
        for obj in objects:
            try:
                with metrics.LOAD_SECONDS.time():
                    result = await self._loader.load(obj.bucket, obj.key)
            except PoisonBatch as exc:
                await self._fail(obj.bucket, obj.key, message_id, receive_count, exc, poison=True)
                raise
            except Exception as exc:
                await self._fail(obj.bucket, obj.key, message_id, receive_count, exc, poison=False)
                raise
            outcome = "duplicate" if result.already_loaded else "loaded"
            metrics.BATCHES_LOADED.labels(outcome).inc()
            metrics.EVENTS_LOADED.labels("inserted").inc(result.inserted)
            metrics.EVENTS_LOADED.labels("duplicate").inc(result.duplicates)
            metrics.EVENTS_LOADED.labels("expired").inc(result.expired)
            log.info(
                "loader.batch_loaded",
                batch_id=result.batch_id,
                key=result.key,
                already_loaded=result.already_loaded,
                events=result.events_total,
                inserted=result.inserted,
                duplicates=result.duplicates,
                expired=result.expired,
                skipped=result.skipped,
                undated=result.undated,
                ms=round(result.seconds * 1000, 1),
                **(result.stages or {}),
            )

    async def _fail(
        self,
        bucket: str,
        key: str,
        message_id: str | None,
        receive_count: int | None,
        exc: BaseException,
        *,
        poison: bool,
    ) -> None:
        metrics.BATCHES_LOADED.labels("poison" if poison else "failed").inc()
        reason = f"{type(exc).__name__}: {exc}"
        log.error(
            "loader.batch_failed",
            key=key,
            sqs_message_id=message_id,
            receive_count=receive_count,
            poison=poison,
            error=type(exc).__name__,
        )
        try:
            await record_failure(
                self._engine,
                bucket=bucket,
                key=key,
                sqs_message_id=message_id,
                receive_count=receive_count,
                reason=reason,
            )
        except Exception:  # noqa: BLE001 - recording failed: the database itself is down
            self._database_down = True

    async def _heartbeat(self, receipt: str) -> None:
        interval = max(1.0, self._visibility / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=receipt,
                    VisibilityTimeout=self._visibility,
                )
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("loader.heartbeat_failed", error=type(exc).__name__)

    async def _release(self, receipt: str) -> None:
        with contextlib.suppress(BotoCoreError, ClientError):
            await self._sqs.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )


def _receive_count(message: Any) -> int | None:
    raw = message.get("Attributes", {}).get("ApproximateReceiveCount")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _oldest_age_seconds(messages: list[Any], now: float) -> float:
    """How long the oldest of these messages waited in the queue (SQS ``SentTimestamp``, ms)."""
    sent: list[float] = []
    for message in messages:
        raw = message.get("Attributes", {}).get("SentTimestamp")
        try:
            sent.append(int(raw) / 1000)
        except (TypeError, ValueError):
            continue
    return max(0.0, now - min(sent)) if sent else 0.0
