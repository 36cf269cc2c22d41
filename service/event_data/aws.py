"""AWS clients (S3 and SQS), made once per process from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aioboto3
from aiobotocore.config import AioConfig

from event_data.config import Settings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_sqs import SQSClient

# The ack path must answer well inside SparkPost's 10 s timeout (sparkpost.md §2.4): a slow S3
# call fails fast into a 503, and SparkPost retries the batch later. These timeouts bound
# connecting and each read; the receiver also puts a deadline on the whole write.
S3_CONFIG = AioConfig(
    connect_timeout=2,
    read_timeout=4,
    retries={"max_attempts": 2, "mode": "standard"},
)
# Long polls hold the connection for up to 20 s, so the read timeout must exceed that.
SQS_CONFIG = AioConfig(
    connect_timeout=2,
    read_timeout=30,
    retries={"max_attempts": 3, "mode": "standard"},
)


@dataclass(frozen=True)
class AwsClients:
    s3: S3Client
    sqs: SQSClient


@asynccontextmanager
async def open_aws_clients(settings: Settings) -> AsyncIterator[AwsClients]:
    session = aioboto3.Session(region_name=settings.aws_region)
    async with AsyncExitStack() as stack:
        s3 = await stack.enter_async_context(
            session.client("s3", endpoint_url=settings.s3_endpoint_url, config=S3_CONFIG)
        )
        sqs = await stack.enter_async_context(
            session.client("sqs", endpoint_url=settings.sqs_endpoint_url, config=SQS_CONFIG)
        )
        yield AwsClients(s3=s3, sqs=sqs)
