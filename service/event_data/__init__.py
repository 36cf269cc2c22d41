"""event-data: a self-hosted, searchable, long-term database of SparkPost email events."""

from __future__ import annotations

__version__ = "0.1.0"
