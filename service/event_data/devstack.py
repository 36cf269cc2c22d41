"""Local AWS for development and tests: a moto server with the bucket, queue, dead-letter
queue and S3→SQS notification made the way Terraform makes them in production."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import boto3

# Production values live in Terraform; these mirror them for local runs.
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 60
LONG_POLL_SECONDS = 20


@dataclass(frozen=True)
class LocalAws:
    endpoint_url: str
    region: str
    bucket: str
    queue_url: str
    dlq_url: str


def ensure_fake_credentials() -> None:
    """moto accepts any credentials; botocore still insists that some exist."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def start_moto(host: str, port: int) -> Any:
    """An in-process moto server; the caller stops it with ``.stop()``."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def provision(
    endpoint_url: str,
    *,
    region: str,
    bucket: str,
    queue_name: str,
    prefix: str,
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
) -> LocalAws:
    """Create (or find) the archive bucket, the queue with its DLQ, and the notification."""
    ensure_fake_credentials()
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        location: Any = {"LocationConstraint": region}
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    dlq_url = sqs.create_queue(
        QueueName=f"{queue_name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=queue_name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return LocalAws(endpoint_url, region, bucket, queue_url, dlq_url)
