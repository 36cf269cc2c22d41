"""``event-data export``: the export route's code path, from the command line to a file."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

from event_data.config import Settings
from event_data.errors import BadRequest, InvalidParameter
from event_data.query.export import ExportFormat, ExportPlan, ExportStream, plan_export
from event_data.store.database import create_engine


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register the ``export`` subcommand; the caller sets ``func`` and supplies the settings
    to :func:`run`."""
    parser = subparsers.add_parser(
        "export",
        help="export every matching event as NDJSON or CSV",
        description=(
            "Stream every event matching the Events API filters, newest first, to a file or "
            "to stdout, in constant memory. The same parameters as "
            "GET /api/v1/events/message/export."
        ),
    )
    parser.add_argument("--from", dest="from_", help="start, inclusive (default 24 h before --to)")
    parser.add_argument("--to", help="end, exclusive (default a minute ago)")
    parser.add_argument("--events", help="comma-separated event types (default all)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other Events API parameter, e.g. --param campaigns=spring (repeatable)",
    )
    parser.add_argument(
        "--format",
        choices=[f.value for f in ExportFormat],
        default=ExportFormat.NDJSON.value,
        help="ndjson (default) or csv",
    )
    parser.add_argument(
        "--out",
        default="-",
        help="file to write ('-', the default, is stdout); written as FILE.part and renamed "
        "once complete, so a failed export leaves no complete-looking file",
    )
    return parser


def query_of(args: argparse.Namespace) -> dict[str, str]:
    """The export's parameters, as the HTTP route would receive them."""
    query: dict[str, str] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidParameter("--param", f"{item!r} is not KEY=VALUE")
        query[key.strip()] = value
    for key, value in (("from", args.from_), ("to", args.to), ("events", args.events)):
        if value is not None:
            query[key] = value
    query["format"] = args.format
    return query


async def _write(settings: Settings, plan: ExportPlan, out: BinaryIO) -> int:
    engine = create_engine(settings)
    try:
        stream = ExportStream(engine, plan)
        try:
            async for chunk in stream:
                await anyio.to_thread.run_sync(out.write, chunk)
        finally:
            await stream.aclose()
        await anyio.to_thread.run_sync(out.flush)
        return stream.rows
    finally:
        await engine.dispose()


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        plan = plan_export(query_of(args))
    except BadRequest as exc:
        print(f"event-data export: {exc.description}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        if args.out == "-":
            rows = asyncio.run(_write(settings, plan, sys.stdout.buffer))
            target = "stdout"
        else:
            final = Path(args.out)
            partial = final.with_name(final.name + ".part")
            try:
                # Owner-only from the start: the file holds addresses (personal data).
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as out:
                    rows = asyncio.run(_write(settings, plan, out))
                os.replace(partial, final)
            finally:
                partial.unlink(missing_ok=True)
            target = str(final)
    except Exception as exc:  # noqa: BLE001 - reported without its text, which may quote values
        # A database error's text quotes the statement's parameters: the filter's addresses.
        print(
            f"event-data export: failed ({type(exc).__name__}); see the service's log for the "
            "database's side; no complete file was written",
            file=sys.stderr,
        )
        return 1
    elapsed = time.perf_counter() - started
    print(f"exported {rows} events to {target} in {elapsed:.1f} s", file=sys.stderr)
    return 0
