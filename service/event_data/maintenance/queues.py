"""The dead-letter queue's depth, for the DLQ gauge."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient


class DeadLetterQueue:
    """The DLQ named by the settings, or else by the main queue's ``RedrivePolicy``."""

    def __init__(self, sqs: SQSClient, queue_url: str, dlq_url: str | None) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._dlq_url = dlq_url

    async def depth(self) -> int | None:
        """Messages in the DLQ, visible or in flight; None when it cannot be found or read."""
        try:
            url = self._dlq_url or await self._from_redrive_policy()
            if url is None:
                return None
            response = await self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        except (BotoCoreError, ClientError):
            return None
        self._dlq_url = url
        attributes = response.get("Attributes", {})
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

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
