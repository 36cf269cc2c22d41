"""Reading JSON with every number's text kept where orjson would write it otherwise, and writing
it back (events/jsonread.py, events/jsontext.py): the text of each number survives, what is not
JSON is refused as orjson refuses it, and the common batch is read by orjson alone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_data.events import jsonread, jsontext
from event_data.events.jsonread import JsonNumber
from event_data.synth import EventGenerator, GeneratorConfig
from tests.conftest import FIXTURES

# --- reading: every number's text survives ----------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A number in a generated document, by its text."""

    text: str


def _digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=min_size, max_size=max_size)


# Every shape JSON allows: signs, zeros, long integers, fractions with trailing zeros, exponents
# of either case, signed or not, small and large, within a double's range and beyond it.
NUMBER_TEXTS = (
    st.builds(
        lambda sign, whole, fraction, exponent: sign + whole + fraction + exponent,
        st.sampled_from(["", "-"]),
        st.one_of(
            st.just("0"),
            st.builds(lambda a, b: a + b, st.sampled_from("123456789"), _digits(0, 40)),
        ),
        st.one_of(st.just(""), _digits(1, 30).map(lambda d: "." + d)),
        st.one_of(
            st.just(""),
            st.builds(
                lambda e, s, d: e + s + d,
                st.sampled_from("eE"),
                st.sampled_from(["", "+", "-"]),
                _digits(1, 4),
            ),
        ),
    )
    | st.builds(  # small magnitudes, which orjson writes with an exponent below 0.00001
        lambda sign, zeros, digits: f"{sign}0.{'0' * zeros}{digits}",
        st.sampled_from(["", "-"]),
        st.integers(0, 12),
        st.builds(lambda a, b: a + b, st.sampled_from("123456789"), _digits(0, 8)),
    )
    | st.sampled_from(
        [
            "9.50",
            "1.0E5",
            "1e2",
            "1e400",
            "-1e400",
            "1e-400",
            "-0",
            "-0.0",
            "0.00001",
            "1e-7",
            "37.40",
        ]
    )
)
# Strings that look like numbers, or like the text around one.
STRINGS = st.text(max_size=12) | st.sampled_from(
    ["9.50", "x:9.50,", ",1e5]", "[-0}", "0.000", "12345678901234567890", "é", "a/b", '"', "\\"]
)
LEAVES = st.one_of(NUMBER_TEXTS.map(Num), STRINGS, st.sampled_from([True, False, None]))
DOCUMENTS = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(STRINGS, children, max_size=5)
    ),
    max_leaves=40,
)
# Whitespace between tokens, and ways of escaping strings other than orjson's.
STYLES = st.fixed_dictionaries(
    {
        "spaces": st.lists(st.sampled_from(["", " ", "\n", "\t", "\r\n  "]), min_size=1),
        "ascii": st.booleans(),
    }
)


def _render(value: Any, style: dict[str, Any], at: list[int]) -> str:
    """``value`` as JSON text, numbers as written, whitespace and escapes as ``style`` says."""

    def space() -> str:
        spaces: list[str] = style["spaces"]
        at[0] += 1
        return spaces[at[0] % len(spaces)]

    if isinstance(value, Num):
        return value.text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=style["ascii"])
    if value is True or value is False or value is None:
        return json.dumps(value)
    if isinstance(value, list):
        items = [space() + _render(item, style, at) + space() for item in value]
        return "[" + ",".join(items) + "]"
    items = [
        space() + _render(key, style, at) + space() + ":" + space() + _render(item, style, at)
        for key, item in value.items()
    ]
    return "{" + ",".join(items) + space() + "}"


def _compact(value: Any) -> bytes:
    """What the service writes: compact, strings as orjson writes them, numbers as sent."""
    if isinstance(value, Num):
        return value.text.encode()
    if isinstance(value, list):
        return b"[" + b",".join(_compact(item) for item in value) + b"]"
    if isinstance(value, dict):
        pairs = [orjson.dumps(key) + b":" + _compact(item) for key, item in value.items()]
        return b"{" + b",".join(pairs) + b"}"
    return orjson.dumps(value)


@settings(max_examples=600, deadline=None, database=None)
@given(DOCUMENTS, STYLES)
def test_every_number_is_written_back_as_it_was_read(value: Any, style: dict[str, Any]) -> None:
    text = _render(value, style, [0]).encode()
    assert jsontext.dumps(jsonread.loads(text)) == _compact(value)


@settings(max_examples=300, deadline=None, database=None)
@given(NUMBER_TEXTS, st.sampled_from(['{"a":[%s]}', "[%s]", '[1, {"b": %s }, 2]', "%s"]))
def test_a_number_in_any_place_is_written_back_as_it_was_read(number: str, form: str) -> None:
    text = (form % number).encode()
    assert jsontext.dumps(jsonread.loads(text)) == (form % number).replace(" ", "").encode()


@settings(max_examples=300, deadline=None, database=None)
@given(NUMBER_TEXTS)
def test_numbers_kept_are_those_orjson_would_respell(number: str) -> None:
    value = jsonread.loads_exact(f"[{number}]".encode())[0]
    try:
        respelled = orjson.dumps(orjson.loads(number)) != number.encode()
    except orjson.JSONDecodeError:
        respelled = True  # beyond a double
    if isinstance(value, JsonNumber):
        assert value.text == number
    else:
        assert not respelled
        assert value == orjson.loads(number)


@pytest.mark.parametrize(
    "text",
    [
        b"[NaN]",
        b"[Infinity, 1e400]",
        b"[-Infinity]",
        b'["\\ud800", 1e400]',  # half a surrogate pair, which orjson refuses
        b'["\xff", 1e400]',  # not UTF-8
        b"\xef\xbb\xbf[1e400]",  # a byte order mark
        b"[1e400] x",
        b"[01]",
        b"[1.]",
        b"[.5]",
        b"[+1]",
        b'["a\tb", 1e400]',  # a raw control character in a string
        b"[" * 2000 + b"1e400" + b"]" * 2000,  # nested beyond orjson's 1024 levels
        b"",
    ],
)
def test_what_is_not_json_is_refused_as_orjson_refuses_it(text: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        jsonread.loads(text)
    with pytest.raises(orjson.JSONDecodeError):
        jsonread.loads_fast(text)
    with pytest.raises(orjson.JSONDecodeError):
        jsonread.loads_exact(text)


@settings(max_examples=400, deadline=None, database=None)
@given(st.binary(max_size=64) | st.text(alphabet='[]{}",:0123456789.eE+- \\u', max_size=40))
def test_only_numbers_beyond_a_double_pass_where_orjson_refuses(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    try:
        expected = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        refusal = str(exc)
    else:
        refusal = None
    if refusal is not None:
        try:
            jsonread.loads(raw)
        except orjson.JSONDecodeError:
            return
        assert "number" in refusal, raw
        return
    assert jsontext.dumps(jsonread.loads(raw)) == jsontext.dumps(jsonread.loads_exact(raw))
    assert orjson.loads(jsontext.dumps(jsonread.loads(raw))) == expected


def test_json_nested_past_the_standard_library_keeps_orjson_reading() -> None:
    text = b"[" * 1020 + b"9.50" + b"]" * 1020
    value = jsonread.loads(text)
    for _ in range(1020):
        value = value[0]
    assert value == 9.5


# --- the fast path: the common batch is read by orjson alone ---------------------------------


def _webhook_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("webhook-*.json"))


@pytest.mark.parametrize("path", _webhook_fixtures(), ids=lambda p: p.name)
def test_sparkpost_samples_take_the_fast_path(path: Path) -> None:
    raw = path.read_bytes()
    assert jsonread.numbers_survive(raw, orjson.loads(raw))


def test_generated_batches_take_the_fast_path() -> None:
    config = GeneratorConfig(seed=11, rare_scale=50.0, batch_size=500)
    bodies = list(EventGenerator(config).batch_bytes(20_000))
    slow = [raw for raw in bodies if not jsonread.numbers_survive(raw, orjson.loads(raw))]
    assert slow == []
    # ... and so do the same batches indented.
    indented = [orjson.dumps(orjson.loads(raw), option=orjson.OPT_INDENT_2) for raw in bodies[:5]]
    assert all(jsonread.numbers_survive(raw, orjson.loads(raw)) for raw in indented)


def test_escapes_orjson_writes_otherwise_take_the_exact_reader_to_the_same_value() -> None:
    raw = b'[{"url": "a\\/b", "name": "\\u00e9", "n": 9.5}]'
    assert not jsonread.numbers_survive(raw, orjson.loads(raw))
    assert jsonread.loads(raw) == orjson.loads(raw)


# --- writing -----------------------------------------------------------------------------------


def _deep(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_a_deep_value_is_written_with_its_numbers_as_sent() -> None:
    event = {"rcpt_meta": _deep(600, {"price": JsonNumber("9.50"), "n": 1})}
    text = jsontext.dumps(event)
    assert b'{"price":9.50,"n":1}' in text
    assert jsontext.dumps(event, sort_keys=True).count(b'{"n":1,"price":9.50}') == 1
    assert jsontext.dumps(jsonread.loads(text)) == text


def test_a_string_that_holds_the_placeholder_is_written_as_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    markers = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(jsontext.secrets, "token_hex", lambda _n: next(markers))
    value = _deep(300, ["aaaa-0", JsonNumber("1.0E5")])
    text = jsontext.dumps(value)
    assert b'["aaaa-0",1.0E5]' in text
