"""Writing and reading archived batches in S3."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from event_data.events.timestamps import format_event_time

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

# S3 user metadata names (sent as x-amz-meta-*): lower case, as S3 returns them.
META_BATCH_ID = "batch-id"
META_RECEIVED_AT = "received-at"
META_RAW_BYTES = "raw-bytes"
META_CONTENT_DIGEST = "content-digest"


@dataclass(frozen=True)
class ArchivedObject:
    data: bytes
    metadata: dict[str, str]
    last_modified: datetime | None


class Archive:
    """The bucket of raw batches: the system of record."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    async def put_batch(
        self,
        key: str,
        compressed: bytes,
        *,
        batch_id: str,
        digest: str,
        received_at: datetime,
        raw_size: int,
    ) -> None:
        await self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=compressed,
            ContentType="application/json",
            ContentEncoding="zstd",
            Metadata={
                META_BATCH_ID: batch_id,
                META_RECEIVED_AT: format_event_time(received_at),
                META_RAW_BYTES: str(raw_size),
                META_CONTENT_DIGEST: digest,
            },
        )

    async def get(self, key: str, bucket: str | None = None) -> ArchivedObject:
        response = await self._client.get_object(Bucket=bucket or self.bucket, Key=key)
        async with response["Body"] as stream:
            data = await stream.read()
        return ArchivedObject(
            data=data,
            metadata=dict(response.get("Metadata", {})),
            last_modified=response.get("LastModified"),
        )

    async def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, in S3's (lexical, so chronological) order."""
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    async def check(self) -> None:
        """Raise unless the bucket is reachable with these credentials."""
        await self._client.head_bucket(Bucket=self.bucket)
