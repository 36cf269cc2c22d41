"""Compact JSON text of an event's values, however deeply SparkPost (or anyone) nested them.

orjson writes at most 254 levels of nesting, while its parser, which the ack path and the loader
use, reads up to 1024: an event between the two would fail the same way on every retry. Such
values are written by the standard library's encoder instead, which goes as deep as Python's
recursion limit allows; beyond that the event is :class:`TooDeep` and stays in the archive.
"""

from __future__ import annotations

import json

import orjson


class TooDeep(ValueError):
    """A value nested too deeply for any encoder here."""


def dumps(value: object, *, sort_keys: bool = False) -> bytes:
    """``value`` as compact UTF-8 JSON, as orjson writes it (keys sorted on request)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except TypeError:
        # The values come from orjson's parser, so the only thing it can refuse is depth.
        pass
    try:
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys
        ).encode()
    except RecursionError as exc:
        raise TooDeep("nested too deeply to store") from exc
