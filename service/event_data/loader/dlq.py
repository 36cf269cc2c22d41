"""The dead-letter queue: what is in it, and moving it back to the main queue.

Redrive is a receive, send, delete loop rather than SQS's ``StartMessageMoveTask``: it works on
every SQS-compatible endpoint, and a message sent twice (a crash between send and delete) is
harmless because loading is idempotent.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from event_data.loader.notifications import MalformedNotification, parse_notification

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef

# SQS limits (AWS SQS developer guide): 10 messages per receive and per batch call.
SQS_MAX_BATCH = 10
# How long a redrive holds the messages it has received: it sends and deletes them at once.
HOLD_SECONDS = 300
# How long a listing hides what it has read. The listing hands every message back when it ends,
# but a listing killed with -9 cannot: keep the DLQ (and its depth gauge, and a redrive run in
# that time) from looking empty for more than a moment. A listing that takes longer sees
# messages again; it lists each once (by MessageId).
LIST_HOLD_SECONDS = 10
# A short long poll: a short poll (0) may miss messages on real SQS, which samples servers.
POLL_SECONDS = 1


class DeadLetterQueueUnknown(RuntimeError):
    """No DLQ configured and the queue has no redrive policy naming one."""


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    # The archive keys the S3 notification announces; empty if it is not one.
    keys: tuple[str, ...]
    # Receives before this listing (SQS keeps counting after the move to the DLQ).
    receive_count: int | None
    sent_at: datetime | None


@dataclass(frozen=True)
class RedriveResult:
    moved: int
    # Not sent to the main queue: still in the DLQ, visible again.
    failed: int
    # Sent, but the delete from the DLQ failed: in both queues until the next redrive moves
    # them again (harmless, loading is idempotent).
    not_deleted: int = 0


async def dead_letter_queue_url(sqs: SQSClient, queue_url: str, configured: str | None) -> str:
    """The configured DLQ, or the one the main queue's ``RedrivePolicy`` names (Terraform sets
    the policy, so nothing else needs configuring)."""
    if configured:
        return configured
    attrs = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attrs.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        raise DeadLetterQueueUnknown(
            "the queue has no RedrivePolicy: set EVENT_DATA_DLQ_URL to the dead-letter queue"
        )
    try:
        arn = str(orjson.loads(policy)["deadLetterTargetArn"])
        # arn:aws:sqs:<region>:<account>:<name>
        _arn, _partition, _service, _region, account, name = arn.split(":", 5)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DeadLetterQueueUnknown(f"unreadable RedrivePolicy: {policy!r}") from exc
    found = await sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
    return found["QueueUrl"]


def _dead_letter(message: Any) -> DeadLetter:
    try:
        keys = tuple(obj.key for obj in parse_notification(message.get("Body", "")))
    except MalformedNotification:
        keys = ()
    attrs = message.get("Attributes", {})
    count: int | None
    try:
        count = max(0, int(attrs["ApproximateReceiveCount"]) - 1)
    except (KeyError, ValueError):
        count = None
    sent_at: datetime | None
    try:
        sent_at = datetime.fromtimestamp(int(attrs["SentTimestamp"]) / 1000, UTC)
    except (KeyError, ValueError):
        sent_at = None
    return DeadLetter(str(message.get("MessageId", "")), keys, count, sent_at)


async def _receive(sqs: SQSClient, url: str, count: int, hold_seconds: int) -> list[Any]:
    response = await sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=min(count, SQS_MAX_BATCH),
        VisibilityTimeout=hold_seconds,
        WaitTimeSeconds=POLL_SECONDS,
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    )
    return list(response.get("Messages", []))


async def _release(sqs: SQSClient, url: str, receipts: list[str]) -> None:
    for start in range(0, len(receipts), SQS_MAX_BATCH):
        chunk = receipts[start : start + SQS_MAX_BATCH]
        with contextlib.suppress(BotoCoreError, ClientError):
            await sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0}
                    for i, r in enumerate(chunk)
                ],
            )


async def list_dead_letters(sqs: SQSClient, dlq_url: str, limit: int) -> list[DeadLetter]:
    """Up to ``limit`` messages of the DLQ, left in it. Reading a message hides it: each is held
    hidden for ``LIST_HOLD_SECONDS`` at most and all are handed back together at the end."""
    found: dict[str, DeadLetter] = {}
    receipts: list[str] = []
    try:
        while len(found) < limit:
            messages = await _receive(sqs, dlq_url, limit - len(found), LIST_HOLD_SECONDS)
            before = len(found)
            for message in messages:
                receipts.append(message["ReceiptHandle"])
                letter = _dead_letter(message)
                found.setdefault(letter.message_id, letter)
            if len(found) == before:
                break  # empty, or only messages seen already: the whole queue is listed
    finally:
        await _release(sqs, dlq_url, receipts)
    return sorted(found.values(), key=lambda d: d.sent_at or datetime.min.replace(tzinfo=UTC))


async def redrive(sqs: SQSClient, dlq_url: str, queue_url: str, limit: int) -> RedriveResult:
    """Move up to ``limit`` messages from the DLQ to the main queue: send, then delete."""
    moved = failed = not_deleted = 0
    while moved + failed + not_deleted < limit:
        messages = await _receive(sqs, dlq_url, limit - moved - failed - not_deleted, HOLD_SECONDS)
        if not messages:
            break
        sent = await sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)],
        )
        ok = {entry["Id"] for entry in sent.get("Successful", [])}
        done: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in ok
        ]
        undeleted = 0
        if done:
            deleted = await sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
            undeleted = len(deleted.get("Failed", []))
        moved += len(done) - undeleted
        not_deleted += undeleted
        left = [m["ReceiptHandle"] for i, m in enumerate(messages) if str(i) not in ok]
        if left:
            # Not sent: stays in the DLQ, visible again; stop rather than loop on it.
            await _release(sqs, dlq_url, left)
            failed += len(left)
        if left or undeleted:
            break
    return RedriveResult(moved, failed, not_deleted)
