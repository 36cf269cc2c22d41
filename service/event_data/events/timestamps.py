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
    # %-formatting: twice as fast as an f-string of format specs, once per returned event.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        m.year,
        m.month,
        m.day,
        m.hour,
        m.minute,
        m.second,
        m.microsecond // 1000,
    )
