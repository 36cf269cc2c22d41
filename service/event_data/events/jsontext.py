"""Compact JSON text of an event's values, however deeply SparkPost (or anyone) nested them.

orjson writes at most 254 levels of nesting, while its parser, which the ack path and the loader
use, reads up to 1024: an event between the two would fail the same way on every retry. Such
values are written by the standard library's encoder instead, which goes as deep as Python's
recursion limit allows; beyond that the event is :class:`TooDeep` and stays in the archive.

Numbers kept as sent (``jsonread.JsonNumber``) are written as their text by both encoders.
"""

from __future__ import annotations

import json
import re
import secrets
import threading

import orjson

from event_data.events.jsonread import JsonNumber


class TooDeep(ValueError):
    """A value nested too deeply for any encoder here."""


class _Written(threading.local):
    """``written.numbers``: how many JsonNumbers this thread has written so far. A change
    across a :func:`dumps` call tells the caller that the value held one, for the price of
    reading a counter."""

    numbers = 0  # each thread starts from the class attribute


written = _Written()


def _as_fragment(value: object) -> orjson.Fragment:
    if isinstance(value, JsonNumber):
        written.numbers += 1
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: object, *, sort_keys: bool = False) -> bytes:
    """``value`` as compact UTF-8 JSON, as orjson writes it (keys sorted on request)."""
    try:
        return orjson.dumps(
            value, default=_as_fragment, option=orjson.OPT_SORT_KEYS if sort_keys else None
        )
    except TypeError:
        # The values come from a JSON parser, so the only thing orjson can refuse is depth.
        pass
    try:
        return _dumps_stdlib(value, sort_keys)
    except RecursionError as exc:
        raise TooDeep("nested too deeply to store") from exc


def _dumps_stdlib(value: object, sort_keys: bool) -> bytes:
    # The standard library's encoder writes no raw text: each JsonNumber goes in as a string
    # holding a random marker and its index, which then gives way to the number's text. A
    # marker that the value's own strings happen to hold is drawn again.
    while True:
        marker = secrets.token_hex(16)
        texts: list[str] = []

        def placeholder(value: object, marker: str = marker, texts: list[str] = texts) -> str:
            _as_fragment(value)  # refuses what is not a JsonNumber, counts what is
            texts.append(str(value))
            return f"{marker}-{len(texts) - 1}"

        text = json.dumps(
            value,
            separators=(",", ":"),
            ensure_ascii=False,
            sort_keys=sort_keys,
            default=placeholder,
        )
        if not texts:
            return text.encode()
        if text.count(marker) == len(texts):
            break
    out = re.sub(f'"{marker}-([0-9]+)"', lambda m: texts[int(m.group(1))], text)
    return out.encode()
