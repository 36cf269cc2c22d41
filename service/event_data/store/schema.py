"""The tables as SQLAlchemy Core sees them, for building queries.

The migrations in ``migrations/`` are the source of truth; a test checks that these definitions
match the schema the migrations build.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import UserDefinedType

metadata = MetaData()


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


class PgSnapshot(UserDefinedType[str]):
    """PostgreSQL's ``pg_snapshot``: which transactions a query could see."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "pg_snapshot"


events = Table(
    "events",
    metadata,
    Column("ts", DateTime(timezone=True), primary_key=True),
    Column("batch_no", BigInteger, nullable=False),
    Column("subaccount_id", Integer),
    Column("ab_test_version", Integer),
    Column("bounce_class", SmallInteger),
    Column("event_id", Text, primary_key=True),
    Column("type", Text, primary_key=True),
    Column("message_id", Text),
    Column("transmission_id", Text),
    Column("rcpt_to", Text),
    Column("friendly_from", Text),
    Column("campaign_id", Text),
    Column("template_id", Text),
    Column("subject", Text),
    Column("reason", Text),
    Column("ip_pool", Text),
    Column("sending_ip", Text),
    Column("sending_domain", Text),
    Column("recipient_domain", Text),
    Column("mailbox_provider", Text),
    Column("mailbox_provider_region", Text),
    Column("ab_test_id", Text),
    Column("rcpt_meta", JSONB),
    Column("rcpt_tags", JSONB),
    Column("body", LargeBinary, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_no", BigInteger, primary_key=True),
    Column("batch_id", Text, nullable=False),
    Column("content_digest", Text, nullable=False, unique=True),
    Column("archive_key", Text, nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("events_total", Integer, nullable=False),
    Column("events_loaded", Integer, nullable=False),
    Column("events_duplicate", Integer, nullable=False),
    Column("events_expired", Integer, nullable=False),
    Column("elements_skipped", Integer, nullable=False),
    Column("xact_id", Xid8, nullable=False),
)

batch_failures = Table(
    "batch_failures",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("bucket", Text, nullable=False),
    Column("archive_key", Text, nullable=False),
    Column("sqs_message_id", Text),
    Column("receive_count", Integer),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
)
