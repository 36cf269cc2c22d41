"""The loading side: S3 event notifications from SQS → archived batch → PostgreSQL."""
