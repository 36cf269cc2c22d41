"""What reading numbers as sent costs the loader, per event, on generated batches.

Times, on the same batches: orjson alone against the loader's reader (orjson plus the check that
every number survives it), normalise + encode, and decode; then the same for the batches with a
number orjson would respell (`9.50`) in one event each, which the standard library reads.

    .venv/bin/python bench/reading.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from event_data.events import codec, jsonread
from event_data.events.normalise import normalise_batch
from event_data.synth import EventGenerator, GeneratorConfig


def best_of(rounds: int, run: Callable[[], object]) -> float:
    """The least CPU time of ``rounds`` runs: the figure least disturbed by other processes."""
    gc.freeze()  # the inputs are long-lived: no collection should walk them again
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def report(label: str, events: int, seconds: float) -> None:
    print(f"{label:34s} {seconds / events * 1e6:7.2f} µs/event  {events / seconds:9.0f} events/s")


def measure(label: str, bodies: list[bytes], rounds: int) -> None:
    now = datetime.now(UTC)
    parsed = [jsonread.loads(body) for body in bodies]
    events = [event for value in parsed for event in normalise_batch(value, now).events]
    rows = [codec.encode(event, 1)._asdict() for event in events]
    count = len(events)
    print(f"{label}: {len(bodies)} batches, {count} events")

    # Each run keeps one batch's results at a time, as the loader does.
    def each(function: Callable[[Any], object], items: list[Any]) -> Callable[[], None]:
        def run() -> None:
            for item in items:
                function(item)

        return run

    def encode_batch(value: Any) -> None:
        for event in normalise_batch(value, now).events:
            codec.encode(event, 1)

    report("  parse, orjson alone", count, best_of(rounds, each(orjson.loads, bodies)))
    report("  parse, the loader's reader", count, best_of(rounds, each(jsonread.loads, bodies)))
    report("  normalise + encode", count, best_of(rounds, each(encode_batch, parsed)))
    report("  decode", count, best_of(rounds, each(codec.decode, rows)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    generator = EventGenerator(
        GeneratorConfig(
            seed=5, start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 6, 3, tzinfo=UTC)
        )
    )
    bodies = list(generator.batch_bytes(args.events))
    measure("generated batches", bodies, args.rounds)
    # The first event of each batch gets a price orjson would write as 9.5.
    respelled = [body.replace(b'{"type":', b'{"price":9.50,"type":', 1) for body in bodies]
    measure("the same, each with a 9.50", respelled, args.rounds)


if __name__ == "__main__":
    main()
