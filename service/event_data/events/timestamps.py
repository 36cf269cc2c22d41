"""Event times as SparkPost sends them, and as the Events API returns them."""

from __future__ import annotations

from datetime import UTC, datetime

from event_data.events.jsonread import JsonNumber

# Epoch values past this are milliseconds, not seconds (year 5138 in seconds).
_MILLIS_THRESHOLD = 100_000_000_000


def parse_event_time(value: object) -> datetime | None:
    """Epoch seconds as a number or a string, or ISO 8601; ``None`` when it is none of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if isinstance(value, JsonNumber):
        return _from_epoch(float(value.text))  # 1e400 is inf, which _from_epoch refuses
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        # Unreadable, or outside years 1-9999 once converted to UTC.
        return None


def _from_epoch(seconds: float) -> datetime | None:
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    if abs(seconds) >= _MILLIS_THRESHOLD:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def format_event_time(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as the Events API renders ``timestamp``."""
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )
