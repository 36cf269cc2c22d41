"""Limits that PostgreSQL puts on text: no NUL characters, and btree entries that fit a page."""

from __future__ import annotations


def storable(text: str, max_bytes: int) -> bool:
    """True when ``text`` can go into an indexed text column as it is."""
    if "\x00" in text:
        return False
    # A character takes at most 4 bytes in UTF-8: only long strings need the exact count.
    return len(text) * 4 <= max_bytes or len(text.encode("utf-8", "replace")) <= max_bytes
