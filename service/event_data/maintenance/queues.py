"""The dead-letter queue's depth, for the DLQ gauge."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from event_data import metrics
from event_data.logging import get_logger

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient

log = get_logger(__name__)


class DeadLetterQueue:
    """The DLQ named by the settings, or else by the main queue's ``RedrivePolicy``."""

    def __init__(self, sqs: SQSClient, queue_url: str, dlq_url: str | None) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._dlq_url = dlq_url

    async def depth(self) -> int | None:
        """Messages in the DLQ, visible or in flight; None when it cannot be found or read.

        Called once a round; a failure to read is logged (``maintenance.dlq_unreadable``, with
        the queue asked and the error's code) and counted, since the DLQ gauge then stops
        being exported and an alert on it can never fire."""
        # The queue the failing call asked: the main one for its RedrivePolicy, then the DLQ.
        asked = self._dlq_url or self._queue_url
        try:
            url = self._dlq_url or await self._from_redrive_policy()
            if url is None:
                return None
            asked = url
            response = await self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        except ClientError as exc:
            self._unreadable(asked, type(exc).__name__, exc.response.get("Error", {}).get("Code"))
            return None
        except BotoCoreError as exc:
            self._unreadable(asked, type(exc).__name__, None)
            return None
        self._dlq_url = url
        attributes = response.get("Attributes", {})
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def _unreadable(self, queue_url: str, error: str, code: str | None) -> None:
        metrics.DLQ_UNREADABLE.inc()
        log.warning("maintenance.dlq_unreadable", queue_url=queue_url, error=error, error_code=code)

    async def _from_redrive_policy(self) -> str | None:
        response = await self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=["RedrivePolicy"]
        )
        raw = response.get("Attributes", {}).get("RedrivePolicy")
        if not raw:
            return None
        try:
            arn = str(json.loads(raw)["deadLetterTargetArn"])
        except (ValueError, KeyError, TypeError):
            return None
        # arn:aws:sqs:<region>:<account>:<name>
        parts = arn.split(":")
        if len(parts) != 6:
            return None
        found = await self._sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
        return found["QueueUrl"]
