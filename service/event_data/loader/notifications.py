"""Reading the S3 event notifications that arrive on the queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import orjson


class MalformedNotification(ValueError):
    """The message is not an S3 event notification."""


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str


def parse_notification(body: str | bytes) -> list[ObjectCreated]:
    """The objects a message announces; empty for ``s3:TestEvent`` and non-create events."""
    try:
        message: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedNotification("message body is not JSON") from exc
    if not isinstance(message, dict):
        raise MalformedNotification("message body is not a JSON object")
    # S3 → SNS → SQS fan-out wraps the notification in an SNS envelope.
    if message.get("Type") == "Notification" and isinstance(message.get("Message"), str):
        return parse_notification(message["Message"])
    # Configuring a notification sends one of these; it announces nothing.
    if message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records")
    if not isinstance(records, list):
        raise MalformedNotification("message has no Records")
    created: list[ObjectCreated] = []
    for record in records:
        if not isinstance(record, dict):
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        try:
            bucket = s3["bucket"]["name"]
            # Keys arrive URL-encoded, with `+` for space.
            key = unquote_plus(s3["object"]["key"])
        except (KeyError, TypeError) as exc:
            raise MalformedNotification("record lacks bucket or key") from exc
        created.append(ObjectCreated(bucket, key))
    return created
