"""Train the zstd dictionary that compresses stored event bodies.

The dictionary is part of the storage format: once rows use it, it must never change. A new one
gets a new format number in ``event_data.events.codec``; this script is how each was made.

    .venv/bin/python scripts/train-dictionary.py OUT [--events N] [--size BYTES]

Dictionary 1 (format 2) was trained on the columns form of 60,000 events; dictionary 2
(format 3) on the Events API form of 60,000 events with the default 64 KB: 219 B per event
against 232 B with 32 KB, and 506 B with dictionary 1.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import zstandard

from event_data.events import codec
from event_data.events.normalise import normalise_batch
from event_data.synth import EventGenerator, GeneratorConfig

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sparkpost"


def body_samples(events: int) -> list[bytes]:
    """The JSON each event's body holds: its Events API form."""
    generator = EventGenerator(
        GeneratorConfig(
            seed=20_161_202,
            start=datetime(2026, 1, 1, tzinfo=UTC),
            end=datetime(2026, 1, 8, tzinfo=UTC),
            rare_scale=5.0,
        )
    )
    batches = list(generator.batches(events))
    fixture = FIXTURES / "webhook-batch-all-types-2016.json"
    if fixture.is_file():
        batches.append(json.loads(fixture.read_bytes()))
    now = datetime.now(UTC)
    return [
        codec.api_json(event) for batch in batches for event in normalise_batch(batch, now).events
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--size", type=int, default=64 * 1024)
    args = parser.parse_args()
    samples = body_samples(args.events)
    dictionary = zstandard.train_dictionary(args.size, samples, level=codec.ZSTD_LEVEL)
    args.out.write_bytes(dictionary.as_bytes())
    raw = sum(len(s) for s in samples)
    with_dict = zstandard.ZstdCompressor(level=codec.ZSTD_LEVEL, dict_data=dictionary)
    without = zstandard.ZstdCompressor(level=codec.ZSTD_LEVEL)
    packed = sum(len(with_dict.compress(s)) for s in samples)
    plain = sum(len(without.compress(s)) for s in samples)
    print(
        f"{len(samples)} samples, {raw / len(samples):.0f} B/body raw, "
        f"{plain / len(samples):.0f} B zstd, {packed / len(samples):.0f} B with the dictionary"
    )


if __name__ == "__main__":
    main()
