"""The ack path skims a batch (msgspec, without building its events) and asks the full parser
only about what the skim refuses. Differential test: on valid batches and on byte-level
mutations of them, the receiver accepts exactly the bodies the loader's parser reads as an array,
with the same number of elements; the only bodies it accepts beyond those hold numbers past a
double's range, which the standard library still reads."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_data.ingest.receiver import NotABatch, NotJson, _elements
from tests.test_fuzz import SPARKPOST_LIKE

MUTATION_BYTES = st.sampled_from(list(b'[]{}",:0123456789.eE+-\\ ntrufalse\x00\xff\xc3'))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    body = bytearray(orjson.dumps(draw(SPARKPOST_LIKE)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(body)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(MUTATION_BYTES)
        if edit == "insert":
            body.insert(at, byte)
        elif at < len(body):
            if edit == "delete":
                del body[at]
            else:
                body[at] = byte
    return bytes(body)


def _loader_reads(body: bytes) -> int | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return len(parsed) if isinstance(parsed, list) else None


def _receiver_accepts(body: bytes) -> int | None:
    try:
        return len(_elements(body))
    except (NotJson, NotABatch):
        return None


def _beyond_doubles(body: bytes) -> bool:
    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        parsed = json.loads(body, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, list) and "inf" in repr(parsed)


@settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.one_of(SPARKPOST_LIKE.map(orjson.dumps), mutated()))
def test_the_receiver_accepts_what_the_loader_reads(body: bytes) -> None:
    loader, receiver = _loader_reads(body), _receiver_accepts(body)
    if loader is not None:
        assert receiver == loader
    elif receiver is not None:
        assert _beyond_doubles(body), body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[1,2", NotJson),
        (b'{"msys": {}}', NotABatch),
        (b'{"a": tru}', NotJson),
        (b'["\xff"]', NotJson),
        (b'["\\ud800"]', NotJson),
        (b"[" * 5000 + b"]" * 5000, NotJson),
        (b"", NotJson),
        (b"[NaN]", NotJson),
    ],
)
def test_refusals_keep_their_error(body: bytes, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        _elements(body)


def test_a_deep_but_readable_event_is_accepted() -> None:
    # deeper than the skim goes, within the full parser's limit: accepted, as before
    body = b"[" + b"[" * 1000 + b"]" * 1000 + b"]"
    assert len(_elements(body)) == 1
