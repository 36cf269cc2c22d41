"""``python -m bench [--size N]``: run P1-P6 and the capacity plan; see ``bench/__init__.py``."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import ack, capacity, common, dataset, freshness, loader, queries, report, storage
from bench.stack import SIGNING_KEY, Moto, hottest, scratch_database, service
from event_data.store.admin import create_database_if_missing, drop_database
from event_data.store.database import create_engine, driver_connection
from event_data.store.migrate import migrate

QUICK_SIZE = 300_000
FULL_SIZE = 10_000_000
RESULTS = Path(__file__).parent / "results" / "latest.json"


def _scale(size: int) -> dict[str, Any]:
    """How long each measurement runs: the quick default takes a few minutes, a full run
    (≥ 10 M events) measures longer for steadier tails."""
    full = size >= FULL_SIZE
    return {
        "p1_batches": 300 if full else 100,
        "p2_requests": 1000 if full else 300,
        "p2_seconds": 30.0 if full else 10.0,
        "p3_seconds": 120.0 if full else 30.0,
        "p6_runs": 100 if full else 40,
    }


async def run(
    size: int, days: int, only: set[str], profile: bool, out: Path, database: str, keep: bool
) -> int:
    scale = _scale(size)
    workdir = Path(tempfile.mkdtemp(prefix="event-data-bench-"))
    moto = Moto(workdir)
    moto.start()
    results: dict[str, Any] = {}
    try:
        async with scratch_database(database, keep=keep) as url:
            engine = create_engine(common.settings(url))
            try:
                await migrate(engine)
                async with engine.connect() as conn:
                    raw = await driver_connection(conn)
                    version = await raw.fetchval("SHOW server_version")
                results = {"machine": report.machine(version), "size": size, "days": days}
                began = time.perf_counter()
                async with engine.connect() as conn:
                    kept = await dataset.recorded(await driver_connection(conn), size, days)
                if kept is not None:
                    loaded = kept
                    _say(f"dataset: {loaded.events} events, kept from an earlier run")
                else:
                    if keep:  # a kept database holding some other dataset starts afresh
                        await engine.dispose()
                        await drop_database(url)
                        await create_database_if_missing(url)
                        await migrate(engine)
                    loaded = await asyncio.to_thread(
                        dataset.load, url, size, days, results["machine"]["cpus"]
                    )
                    _say(f"dataset: {loaded.events} events in {loaded.seconds:.0f} s")
                    async with engine.connect() as conn:
                        await dataset.record(await driver_connection(conn), size, days, loaded)
                async with engine.connect() as conn:
                    raw = await driver_connection(conn)
                    if kept is None:  # a kept dataset was vacuumed by the run that loaded it
                        # Past the service's statement timeout on a full run's tables.
                        await raw.execute("SET statement_timeout = 0")
                        await raw.execute("VACUUM ANALYZE")
                        await raw.execute("RESET statement_timeout")
                    results["P4"] = await storage.measure_disk(raw, loaded.events, loaded.raw_bytes)
                results["P5"] = storage.archive_ratio(
                    loaded.events, loaded.raw_bytes, loaded.archive_bytes
                )
                results["dataset"] = {
                    "events": loaded.events,
                    "batches": loaded.batches,
                    "days": days,
                    "load_seconds": round(loaded.seconds, 1),
                }
                window = dataset.day_window(days)
                if only & {"P3", "P6"}:
                    svc = service(url, moto.provision(), workdir, "query", loader=True)
                    await svc.start()
                    try:
                        if "P6" in only:
                            _say("P6: canonical queries")
                            results["P6"] = await queries.measure(
                                engine, svc.base_url, SIGNING_KEY, window, scale["p6_runs"]
                            )
                        if "P3" in only:
                            _say("P3: freshness at 2,000 events/s")
                            results["P3"] = await freshness.measure(
                                svc.base_url, scale["p3_seconds"]
                            )
                    finally:
                        svc.stop()
                if "P2" in only:
                    _say("P2: ack path")
                    results["P2"] = await ack.measure(
                        url,
                        moto.without_notification(moto.provision()),
                        workdir,
                        scale["p2_requests"],
                        scale["p2_seconds"],
                        out.parent / "profile-P2.txt" if profile else None,
                    )
                if "P1" in only:
                    _say("P1: loader beside COPY")
                    results["P1"] = await loader.measure(
                        url,
                        moto.provision(),
                        moto.pid,
                        workdir,
                        scale["p1_batches"],
                        window[1] + timedelta(days=2),
                        out.parent / "profile-P1.txt" if profile else None,
                    )
                if {"P1", "P2", "P4"} <= only:
                    results["capacity"] = capacity.plan(results)
                results["seconds"] = round(time.perf_counter() - began)
            finally:
                await engine.dispose()
    finally:
        moto.stop()
    report.write(results, out)
    print(report.table(results))
    for name in ("P1", "P2"):
        collapsed = out.parent / f"profile-{name}.txt"
        if profile and collapsed.exists():
            print(f"\n{name} profile, own samples:")
            for frame, share in hottest(collapsed):
                print(f"  {share:5.1f}%  {frame}")
    print(f"\nresults: {out}  (logs: {workdir})")
    return 0


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--size",
        type=int,
        default=QUICK_SIZE,
        help=f"events in the searchable dataset (default {QUICK_SIZE}; full run {FULL_SIZE})",
    )
    parser.add_argument("--days", type=int, default=30, help="days the dataset spans (30)")
    parser.add_argument(
        "--only", default="P1,P2,P3,P4,P5,P6", help="comma-separated targets to measure"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the service with py-spy during P1 and P2 (results/profile-P*.txt)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--database", default="event_data_bench", help="scratch database (dropped and remade)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch database afterwards, and measure the dataset it holds (same"
        " --size and --days) instead of loading it again",
    )
    args = parser.parse_args()
    only = {name.strip().upper() for name in args.only.split(",")} | {"P4", "P5"}
    return asyncio.run(
        run(args.size, args.days, only, args.profile, args.out, args.database, args.keep)
    )


if __name__ == "__main__":
    sys.exit(main())
