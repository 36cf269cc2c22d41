"""Archive keys: ``<prefix>YYYY/MM/DD/HH/<batch id>.json.zst`` by received time (UTC).

The date prefix lets an operator list, replay or expire a day; the batch id in the name lets a
retry of the same batch overwrite its own object instead of adding another.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

ARCHIVE_SUFFIX = ".json.zst"
# Header values become part of an S3 key: only a conservative alphabet passes through as is.
_SAFE_BATCH_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def batch_id_from_header(value: str | None, body: bytes) -> str:
    """The batch id SparkPost sent, made key-safe; a content hash when it sent none."""
    if value is not None:
        value = value.strip()
    if value:
        if _SAFE_BATCH_ID.match(value) and value not in (".", ".."):
            return value
        return "h-" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return content_batch_id(body)


def content_batch_id(body: bytes) -> str:
    return "sha256-" + hashlib.sha256(body).hexdigest()[:32]


def archive_key(prefix: str, batch_id: str, received_at: datetime) -> str:
    return f"{prefix}{received_at:%Y/%m/%d/%H}/{batch_id}{ARCHIVE_SUFFIX}"
