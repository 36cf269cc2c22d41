"""``event-data generate``: write synthetic SparkPost webhook batches to files or to stdout."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from event_data.synth.generator import EventGenerator, GeneratorConfig

_DEFAULT_START = "2026-01-01"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``generate`` subcommand; its ``func`` default is :func:`run`."""
    parser = subparsers.add_parser(
        "generate",
        help="write synthetic SparkPost webhook batches",
        description=(
            "Write deterministic, realistic SparkPost webhook batches: one JSON array per batch, "
            "as SparkPost POSTs them. The same options always produce the same bytes."
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--events", type=_positive_int, default=10_000, help="events in total (default 10000)"
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, default=1000, help="events per batch (default 1000)"
    )
    parser.add_argument(
        "--start",
        type=_utc_datetime,
        default=_utc_datetime(_DEFAULT_START),
        help=f"ISO date or time the events start at, UTC unless it says (default {_DEFAULT_START})",
    )
    parser.add_argument(
        "--days", type=_positive_float, default=30.0, help="days the events span (default 30)"
    )
    parser.add_argument(
        "--rare-scale",
        type=_non_negative_float,
        default=1.0,
        help="multiply the odds of uncommon event types (default 1: real-life proportions)",
    )
    parser.add_argument(
        "--out",
        default="-",
        help="directory for batch-000001.json, batch-000002.json, ...; '-' writes one batch "
        "per line to stdout (default)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the batches ``args`` describe; returns the process exit status."""
    config = GeneratorConfig(
        seed=args.seed,
        start=args.start,
        end=args.start + timedelta(days=args.days),
        batch_size=args.batch_size,
        rare_scale=args.rare_scale,
    )
    bodies = EventGenerator(config).batch_bytes(args.events)
    began = time.perf_counter()
    if args.out == "-":
        written = _to_stdout(bodies)
        if written is None:
            return 0
        batches, size = written
    else:
        batches, size = _to_directory(bodies, Path(args.out))
    elapsed = time.perf_counter() - began
    print(
        f"generated {args.events} events in {batches} batches, {size} bytes, {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


def _to_stdout(bodies: Iterable[bytes]) -> tuple[int, int] | None:
    """Write one body per line; ``None`` when the reader went away first."""
    out = sys.stdout.buffer
    batches = size = 0
    try:
        for body in bodies:
            out.write(body)
            out.write(b"\n")
            batches += 1
            size += len(body)
        out.flush()
    except BrokenPipeError:
        # The reader stopped early (``| head``): not an error. Point stdout at devnull so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return None
    return batches, size


def _to_directory(bodies: Iterable[bytes], directory: Path) -> tuple[int, int]:
    directory.mkdir(parents=True, exist_ok=True)
    batches = size = 0
    for body in bodies:
        batches += 1
        (directory / f"batch-{batches:06d}.json").write_bytes(body)
        size += len(body)
    return batches, size


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text}")
    return value


def _utc_datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
