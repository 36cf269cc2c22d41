"""JSON read so that every number can be written back exactly as it was sent.

orjson reads a number into an int or a float and writes that value back in its own shortest
form: ``9.50`` comes back ``9.5``, ``1.0E5`` ``100000.0``, an integer past 64 bits a float, and
``1e400``, valid JSON, does not parse at all. The Events API returns every field as SparkPost sent
it (product.md, Decisions 8), so such a number is kept as its text, a :class:`JsonNumber`, which
``jsontext.dumps`` writes back verbatim.

The loader reads every batch, so the common batch keeps orjson's speed: orjson reads it, writes
it back, and when that text equals the batch, whitespace aside, every number already survives
(see :func:`numbers_survive`). Only otherwise is the batch read again by the standard library's
parser, whose hooks see each number's text. (A regular expression looking for suspect numbers in
the bytes would do as well, but costs about four times orjson's whole parse in CPython's engine;
orjson's writer costs a fifth of it.)
"""

from __future__ import annotations

import json
import re
from typing import Any, final

import orjson


@final
class JsonNumber:
    """A JSON number kept as the text it was sent as, because orjson would not write it back so.

    ``str()`` gives the text; :meth:`integer` gives the int when the text is one.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"JsonNumber({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def integer(self) -> int | None:
        """The integer the text spells (``-0`` is 0), or None for a fraction or an exponent."""
        if not _INTEGER_TEXT.fullmatch(self.text):
            return None
        try:
            return int(self.text)
        except ValueError:  # longer than Python converts (sys.get_int_max_str_digits)
            return None


def kept_numbers(value: Any) -> list[JsonNumber]:
    """The JsonNumbers in ``value``, however deeply nested."""
    found: list[JsonNumber] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, JsonNumber):
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


_INTEGER_TEXT = re.compile(r"-?[0-9]+", re.ASCII)

# A number text orjson may write back otherwise; the reader keeps these, and only these, as
# JsonNumber. Any other text has at most 15 digits (so it names a double no shorter decimal
# names), no exponent, a fraction that is `0` or ends in another digit, and a magnitude orjson
# writes without an exponent. Negative zeros are kept too: PostgreSQL's jsonb drops their sign.
_RESPELLED = re.compile(
    r"-?[0-9]+(?:\.[0-9]+)?[eE]"  # an exponent
    r"|-?[0-9]+\.[0-9]+0$"  # a fraction of two digits or more, ending in 0
    r"|-?(?:[0-9]\.?){16}"  # 16 digits or more, more than a double holds
    r"|-0(?:\.0+)?$"  # a negative zero
    r"|-?0\.000",  # below 0.001: orjson writes an exponent under 0.00001
    re.ASCII,
)
_WHITESPACE = b" \t\n\r"
# Only an escape can put a lone surrogate into a string: the bytes are read as strict UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def loads(data: bytes | str) -> Any:
    """``data`` read as orjson reads it, except that each number orjson would write back
    otherwise is a :class:`JsonNumber`.

    Raises ``orjson.JSONDecodeError`` for exactly the texts orjson refuses, save numbers beyond
    a double (``1e400``), which are JSON and are kept. ``NaN`` and ``Infinity`` are not JSON.
    """
    raw = _bytes(data)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _exact_instead_of(raw, exc)
    if numbers_survive(raw, value):
        return value
    try:
        return _read_exact(raw)
    except _NotExact:
        # Nested past the standard library's recursion limit, which is below orjson's 1024
        # levels: such a text keeps orjson's reading.
        return value


def loads_exact(data: bytes | str) -> Any:
    """:func:`loads` without the fast path, for text known to hold numbers orjson respells."""
    raw = _bytes(data)
    try:
        return _read_exact(raw)
    except _NotExact:
        return orjson.loads(raw)


def loads_fast(data: bytes | str) -> Any:
    """orjson's reading, numbers and all, save a number orjson cannot hold (``1e400``), for
    which the text is read as :func:`loads_exact` reads it: for checking that a text is JSON,
    and for text whose numbers all survive orjson."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return _exact_instead_of(_bytes(data), exc)


def numbers_survive(data: bytes, value: Any) -> bool:
    """True when orjson writes ``value``, its reading of ``data``, back with every number as
    ``data`` spells it.

    orjson writes a string as it read it when ``data`` escapes it as orjson does, so the two
    texts differ only in whitespace and in numbers. With whitespace removed from both, equal
    texts have equal tokens in the same order: every number survived. A text that escapes
    otherwise (``\\/``, ``\\u00e9``) or repeats a key fails the test and is read exactly.
    """
    try:
        written = orjson.dumps(value)
    except TypeError:  # nested past the 254 levels orjson writes
        return False
    return written == data or written.translate(None, _WHITESPACE) == data.translate(
        None, _WHITESPACE
    )


def _bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


class _NotExact(Exception):
    """The standard library cannot read the text, or reads one that orjson refuses."""


def _exact_instead_of(raw: bytes, error: orjson.JSONDecodeError) -> Any:
    try:
        return _read_exact(raw)
    except _NotExact:
        raise error from None


def _read_exact(raw: bytes) -> Any:
    """The standard library's reading, each number orjson would respell a JsonNumber."""
    try:
        value = json.loads(
            raw.decode("utf-8"),
            parse_float=_number,
            parse_int=_number,
            parse_constant=_not_json,
        )
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise _NotExact from exc
    if _SURROGATE_ESCAPE.search(raw) and _holds_lone_surrogate(value):
        raise _NotExact
    return value


def _number(text: str) -> Any:
    if _RESPELLED.match(text):
        return JsonNumber(text)
    # The text orjson would have read: at most 15 digits, no exponent.
    return float(text) if "." in text else int(text)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _holds_lone_surrogate(value: Any) -> bool:
    """orjson refuses a string with half a surrogate pair; the standard library takes it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False
