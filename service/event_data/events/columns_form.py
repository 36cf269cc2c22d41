"""Bodies of storage formats 1 and 2: the event minus the fields its columns reproduce.

Rows written in these formats are read for as long as they are kept; nothing writes them any
more (events/codec.py writes the whole Events API form). A bit mask in the body's header names
the fields that were moved to columns, and putting them back gives the event as sent. The bit
positions are part of the format and never change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# The text fields a column may hold instead of the body; the bit is the position.
MOVED_TEXT_FIELDS: tuple[str, ...] = (
    "event_id",
    "type",
    "message_id",
    "transmission_id",
    "rcpt_to",
    "friendly_from",
    "campaign_id",
    "template_id",
    "subject",
    "reason",
    "ip_pool",
    "sending_ip",
    "sending_domain",
    "recipient_domain",
    "mailbox_provider",
    "mailbox_provider_region",
    "ab_test_id",
)
_BIT = {name: 1 << i for i, name in enumerate(MOVED_TEXT_FIELDS)}
BIT_RCPT_META = 1 << 17
BIT_RCPT_TAGS = 1 << 18
BIT_SUBACCOUNT_ID = 1 << 19

# The columns a body of these formats may need back, beside the identity and the body.
COLUMNS = (*MOVED_TEXT_FIELDS, "subaccount_id", "rcpt_meta", "rcpt_tags")

# Events of one kind have the same mask, so the fields a mask names are worked out once; the
# cache stops growing at this size.
_CACHED_MASKS = 4096
_MOVED: dict[int, tuple[str, ...]] = {}


def _moved(mask: int) -> tuple[str, ...]:
    names = _MOVED.get(mask)
    if names is None:
        names = tuple(name for name, bit in _BIT.items() if mask & bit)
        if len(_MOVED) < _CACHED_MASKS:
            _MOVED[mask] = names
    return names


def restore_columns(
    fields: dict[str, Any], row: Mapping[str, Any], mask: int, read: Callable[[bytes | str], Any]
) -> None:
    """Put back into ``fields`` (the body's JSON) the values ``mask`` says the columns hold.

    ``rcpt_meta`` and ``rcpt_tags`` may be jsonb text, read with ``read``, or already decoded.
    """
    for name in _moved(mask):
        fields[name] = row[name]
    if mask & BIT_SUBACCOUNT_ID:
        fields["subaccount_id"] = row["subaccount_id"]
    if mask & BIT_RCPT_META:
        fields["rcpt_meta"] = _json_value(row["rcpt_meta"], read)
    if mask & BIT_RCPT_TAGS:
        fields["rcpt_tags"] = _json_value(row["rcpt_tags"], read)


def _json_value(value: Any, read: Callable[[bytes | str], Any]) -> Any:
    # jsonb text: PostgreSQL writes back the numbers the loader gave it (product.md, Decisions 8)
    return read(value) if isinstance(value, str | bytes) else value
