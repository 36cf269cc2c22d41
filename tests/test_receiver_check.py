"""The ack path skims a batch (msgspec, without building its events) and asks the full parser
only about what the skim refuses. Differential test: on valid batches and on byte-level
mutations of them, the receiver accepts exactly the bodies the loader's parser reads as an array,
with the same number of elements."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_data.events.jsonread import loads
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
        parsed = loads(body)
    except orjson.JSONDecodeError:
        return None
    return len(parsed) if isinstance(parsed, list) else None


def _receiver_accepts(body: bytes) -> int | None:
    try:
        return len(_elements(body))
    except (NotJson, NotABatch):
        return None


@settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.one_of(SPARKPOST_LIKE.map(orjson.dumps), mutated()))
def test_the_receiver_accepts_what_the_loader_reads(body: bytes) -> None:
    assert _receiver_accepts(body) == _loader_reads(body), body


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


def test_numbers_beyond_a_double_are_accepted_as_the_loader_reads_them() -> None:
    assert len(_elements(b'[{"msys": {"e": {"n": 1e400}}}, 2]')) == 2


def test_a_deep_but_readable_event_is_accepted() -> None:
    # deeper than the skim goes, within the full parser's limit: accepted, as before
    body = b"[" + b"[" * 1000 + b"]" * 1000 + b"]"
    assert len(_elements(body)) == 1
